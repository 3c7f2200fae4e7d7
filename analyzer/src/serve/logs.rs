//! Container logs as `GET .../pods/NAME/log` answers them: read from the bundle when asked (the
//! model keeps only the loader's scan of each log), then cut as the kubelet cuts them
//! (`sinceSeconds`/`sinceTime`, `tailLines`, `limitBytes`), with or without `timestamps`.
//!
//! A kubesnap bundle's logs carry the kubelet's timestamp on every line (the collector asks for
//! them): they are taken off unless `timestamps=true`, and they are what `--since` filters on.
//! Other formats' logs carry none: `--since` cannot filter them, and the answer says so.

use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use kubesnap_shared::{Bundle, Limits};

/// The most bytes of one log served (a log is read whole before it is cut).
const MAX_LOG_BYTES: u64 = 512 << 20;
/// The most bytes of logs kept in memory between requests.
const CACHE_BYTES: usize = 256 << 20;

/// Reads logs out of the bundle, keeping the most recent ones.
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

    /// The bytes of the bundle entry at `path` (gunzipped when it ends in `.gz`).
    pub(super) fn read(&self, path: &str) -> Result<Arc<Vec<u8>>, String> {
        if let Ok(cache) = self.cache.lock()
            && let Some((_, bytes)) = cache.iter().find(|(cached, _)| cached == path)
        {
            return Ok(Arc::clone(bytes));
        }
        let bundle = Bundle::open(&self.bundle, Limits::default()).map_err(|error| error.to_string())?;
        let mut found: Option<Result<Vec<u8>, String>> = None;
        let outcome = bundle.read(|mut entry| {
            if entry.path() != path {
                return Ok(());
            }
            let mut bytes = Vec::new();
            let result = if path.ends_with(".gz") {
                flate2::read::MultiGzDecoder::new(&mut entry).take(MAX_LOG_BYTES).read_to_end(&mut bytes)
            } else {
                (&mut entry).take(MAX_LOG_BYTES).read_to_end(&mut bytes)
            };
            found = Some(result.map(|_| bytes).map_err(|error| format!("failed to read {path}: {error}")));
            Err(Stop::Found)
        });
        match outcome {
            Err(Stop::Bundle(error)) => return Err(error.to_string()),
            Ok(_) | Err(Stop::Found) => {}
        }
        let bytes = Arc::new(found.ok_or_else(|| format!("{path} is no longer in the bundle"))??);
        if let Ok(mut cache) = self.cache.lock() {
            cache.push((path.to_owned(), Arc::clone(&bytes)));
            while cache.iter().map(|(_, bytes)| bytes.len()).sum::<usize>() > CACHE_BYTES && cache.len() > 1 {
                cache.remove(0);
            }
        }
        Ok(bytes)
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

/// Cuts `text` as the kubelet would. `stamped`: every line begins with the kubelet's
/// timestamp (a kubesnap bundle's logs). Returns the text and a warning when `since` could not
/// be applied.
pub(super) fn cut(text: &str, stamped: bool, cut: &Cut) -> (String, Option<String>) {
    let mut warning = None;
    let mut lines: Vec<&str> = text.lines().collect();
    if let Some(since) = cut.since {
        if stamped {
            lines.retain(|line| split_timestamp(line).is_none_or(|(at, _)| at >= since));
        } else {
            warning = Some(
                "this bundle's logs carry no kubelet timestamps: --since/--since-time cannot filter them; the whole log is shown"
                    .to_owned(),
            );
        }
    }
    if let Some(tail) = cut.tail_lines {
        let skip = lines.len().saturating_sub(tail);
        lines.drain(..skip);
    }
    let mut out = String::with_capacity(lines.iter().map(|line| line.len() + 1).sum());
    for line in lines {
        let shown = if stamped && !cut.timestamps {
            split_timestamp(line).map_or(line, |(_, rest)| rest)
        } else {
            line
        };
        out.push_str(shown);
        out.push('\n');
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
    (out, warning)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
