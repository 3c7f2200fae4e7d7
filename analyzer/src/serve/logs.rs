//! Container logs as `GET .../pods/NAME/log` answers them: read from the bundle when asked (the
//! model keeps only the loader's scan of each log), then cut as the kubelet cuts them
//! (`sinceSeconds`/`sinceTime`, `tailLines`, `limitBytes`), with or without `timestamps`.
//!
//! A kubesnap bundle's logs carry the kubelet's timestamp on every line (the collector asks for
//! them): they are taken off unless `timestamps=true`, and they are what `--since` filters on.
//! Other formats' logs carry none: `--since` cannot filter them, and the answer says so.

use std::collections::VecDeque;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use kubesnap_shared::{Bundle, Limits};

/// The most bytes of one answer: the newest that fit, when what the cut keeps is larger (a
/// collector's log is capped, a foreign bundle's need not be).
const MAX_ANSWER_BYTES: usize = 32 << 20;
/// The most bytes of one line; the rest of a longer line is left out, and the answer says so.
const MAX_LINE_BYTES: usize = 8 << 20;
/// Logs up to this size are kept in memory between requests; larger ones are streamed from
/// the bundle on every request, so memory never depends on a log's size.
const MAX_CACHED_LOG_BYTES: u64 = 8 << 20;
/// The most bytes of logs kept in memory between requests.
const CACHE_BYTES: usize = 64 << 20;
/// How much of a log is read at a time.
const CHUNK_BYTES: usize = 256 << 10;

/// Reads logs out of the bundle, keeping the most recent small ones.
#[derive(Debug)]
pub(super) struct LogReader {
    bundle: PathBuf,
    cache: Mutex<Vec<(String, Arc<Vec<u8>>)>>,
}

enum Stop {
    Found,
    Bundle(kubesnap_shared::Error),
}

impl From<kubesnap_shared::Error> for Stop {
    fn from(error: kubesnap_shared::Error) -> Stop {
        Stop::Bundle(error)
    }
}

impl LogReader {
    pub(super) fn new(bundle: PathBuf) -> LogReader {
        LogReader { bundle, cache: Mutex::new(Vec::new()) }
    }

    /// The log at `path` (gunzipped when it ends in `.gz`) cut as `cut` asks, read from the
    /// cache or streamed from the bundle: the text and the warnings that go with it.
    pub(super) fn answer(
        &self,
        path: &str,
        stamped: bool,
        cut: &Cut,
    ) -> Result<(String, Vec<String>), String> {
        if let Ok(cache) = self.cache.lock()
            && let Some((_, bytes)) = cache.iter().find(|(cached, _)| cached == path)
        {
            let bytes = Arc::clone(bytes);
            drop(cache);
            return cut_log(bytes.as_slice(), stamped, cut)
                .map_err(|error| format!("failed to read {path}: {error}"));
        }
        let bundle = Bundle::open(&self.bundle, Limits::default()).map_err(|error| error.to_string())?;
        let mut found: Option<Result<(String, Vec<String>), String>> = None;
        let mut small: Option<Vec<u8>> = None;
        let outcome = bundle.read(|mut entry| {
            if entry.path() != path {
                return Ok(());
            }
            let failed = |error: std::io::Error| format!("failed to read {path}: {error}");
            found = Some(if path.ends_with(".gz") {
                cut_log(flate2::read::MultiGzDecoder::new(&mut entry), stamped, cut).map_err(failed)
            } else if entry.size() <= MAX_CACHED_LOG_BYTES {
                let mut bytes = Vec::new();
                match (&mut entry).take(MAX_CACHED_LOG_BYTES).read_to_end(&mut bytes) {
                    Ok(_) => {
                        let answer = cut_log(bytes.as_slice(), stamped, cut).map_err(failed);
                        small = Some(bytes);
                        answer
                    }
                    Err(error) => Err(failed(error)),
                }
            } else {
                cut_log(&mut entry, stamped, cut).map_err(failed)
            });
            Err(Stop::Found)
        });
        match outcome {
            Err(Stop::Bundle(error)) => return Err(error.to_string()),
            Ok(_) | Err(Stop::Found) => {}
        }
        if let Some(bytes) = small
            && let Ok(mut cache) = self.cache.lock()
        {
            cache.push((path.to_owned(), Arc::new(bytes)));
            while cache.iter().map(|(_, bytes)| bytes.len()).sum::<usize>() > CACHE_BYTES && cache.len() > 1 {
                cache.remove(0);
            }
        }
        found.ok_or_else(|| format!("{path} is no longer in the bundle"))?
    }
}

/// How to cut a log (the query of `GET .../log`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Cut {
    pub(super) timestamps: bool,
    pub(super) since: Option<Timestamp>,
    pub(super) tail_lines: Option<usize>,
    pub(super) limit_bytes: Option<usize>,
}

/// A log line's leading kubelet timestamp and the rest of the line.
fn split_timestamp(line: &str) -> Option<(Timestamp, &str)> {
    let (first, rest) = line.split_once(' ').unwrap_or((line, ""));
    Some((first.parse().ok()?, rest))
}

/// The lines a cut keeps, newest last, within [`MAX_ANSWER_BYTES`].
struct Kept<'c> {
    cut: &'c Cut,
    stamped: bool,
    lines: VecDeque<String>,
    bytes: usize,
    /// Lines the answer's size left out at the front.
    dropped: bool,
    long_lines: u64,
}

impl Kept<'_> {
    fn push(&mut self, line: &[u8]) {
        let line = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line));
        let stamp = if self.stamped { split_timestamp(&line) } else { None };
        if let (Some(since), true) = (self.cut.since, self.stamped)
            && stamp.is_some_and(|(at, _)| at < since)
        {
            return;
        }
        let shown = match stamp {
            Some((_, rest)) if !self.cut.timestamps => rest,
            _ => &line,
        };
        let mut shown = shown.to_owned();
        shown.push('\n');
        self.bytes += shown.len();
        self.lines.push_back(shown);
        if let Some(tail) = self.cut.tail_lines {
            while self.lines.len() > tail {
                self.pop();
            }
        }
        while self.bytes > MAX_ANSWER_BYTES && self.lines.len() > 1 {
            self.pop();
            self.dropped = true;
        }
    }

    fn pop(&mut self) {
        if let Some(line) = self.lines.pop_front() {
            self.bytes -= line.len();
        }
    }

    /// Whether no later line can change the answer: `limitBytes` is filled from the start.
    fn full(&self) -> bool {
        self.cut.tail_lines.is_none() && self.cut.limit_bytes.is_some_and(|limit| self.bytes >= limit)
    }
}

/// Cuts the log `reader` holds as the kubelet would, streaming it: memory is bounded by
/// [`MAX_ANSWER_BYTES`] and [`MAX_LINE_BYTES`], whatever the log's size. `stamped`: every line
/// begins with the kubelet's timestamp (a kubesnap bundle's logs). Returns the text and the
/// warnings (`since` could not be applied, the answer or a line was cut).
pub(super) fn cut_log(
    mut reader: impl Read,
    stamped: bool,
    cut: &Cut,
) -> std::io::Result<(String, Vec<String>)> {
    let mut kept = Kept { cut, stamped, lines: VecDeque::new(), bytes: 0, dropped: false, long_lines: 0 };
    let mut chunk = vec![0; CHUNK_BYTES];
    let mut line = Vec::new();
    let mut line_cut = false;
    'read: loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        for piece in chunk[..n].split_inclusive(|&byte| byte == b'\n') {
            let (body, ends) = match piece.strip_suffix(b"\n") {
                Some(body) => (body, true),
                None => (piece, false),
            };
            let room = MAX_LINE_BYTES - line.len();
            if body.len() > room {
                line_cut = true;
            }
            line.extend_from_slice(&body[..body.len().min(room)]);
            if ends {
                kept.push(&line);
                kept.long_lines += u64::from(line_cut);
                line.clear();
                line_cut = false;
                if kept.full() {
                    break 'read;
                }
            }
        }
    }
    if !line.is_empty() {
        kept.push(&line);
        kept.long_lines += u64::from(line_cut);
    }
    let mut warnings = Vec::new();
    if cut.since.is_some() && !stamped {
        warnings.push(
            "this bundle's logs carry no kubelet timestamps: --since/--since-time cannot filter them; the whole log is shown"
                .to_owned(),
        );
    }
    if kept.dropped {
        warnings.push(format!(
            "the log is larger than an answer holds: these are its newest {} MiB",
            MAX_ANSWER_BYTES >> 20
        ));
    }
    if kept.long_lines > 0 {
        warnings.push(format!(
            "{} line(s) longer than {} MiB were cut to their first {} MiB",
            kept.long_lines,
            MAX_LINE_BYTES >> 20,
            MAX_LINE_BYTES >> 20
        ));
    }
    let mut out = String::with_capacity(kept.bytes);
    for line in kept.lines {
        out.push_str(&line);
    }
    if let Some(limit) = cut.limit_bytes
        && out.len() > limit
    {
        let mut end = limit;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    Ok((out, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(text: &str, stamped: bool, how: &Cut) -> (String, Option<String>) {
        let (text, warnings) = cut_log(text.as_bytes(), stamped, how).unwrap();
        (text, warnings.into_iter().next())
    }

    const LOG: &str = "2025-01-01T00:00:00.000000000Z one\n2025-01-01T00:01:00.000000000Z two\n2025-01-01T00:02:00.000000000Z three\n";

    #[test]
    fn stamped_logs_lose_their_timestamps_unless_asked() {
        assert_eq!(cut(LOG, true, &Cut::default()).0, "one\ntwo\nthree\n");
        let stamped = cut(LOG, true, &Cut { timestamps: true, ..Cut::default() }).0;
        assert_eq!(stamped, LOG);
    }

    #[test]
    fn since_tail_and_limit_cut_as_the_kubelet_cuts() {
        let since = Some("2025-01-01T00:01:00Z".parse().unwrap());
        assert_eq!(cut(LOG, true, &Cut { since, ..Cut::default() }).0, "two\nthree\n");
        assert_eq!(cut(LOG, true, &Cut { tail_lines: Some(1), ..Cut::default() }).0, "three\n");
        assert_eq!(cut(LOG, true, &Cut { limit_bytes: Some(5), ..Cut::default() }).0, "one\nt");
        let (text, warning) = cut("a\nb\n", false, &Cut { since, ..Cut::default() });
        assert_eq!(text, "a\nb\n");
        assert!(warning.is_some_and(|w| w.contains("no kubelet timestamps")));
    }

    /// A log larger than an answer holds keeps its newest lines, a line longer than a line
    /// holds keeps its start, and both say so.
    #[test]
    fn answers_and_lines_have_a_fixed_size() {
        let line = "x".repeat(1 << 20);
        let log = format!("{line}\n").repeat(40) + "last\n";
        let (text, warnings) = cut_log(log.as_bytes(), false, &Cut::default()).unwrap();
        assert!(text.len() <= MAX_ANSWER_BYTES && text.ends_with("\nlast\n"), "{}", text.len());
        assert!(warnings.iter().any(|w| w.contains("newest 32 MiB")), "{warnings:?}");
        let long = format!("{}\nend", "y".repeat(MAX_LINE_BYTES + 10));
        let (text, warnings) = cut_log(long.as_bytes(), false, &Cut::default()).unwrap();
        assert_eq!(text.len(), MAX_LINE_BYTES + "\nend\n".len());
        assert!(warnings.iter().any(|w| w.contains("1 line(s) longer than 8 MiB")), "{warnings:?}");
        let (text, _) =
            cut_log(log.as_bytes(), false, &Cut { limit_bytes: Some(3), ..Cut::default() }).unwrap();
        assert_eq!(text, "xxx");
    }
}
