//! What a million requests cost on Lambda arm64 + DynamoDB on-demand + HTTP
//! API, from the time and capacity measured in this run, beside Cognito's
//! price per monthly active user. Prices: us-east-1, list prices, see `PRICES_AS_OF`.

use serde::Serialize;

pub const PRICES_AS_OF: &str = "2026-11-22 (AWS list prices for us-east-1, unchanged since the 2024-11 changes)";
pub const LAMBDA_ARM64_USD_PER_GB_SECOND: f64 = 0.000_013_333_4;
pub const LAMBDA_USD_PER_MILLION_REQUESTS: f64 = 0.20;
pub const HTTP_API_USD_PER_MILLION_REQUESTS: f64 = 1.00;
pub const DYNAMODB_USD_PER_MILLION_WRU: f64 = 0.625;
pub const DYNAMODB_USD_PER_MILLION_RRU: f64 = 0.125;
/// Cognito user pools, Essentials tier, per MAU beyond the 10,000 free.
pub const COGNITO_ESSENTIALS_USD_PER_MAU: f64 = 0.015;
/// Cognito user pools, Lite tier, per MAU from 10,001 to 100,000.
pub const COGNITO_LITE_USD_PER_MAU: f64 = 0.0055;

/// Lambda gives a function one full vCPU at 1,769 MB and a share below that.
const MB_PER_VCPU: f64 = 1769.0;
/// Assumed in-region DynamoDB round trip from Lambda (not measurable here).
pub const DYNAMODB_ROUND_TRIP_MS: f64 = 5.0;

/// What one request costs the function, from this run's measurements.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RequestProfile {
    /// Time the function computes (route p50 minus the raw DynamoDB calls' p50), on one full core.
    pub compute_ms: f64,
    pub dynamodb_round_trips: f64,
    pub read_units: f64,
    pub write_units: f64,
}

#[derive(Debug, Serialize)]
pub struct CostPerMillion {
    pub operation: &'static str,
    pub memory_mb: u32,
    pub billed_ms: f64,
    pub lambda_usd: f64,
    pub http_api_usd: f64,
    pub dynamodb_usd: f64,
    pub total_usd: f64,
    /// How many of these a monthly active user could make for the price of one Cognito Essentials MAU.
    pub per_cognito_essentials_mau: f64,
}

pub fn per_million(operation: &'static str, p: RequestProfile, memory_mb: u32) -> CostPerMillion {
    let cpu_share = (memory_mb as f64 / MB_PER_VCPU).min(1.0);
    // Lambda bills whole milliseconds.
    let billed_ms = (p.compute_ms / cpu_share + p.dynamodb_round_trips * DYNAMODB_ROUND_TRIP_MS).ceil();
    let gb_seconds = billed_ms / 1e3 * memory_mb as f64 / 1024.0;
    let lambda_usd = 1e6 * gb_seconds * LAMBDA_ARM64_USD_PER_GB_SECOND + LAMBDA_USD_PER_MILLION_REQUESTS;
    let dynamodb_usd = p.read_units * DYNAMODB_USD_PER_MILLION_RRU + p.write_units * DYNAMODB_USD_PER_MILLION_WRU;
    let total_usd = lambda_usd + HTTP_API_USD_PER_MILLION_REQUESTS + dynamodb_usd;
    CostPerMillion {
        operation,
        memory_mb,
        billed_ms,
        lambda_usd,
        http_api_usd: HTTP_API_USD_PER_MILLION_REQUESTS,
        dynamodb_usd,
        total_usd,
        per_cognito_essentials_mau: COGNITO_ESSENTIALS_USD_PER_MAU / (total_usd / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_states_its_memory_size_in_the_template() {
        let template = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        for function in
            ["LoginFunction", "ActivationFunction", "ProfileFunction", "AddressesFunction", "PasswordResetFunction"]
        {
            let mb = template_memory_mb(&template, function);
            assert!(mb.is_some_and(|mb| SWEEP_MB.contains(&mb)), "{function}: {mb:?}");
        }
    }

    #[test]
    fn cpu_bound_work_costs_the_same_below_one_vcpu_and_io_scales_with_memory() {
        let hashing = RequestProfile { compute_ms: 20.0, dynamodb_round_trips: 0.0, read_units: 0.0, write_units: 0.0 };
        let (small, large) = (per_million("x", hashing, 512), per_million("x", hashing, 1024));
        assert!((small.lambda_usd - large.lambda_usd).abs() < 0.01 * large.lambda_usd);
        let reads = RequestProfile { compute_ms: 0.0, dynamodb_round_trips: 1.0, read_units: 1.0, write_units: 0.0 };
        let cost = per_million("y", reads, 1024);
        assert_eq!(cost.billed_ms, 5.0);
        assert!((cost.dynamodb_usd - 0.125).abs() < 1e-9);
    }
}

/// The constants the cost figures rest on, written next to them.
#[derive(Debug, Serialize)]
pub struct Assumptions {
    pub prices_as_of: &'static str,
    pub lambda_arm64_usd_per_gb_second: f64,
    pub lambda_usd_per_million_requests: f64,
    pub http_api_usd_per_million_requests: f64,
    pub dynamodb_usd_per_million_wru: f64,
    pub dynamodb_usd_per_million_rru: f64,
    pub cognito_essentials_usd_per_mau: f64,
    pub cognito_lite_usd_per_mau: f64,
    pub dynamodb_round_trip_ms: f64,
    /// The template's memory for the login and the profile function.
    pub login_memory_mb: u32,
    pub profile_memory_mb: u32,
    pub login: RequestProfile,
    pub profile_read: RequestProfile,
}

/// Memory sizes the table shows, besides the template's.
const MEMORY_SIZES_MB: [u32; 4] = [256, 512, 1024, 1769];

pub fn from_latency(
    latency: &crate::latency::LatencyReport,
    login_memory_mb: u32,
    profile_memory_mb: u32,
) -> (Vec<CostPerMillion>, Assumptions) {
    let profile_of = |route: &str| {
        let r = latency.routes.iter().find(|r| r.route == route).expect("the route was measured");
        RequestProfile {
            compute_ms: r.compute_ms.p50_ms,
            dynamodb_round_trips: r.dynamodb_calls,
            read_units: r.capacity.read_units,
            write_units: r.capacity.write_units,
        }
    };
    let login = profile_of("POST /customer/{tenant}/login");
    let profile_read = profile_of("GET /customer/{tenant}/me");
    let mut rows = Vec::new();
    for (name, p, template_mb) in
        [("1M logins", login, login_memory_mb), ("1M profile reads", profile_read, profile_memory_mb)]
    {
        let mut sizes: Vec<u32> = MEMORY_SIZES_MB.to_vec();
        if !sizes.contains(&template_mb) {
            sizes.push(template_mb);
            sizes.sort_unstable();
        }
        rows.extend(sizes.iter().map(|&m| per_million(name, p, m)));
    }
    let assumptions = Assumptions {
        prices_as_of: PRICES_AS_OF,
        lambda_arm64_usd_per_gb_second: LAMBDA_ARM64_USD_PER_GB_SECOND,
        lambda_usd_per_million_requests: LAMBDA_USD_PER_MILLION_REQUESTS,
        http_api_usd_per_million_requests: HTTP_API_USD_PER_MILLION_REQUESTS,
        dynamodb_usd_per_million_wru: DYNAMODB_USD_PER_MILLION_WRU,
        dynamodb_usd_per_million_rru: DYNAMODB_USD_PER_MILLION_RRU,
        cognito_essentials_usd_per_mau: COGNITO_ESSENTIALS_USD_PER_MAU,
        cognito_lite_usd_per_mau: COGNITO_LITE_USD_PER_MAU,
        dynamodb_round_trip_ms: DYNAMODB_ROUND_TRIP_MS,
        login_memory_mb,
        profile_memory_mb,
        login,
        profile_read,
    };
    (rows, assumptions)
}

/// Memory sizes the per-function sweep prices (Lambda's smallest to one full vCPU).
pub const SWEEP_MB: [u32; 6] = [128, 256, 512, 1024, 1536, 1769];

/// A memory size must hold this many times the function's measured peak RSS.
const RSS_HEADROOM: f64 = 2.0;

/// How close to its best p99 a route must stay at the chosen memory size:
/// within 10 %, or within 1 ms (a route that computes for microseconds and
/// calls nothing is 14x "slower" at 128 MB, and nobody can tell).
const P99_WITHIN: f64 = 1.10;
const P99_WITHIN_MS: f64 = 1.0;

/// One function at one memory size: what its routes cost, per million
/// requests of each (mean over its measured routes), and how slow the
/// slowest of them gets against its own best p99.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryOption {
    pub memory_mb: u32,
    pub usd_per_million: f64,
    pub worst_p99_vs_best: f64,
    /// Every route within 10 % (or 1 ms) of its best p99.
    pub p99_within: bool,
    pub fits_peak_rss: bool,
}

/// The sweep for one function, and the size it picks: the cheapest that
/// holds its peak RSS and keeps every route's p99 within 10 % of that
/// route's best (at one full vCPU).
#[derive(Debug, Clone, Serialize)]
pub struct MemoryChoice {
    pub function: String,
    pub options: Vec<MemoryOption>,
    pub chosen_mb: u32,
}

/// Estimated p99 of a route at `memory_mb`: its compute scaled to the CPU
/// share, plus the assumed DynamoDB round trips.
fn p99_at(compute_p99_ms: f64, round_trips: f64, memory_mb: u32) -> f64 {
    let cpu_share = (memory_mb as f64 / MB_PER_VCPU).min(1.0);
    compute_p99_ms / cpu_share + round_trips * DYNAMODB_ROUND_TRIP_MS
}

pub fn memory_sweep(latency: &crate::latency::LatencyReport, peak_rss_mib: &[(String, f64)]) -> Vec<MemoryChoice> {
    let mut functions: Vec<&str> = latency.routes.iter().map(|r| r.function).collect();
    functions.dedup();
    functions
        .into_iter()
        .map(|function| {
            let routes: Vec<_> = latency.routes.iter().filter(|r| r.function == function).collect();
            let rss = peak_rss_mib.iter().find(|(f, _)| f == function).map_or(0.0, |(_, mib)| *mib);
            let options: Vec<MemoryOption> = SWEEP_MB
                .iter()
                .map(|&memory_mb| {
                    let mut usd = 0.0;
                    let mut worst: f64 = 1.0;
                    let mut p99_within = true;
                    for r in &routes {
                        let profile = RequestProfile {
                            compute_ms: r.compute_ms.p50_ms,
                            dynamodb_round_trips: r.dynamodb_calls,
                            read_units: r.capacity.read_units,
                            write_units: r.capacity.write_units,
                        };
                        usd += per_million("sweep", profile, memory_mb).total_usd / routes.len() as f64;
                        let compute_p99 = r.compute_ms.p99_ms;
                        let best = p99_at(compute_p99, r.dynamodb_calls, MB_PER_VCPU as u32);
                        let at = p99_at(compute_p99, r.dynamodb_calls, memory_mb);
                        if best > 0.0 {
                            worst = worst.max(at / best);
                        }
                        p99_within &= at <= best * P99_WITHIN || at - best <= P99_WITHIN_MS;
                    }
                    let fits_peak_rss = memory_mb as f64 >= rss * RSS_HEADROOM;
                    MemoryOption {
                        memory_mb,
                        usd_per_million: usd,
                        worst_p99_vs_best: worst,
                        p99_within,
                        fits_peak_rss,
                    }
                })
                .collect();
            let chosen_mb = options
                .iter()
                .filter(|o| o.fits_peak_rss && o.p99_within)
                .min_by(|a, b| a.usd_per_million.total_cmp(&b.usd_per_million))
                .map_or(MB_PER_VCPU as u32, |o| o.memory_mb);
            MemoryChoice { function: function.to_owned(), options, chosen_mb }
        })
        .collect()
}

/// A function's `MemorySize` in template.yaml (`LoginFunction`, ...), if it can be read.
pub fn template_memory_mb(template: &std::path::Path, resource: &str) -> Option<u32> {
    let text = std::fs::read_to_string(template).ok()?;
    let header = format!("  {resource}:");
    let lines = text.lines().skip_while(|l| *l != header).skip(1);
    lines
        .take_while(|l| l.starts_with("   ") || l.trim().is_empty())
        .find_map(|l| l.trim().strip_prefix("MemorySize:"))
        .and_then(|v| v.trim().parse().ok())
}
