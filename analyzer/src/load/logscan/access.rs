//! HTTP access-log lines, counted while the scan streams: status classes per minute and per
//! upstream, so that `high-error-rate` evaluates `K8sLogAnalyzer`'s rule over every request of a log
//! rather than over the few lines the model keeps.
//!
//! The formats read are the common and combined log formats and ingress-nginx's default
//! `upstreaminfo`, which extends the combined one:
//!
//! ```text
//! $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer"
//! "$http_user_agent" $request_length $request_time [$proxy_upstream_name] ...
//! ```
//!
//! optionally behind a prefix such as the RFC 3339 time `kubectl logs --timestamps` adds. Every
//! such line has `] "` where `[$time_local]` ends and `"$request"` starts: the scan looks for that
//! with one SIMD search over the chunk, so a log without access lines costs one fast pass and an
//! access line is read by hand, without a regex.

use std::collections::BTreeMap;

/// What ends `[$time_local]` and opens `"$request"`.
pub(crate) const MARKER: &[u8] = b"] \"";

/// Distinct upstreams a log keeps; requests of further upstreams are counted under one more,
/// [`OTHER_UPSTREAMS`]. An ingress controller serves at most a few hundred.
const MAX_UPSTREAMS: usize = 1_000;
/// The upstream name further upstreams are counted under.
pub(crate) const OTHER_UPSTREAMS: &[u8] = b"(other upstreams)";
/// Distinct minutes an upstream keeps (two weeks); the oldest beyond are dropped and their
/// requests counted as unbucketed. Bounds memory against logs whose times are scattered.
pub(crate) const MAX_MINUTES: usize = 20_160;

/// One access-log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Request<'a> {
    /// `$time_local` as it is written (`07/Feb/2020:11:48:51 +0000`).
    pub(crate) time: &'a [u8],
    pub(crate) status: u16,
    /// `$proxy_upstream_name`; `None` when the format has no such field.
    pub(crate) upstream: Option<&'a [u8]>,
}

/// Reads the access-log line whose `] "` is at `marker`; `None` when it is not one.
pub(crate) fn parse(line: &[u8], marker: usize) -> Option<Request<'_>> {
    let open = memchr::memrchr(b'[', &line[..marker])?;
    // `$remote_addr - $remote_user ` before the bracket.
    if open == 0 || line[open - 1] != b' ' {
        return None;
    }
    let time = &line[open + 1..marker];
    // `dd/Mon/yyyy:HH:MM:SS +zzzz`
    if time.len() != 26 || time[2] != b'/' || time[6] != b'/' || time[11] != b':' || time[20] != b' ' {
        return None;
    }
    let after_request = quoted_end(line, marker + 2)?;
    let rest = &line[after_request..];
    let digits = rest.get(1..4)?;
    if rest[0] != b' ' || !digits.iter().all(u8::is_ascii_digit) || rest.get(4).is_some_and(|&b| b != b' ') {
        return None;
    }
    let status = digits.iter().fold(0u16, |value, digit| value * 10 + u16::from(digit - b'0'));
    if !(100..=599).contains(&status) {
        return None;
    }
    Some(Request { time, status, upstream: upstream(line, after_request + 4) })
}

/// The end (one past the closing quote) of the quoted string opening at `at`, backslash
/// escapes skipped (nginx writes `\x22`, Apache `\"`).
fn quoted_end(line: &[u8], at: usize) -> Option<usize> {
    if line.get(at) != Some(&b'"') {
        return None;
    }
    let mut position = at + 1;
    loop {
        let found = position + memchr::memchr2(b'"', b'\\', line.get(position..)?)?;
        if line[found] == b'"' {
            return Some(found + 1);
        }
        position = found + 2;
    }
}

/// ` $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time
/// [$proxy_upstream_name]` from `at`: the upstream, or `None` when the line ends otherwise.
fn upstream(line: &[u8], at: usize) -> Option<&[u8]> {
    let mut position = token_end(line, at)?;
    for _ in 0..2 {
        if line.get(position) != Some(&b' ') {
            return None;
        }
        position = quoted_end(line, position + 1)?;
    }
    for _ in 0..2 {
        position = token_end(line, position)?;
    }
    let rest = line.get(position..)?.strip_prefix(b" [")?;
    let close = memchr::memchr(b']', rest)?;
    Some(&rest[..close])
}

/// The end of the space-separated word after the space at `at`.
fn token_end(line: &[u8], at: usize) -> Option<usize> {
    if line.get(at) != Some(&b' ') {
        return None;
    }
    let start = at + 1;
    let length = line.get(start..)?.iter().position(|&b| b == b' ').unwrap_or(line.len() - start);
    (length > 0).then_some(start + length)
}

/// The Unix minute of a `$time_local` (`07/Feb/2020:11:48:51 +0000`).
pub(crate) fn minute_of(time: &[u8]) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| -> Option<i32> {
        let digits = time.get(range)?;
        digits.iter().try_fold(0i32, |value, &digit| {
            digit.is_ascii_digit().then(|| value * 10 + i32::from(digit - b'0'))
        })
    };
    const MONTHS: [&[u8; 3]; 12] =
        [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
    let month = MONTHS.iter().position(|name| time.get(3..6) == Some(&name[..]))?;
    let date = jiff::civil::Date::new(
        i16::try_from(number(7..11)?).ok()?,
        i8::try_from(month + 1).ok()?,
        i8::try_from(number(0..2)?).ok()?,
    )
    .ok()?;
    let datetime = date.at(i8::try_from(number(12..14)?).ok()?, i8::try_from(number(15..17)?).ok()?, 0, 0);
    let sign = match time.get(21)? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let offset = sign * (number(22..24)? * 3600 + number(24..26)? * 60);
    let offset = jiff::tz::Offset::from_seconds(offset).ok()?;
    let at = offset.to_timestamp(datetime).ok()?;
    Some(at.as_second().div_euclid(60))
}

/// Requests of one upstream: per status over all, per minute by class.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) statuses: BTreeMap<u16, u64>,
    /// Unix minute → [all, 4xx, 5xx].
    pub(crate) minutes: BTreeMap<i64, [u32; 3]>,
    pub(crate) unbucketed: u64,
}

impl Tally {
    fn add(&mut self, minute: Option<i64>, status: u16) {
        *self.statuses.entry(status).or_default() += 1;
        match minute {
            Some(minute) => {
                let counts = self.minutes.entry(minute).or_default();
                counts[0] = counts[0].saturating_add(1);
                match status {
                    400..=499 => counts[1] = counts[1].saturating_add(1),
                    500..=599 => counts[2] = counts[2].saturating_add(1),
                    _ => {}
                }
            }
            None => self.unbucketed += 1,
        }
    }

    pub(crate) fn merge(&mut self, other: Tally) {
        for (status, count) in other.statuses {
            *self.statuses.entry(status).or_default() += count;
        }
        for (minute, counts) in other.minutes {
            let mine = self.minutes.entry(minute).or_default();
            for (mine, theirs) in mine.iter_mut().zip(counts) {
                *mine = mine.saturating_add(theirs);
            }
        }
        self.unbucketed += other.unbucketed;
        self.bound();
    }

    /// Drops the oldest minutes beyond [`MAX_MINUTES`], their requests kept as unbucketed.
    fn bound(&mut self) {
        while self.minutes.len() > MAX_MINUTES {
            if let Some((_, counts)) = self.minutes.pop_first() {
                self.unbucketed += u64::from(counts[0]);
            }
        }
    }
}

/// The requests of one run of lines, by upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Requests {
    /// Lines whose format names no upstream.
    pub(crate) direct: Tally,
    pub(crate) upstreams: BTreeMap<Vec<u8>, Tally>,
    /// The last `$time_local` read and its minute: consecutive lines mostly share a minute.
    last_time: Option<([u8; 26], Option<i64>)>,
}

impl Requests {
    pub(crate) fn is_empty(&self) -> bool {
        self.direct.statuses.is_empty() && self.upstreams.is_empty()
    }

    pub(crate) fn add(&mut self, request: Request<'_>) {
        let minute = match &self.last_time {
            Some((time, minute)) if time[..] == *request.time => *minute,
            _ => {
                let minute = minute_of(request.time);
                self.last_time = <[u8; 26]>::try_from(request.time).ok().map(|time| (time, minute));
                minute
            }
        };
        let tally = match request.upstream {
            None => &mut self.direct,
            Some(upstream) => {
                let known = self.upstreams.contains_key(upstream);
                let key =
                    if known || self.upstreams.len() < MAX_UPSTREAMS { upstream } else { OTHER_UPSTREAMS };
                // Looked up by slice: a name is allocated once per upstream, not once per line.
                if !self.upstreams.contains_key(key) {
                    self.upstreams.insert(key.to_vec(), Tally::default());
                }
                let Some(tally) = self.upstreams.get_mut(key) else { return };
                tally
            }
        };
        tally.add(minute, request.status);
        if tally.minutes.len() > MAX_MINUTES {
            tally.bound();
        }
    }

    /// Adds the requests of a later run of the same log.
    pub(crate) fn merge(&mut self, other: Requests) {
        self.direct.merge(other.direct);
        for (upstream, tally) in other.upstreams {
            let key = match self.upstreams.contains_key(&upstream) || self.upstreams.len() < MAX_UPSTREAMS {
                true => upstream,
                false => OTHER_UPSTREAMS.to_vec(),
            };
            self.upstreams.entry(key).or_default().merge(tally);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(line: &str) -> Option<(u16, Option<String>, Option<i64>)> {
        let marker = memchr::memmem::find(line.as_bytes(), MARKER)?;
        let request = parse(line.as_bytes(), marker)?;
        Some((
            request.status,
            request.upstream.map(|u| String::from_utf8_lossy(u).into_owned()),
            minute_of(request.time),
        ))
    }

    /// The real ingress-nginx lines of elastic/beats' filebeat module test: every line parses,
    /// and the statuses, upstreams and minutes read are those a plain split of the line gives.
    #[test]
    fn reads_every_line_of_the_real_ingress_controller_log() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../shared/realdata/elastic__beats/filebeat/module/nginx/ingress_controller/test/test.log",
        );
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().filter(|line| !line.is_empty()).collect();
        assert!(lines.len() > 20);
        for line in &lines {
            let (status, upstream, minute) = read(line).unwrap_or_else(|| panic!("not read: {line}"));
            // Independently: the status follows the quoted request, the upstream is the first
            // [..] after the user agent, the time is the first [..] of the line.
            let after_request = line.split('"').nth(2).unwrap();
            assert_eq!(status, after_request.split_whitespace().next().unwrap().parse::<u16>().unwrap());
            let tail = line.rsplit('"').next().unwrap();
            let expected = tail.split('[').nth(1).unwrap().split(']').next().unwrap();
            assert_eq!(upstream.as_deref(), Some(expected), "{line}");
            let local = line.split('[').nth(1).unwrap().split(']').next().unwrap();
            let at =
                jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", local).unwrap().to_timestamp().unwrap();
            assert_eq!(minute, Some(at.as_second().div_euclid(60)), "{line}");
        }
        let errors = lines.iter().filter_map(|line| read(line)).filter(|(status, ..)| *status >= 500).count();
        assert_eq!(errors, lines.iter().filter(|line| line.contains("\" 502 ")).count());
        assert!(errors > 0);
        // nginx answering a malformed request itself names no upstream: `[]`.
        assert!(
            lines.iter().filter_map(|line| read(line)).any(|(s, u, _)| s == 400 && u.as_deref() == Some(""))
        );
    }

    #[test]
    fn reads_common_and_combined_formats_and_rejects_look_alikes() {
        // Combined (nginx's `main`), behind kubectl's timestamp; no upstream field.
        let combined = "2025-06-01T11:59:01.1Z 10.0.0.1 - - [01/Jun/2025:13:59:01 +0200] \"GET /a\\\"b HTTP/1.1\" 503 0 \"-\" \"curl/8\" \"-\"";
        let minute = "2025-06-01T11:59:00Z".parse::<jiff::Timestamp>().unwrap().as_second() / 60;
        assert_eq!(read(combined), Some((503, None, Some(minute))));
        // Common log format: no referer or agent.
        assert_eq!(
            read("127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /a.gif HTTP/1.0\" 200 2326")
                .map(|r| r.0),
            Some(200)
        );
        // klog structured lines and bracketed text have `] "` too.
        assert_eq!(read("I0809 21:08:25.123456 1 controller.go:12] \"Starting\" worker=3"), None);
        assert_eq!(read("[main] \"GET / HTTP/1.1\" 200 1"), None);
        assert_eq!(read("x - - [01/Jun/2025:11:59:01 +0000] \"GET / HTTP/1.1\" 2000 1"), None);
        assert_eq!(read("x - - [01/Jun/2025:11:59:01 +0000] \"GET / HTTP/1.1\" 999 1"), None);
        // A time of the right shape that is no date counts, without a minute.
        assert_eq!(
            read("x - - [41/Foo/2025:11:59:01 +0000] \"GET / HTTP/1.1\" 200 1"),
            Some((200, None, None))
        );
    }

    #[test]
    fn tallies_per_minute_and_upstream_and_merges() {
        let lines = [
            "a - - [01/Jun/2025:11:50:01 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"c\" 1 0.1 [shop-web-80] [] x 1 0.1 200 r",
            "a - - [01/Jun/2025:11:50:59 +0000] \"GET / HTTP/1.1\" 503 1 \"-\" \"c\" 1 0.1 [shop-web-80] [] x 1 0.1 503 r",
            "a - - [01/Jun/2025:11:51:00 +0000] \"GET / HTTP/1.1\" 404 1 \"-\" \"c\" 1 0.1 [shop-web-80] [] x 1 0.1 404 r",
            "a - - [01/Jun/2025:11:51:00 +0000] \"GET / HTTP/1.1\" 502 1 \"-\" \"c\" 1 0.1 [shop-api-80] [] x 1 0.1 502 r",
            "a - - [01/Jun/2025:11:51:00 +0000] \"GET / HTTP/1.1\" 200 1",
        ];
        let mut first = Requests::default();
        let mut second = Requests::default();
        for (index, line) in lines.iter().enumerate() {
            let marker = memchr::memmem::find(line.as_bytes(), MARKER).unwrap();
            let request = parse(line.as_bytes(), marker).unwrap();
            if index < 2 { first.add(request) } else { second.add(request) }
        }
        first.merge(second);
        let minute = "2025-06-01T11:50:00Z".parse::<jiff::Timestamp>().unwrap().as_second() / 60;
        let web = &first.upstreams[&b"shop-web-80"[..]];
        assert_eq!(
            web.minutes.iter().map(|(m, c)| (*m - minute, *c)).collect::<Vec<_>>(),
            [(0, [2, 0, 1]), (1, [1, 1, 0])]
        );
        assert_eq!(
            web.statuses.iter().map(|(s, c)| (*s, *c)).collect::<Vec<_>>(),
            [(200, 1), (404, 1), (503, 1)]
        );
        assert_eq!(first.upstreams[&b"shop-api-80"[..]].minutes[&(minute + 1)], [1, 0, 1]);
        assert_eq!(first.direct.minutes[&(minute + 1)], [1, 0, 0]);
    }

    #[test]
    fn memory_is_bounded_by_minutes_and_upstreams() {
        let mut requests = Requests::default();
        for index in 0..(MAX_MINUTES + 10) {
            let at = jiff::Timestamp::from_second(1_700_000_000 + 60 * index as i64).unwrap();
            let time = at.strftime("%d/%b/%Y:%H:%M:%S +0000").to_string();
            requests.add(Request { time: time.as_bytes(), status: 200, upstream: Some(b"u") });
        }
        for index in 0..(MAX_UPSTREAMS + 5) {
            let name = format!("up-{index}");
            requests.add(Request {
                time: b"01/Jun/2025:11:50:01 +0000",
                status: 500,
                upstream: Some(name.as_bytes()),
            });
        }
        let u = &requests.upstreams[&b"u"[..]];
        assert_eq!((u.minutes.len(), u.unbucketed), (MAX_MINUTES, 10));
        assert_eq!(requests.upstreams.len(), MAX_UPSTREAMS + 1, "and the bucket of the others");
        assert_eq!(requests.upstreams[OTHER_UPSTREAMS].statuses[&500], 6);
    }
}
