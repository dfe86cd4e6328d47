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

/// Now, RFC 3339 with milliseconds (log timestamps).
pub fn now_rfc3339_millis() -> String {
    let now = OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(now.millisecond() as u32 * 1_000_000).unwrap_or(now);
    now.format(&Rfc3339).unwrap_or_default()
}
