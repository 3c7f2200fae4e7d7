//! Container logs as the loader's scan leaves them: sizes, the last lines, the hits of the
//! log pattern families (per 5-minute window too), and the HTTP requests of access-log lines
//! counted per minute. Logs are never held whole in memory: every count here is over every
//! line, the lines kept are samples.

use std::collections::BTreeMap;

/// The namespace of node-level logs (a node's journal, host service logs): the pod is the node
/// and the container the unit. Never a real namespace: namespaces cannot start with `_`.
pub const NODE_LOG_NAMESPACE: &str = "_node";

/// Which log: namespace, pod, container, and whether it is the previous run's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct LogKey {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub previous: bool,
}

/// One line kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogLine {
    /// 1-based line number in the file.
    pub line: u64,
    pub text: String,
    pub timestamp: Option<jiff::Timestamp>,
}

/// The key of [`ContainerLog::families`] under which the lines at ERROR or FATAL level are
/// counted, whatever family they match (`K8sLogAnalyzer`'s cascade rule counts those lines). It is no
/// pattern family: the parentheses keep it apart from the families' codes. Its samples are
/// empty; the lines themselves are [`ContainerLog::error_lines`].
pub const ERROR_LEVEL: &str = "(error level)";

/// The hits of one pattern family in one log, counted over every line.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FamilyHits {
    pub count: u64,
    /// The first few matching lines.
    pub samples: Vec<LogLine>,
    /// Hits on lines at ERROR or FATAL level.
    pub error_level: u64,
    /// The earliest hit with a time.
    pub first: Option<jiff::Timestamp>,
    /// The latest hit with a time.
    pub last: Option<jiff::Timestamp>,
    /// Hits with a time per 5-minute window, oldest first; windows without a hit are left out.
    pub windows: Vec<WindowHits>,
    /// Hits with a time in no window: the log held more windows than the loader keeps (the
    /// oldest are dropped first), or a year-less time that names no date of the year chosen.
    pub unwindowed: u64,
}

/// The hits of one family in one 5-minute window: 32 bytes, whatever the number of hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct WindowHits {
    /// The window, in Unix 5-minute units (seconds / 300): windows are aligned to the epoch, as
    /// `K8sLogAnalyzer` aligns them (`minute // 5 * 5`).
    pub window: i64,
    pub count: u64,
    /// The window's earliest hit.
    pub first: jiff::Timestamp,
}

impl WindowHits {
    /// The start of the window.
    pub fn start(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_second(self.window.saturating_mul(300)).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
}

/// One container log, scanned.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ContainerLog {
    pub key: LogKey,
    /// The bundle path it was read from.
    pub path: String,
    pub bytes: u64,
    pub lines: u64,
    /// Cut by the collector's cap (from the manifest).
    pub truncated: bool,
    /// The last lines of the log, oldest first: a container's last words. Empty for the
    /// current log of a container its pod reports running, ready and never restarted (in a
    /// Running, Ready pod): nothing asks for those, and on a large cluster they are most logs.
    pub tail: Vec<LogLine>,
    /// Hits per pattern family code (`connection_refused`, `high_cpu`, ...), and the lines at
    /// ERROR or FATAL level under [`ERROR_LEVEL`].
    pub families: BTreeMap<String, FamilyHits>,
    /// The latest lines at ERROR or FATAL level with a time, bounded per log: samples of the
    /// cascade rule, whose counts are `families[ERROR_LEVEL]`.
    pub error_lines: Vec<LogLine>,
    pub first_timestamp: Option<jiff::Timestamp>,
    pub last_timestamp: Option<jiff::Timestamp>,
    /// Lines whose timestamp could not be read (reported, never fatal).
    pub untimed_lines: u64,
    /// The HTTP requests of the log's access-log lines, one entry per upstream, sorted by
    /// upstream (`None` first); empty when the log has no access-log line.
    pub requests: Vec<HttpRequests>,
}

/// The requests of one upstream in one log's access-log lines (ingress-nginx, or the common
/// and combined log formats), counted over every line the loader scanned. Memory is bounded by
/// the minutes with requests, not by the requests: 24 bytes a minute.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct HttpRequests {
    /// The upstream the line names: ingress-nginx's `$proxy_upstream_name`
    /// (`<namespace>-<service>-<port>`), `Some("")` when nginx answered without one (a
    /// malformed request). `None` for formats that name no upstream (common and combined log
    /// format): the container answered itself.
    pub upstream: Option<String>,
    /// Requests per status code, every request of the log counted.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests per minute, oldest first; minutes without a request are left out.
    pub minutes: Vec<MinuteRequests>,
    /// Requests in `statuses` but in no minute: their time could not be read, or the log held
    /// more distinct minutes than the loader keeps (the oldest are dropped first).
    pub unbucketed: u64,
}

impl HttpRequests {
    /// Every request counted, with or without a minute.
    pub fn total(&self) -> u64 {
        self.statuses.values().sum()
    }
}

/// The requests of one minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct MinuteRequests {
    /// The start of the minute, in Unix minutes (seconds / 60): compact, and what a bucket is.
    pub minute: i64,
    pub total: u32,
    /// 4xx answers.
    pub client_errors: u32,
    /// 5xx answers.
    pub server_errors: u32,
}

impl MinuteRequests {
    /// The start of the minute.
    pub fn start(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_second(self.minute.saturating_mul(60)).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
}
