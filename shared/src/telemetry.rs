//! Logging: one JSON object per line with the AWS Lambda Powertools key names
//! at the top level (`timestamp`, `level`, `message`, `service`, `cold_start`,
//! `correlation_id`, `xray_trace_id`, then the event's own fields), so Logs
//! Insights queries written for other runtimes work unchanged.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Installs the global subscriber (once per process). `service` names the
/// function. Honours `RUST_LOG`/`AWS_LAMBDA_LOG_LEVEL`; JSON unless
/// `LOG_FORMAT=text`.
pub fn init(service: &'static str) {
    install(service, std::io::stdout);
}

/// `init` for command-line tools: logs go to stderr, so stdout holds only
/// the command's result (and can be piped).
pub fn init_stderr(service: &'static str) {
    install(service, std::io::stderr);
}

fn install<W>(service: &'static str, writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    SERVICE.get_or_init(|| service);
    // `Targets` (`info`, `shared=debug,warn`) rather than `EnvFilter`: same
    // syntax for what operators set, without a regex engine in every binary.
    let filter = ["RUST_LOG", "AWS_LAMBDA_LOG_LEVEL"]
        .iter()
        .find_map(|name| std::env::var(name).ok()?.to_ascii_lowercase().parse::<Targets>().ok())
        .unwrap_or_else(|| "info".parse().expect("a level parses"));
    let builder =
        tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_target(false).with_writer(writer);
    let _ = if std::env::var("LOG_FORMAT").as_deref() == Ok("text") {
        builder.finish().with(filter).try_init()
    } else {
        builder.fmt_fields(JsonFields::new()).event_format(PowertoolsJson).finish().with(filter).try_init()
    };
}

static SERVICE: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

pub fn service_name() -> &'static str {
    SERVICE.get().copied().unwrap_or("customer-accounts")
}

/// The event format: span fields (outermost first) and event fields merged
/// into one flat object.
pub struct PowertoolsJson;

impl<S, N> FormatEvent<S, N> for PowertoolsJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mut line = Map::new();
        line.insert("timestamp".into(), Value::String(crate::clock::now_rfc3339_millis()));
        line.insert("level".into(), Value::String(event.metadata().level().to_string()));
        line.insert("service".into(), Value::String(service_name().into()));
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(fields.as_str())
                {
                    line.extend(map);
                }
            }
        }
        let mut visitor = JsonVisitor(&mut line);
        event.record(&mut visitor);
        let json = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{json}")
    }
}

struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::String(value.into()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().into(), Value::String(format!("{value:?}")));
    }
}
