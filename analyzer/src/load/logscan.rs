//! Scanning container logs for the core pattern families, a chunk at a time.
//!
//! `K8sLogAnalyzer` has ten error families and five warning families; a line
//! counts once for every family it matches, case-insensitively. One combined automaton (all
//! families, plus the words and klog letters that make a line ERROR or FATAL) says which lines
//! are worth a closer look; only those are matched against the [`RegexSet`] to learn their
//! families and read their level and time. Most lines match nothing, and the automaton reads
//! a byte at a time, so it runs only on the lines a prefilter lets through ([`words`]): a
//! lowercase copy of the chunk is searched for the words every match holds (SIMD, many bytes
//! at a time), and a line holding none of them is let through only when a klog `E` or `F`
//! letter opens it or follows its first word.
//!
//! A chunk ends at a line end (the decoding thread carries the partial last line into the next
//! chunk), so chunks of one log are scanned independently, in parallel, and merged in order
//! by [`super::logs::LogAccumulator`]. Bytes that are not UTF-8 never stop a scan: kept lines
//! are decoded lossily.
//!
//! The same pass counts the HTTP requests of access-log lines per minute and upstream
//! ([`access`]), and each family's timed hits and the ERROR and FATAL lines per 5-minute window
//! ([`windows`]): every count the model holds is over every line, never over the lines kept.

use std::collections::VecDeque;

use regex::bytes::{Regex, RegexSet, RegexSetBuilder};
use serde_json::Value;

use crate::facts::logs::families::{FAMILIES, Kind};
use kubesnap_shared::import::LogLayout;
use kubesnap_shared::log_time::{TimeReader, Ts};

pub(crate) mod access;
pub(crate) mod windows;
mod words;

/// How many of [`FAMILIES`] are the published analyzer's; the rest are kubesnap's extensions.
#[cfg(test)]
const CORE_FAMILIES: usize = 15;

/// How many sample lines each family keeps per log.
pub(crate) const SAMPLES: usize = 5;
/// How many last lines a log keeps (the crash reason is in the previous run's last lines).
pub(crate) const TAIL: usize = 50;
/// How many timed hits and error lines a log keeps as samples (the latest).
pub(crate) const MAX_TIMED: usize = 2_000;
/// Longest text kept for one line.
const MAX_TEXT: usize = 1_000;
/// The most memory the [`RegexSet`]'s lazy DFA keeps per worker. Its `.*` patterns make many
/// states on varied lines: at the default 2 MiB, the real logs of `../shared/realdata` made it
/// clear and rebuild its states for a fifth of the scan's time; 4 MiB was enough there. It
/// grows only as far as the lines need.
const SET_CACHE: usize = 8 << 20;

/// The compiled patterns, built once per load and shared by every worker.
#[derive(Debug)]
pub(crate) struct Patterns {
    /// Every family, `error`, `fatal` and a klog E/F level letter: a line without a match here
    /// has no family and is not at ERROR or FATAL level.
    any: Regex,
    set: RegexSet,
    /// The words (lowercase) one of which every match of `any` holds, but a klog level letter
    /// ([`words::WORDS`]); `None` where no SIMD search is built (CPUs other than x86-64 and
    /// AArch64): `any` then runs over the whole chunk.
    words: Option<aho_corasick::packed::Searcher>,
    /// `] "`: where an access-log line's `[$time_local]` ends and its `"$request"` starts.
    access: memchr::memmem::Finder<'static>,
    pub(crate) times: TimeReader,
    /// By family: the family an extension completes (its lines count only where that one's
    /// pattern does not match).
    extends: [Option<usize>; FAMILIES.len()],
}

impl Patterns {
    pub(crate) fn new() -> Result<Patterns, regex::Error> {
        // ASCII case folding: the patterns are ASCII, and it keeps the automaton small.
        let families: Vec<String> =
            FAMILIES.iter().map(|family| format!("(?i-u){}", family.pattern)).collect();
        let mut any = families.join("|");
        any.push_str(r"|(?i-u)error|fatal|(?m-iu)^(?:\S+ )?[EF]\d{4} ");
        Ok(Patterns {
            any: Regex::new(&any)?,
            set: RegexSetBuilder::new(&families).dfa_size_limit(SET_CACHE).build()?,
            words: aho_corasick::packed::Searcher::new(words::WORDS),
            access: memchr::memmem::Finder::new(access::MARKER),
            times: TimeReader::new()?,
            extends: FAMILIES.map(|family| match family.kind {
                Kind::Extends(code) => FAMILIES.iter().position(|other| other.code == code),
                Kind::Error | Kind::Warning | Kind::Refines(_) => None,
            }),
        })
    }
}

/// A line kept as evidence; `line` counts from 1 within its segment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Kept {
    pub(crate) line: u64,
    pub(crate) text: String,
    pub(crate) ts: Option<Ts>,
}

/// What one run of lines of one container holds. A chunk is one segment, except in the
/// `Markers` layout, where a `==== START logs for container ... ====` line opens a new one.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Segment {
    /// The container a START marker named (`None`: the lines continue the previous segment).
    pub(crate) opens: Option<String>,
    pub(crate) bytes: u64,
    pub(crate) lines: u64,
    pub(crate) untimed: u64,
    pub(crate) counts: [u64; FAMILIES.len()],
    /// Hits on lines at ERROR or FATAL level, per family.
    pub(crate) error_level: [u64; FAMILIES.len()],
    pub(crate) samples: [Vec<Kept>; FAMILIES.len()],
    /// Timed hits per family and window.
    pub(crate) windows: [windows::Series; FAMILIES.len()],
    /// Lines at ERROR or FATAL level, timed or not.
    pub(crate) error_count: u64,
    /// Timed lines at ERROR or FATAL level per window.
    pub(crate) error_windows: windows::Series,
    pub(crate) tail: VecDeque<Kept>,
    pub(crate) error_lines: VecDeque<Kept>,
    pub(crate) first: Option<Ts>,
    pub(crate) last: Option<Ts>,
    pub(crate) requests: access::Requests,
}

/// Scans one chunk (whole lines) of a log.
pub(crate) fn scan_chunk(patterns: &Patterns, chunk: &[u8], layout: LogLayout) -> Vec<Segment> {
    scan(patterns, chunk, layout, true)
}

/// [`scan_chunk`] with the automaton over every byte of the chunk, not only the lines the
/// prefilter lets through: what the prefilter is held against.
#[cfg(test)]
pub(crate) fn scan_chunk_unfiltered(patterns: &Patterns, chunk: &[u8], layout: LogLayout) -> Vec<Segment> {
    scan(patterns, chunk, layout, false)
}

fn scan(patterns: &Patterns, chunk: &[u8], layout: LogLayout, prefilter: bool) -> Vec<Segment> {
    let mut scan = ChunkScan {
        patterns,
        prefilter,
        segments: vec![Segment::default()],
        tail: VecDeque::new(),
        last_timed: None,
    };
    match layout {
        LogLayout::Journal => scan.journal(chunk),
        LogLayout::Plain | LogLayout::Gzip | LogLayout::Markers => {
            scan.text(chunk, layout == LogLayout::Markers)
        }
    }
    scan.finish_segment(chunk);
    scan.segments
}

struct ChunkScan<'a> {
    patterns: &'a Patterns,
    /// Whether the automaton runs only on the lines the prefilter lets through ([`words`]).
    prefilter: bool,
    segments: Vec<Segment>,
    /// The current segment's last lines as (number, start, end) in the chunk: decoded once at
    /// the end of the segment instead of on every line.
    tail: VecDeque<(u64, usize, usize)>,
    /// The current segment's last timed line (start, end): its time is read once, at the end.
    last_timed: Option<(usize, usize)>,
}

impl ChunkScan<'_> {
    fn current(&mut self) -> &mut Segment {
        // `segments` starts with one and only grows.
        let last = self.segments.len() - 1;
        &mut self.segments[last]
    }

    fn text(&mut self, chunk: &[u8], markers: bool) {
        let mut hits = if self.prefilter {
            words::Hits::new(self.patterns, chunk)
        } else {
            words::Hits::automaton(self.patterns, chunk)
        };
        let mut next_access = self.patterns.access.find(chunk);
        let mut start = 0;
        while start < chunk.len() {
            let end = memchr::memchr(b'\n', &chunk[start..]).map_or(chunk.len(), |i| start + i);
            let mut line = &chunk[start..end];
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
            let hit = hits.line(self.patterns, chunk, start, end, line);
            let access = match next_access {
                Some(position) if position < end => {
                    let from = (end + 1).min(chunk.len());
                    next_access = self.patterns.access.find(&chunk[from..]).map(|found| from + found);
                    // Within the line (a `\r` before the end is not part of it).
                    (position + access::MARKER.len() <= start + line.len()).then_some(position - start)
                }
                _ => None,
            };
            if markers && line.starts_with(b"==== ") {
                if let Some(container) = start_marker(line) {
                    self.finish_segment(chunk);
                    self.segments.push(Segment { opens: Some(container), ..Segment::default() });
                    start = end + 1;
                    continue;
                }
                if line.starts_with(b"==== END logs for container ") {
                    start = end + 1;
                    continue;
                }
            }
            let ts_known = None;
            self.line(line, start, ts_known, hit, access);
            start = end + 1;
        }
    }

    fn journal(&mut self, chunk: &[u8]) {
        for raw in chunk.split(|&b| b == b'\n') {
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let (text, ts) = journal_entry(raw);
            let hit = self.patterns.any.is_match(text.as_bytes());
            let access = self.patterns.access.find(text.as_bytes());
            // Journal lines are decoded per line; keep their text through the tail directly.
            let segment_line = self.current().lines + 1;
            self.line(text.as_bytes(), usize::MAX, Some(ts), hit, access);
            let kept = Kept { line: segment_line, text: clip(text.as_bytes()), ts };
            let segment = self.current();
            if segment.tail.len() == TAIL {
                segment.tail.pop_front();
            }
            segment.tail.push_back(kept);
        }
    }

    /// One line. `start` is its offset in the chunk (for the tail), or `usize::MAX` when the
    /// caller keeps the tail itself; `ts_known` is the time when the layout gives it; `access`
    /// the offset of an access-log marker in the line.
    fn line(
        &mut self,
        line: &[u8],
        start: usize,
        ts_known: Option<Option<Ts>>,
        hit: bool,
        access: Option<usize>,
    ) {
        let patterns = self.patterns;
        let last = self.segments.len() - 1;
        let segment = &mut self.segments[last];
        segment.lines += 1;
        segment.bytes += line.len() as u64 + 1;
        let number = segment.lines;
        let timed = match ts_known {
            Some(ts) => ts.is_some(),
            None => patterns.times.has(line),
        };
        if !timed {
            segment.untimed += 1;
        }
        if let Some(request) = access.and_then(|marker| access::parse(line, marker)) {
            segment.requests.add(request);
        }
        let mut ts: Option<Option<Ts>> = ts_known;
        let read_ts = |ts: &mut Option<Option<Ts>>| *ts.get_or_insert_with(|| patterns.times.read(line));
        if timed && segment.first.is_none() {
            segment.first = read_ts(&mut ts);
        }
        if timed {
            match (ts_known, start) {
                (Some(known), _) => segment.last = known.or(segment.last),
                (None, usize::MAX) => segment.last = read_ts(&mut ts).or(segment.last),
                // Only the last timed line's time survives: read it once, at the end.
                (None, start) => self.last_timed = Some((start, start + line.len())),
            }
        }
        if hit {
            let families = patterns.set.matches(line);
            let error_level = error_level(line);
            let time = if timed { read_ts(&mut ts) } else { None };
            let mut text = None;
            let counted_by_its_family =
                |family: usize| patterns.extends[family].is_some_and(|extended| families.matched(extended));
            for family in families.iter().filter(|&family| !counted_by_its_family(family)) {
                segment.counts[family] += 1;
                segment.error_level[family] += u64::from(error_level);
                if segment.samples[family].len() < SAMPLES {
                    let text = text.get_or_insert_with(|| clip(line)).clone();
                    segment.samples[family].push(Kept { line: number, text, ts: time });
                }
                if let Some(at) = time {
                    segment.windows[family].add(at);
                }
            }
            segment.error_count += u64::from(error_level);
            if let (true, Some(at)) = (error_level, time) {
                segment.error_windows.add(at);
                if segment.error_lines.len() == MAX_TIMED {
                    segment.error_lines.pop_front();
                }
                let text = text.unwrap_or_else(|| clip(line));
                segment.error_lines.push_back(Kept { line: number, text, ts: time });
            }
        }
        if start != usize::MAX {
            if self.tail.len() == TAIL {
                self.tail.pop_front();
            }
            self.tail.push_back((number, start, start + line.len()));
        }
    }

    /// Decodes the current segment's tail and last time from the chunk.
    fn finish_segment(&mut self, chunk: &[u8]) {
        let times = &self.patterns.times;
        if let Some((start, end)) = self.last_timed.take() {
            let last = times.read(&chunk[start..end]);
            let segment = self.current();
            segment.last = last.or(segment.last);
        }
        let tail: Vec<Kept> = self
            .tail
            .drain(..)
            .map(|(line, start, end)| {
                let text = &chunk[start..end];
                Kept { line, text: clip(text), ts: times.read(text) }
            })
            .collect();
        let segment = self.current();
        if !tail.is_empty() {
            segment.tail = tail.into();
        }
    }
}

/// The container named by `==== START logs for container C of pod NS/P ====`.
fn start_marker(line: &[u8]) -> Option<String> {
    let rest = line.strip_prefix(b"==== START logs for container ")?;
    let end = rest.windows(8).position(|w| w == b" of pod ")?;
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

/// Whether the line is at ERROR or FATAL level: a klog `E`/`F` letter (after an optional
/// timestamp prefix) says so; otherwise `K8sLogAnalyzer`'s rule, the first of ERROR, WARN, WARNING,
/// INFO, DEBUG, TRACE, FATAL the line contains.
pub(crate) fn error_level(line: &[u8]) -> bool {
    let klog_at = |text: &[u8]| {
        text.len() > 5
            && matches!(text[0], b'I' | b'W' | b'E' | b'F')
            && text[1..5].iter().all(u8::is_ascii_digit)
            && text[5] == b' '
    };
    let body = match memchr::memchr(b' ', line) {
        Some(space) if !klog_at(line) && klog_at(&line[space + 1..]) => &line[space + 1..],
        _ => line,
    };
    if klog_at(body) {
        return matches!(body[0], b'E' | b'F');
    }
    if let Some(error) = structured_level(line) {
        return error;
    }
    const LEVELS: [&[u8]; 7] = [b"ERROR", b"WARN", b"WARNING", b"INFO", b"DEBUG", b"TRACE", b"FATAL"];
    let contains = |word: &[u8]| line.windows(word.len()).any(|window| window.eq_ignore_ascii_case(word));
    LEVELS.iter().find(|level| contains(level)).is_some_and(|level| *level == b"ERROR" || *level == b"FATAL")
}

/// The level a structured line states itself (`"level":"warn"` in JSON, `level=warning` in
/// logfmt, `"severity":"ERROR"`): whether it is ERROR or FATAL, `None` when the line states no
/// level. A warning that quotes an `"error"` field is a warning: `K8sLogAnalyzer`'s rule (the first level
/// word anywhere in the line) reads it as an error.
fn structured_level(line: &[u8]) -> Option<bool> {
    const KEYS: [&[u8]; 6] =
        [b"\"level\":\"", b"\"level\": \"", b"level=", b"\"severity\":\"", b"\"lvl\":\"", b"lvl="];
    let lower: Vec<u8> = line.iter().take(MAX_TEXT).map(u8::to_ascii_lowercase).collect();
    KEYS.iter().find_map(|key| {
        let at = memchr::memmem::find(&lower, key)? + key.len();
        let value = lower[at..].strip_prefix(b"\"").unwrap_or(&lower[at..]);
        let end = value.iter().position(|byte| !byte.is_ascii_alphabetic()).unwrap_or(value.len());
        match &value[..end] {
            b"error" | b"err" | b"fatal" | b"panic" | b"dpanic" | b"critical" | b"crit" | b"emerg"
            | b"alert" => Some(true),
            b"warn" | b"warning" | b"info" | b"information" | b"notice" | b"debug" | b"trace" => Some(false),
            _ => None,
        }
    })
}

/// The message and time of one journald JSON export line; a line that is not JSON is kept as
/// text, untimed.
pub(crate) fn journal_entry(raw: &[u8]) -> (String, Option<Ts>) {
    let Ok(value) = serde_json::from_slice::<Value>(raw) else {
        return (String::from_utf8_lossy(raw).into_owned(), None);
    };
    let text = match value.get("MESSAGE") {
        Some(Value::String(text)) => text.clone(),
        // journald exports a message that is not UTF-8 as an array of bytes.
        Some(Value::Array(bytes)) => {
            let bytes: Vec<u8> =
                bytes.iter().filter_map(Value::as_u64).filter_map(|b| u8::try_from(b).ok()).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => String::new(),
    };
    let ts = value
        .get("__REALTIME_TIMESTAMP")
        .and_then(Value::as_str)
        .and_then(|micros| micros.parse::<i64>().ok())
        .and_then(|micros| jiff::Timestamp::from_microsecond(micros).ok())
        .map(Ts::At);
    (text, ts)
}

fn clip(line: &[u8]) -> String {
    String::from_utf8_lossy(&line[..line.len().min(MAX_TEXT)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATABASE_CLIENT_ERROR: &str = "database_client_error";
    const CERTIFICATE_FAILURE: &str = "certificate_failure";

    fn family(code: &str) -> &'static crate::facts::logs::families::Family {
        FAMILIES.iter().find(|family| family.code == code).unwrap()
    }

    fn families_of(line: &str) -> Vec<&'static str> {
        let patterns = Patterns::new().unwrap();
        let segments = scan_chunk(&patterns, line.as_bytes(), LogLayout::Plain);
        FAMILIES
            .iter()
            .zip(segments[0].counts)
            .filter(|(_, count)| *count > 0)
            .map(|(family, _)| family.code)
            .collect()
    }

    #[test]
    fn each_family_matches_its_line_and_not_a_near_miss() {
        let cases = [
            ("oom_killed", "Container app was OOMKilled", "memory usage normal"),
            ("image_pull_error", "Back-off: ImagePullBackOff for busybox", "pulled image busybox"),
            ("dns_resolution", "dial tcp: lookup db on 10.0.0.10:53: no such host", "lookup succeeded"),
            (
                "connection_refused",
                "dial tcp 10.0.0.1:5432: connect: connection refused",
                "connection accepted",
            ),
            ("timeout_error", "context deadline exceeded", "finished in 3s"),
            ("permission_denied", "open /data: permission denied", "opened /data"),
            ("disk_pressure", "write /var/x: no space left on device", "wrote /var/x"),
            ("network_unavailable", "sendto: network is unreachable", "sent"),
            ("certificate_error", "x509: certificate signed by unknown authority", "signed in"),
            ("database_error", "database connection error: reset", "query ok"),
            ("high_cpu", "CPU throttling detected", "cpu idle"),
            ("high_memory", "high memory usage: 95%", "memory ok"),
            ("slow_response", "slow response from upstream", "fast path"),
            ("retry_attempt", "retrying in 10 seconds", "done"),
            ("deprecated_api", "extensions/v1beta1 is deprecated", "v1 in use"),
        ];
        for (family, hit, miss) in cases {
            assert!(families_of(hit).contains(&family), "{family} should match {hit:?}");
            assert!(!families_of(miss).contains(&family), "{family} should not match {miss:?}");
        }
        // Case-insensitive, and every family a line matches counts (as `K8sLogAnalyzer` does).
        let both = families_of("ERROR: CONNECTION REFUSED - FATAL: password authentication failed; retry");
        assert_eq!(both, ["connection_refused", "retry_attempt", DATABASE_CLIENT_ERROR]);
    }

    /// The real lines the core `database_error` misses (the troubleshoot bundle's
    /// test-connection app, the prod-simulation scenario's PostgreSQL), checked against the
    /// `K8sLogAnalyzer`'s regex read literally, and counted by the extension only where `K8sLogAnalyzer`
    /// misses.
    #[test]
    fn the_database_extension_counts_what_the_core_pattern_misses_and_nothing_twice() {
        let core = regex::Regex::new(&format!("(?i){}", family("database_error").pattern)).unwrap();
        let missed = [
            "[Sat Aug  9 22:57:59 UTC 2025] ERROR: Connection refused - \
             FATAL: password authentication failed for user wronguser",
            "ERROR: Database connection failed!",
            "2025-08-09 21:08:25.123 UTC [88] FATAL:  sorry, too many clients already",
            "ERROR 1045 (28000): Access denied for user 'app'@'10.0.0.3' (using password: YES)",
            "psycopg2.OperationalError: could not connect to server: Connection refused",
        ];
        for line in missed {
            assert!(!core.is_match(line), "the core pattern matches {line:?}");
            assert!(families_of(line).contains(&DATABASE_CLIENT_ERROR), "{line:?}");
        }
        // `K8sLogAnalyzer`'s own lines stay `K8sLogAnalyzer`'s, once.
        for line in ["database connection error: reset", "Connection to database failed: timeout"] {
            assert!(core.is_match(line));
            let families = families_of(line);
            assert!(
                families.contains(&"database_error") && !families.contains(&DATABASE_CLIENT_ERROR),
                "{line:?}"
            );
        }
        for line in
            ["connected to the database", "DB connection 7 established", "Releasing database connections"]
        {
            assert!(!families_of(line).contains(&DATABASE_CLIENT_ERROR), "{line:?}");
        }
        // The diagnostics know every extension and refinement the loader counts, and which family
        // it completes or narrows.
        for family in &FAMILIES[CORE_FAMILIES..] {
            let (Kind::Extends(core_family) | Kind::Refines(core_family)) = family.kind else {
                panic!("{} is no extension or refinement the diagnostics know", family.code)
            };
            assert!(FAMILIES[..CORE_FAMILIES].iter().any(|core| core.code == core_family));
        }
    }

    /// The core `certificate_error` matches usage texts and names; its refinement counts the
    /// failures only (real lines: metrics-server's `--help`, traefik's TLSStore watch, Go's and
    /// OpenSSL's TLS errors).
    #[test]
    fn the_certificate_refinement_counts_failures_not_mentions() {
        let failures = [
            "E1221 09:43:10 1 x.go:1] Get \"https://10.43.0.1:443\": x509: certificate signed by unknown authority",
            "http: TLS handshake error from 10.42.0.1:51234: remote error: tls: bad certificate",
            "x509: certificate has expired or is not yet valid: current time 2025-06-01T12:00:00Z is after 2025-05-01",
            "SSL routines:tls_process_server_certificate:certificate verify failed",
            "javax.net.ssl.SSLHandshakeException: PKIX path building failed",
            "Error: unable to verify the first certificate",
        ];
        for line in failures {
            assert!(families_of(line).contains(&CERTIFICATE_FAILURE), "{line:?}");
        }
        let mentions = [
            "      --kubelet-certificate-authority string      Path to the CA to use to validate the Kubelet's serving certificates.",
            "      --tls-cert-file string                   File containing the default x509 Certificate for HTTPS.",
            "      --tls-min-version string                 Minimum TLS version supported. Possible values: VersionTLS10",
            "I1221 09:43:29.499326       1 tlsconfig.go:240] Starting DynamicServingCertificateController",
            "E1221 09:43:10 1 reflector.go:138] Failed to watch *v1alpha1.TLSStore: failed to list *v1alpha1.TLSStore: i/o timeout",
            "Generated self-signed certificate for localhost",
        ];
        for line in mentions {
            let families = families_of(line);
            assert!(!families.contains(&CERTIFICATE_FAILURE), "{line:?}");
            assert!(families.contains(&"certificate_error"), "the core pattern still counts {line:?}");
        }
    }

    #[test]
    fn access_lines_are_counted_per_minute_whatever_their_prefix() {
        let patterns = Patterns::new().unwrap();
        let log = concat!(
            "2025-06-01T11:50:01Z 10.0.0.1 - - [01/Jun/2025:11:50:01 +0000] \"GET / HTTP/1.1\" 503 1 \"-\" \"c\" 1 0.1 [shop-web-80] [] x 1 0.1 503 r\r\n",
            "I0601 11:50:02.000000 1 x.go:1] \"not a request\" status=500\n",
            "10.0.0.1 - - [01/Jun/2025:11:51:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"c\" 1 0.1 [shop-web-80] [] x 1 0.1 200 r\n",
            "10.0.0.2 - - [01/Jun/2025:11:51:30 +0000] \"GET / HTTP/1.1\" 404 1\n",
        );
        let segments = scan_chunk(&patterns, log.as_bytes(), LogLayout::Plain);
        let requests = &segments[0].requests;
        let minute = "2025-06-01T11:50:00Z".parse::<jiff::Timestamp>().unwrap().as_second() / 60;
        let web = &requests.upstreams[&b"shop-web-80"[..]];
        assert_eq!(
            web.minutes.iter().map(|(m, c)| (m - minute, *c)).collect::<Vec<_>>(),
            [(0, [1, 0, 1]), (1, [1, 0, 0])]
        );
        assert_eq!(requests.direct.minutes[&(minute + 1)], [1, 1, 0]);
        assert_eq!(requests.upstreams.len(), 1);
        // Journal lines too.
        let journal = br#"{"MESSAGE":"10.0.0.1 - - [01/Jun/2025:11:50:01 +0000] "GET / HTTP/1.1" 502 1","__REALTIME_TIMESTAMP":"1748778601000000"}"#;
        let segments = scan_chunk(&patterns, journal, LogLayout::Journal);
        assert_eq!(segments[0].requests.direct.statuses[&502], 1);
    }

    #[test]
    fn counts_lines_times_tail_and_levels() {
        let patterns = Patterns::new().unwrap();
        let log = b"2025-08-09T21:08:25Z starting\nno time here\n2025-08-09T21:08:26Z ERROR: connection refused\n\xff\xfe binary timeout\n";
        let segments = scan_chunk(&patterns, log, LogLayout::Plain);
        let segment = &segments[0];
        assert_eq!((segment.lines, segment.untimed), (4, 2));
        assert_eq!(segment.counts[3], 1);
        assert_eq!(segment.counts[4], 1, "the binary line still counts");
        assert_eq!(segment.error_lines.len(), 1);
        assert_eq!(segment.error_lines[0].line, 3);
        assert_eq!(segment.windows[3].cells.len(), 1, "one window of connection_refused");
        assert_eq!(segment.tail.len(), 4);
        assert_eq!(segment.tail[3].text, "\u{fffd}\u{fffd} binary timeout");
        assert_eq!(segment.samples[3][0].line, 3);
        assert!(segment.first.is_some() && segment.last.is_some() && segment.first != segment.last);
    }

    #[test]
    fn levels_follow_the_reference_rule_and_klog() {
        assert!(error_level(b"ERROR: Database connection failed!"));
        assert!(error_level(b"E0809 21:08:25.123456   1 file.go:12] msg"));
        assert!(error_level(b"2025-08-09T21:08:25Z F0809 21:08:25.1 1 x.go:1] fatal"));
        assert!(!error_level(b"W0809 21:08:25.123456   1 file.go:12] an error occurred"));
        assert!(!error_level(b"INFO fatal-looking but info first"));
        assert!(error_level(b"something FATAL happened"));
        // Structured lines say their level themselves, whatever words their fields quote.
        assert!(!error_level(
            br#"2021-09-14T14:35:09Z {"level":"warn","msg":"failed","error":"dial tcp: connection refused"}"#
        ));
        assert!(!error_level(br#"time="2021-09-14T14:39:46Z" level=warning msg="error getting stream""#));
        assert!(error_level(br#"{"level":"error","ts":1631630401.03,"msg":"Reconciler error"}"#));
        assert!(error_level(br#"time="2021-09-14T14:39:46Z" level=fatal msg="cannot start""#));
        assert!(error_level(br#"{"severity":"ERROR","message":"boom"}"#));
        assert!(!error_level(br#"level=info msg="retrying after error""#));
    }

    #[test]
    fn markers_open_containers() {
        let patterns = Patterns::new().unwrap();
        let log = "tail of previous\n==== START logs for container init of pod ns/web ====\ninit ok\n==== END logs for container init of pod ns/web ====\n==== START logs for container app of pod ns/web ====\ntimeout 1\ntimeout 2\n==== END logs for container app of pod ns/web ====\n";
        let segments = scan_chunk(&patterns, log.as_bytes(), LogLayout::Markers);
        let opened: Vec<_> = segments.iter().map(|s| (s.opens.clone(), s.lines, s.counts[4])).collect();
        assert_eq!(opened, [(None, 1, 0), (Some("init".to_owned()), 1, 0), (Some("app".to_owned()), 2, 2)]);
        assert_eq!(segments[2].tail.back().map(|k| k.text.as_str()), Some("timeout 2"));
    }

    #[test]
    fn journal_lines() {
        let patterns = Patterns::new().unwrap();
        let log = br#"{"MESSAGE":"E0817 16:07:14.5 191 x.go:1] dial tcp: connection refused","__REALTIME_TIMESTAMP":"1629216434536141","_SYSTEMD_UNIT":"kubelet.service --timeout"}
{"MESSAGE":[104,105],"__REALTIME_TIMESTAMP":"1629216434536142"}
"#;
        let segments = scan_chunk(&patterns, log, LogLayout::Journal);
        let segment = &segments[0];
        assert_eq!((segment.lines, segment.untimed), (2, 0));
        assert_eq!(segment.counts[3], 1);
        assert_eq!(segment.counts[4], 0, "fields other than MESSAGE are not scanned");
        assert_eq!(segment.tail[1].text, "hi");
        assert_eq!(segment.error_lines.len(), 1);
    }
}
