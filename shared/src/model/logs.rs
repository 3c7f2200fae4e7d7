//! Container logs as the loader's scan leaves them: sizes, the last lines, and the hits of the
//! log pattern families. Logs are never held whole in memory.

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

/// A pattern hit with a time, for timelines and cascade detection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TimedHit {
    pub at: jiff::Timestamp,
    pub family: String,
    /// Whether the line's level is ERROR or FATAL (the seed's cascade rule counts those).
    pub error_level: bool,
}

/// The hits of one pattern family in one log.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FamilyHits {
    pub count: u64,
    /// The first few matching lines.
    pub samples: Vec<LogLine>,
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
    /// The last lines of the log, oldest first.
    pub tail: Vec<LogLine>,
    /// Hits per pattern family code (`connection_refused`, `high_cpu`, ...).
    pub families: BTreeMap<String, FamilyHits>,
    /// Timed hits, bounded per log, oldest first.
    pub timed_hits: Vec<TimedHit>,
    /// Lines at ERROR or FATAL level, with a time, bounded per log (the cascade rule).
    pub error_lines: Vec<LogLine>,
    pub first_timestamp: Option<jiff::Timestamp>,
    pub last_timestamp: Option<jiff::Timestamp>,
    /// Lines whose timestamp could not be read (reported, never fatal).
    pub untimed_lines: u64,
}
