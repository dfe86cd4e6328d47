//! Time in the two forms the API uses: epoch seconds and RFC 3339 UTC.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn now_epoch() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

pub fn rfc3339(epoch: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)
        .unwrap_or_default()
}

pub fn now_rfc3339() -> String {
    rfc3339(now_epoch())
}

/// RFC 3339 UTC with exactly three fractional digits, so that records made
/// within one second (parallel address creates) still sort by creation.
pub fn now_rfc3339_millis() -> String {
    let now = OffsetDateTime::now_utc();
    let seconds = rfc3339(now.unix_timestamp());
    format!("{}.{:03}Z", seconds.trim_end_matches('Z'), now.millisecond())
}

/// Parses an RFC 3339 timestamp (any precision).
pub fn parse_rfc3339(value: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value, &Rfc3339).ok()
}
