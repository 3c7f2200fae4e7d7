//! Assembling scanned chunks into [`ContainerLog`]s: chunks of one file merged in order, the
//! files of one container (must-gather's rotated logs, a fetch repeated without TLS checks,
//! troubleshoot's per-collector copies) combined without counting a line twice.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use jiff::Timestamp;
use kubesnap_shared::model::{
    ContainerLog, ERROR_LEVEL, FamilyHits, HttpRequests, LogKey, LogLine, MinuteRequests,
};

use super::logscan::access::{MAX_MINUTES, Requests, Tally};
use super::logscan::windows::{Series, merge_windows};
use super::logscan::{Kept, MAX_TIMED, SAMPLES, Segment, TAIL};
use crate::facts::logs::families::FAMILIES;
use kubesnap_shared::log_time::Ts;

/// One container's lines, merged from the segments of its chunks in order.
#[derive(Debug)]
pub(crate) struct LogAccumulator {
    pub(crate) key: LogKey,
    path: String,
    bytes: u64,
    lines: u64,
    untimed: u64,
    counts: [u64; FAMILIES.len()],
    error_level: [u64; FAMILIES.len()],
    samples: [Vec<Kept>; FAMILIES.len()],
    windows: [Series; FAMILIES.len()],
    error_count: u64,
    error_windows: Series,
    tail: VecDeque<Kept>,
    error_lines: VecDeque<Kept>,
    first: Option<Ts>,
    last: Option<Ts>,
    requests: Requests,
}

impl LogAccumulator {
    pub(crate) fn new(key: LogKey, path: &str) -> LogAccumulator {
        LogAccumulator {
            key,
            path: path.to_owned(),
            bytes: 0,
            lines: 0,
            untimed: 0,
            counts: [0; FAMILIES.len()],
            error_level: [0; FAMILIES.len()],
            samples: Default::default(),
            windows: Default::default(),
            error_count: 0,
            error_windows: Series::default(),
            tail: VecDeque::new(),
            error_lines: VecDeque::new(),
            first: None,
            last: None,
            requests: Requests::default(),
        }
    }

    pub(crate) fn lines(&self) -> u64 {
        self.lines
    }

    /// Appends the next segment of this container's lines.
    pub(crate) fn absorb(&mut self, segment: Segment) {
        let offset = self.lines;
        let shift = |mut kept: Kept| {
            kept.line += offset;
            kept
        };
        self.bytes += segment.bytes;
        self.lines += segment.lines;
        self.untimed += segment.untimed;
        for (family, (samples, windows)) in segment.samples.into_iter().zip(segment.windows).enumerate() {
            self.counts[family] += segment.counts[family];
            self.error_level[family] += segment.error_level[family];
            let room = SAMPLES.saturating_sub(self.samples[family].len());
            self.samples[family].extend(samples.into_iter().take(room).map(shift));
            self.windows[family].merge(windows);
        }
        self.error_count += segment.error_count;
        self.error_windows.merge(segment.error_windows);
        if !segment.tail.is_empty() {
            self.tail.extend(segment.tail.into_iter().map(shift));
            let excess = self.tail.len().saturating_sub(TAIL);
            self.tail.drain(..excess);
        }
        self.error_lines.extend(segment.error_lines.into_iter().map(shift));
        let excess = self.error_lines.len().saturating_sub(MAX_TIMED);
        self.error_lines.drain(..excess);
        self.first = self.first.or(segment.first);
        self.last = segment.last.or(self.last);
        if !segment.requests.is_empty() {
            self.requests.merge(segment.requests);
        }
    }

    /// The finished log; year-less times take their year from `reference`.
    pub(crate) fn finish(self, reference: Option<Timestamp>) -> ContainerLog {
        let line = |kept: Kept| LogLine {
            line: kept.line,
            text: kept.text,
            timestamp: kept.ts.and_then(|ts| ts.resolve(reference)),
        };
        let mut families = BTreeMap::new();
        for (family, (samples, windows)) in self.samples.into_iter().zip(self.windows).enumerate() {
            if self.counts[family] > 0 {
                let samples = samples.into_iter().map(line).collect();
                families.insert(
                    FAMILIES[family].code.to_owned(),
                    FamilyHits {
                        count: self.counts[family],
                        samples,
                        error_level: self.error_level[family],
                        ..windows.resolve(reference)
                    },
                );
            }
        }
        if self.error_count > 0 {
            families.insert(
                ERROR_LEVEL.to_owned(),
                FamilyHits {
                    count: self.error_count,
                    error_level: self.error_count,
                    ..self.error_windows.resolve(reference)
                },
            );
        }
        ContainerLog {
            key: self.key,
            path: self.path,
            bytes: self.bytes,
            lines: self.lines,
            truncated: false,
            tail: self.tail.into_iter().map(line).collect(),
            families,
            error_lines: self.error_lines.into_iter().map(line).collect(),
            first_timestamp: self.first.and_then(|ts| ts.resolve(reference)),
            last_timestamp: self.last.and_then(|ts| ts.resolve(reference)),
            untimed_lines: self.untimed,
            requests: http_requests(self.requests),
        }
    }
}

/// The model's form of a log's requests: upstreams in order, the formats without one first.
fn http_requests(requests: Requests) -> Vec<HttpRequests> {
    let model = |upstream: Option<String>, tally: Tally| HttpRequests {
        upstream,
        statuses: tally.statuses,
        minutes: tally
            .minutes
            .into_iter()
            .map(|(minute, [total, client_errors, server_errors])| MinuteRequests {
                minute,
                total,
                client_errors,
                server_errors,
            })
            .collect(),
        unbucketed: tally.unbucketed,
    };
    let mut out = Vec::with_capacity(requests.upstreams.len() + 1);
    if !requests.direct.statuses.is_empty() {
        out.push(model(None, requests.direct));
    }
    for (upstream, tally) in requests.upstreams {
        out.push(model(Some(String::from_utf8_lossy(&upstream).into_owned()), tally));
    }
    out
}

/// The requests of two files of one container (a rotated one and the current one), as one.
fn join_requests(older: Vec<HttpRequests>, newer: Vec<HttpRequests>) -> Vec<HttpRequests> {
    let mut by_upstream: BTreeMap<Option<String>, HttpRequests> = BTreeMap::new();
    for requests in older.into_iter().chain(newer) {
        let Some(mine) = by_upstream.get_mut(&requests.upstream) else {
            by_upstream.insert(requests.upstream.clone(), requests);
            continue;
        };
        for (status, count) in requests.statuses {
            *mine.statuses.entry(status).or_default() += count;
        }
        let mut minutes: BTreeMap<i64, MinuteRequests> =
            mine.minutes.drain(..).map(|minute| (minute.minute, minute)).collect();
        for minute in requests.minutes {
            let entry = minutes.entry(minute.minute).or_insert(MinuteRequests {
                total: 0,
                client_errors: 0,
                server_errors: 0,
                ..minute
            });
            entry.total = entry.total.saturating_add(minute.total);
            entry.client_errors = entry.client_errors.saturating_add(minute.client_errors);
            entry.server_errors = entry.server_errors.saturating_add(minute.server_errors);
        }
        mine.unbucketed += requests.unbucketed;
        while minutes.len() > MAX_MINUTES {
            if let Some((_, dropped)) = minutes.pop_first() {
                mine.unbucketed += u64::from(dropped.total);
            }
        }
        mine.minutes = minutes.into_values().collect();
    }
    by_upstream.into_values().collect()
}

/// Makes one log per key. `logs` must be in a deterministic order (bundle order).
///
/// Rotated files (`/rotated/` in the path) hold older lines of the same container: their
/// counts add up, the newest file gives the tail. Other duplicates are the same lines fetched
/// twice: the fuller one is kept.
pub(crate) fn combine(logs: Vec<ContainerLog>) -> Vec<ContainerLog> {
    let mut by_key: BTreeMap<LogKey, Vec<ContainerLog>> = BTreeMap::new();
    for log in logs {
        by_key.entry(log.key.clone()).or_default().push(log);
    }
    let mut combined = Vec::with_capacity(by_key.len());
    for (_, mut group) in by_key {
        let (rotated, mut whole): (Vec<ContainerLog>, Vec<ContainerLog>) =
            group.drain(..).partition(|log| log.path.contains("/rotated/"));
        // The fullest fetch; on a tie the first in bundle order.
        whole.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(b.lines.cmp(&a.lines)));
        // A rotated file kept both plain and compressed is one file.
        let mut seen = BTreeSet::new();
        let mut parts: Vec<ContainerLog> = rotated
            .into_iter()
            .filter(|log| seen.insert(log.path.trim_end_matches(".gz").to_owned()))
            .collect();
        parts.extend(whole.into_iter().next());
        // Rotated files first, oldest first, then the current file, which gives the tail.
        parts.sort_by_key(|log| (!log.path.contains("/rotated/"), log.first_timestamp));
        let mut parts = parts.into_iter();
        let Some(mut log) = parts.next() else { continue };
        for newer in parts {
            log = join(log, newer);
        }
        combined.push(log);
    }
    combined
}

/// `older` then `newer`, as one log. Line numbers stay those of each file.
fn join(older: ContainerLog, newer: ContainerLog) -> ContainerLog {
    let mut families = older.families;
    for (family, hits) in newer.families {
        let entry = families.entry(family).or_default();
        entry.count += hits.count;
        entry.error_level += hits.error_level;
        let room = SAMPLES.saturating_sub(entry.samples.len());
        entry.samples.extend(hits.samples.into_iter().take(room));
        entry.first = entry.first.into_iter().chain(hits.first).min();
        entry.last = entry.last.into_iter().chain(hits.last).max();
        entry.unwindowed += hits.unwindowed;
        let older_windows = std::mem::take(&mut entry.windows);
        entry.windows = merge_windows(older_windows, hits.windows, &mut entry.unwindowed);
    }
    let mut error_lines = older.error_lines;
    error_lines.extend(newer.error_lines);
    let excess = error_lines.len().saturating_sub(MAX_TIMED);
    error_lines.drain(..excess);
    let tail = if newer.tail.is_empty() { older.tail } else { newer.tail };
    ContainerLog {
        key: newer.key,
        path: if newer.path.contains("/rotated/") { older.path } else { newer.path },
        bytes: older.bytes + newer.bytes,
        lines: older.lines + newer.lines,
        truncated: older.truncated || newer.truncated,
        tail,
        families,
        error_lines,
        first_timestamp: older.first_timestamp.or(newer.first_timestamp),
        last_timestamp: newer.last_timestamp.or(older.last_timestamp),
        untimed_lines: older.untimed_lines + newer.untimed_lines,
        requests: join_requests(older.requests, newer.requests),
    }
}

#[cfg(test)]
mod tests {
    use super::super::logscan::{Patterns, scan_chunk};
    use super::*;
    use kubesnap_shared::import::LogLayout;

    fn scanned(path: &str, chunks: &[&str]) -> ContainerLog {
        let patterns = Patterns::new().unwrap();
        let key = LogKey { namespace: "ns".into(), pod: "p".into(), container: "c".into(), previous: false };
        let mut log = LogAccumulator::new(key, path);
        for chunk in chunks {
            for segment in scan_chunk(&patterns, chunk.as_bytes(), LogLayout::Plain) {
                log.absorb(segment);
            }
        }
        log.finish(None)
    }

    #[test]
    fn chunks_merge_as_one_file() {
        let whole = scanned(
            "a",
            &["2025-01-01T00:00:00Z a\n2025-01-01T00:00:01Z timeout\n2025-01-01T00:00:02Z timeout again\n"],
        );
        let split = scanned(
            "a",
            &[
                "2025-01-01T00:00:00Z a\n2025-01-01T00:00:01Z timeout\n",
                "2025-01-01T00:00:02Z timeout again\n",
            ],
        );
        assert_eq!(whole, split);
        assert_eq!(split.families["timeout_error"].samples[1].line, 3);
        assert_eq!(split.tail.len(), 3);
    }

    #[test]
    fn rotated_files_add_up_and_duplicates_do_not() {
        let rotated = scanned("x/logs/rotated/1.log", &["2025-01-01T00:00:00Z timeout\n"]);
        let current =
            scanned("x/logs/current.log", &["2025-01-02T00:00:00Z timeout\n2025-01-02T00:00:01Z ok\n"]);
        let insecure = scanned("x/logs/current.insecure.log", &["2025-01-02T00:00:00Z timeout\n"]);
        let logs = combine(vec![current.clone(), rotated, insecure]);
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].lines, 3);
        assert_eq!(logs[0].families["timeout_error"].count, 2);
        assert_eq!(logs[0].path, "x/logs/current.log");
        assert_eq!(logs[0].tail, current.tail);
        assert_eq!(logs[0].first_timestamp.map(|t| t.to_string()).as_deref(), Some("2025-01-01T00:00:00Z"));
    }
}
