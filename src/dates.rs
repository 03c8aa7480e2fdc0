//! Publication dates as news feeds carry them, for `--keep earliest` and
//! `--keep latest`: parsed by `jiff`, to milliseconds since the Unix epoch.
//!
//! Accepted: RFC 3339 / ISO 8601 date-times with an offset or `Z`
//! (`2024-05-01T09:30:00+02:00`); date-times without one and bare dates
//! (`2024-05-01 09:30`, `2024-05-01`), read as UTC; RFC 2822 (`Wed, 01 May
//! 2024 09:30:00 +0200`, as RSS writes them); and Unix times as numbers or
//! digit strings, in seconds, or in milliseconds when the number is too
//! large to be seconds of the years 1973-5138.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

/// The instant a date field's raw JSON value (a string or a number) names,
/// in milliseconds since the Unix epoch; `None` when it names none.
pub fn parse_raw_json_date(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        // A date is plain ASCII: an escape in it is no date doppel reads.
        Some(text) if !text.contains('\\') => parse_date(text),
        Some(_) => None,
        None => parse_unix(raw),
    }
}

/// The instant `text` names, in milliseconds since the Unix epoch.
pub fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return parse_unix(text);
    }
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t.as_millisecond());
    }
    if let Ok(t) = jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(text) {
        return Some(t.as_millisecond());
    }
    let civil = text
        .parse::<DateTime>()
        .ok()
        .or_else(|| text.parse::<Date>().ok().map(|d| d.to_datetime(jiff::civil::Time::midnight())))?;
    TimeZone::UTC.to_timestamp(civil).ok().map(|t| t.as_millisecond())
}

/// A Unix time: seconds, or milliseconds past 10^11 (1973 in seconds is
/// about 10^8 milliseconds, 5138 about 10^11 seconds).
fn parse_unix(number: &str) -> Option<i64> {
    let value: f64 = number.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    let millis = if value.abs() >= 1e11 { value } else { value * 1000.0 };
    let millis = millis.round();
    (millis.abs() < 8.2e15).then_some(millis as i64).filter(|&m| Timestamp::from_millisecond(m).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_feeds_write_them_name_one_instant() {
        let noon = Some(1_714_564_800_000); // 2024-05-01T12:00:00Z
        for raw in [
            r#""2024-05-01T12:00:00Z""#,
            r#""2024-05-01T14:00:00+02:00""#,
            r#""2024-05-01T12:00:00.000Z""#,
            r#""2024-05-01 12:00:00""#,
            r#""Wed, 01 May 2024 14:00:00 +0200""#,
            r#""Wed, 1 May 2024 12:00:00 GMT""#,
            "1714564800",
            "1714564800000",
            r#""1714564800""#,
            "1714564800.0",
        ] {
            assert_eq!(parse_raw_json_date(raw), noon, "{raw}");
        }
        assert_eq!(parse_raw_json_date(r#""2024-05-01""#), Some(1_714_521_600_000));
        for raw in [r#""""#, r#""yesterday""#, "null", "true", r#""2024-13-01""#, "1e400", r#""\u0032024""#] {
            assert_eq!(parse_raw_json_date(raw), None, "{raw}");
        }
    }
}
