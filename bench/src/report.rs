//! The tables `make bench` prints.

use std::fmt::Write as _;

use crate::Results;

pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned()))
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    format!("{cpu}, {cores} cores, {}", std::env::consts::ARCH)
}

pub fn tables(r: &Results) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\n# customer-accounts bench, {} on {}\n", r.measured_at, r.machine);

    let _ = writeln!(s, "## Binary size (release profile)\n");
    let _ = writeln!(s, "| function | arch | bootstrap MiB | zip MiB |\n|---|---|---:|---:|");
    for b in &r.sizes {
        let _ = writeln!(s, "| {} | {} | {:.2} | {:.2} |", b.function, b.arch, b.bootstrap_mib, b.zip_mib);
    }

    let _ = writeln!(s, "\n## Cold start (Runtime API emulator; medians of runs)\n");
    let _ = writeln!(
        s,
        "| function | init ms | init × hello-world | first invoke ms | exec→first response ms | × hello-dynamodb | warm p50 ms | warm p99 ms | peak RSS MiB |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let ratios = r.init_vs_hello_world.iter().zip(&r.cold_start_vs_hello_dynamodb);
    for (c, ((_, to_hello), (_, to_dynamodb))) in r.cold_start.iter().zip(ratios) {
        let _ = writeln!(
            s,
            "| {} | {:.1} | {:.2} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {:.1} |",
            c.function,
            c.init_ms,
            to_hello,
            c.first_invoke_ms,
            c.cold_start_ms,
            to_dynamodb,
            c.warm_ms.p50_ms,
            c.warm_ms.p99_ms,
            c.peak_rss_mib
        );
    }

    let _ = writeln!(s, "\n## What init costs (in process)\n");
    let _ = writeln!(s, "| step | paid at cold start | first ms | median ms |\n|---|---|---:|---:|");
    for c in &r.init_costs {
        let paid = if c.paid_at_cold_start { "yes" } else { "no (removed)" };
        let _ = writeln!(s, "| {} | {} | {:.3} | {:.3} |", c.step, paid, c.first_ms, c.median_ms);
    }

    let _ = writeln!(s, "\n## Warm latency in process vs the same DynamoDB calls raw (ms)\n");
    let _ = writeln!(
        s,
        "| route | fn | calls | route p50 | raw p50 | +p50 | route p99 | raw p99 | +p99 | compute p50 | compute p99 |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for l in &r.latency.routes {
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} | {:.2} | {:.2} | {:+.2} | {:.2} | {:.2} | {:+.2} | {:.2} | {:.2} |",
            l.route,
            l.function,
            l.dynamodb_calls,
            l.route_ms.p50_ms,
            l.raw_sdk_ms.p50_ms,
            l.overhead_p50_ms,
            l.route_ms.p99_ms,
            l.raw_sdk_ms.p99_ms,
            l.overhead_p99_ms,
            l.compute_ms.p50_ms,
            l.compute_ms.p99_ms
        );
    }
    let verify = r.latency.argon2id_verify_ms.p50_ms;
    let login = r.latency.routes.iter().find(|l| l.hashes_password);
    let _ = writeln!(
        s,
        "\nOne argon2id verify, timed between the login requests: p50 {verify:.2} ms; login p50 / verify p50 = {:.2}",
        r.latency.login_vs_argon2id_verify
    );
    if let Some(login) = login {
        let raw = login.raw_sdk_ms.p50_ms;
        let _ = writeln!(
            s,
            "Login minus its DynamoDB calls' raw p50 ({raw:.2} ms) / verify = {:.2}",
            (login.route_ms.p50_ms - raw) / verify
        );
        if let Some(shipped) = r.cold_start.iter().find(|c| c.function == "login (password)") {
            let warm = shipped.warm_ms.p50_ms;
            let _ = writeln!(
                s,
                "Shipped login binary (emulator, warm p50 {warm:.2} ms) / verify = {:.2}; minus the raw DynamoDB p50 / verify = {:.2}",
                warm / verify,
                (warm - raw) / verify
            );
        }
    }

    let _ = writeln!(s, "\n## Throughput (wrk)\n");
    if let Some(e) = &r.throughput_error {
        let _ = writeln!(s, "not measured: {e}");
    }
    let _ = writeln!(
        s,
        "| stack | route | wrk | req/s | p50 ms | p99 ms | non-2xx | unexpected body |\n|---|---|---|---:|---:|---:|---:|---:|"
    );
    for t in &r.throughput {
        let unexpected = t.unexpected_bodies.map_or_else(|| "–".to_owned(), |n| n.to_string());
        let _ = writeln!(
            s,
            "| {} | {} | -t{} -c{} -d{}s | {:.0} | {:.2} | {:.2} | {} | {unexpected} |",
            t.stack,
            t.route,
            t.load.threads,
            t.load.connections,
            t.load.seconds,
            t.requests_per_sec,
            t.p50_ms,
            t.p99_ms,
            t.non_2xx
        );
    }

    for route in ["GET me", "login"] {
        let rps = |stack_prefix: &str| {
            r.throughput
                .iter()
                .find(|t| t.route == route && t.stack.starts_with(stack_prefix))
                .map(|t| t.requests_per_sec)
        };
        for peer in ["fastapi-users", "better-auth"] {
            if let (Some(ours), Some(reference)) = (rps("customer-accounts"), rps(peer)) {
                let _ = writeln!(
                    s,
                    "\n{route}: customer-accounts / {peer} = {:.1}× the requests per second",
                    ours / reference
                );
            }
        }
    }

    let a = &r.cost_assumptions;
    let _ = writeln!(s, "\n## Cost per million requests (USD; prices {})\n", a.prices_as_of);
    let _ = writeln!(
        s,
        "| operation | memory MB | billed ms | Lambda | HTTP API | DynamoDB | total | per Cognito Essentials MAU |\n|---|---:|---:|---:|---:|---:|---:|---:|"
    );
    for c in &r.cost {
        let _ = writeln!(
            s,
            "| {} | {} | {:.0} | {:.3} | {:.3} | {:.3} | {:.3} | {:.0} |",
            c.operation,
            c.memory_mb,
            c.billed_ms,
            c.lambda_usd,
            c.http_api_usd,
            c.dynamodb_usd,
            c.total_usd,
            c.per_cognito_essentials_mau
        );
    }
    let _ = writeln!(
        s,
        "\nCognito user pools: Essentials ${}/MAU, Lite ${}/MAU (beyond the free tier). Assumed DynamoDB round trip {} ms.",
        a.cognito_essentials_usd_per_mau, a.cognito_lite_usd_per_mau, a.dynamodb_round_trip_ms
    );

    let _ = writeln!(
        s,
        "\n## Memory per function (USD per million requests, mean of its routes; worst route p99 / its best)\n"
    );
    let header: Vec<String> = crate::cost::SWEEP_MB.iter().map(|m| format!("{m} MB")).collect();
    let _ = writeln!(s, "| function | {} | chosen |", header.join(" | "));
    let _ = writeln!(s, "|---|{}---:|", "---:|".repeat(header.len()));
    for f in &r.memory_sweep {
        let cells: Vec<String> = f
            .options
            .iter()
            .map(|o| {
                let rss = if o.fits_peak_rss { "" } else { " (RSS)" };
                let slow = if o.p99_within { "" } else { " (p99)" };
                format!("{:.3} / {:.2}x{slow}{rss}", o.usd_per_million, o.worst_p99_vs_best)
            })
            .collect();
        let _ = writeln!(s, "| {} | {} | {} MB |", f.function, cells.join(" | "), f.chosen_mb);
    }
    s
}
