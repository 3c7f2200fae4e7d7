//! Reading the time of a log line, in the formats the bundles hold: RFC 3339 (the kubelet's
//! `--timestamps` prefix and must-gather's RFC3339Nano prefix among them), klog
//! (`E0809 21:08:25.123456 ...`), Go's `log` (`2006/01/02 15:04:05`), etcd 3.4's and
//! Python's `2006-01-02 15:04:05`, syslog
//! (`Sep 14 14:06:44 host unit[1]: ...`), `date` (`Sat Aug  9 22:57:59 UTC 2025`), the common
//! access log (`[09/Aug/2025:21:08:25 +0000]`) and `K8sLogAnalyzer`'s `MM/DD/YYYY HH:MM:SS`.
//!
//! The formats a line starts with are read by hand (most lines have one, and this runs on
//! every line); the rest are found anywhere in the line with one regex. Times without a zone
//! are UTC. klog and syslog times carry no year: they stay [`Ts::YearLess`] until the bundle's
//! capture time is known.
//!
//! Pure parsing of bytes, so it lives here beside the other parsers of what bundles hold: the
//! analyzer's loader reads every log line through it, and the `log_time` fuzz target
//! (`docs/fuzzing.md`) feeds it any bytes. Work is linear in the line: the formats at the start
//! look at a fixed prefix, and the regex crate matches in linear time.

use jiff::Timestamp;
use jiff::civil::{self, DateTime};
use regex::bytes::Regex;

/// A time read from a line. The order is time order between two times of one variant; every
/// absolute time sorts before every year-less one (a log keeps to one format, and the year of
/// a year-less time is only known once the capture time is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ts {
    /// An absolute time.
    At(Timestamp),
    /// Month, day and time without a year (klog, syslog), in UTC.
    YearLess(DateTime),
}

impl Ts {
    /// The absolute time, taking the year from `reference` (the capture time): the latest
    /// such date not after the reference day, so a December line read in January is last year's.
    pub fn resolve(self, reference: Option<Timestamp>) -> Option<Timestamp> {
        match self {
            Ts::At(at) => Some(at),
            Ts::YearLess(datetime) => {
                let reference = reference.unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(jiff::tz::TimeZone::UTC);
                let year = reference.year();
                let in_year = |year: i16| {
                    civil::Date::new(year, datetime.month(), datetime.day())
                        .ok()
                        .map(|date| date.to_datetime(datetime.time()))
                };
                let limit = reference.date().tomorrow().unwrap_or(reference.date());
                let chosen = in_year(year)
                    .filter(|candidate| candidate.date() <= limit)
                    .or_else(|| in_year(year - 1))?;
                chosen.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|zoned| zoned.timestamp())
            }
        }
    }
}

const MONTHS: [&[u8; 3]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
const WEEKDAYS: [&[u8; 3]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];

/// Reads times from lines. Built once per load.
#[derive(Debug)]
pub struct TimeReader {
    anywhere: Regex,
}

impl TimeReader {
    pub fn new() -> Result<TimeReader, regex::Error> {
        let anywhere = Regex::new(concat!(
            r"(?-u)(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)",
            r"|(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})",
            r"|(\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2})",
            r"|\[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\]",
        ))?;
        Ok(TimeReader { anywhere })
    }

    /// Whether the line holds a time, from its shape only: cheap enough for every line. A
    /// line shaped like a time at its start that does not parse (`2025-13-45T...`) still
    /// counts as timed here and reads as `None`.
    pub fn has(&self, line: &[u8]) -> bool {
        shaped_at_start(line) || self.anywhere.is_match(line)
    }

    /// The line's time.
    pub fn read(&self, line: &[u8]) -> Option<Ts> {
        if let Some(ts) = at_start(line) {
            return Some(ts);
        }
        let captures = self.anywhere.captures(line)?;
        if let Some(found) = captures.get(1) {
            rfc3339(found.as_bytes())
        } else if let Some(found) = captures.get(2) {
            go_log(found.as_bytes())
        } else if let Some(found) = captures.get(3) {
            month_first(found.as_bytes())
        } else {
            captures.get(4).and_then(|found| access_log(found.as_bytes()))
        }
    }
}

/// Whether a line starts like one of the formats [`at_start`] reads, without building a time.
fn shaped_at_start(line: &[u8]) -> bool {
    let digit = |at: usize| line.get(at).is_some_and(u8::is_ascii_digit);
    let is = |at: usize, byte: u8| line.get(at) == Some(&byte);
    let Some(&first) = line.first() else { return false };
    if first.is_ascii_digit() {
        let year_first = digit(1) && digit(2) && digit(3) && digit(5) && digit(6) && digit(8) && digit(9);
        let rfc3339 = year_first && is(4, b'-') && is(7, b'-') && (is(10, b'T') || is(10, b't')) && digit(11);
        let go_log = year_first && is(4, b'/') && is(7, b'/') && is(10, b' ') && digit(11);
        let space_separated = year_first && is(4, b'-') && is(7, b'-') && is(10, b' ') && digit(11);
        let month_first = is(2, b'/') && is(5, b'/') && is(10, b' ') && digit(9) && digit(11);
        return rfc3339 || go_log || space_separated || month_first;
    }
    // klog's level letters also start `Wed`, `Fri` and `Feb`: a line that is not klog-shaped
    // goes on to the `date` and syslog shapes.
    let klog = (1..5).all(digit) && is(5, b' ') && digit(6) && is(8, b':');
    if matches!(first, b'I' | b'W' | b'E' | b'F') && klog {
        return true;
    }
    (first == b'[' || first.is_ascii_uppercase()) && at_start(line).is_some()
}

/// The formats a line starts with.
fn at_start(line: &[u8]) -> Option<Ts> {
    let first = *line.first()?;
    if first.is_ascii_digit() {
        return match line.get(4) {
            Some(b'-') if line.get(10) == Some(&b' ') => space_separated(line),
            Some(b'-') => rfc3339(token(line)),
            Some(b'/') => go_log(line),
            _ if line.get(2) == Some(&b'/') => month_first(line),
            _ => None,
        };
    }
    if matches!(first, b'I' | b'W' | b'E' | b'F') && line.get(5) == Some(&b' ') {
        return klog(line);
    }
    if first == b'[' {
        return date_output(&line[1..]);
    }
    if first.is_ascii_uppercase() {
        return date_output(line).or_else(|| syslog(line));
    }
    None
}

fn token(line: &[u8]) -> &[u8] {
    let end = line.iter().position(|&b| b == b' ' || b == b'\t').unwrap_or(line.len());
    &line[..end]
}

fn number(bytes: &[u8], at: usize, width: usize) -> Option<i32> {
    let digits = bytes.get(at..at + width)?;
    let mut value = 0i32;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i32::from(digit - b'0');
    }
    Some(value)
}

/// `HH:MM:SS` at `at`, with an optional `.fraction`.
fn clock(bytes: &[u8], at: usize) -> Option<civil::Time> {
    let hour = number(bytes, at, 2)?;
    let minute = number(bytes, at + 3, 2)?;
    let second = number(bytes, at + 6, 2)?;
    if bytes.get(at + 2) != Some(&b':') || bytes.get(at + 5) != Some(&b':') {
        return None;
    }
    let mut nanos = 0i32;
    if bytes.get(at + 8) == Some(&b'.') {
        let mut scale = 100_000_000;
        for &digit in bytes.get(at + 9..)?.iter().take_while(|b| b.is_ascii_digit()) {
            nanos += i32::from(digit - b'0') * scale;
            scale /= 10;
        }
    }
    civil::Time::new(i8::try_from(hour).ok()?, i8::try_from(minute).ok()?, i8::try_from(second).ok()?, nanos)
        .ok()
}

fn utc(year: i32, month: i32, day: i32, time: civil::Time) -> Option<Ts> {
    let date =
        civil::Date::new(i16::try_from(year).ok()?, i8::try_from(month).ok()?, i8::try_from(day).ok()?)
            .ok()?;
    let zoned = date.to_datetime(time).to_zoned(jiff::tz::TimeZone::UTC).ok()?;
    Some(Ts::At(zoned.timestamp()))
}

/// RFC 3339, with or without a zone (then UTC); a date without a time is no time of a line.
fn rfc3339(text: &[u8]) -> Option<Ts> {
    if !matches!(text.get(10), Some(b'T' | b't')) {
        return None;
    }
    let text = std::str::from_utf8(text).ok()?;
    if let Ok(at) = text.parse::<Timestamp>() {
        return Some(Ts::At(at));
    }
    let datetime = text.parse::<DateTime>().ok()?;
    datetime.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|zoned| Ts::At(zoned.timestamp()))
}

/// `2006/01/02 15:04:05[.000000]`.
fn go_log(line: &[u8]) -> Option<Ts> {
    if line.get(7) != Some(&b'/') || line.get(10) != Some(&b' ') {
        return None;
    }
    utc(number(line, 0, 4)?, number(line, 5, 2)?, number(line, 8, 2)?, clock(line, 11)?)
}

/// `2006-01-02 15:04:05[.000000]` (etcd 3.4, Python's `logging` with a `,000` it ignores).
fn space_separated(line: &[u8]) -> Option<Ts> {
    if line.get(7) != Some(&b'-') {
        return None;
    }
    utc(number(line, 0, 4)?, number(line, 5, 2)?, number(line, 8, 2)?, clock(line, 11)?)
}

/// `K8sLogAnalyzer`'s `MM/DD/YYYY HH:MM:SS`.
fn month_first(line: &[u8]) -> Option<Ts> {
    if line.get(5) != Some(&b'/') || line.get(10) != Some(&b' ') {
        return None;
    }
    utc(number(line, 6, 4)?, number(line, 0, 2)?, number(line, 3, 2)?, clock(line, 11)?)
}

/// `E0809 21:08:25.123456` (klog: level letter, month, day).
fn klog(line: &[u8]) -> Option<Ts> {
    let month = number(line, 1, 2)?;
    let day = number(line, 3, 2)?;
    let time = clock(line, 6)?;
    year_less(month, day, time)
}

fn year_less(month: i32, day: i32, time: civil::Time) -> Option<Ts> {
    // A leap year, so that February 29 survives until the real year is known.
    let date = civil::Date::new(2000, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()?;
    Some(Ts::YearLess(date.to_datetime(time)))
}

fn month(name: &[u8]) -> Option<i32> {
    MONTHS.iter().position(|m| m.as_slice() == name).and_then(|i| i32::try_from(i + 1).ok())
}

/// `Sep 14 14:06:44 host unit[pid]: ...` (journal short format).
fn syslog(line: &[u8]) -> Option<Ts> {
    let month = month(line.get(..3)?)?;
    let day = match line.get(4) {
        Some(b' ') => number(line, 5, 1)?,
        _ => number(line, 4, 2)?,
    };
    if line.get(3) != Some(&b' ') || line.get(6) != Some(&b' ') {
        return None;
    }
    year_less(month, day, clock(line, 7)?)
}

/// `Sat Aug  9 22:57:59 UTC 2025` (the `date` command), UTC or GMT only.
fn date_output(line: &[u8]) -> Option<Ts> {
    if !WEEKDAYS.iter().any(|w| line.get(..3) == Some(w.as_slice())) || line.get(3) != Some(&b' ') {
        return None;
    }
    let month = month(line.get(4..7)?)?;
    let day = match line.get(8) {
        Some(b' ') => number(line, 9, 1)?,
        _ => number(line, 8, 2)?,
    };
    let time = clock(line, 11)?;
    let zone = line.get(20..24)?;
    if zone != b"UTC " && zone != b"GMT " {
        return None;
    }
    utc(number(line, 24, 4)?, month, day, time)
}

/// `09/Aug/2025:21:08:25 +0000`.
fn access_log(text: &[u8]) -> Option<Ts> {
    let month = month(text.get(3..6)?)?;
    let time = clock(text, 12)?;
    let sign = match text.get(21)? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let offset_minutes = number(text, 22, 2)? * 60 + number(text, 24, 2)?;
    let Ts::At(local) = utc(number(text, 7, 4)?, month, number(text, 0, 2)?, time)? else { return None };
    let at = local.checked_sub(jiff::SignedDuration::from_mins(i64::from(sign * offset_minutes))).ok()?;
    Some(Ts::At(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(line: &str) -> Option<String> {
        let reader = TimeReader::new().unwrap();
        assert_eq!(reader.has(line.as_bytes()), reader.read(line.as_bytes()).is_some(), "{line}");
        let reference: Timestamp = "2025-08-10T00:00:00Z".parse().unwrap();
        reader.read(line.as_bytes()).and_then(|ts| ts.resolve(Some(reference))).map(|t| t.to_string())
    }

    #[test]
    fn every_format() {
        let nano = "2025-08-09T21:08:25.123456789Z";
        assert_eq!(
            read("2025-08-09T21:08:25.123456789Z E0809 21:00:00.000000 1 x.go:1] boom").as_deref(),
            Some(nano)
        );
        assert_eq!(read("2025-08-09T21:08:25+02:00 hello").as_deref(), Some("2025-08-09T19:08:25Z"));
        assert_eq!(read("2025-08-09T21:08:25 hello").as_deref(), Some("2025-08-09T21:08:25Z"));
        assert_eq!(
            read("E0809 21:08:25.123456   1 file.go:12] msg").as_deref(),
            Some("2025-08-09T21:08:25.123456Z")
        );
        assert_eq!(read("2025/08/09 21:08:25 connected").as_deref(), Some("2025-08-09T21:08:25Z"));
        assert_eq!(read("08/09/2025 21:08:25 ERROR x").as_deref(), Some("2025-08-09T21:08:25Z"));
        assert_eq!(
            read(r#"10.0.0.1 - - [09/Aug/2025:23:08:25 +0200] "GET / HTTP/1.1" 200"#).as_deref(),
            Some("2025-08-09T21:08:25Z")
        );
        assert_eq!(
            read("[Sat Aug  9 22:57:59 UTC 2025] ERROR: Connection refused").as_deref(),
            Some("2025-08-09T22:57:59Z")
        );
        assert_eq!(
            read("Aug  9 14:06:44 master-0 kubelet[1234]: started").as_deref(),
            Some("2025-08-09T14:06:44Z")
        );
        assert_eq!(
            read(r#"{"level":"info","ts":"2025-08-09T21:08:25Z","msg":"x"}"#).as_deref(),
            Some("2025-08-09T21:08:25Z")
        );
        // etcd 3.4 and Python's logging: a space between date and time (once read as midnight).
        assert_eq!(
            read("2022-01-27 14:37:20.684623 I | etcdmain: etcd Version: 3.4.13").as_deref(),
            Some("2022-01-27T14:37:20.684623Z")
        );
        assert_eq!(
            read("2025-08-09 21:08:25,123 - root - INFO - x").as_deref(),
            Some("2025-08-09T21:08:25Z")
        );
        assert_eq!(read("2022-01-27 a date alone"), None);
        // klog's level letters start these too (`has` once called them untimed).
        assert_eq!(read("Feb  3 10:00:00 host unit[1]: x").as_deref(), Some("2025-02-03T10:00:00Z"));
        assert_eq!(read("Wed Oct 10 00:00:00 UTC 1973 x").as_deref(), Some("1973-10-10T00:00:00Z"));
        assert_eq!(read("Starting application..."), None);
        assert_eq!(read("INFO 123 not a time"), None);
    }

    #[test]
    fn year_comes_from_the_capture() {
        let reader = TimeReader::new().unwrap();
        let ts = reader.read(b"I1231 23:59:59.000000 1 x.go:1] late").unwrap();
        let january: Timestamp = "2026-01-02T00:00:00Z".parse().unwrap();
        assert_eq!(ts.resolve(Some(january)).map(|t| t.to_string()).as_deref(), Some("2025-12-31T23:59:59Z"));
        let leap = reader.read(b"W0229 10:00:00.000000 1 x.go:1] leap").unwrap();
        let in_2024: Timestamp = "2024-03-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            leap.resolve(Some(in_2024)).map(|t| t.to_string()).as_deref(),
            Some("2024-02-29T10:00:00Z")
        );
    }

    /// A time written back in each format a line can start with reads as the same instant
    /// (to the format's precision), and reading a line never needs more than the line.
    #[test]
    fn written_times_read_back_as_the_same_instant() {
        use proptest::prelude::*;
        let reader = TimeReader::new().unwrap();
        let strategy = (0i64..4_102_444_800, 0u32..1_000_000_000);
        proptest!(ProptestConfig::with_cases(512), |((second, nanos) in strategy)| {
            let at = Timestamp::new(second, i32::try_from(nanos).unwrap()).unwrap();
            let utc = at.to_zoned(jiff::tz::TimeZone::UTC);
            let whole = Timestamp::from_second(second).unwrap();
            let micros = Timestamp::new(second, i32::try_from(nanos / 1000 * 1000).unwrap()).unwrap();
            let lines = [
                (format!("{at} msg"), at),
                (utc.strftime("%Y/%m/%d %H:%M:%S.%f go log").to_string(), at),
                (utc.strftime("%m/%d/%Y %H:%M:%S x").to_string(), whole),
                (utc.strftime("%Y-%m-%d %H:%M:%S.%f etcd").to_string(), at),
                (utc.strftime("%a %b %e %H:%M:%S UTC %Y x").to_string(), whole),
                (utc.strftime(r#"10.0.0.1 - - [%d/%b/%Y:%H:%M:%S +0000] "GET /""#).to_string(), whole),
                (format!("{{\"ts\":\"{at}\"}}"), at),
            ];
            for (line, expected) in lines {
                let read = reader.read(line.as_bytes()).and_then(|ts| ts.resolve(None));
                prop_assert_eq!(read, Some(expected), "{}", line);
                prop_assert!(reader.has(line.as_bytes()), "{}", line);
            }
            // Year-less formats: the year comes from the reference.
            let year_less = [
                utc.strftime("E%m%d %H:%M:%S.%6f 1 x.go:1] klog").to_string(),
                utc.strftime("%b %e %H:%M:%S host unit[1]: syslog").to_string(),
            ];
            for (line, expected) in year_less.iter().zip([micros, whole]) {
                let reference = utc.date().tomorrow().unwrap().to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp();
                let read = reader.read(line.as_bytes()).and_then(|ts| ts.resolve(Some(reference)));
                prop_assert_eq!(read, Some(expected), "{}", line);
            }
        });
    }

    #[test]
    fn a_long_line_reads_its_time_wherever_it_is() {
        let reader = TimeReader::new().unwrap();
        let mut line = "2025-08-09T21:08:x ".repeat(1 << 16).into_bytes();
        assert_eq!(reader.read(&line), None);
        line.extend_from_slice(b" at 2025/08/09 21:08:25 done");
        let read = reader.read(&line).and_then(|ts| ts.resolve(None)).map(|t| t.to_string());
        assert_eq!(read.as_deref(), Some("2025-08-09T21:08:25Z"));
    }
}
