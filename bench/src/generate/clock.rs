//! Fixed time: every timestamp of a generated bundle is derived from one base instant, so the
//! same arguments give the same bytes whatever the day the generator runs.
//!
//! Logs use hand-rolled formatting of the time of day (the hot path writes millions of lines);
//! everything stays on the base day, which the constants below spell in each log dialect.

/// When the generated collection starts: 2026-03-14T12:00:00Z.
pub(crate) const BASE: i64 = 1_773_489_600;
/// Midnight of the base day.
pub(crate) const DAY_START: i64 = BASE - 12 * 3600;
/// How far back logs reach: they all stay on the base day.
pub(crate) const LOG_WINDOW: i64 = 6 * 3600;
/// The collection lasts this long (the reference performance analysis samples every 30 s for 5 min).
pub(crate) const COLLECTION: i64 = 300;
/// The base day in the log dialects below.
pub(crate) const ISO_DAY: &str = "2026-03-14";
pub(crate) const KLOG_DAY: &str = "0314";
pub(crate) const CLF_DAY: &str = "14/Mar/2026";
pub(crate) const SLASH_DAY: &str = "2026/03/14";

/// RFC 3339 UTC with whole seconds, as the API server writes object timestamps.
pub(crate) fn rfc3339(unix_seconds: i64) -> String {
    match jiff::Timestamp::from_second(unix_seconds) {
        Ok(timestamp) => timestamp.to_string(),
        Err(_) => String::from("1970-01-01T00:00:00Z"),
    }
}

/// Appends `value` as exactly `width` decimal digits (zero-padded, high digits dropped).
pub(crate) fn push_digits(out: &mut Vec<u8>, mut value: u64, width: usize) {
    let start = out.len();
    out.resize(start + width, b'0');
    for slot in out[start..].iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Appends `value` in decimal without padding.
pub(crate) fn push_u64(out: &mut Vec<u8>, value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Appends `HH:MM:SS` of a nanosecond offset into the base day.
pub(crate) fn push_hms(out: &mut Vec<u8>, nanos_of_day: u64) {
    let seconds = nanos_of_day / 1_000_000_000;
    push_digits(out, seconds / 3600 % 24, 2);
    out.push(b':');
    push_digits(out, seconds / 60 % 60, 2);
    out.push(b':');
    push_digits(out, seconds % 60, 2);
}

/// Appends `.` and the first `digits` digits of the fraction of the second.
pub(crate) fn push_fraction(out: &mut Vec<u8>, nanos_of_day: u64, digits: u32) {
    out.push(b'.');
    let fraction = nanos_of_day % 1_000_000_000 / 10u64.pow(9 - digits);
    push_digits(out, fraction, digits as usize);
}

/// Appends `2026-03-14T11:02:03.123456789Z` (the kubelet's `--timestamps` prefix, RFC 3339
/// with nanoseconds) or with fewer fraction digits.
pub(crate) fn push_rfc3339(out: &mut Vec<u8>, nanos_of_day: u64, digits: u32) {
    out.extend_from_slice(ISO_DAY.as_bytes());
    out.push(b'T');
    push_hms(out, nanos_of_day);
    push_fraction(out, nanos_of_day, digits);
    out.push(b'Z');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_constants_spell_the_base_day() -> Result<(), jiff::Error> {
        let base = jiff::Timestamp::from_second(BASE)?;
        assert_eq!(base.to_string(), "2026-03-14T12:00:00Z");
        let civil = base.to_zoned(jiff::tz::TimeZone::UTC);
        assert_eq!(civil.strftime("%Y-%m-%d").to_string(), ISO_DAY);
        assert_eq!(civil.strftime("%m%d").to_string(), KLOG_DAY);
        assert_eq!(civil.strftime("%d/%b/%Y").to_string(), CLF_DAY);
        assert_eq!(civil.strftime("%Y/%m/%d").to_string(), SLASH_DAY);
        assert_eq!(jiff::Timestamp::from_second(DAY_START)?.to_string(), "2026-03-14T00:00:00Z");
        Ok(())
    }

    #[test]
    fn hand_formatting_matches_jiff() -> Result<(), jiff::Error> {
        let nanos_of_day = (11 * 3600 + 2 * 60 + 3) * 1_000_000_000 + 45_678_901;
        let mut out = Vec::new();
        push_rfc3339(&mut out, nanos_of_day, 9);
        let expected = jiff::Timestamp::new(DAY_START + 11 * 3600 + 123, 45_678_901)?.to_string();
        assert_eq!(String::from_utf8_lossy(&out), expected);
        out.clear();
        push_rfc3339(&mut out, nanos_of_day, 3);
        assert_eq!(String::from_utf8_lossy(&out), "2026-03-14T11:02:03.045Z");
        out.clear();
        push_u64(&mut out, 0);
        push_u64(&mut out, 18_446_744_073_709_551_615);
        assert_eq!(String::from_utf8_lossy(&out), "018446744073709551615");
        Ok(())
    }
}
