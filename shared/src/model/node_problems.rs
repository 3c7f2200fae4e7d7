//! Problems a node's own logs report (kernel, journal, host service logs), named with
//! node-problem-detector's vocabulary: `OOMKilling`, `TaskHung`, `ReadonlyFilesystem`, ...

use super::logs::LogLine;

/// One problem in one node log, counted over every line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NodeProblem {
    /// The node (or node role) the log belongs to.
    pub node: String,
    /// The unit or file: `kernel`, `kubelet`, `rke2-server`, `systemd`.
    pub unit: String,
    /// node-problem-detector's reason: `OOMKilling`, `TaskHung`, `FilesystemIsReadOnly`.
    pub reason: String,
    /// The node condition node-problem-detector sets for a permanent problem
    /// (`KernelDeadlock`, `ReadonlyFilesystem`); `None` for a temporary one (an event).
    pub condition: Option<String>,
    pub count: u64,
    pub first: Option<jiff::Timestamp>,
    pub last: Option<jiff::Timestamp>,
    /// The first matching lines.
    pub samples: Vec<LogLine>,
    /// The bundle path of the log.
    pub path: String,
}
