//! Node logs (kernel, journals, host service logs) scanned with node-problem-detector's
//! vocabulary: its kernel, read-only, docker and systemd monitors' rules, verbatim (from
//! `config/*-monitor.json` of kubernetes/node-problem-detector), then kubesnap's own rules for
//! the kubelet, the container runtime and etcd lines node-problem-detector has no monitor for.
//! Only node logs are scanned here; container logs go through the log families.

use regex::bytes::RegexSet;

use super::logscan::journal_entry;
use kubesnap_shared::import::LogLayout;
use kubesnap_shared::log_time::{TimeReader, Ts};

/// One rule: node-problem-detector's reason, the condition it sets when the problem is
/// permanent, and its pattern.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) reason: &'static str,
    pub(crate) condition: Option<&'static str>,
    pub(crate) pattern: &'static str,
}

const fn rule(reason: &'static str, condition: Option<&'static str>, pattern: &'static str) -> Rule {
    Rule { reason, condition, pattern }
}

/// The rules, most specific first where two could match one line (`DockerHung` before
/// `TaskHung`): a line counts for its first matching rule only.
pub(crate) const RULES: &[Rule] = &[
    // kernel-monitor.json
    rule("DockerHung", Some("KernelDeadlock"), r"task docker:\w+ blocked for more than \w+ seconds\."),
    rule("OOMKilling", None, r"Killed process \d+ (.+) total-vm:\d+kB, anon-rss:\d+kB, file-rss:\d+kB.*"),
    rule("TaskHung", None, r"task [\S ]+:\w+ blocked for more than \w+ seconds\."),
    rule(
        "UnregisterNetDevice",
        None,
        r"unregister_netdevice: waiting for \w+ to become free. Usage count = \d+",
    ),
    rule("KernelOops", None, r"BUG: unable to handle kernel NULL pointer dereference at .*"),
    rule("KernelOops", None, r"divide error: 0000 \[#\d+\] SMP"),
    rule("Ext4Error", None, r"EXT4-fs error .*"),
    rule("Ext4Warning", None, r"EXT4-fs warning .*"),
    rule("IOError", None, r"Buffer I/O error .*"),
    rule("XfsHasShutdown", Some("XfsShutdown"), r"XFS .* Shutting down filesystem.?"),
    rule("MemoryReadError", None, r"CE memory read error .*"),
    rule(
        "CperHardwareErrorFatal",
        Some("CperHardwareErrorFatal"),
        r".*\[Hardware Error\]: event severity: fatal$",
    ),
    rule("CperHardwareErrorRecoverable", None, r".*\[Hardware Error\]: event severity: recoverable$"),
    rule("CperHardwareErrorCorrected", None, r".*\[Hardware Error\]: event severity: corrected$"),
    // readonly-monitor.json
    rule("FilesystemIsReadOnly", Some("ReadonlyFilesystem"), r"Remounting filesystem read-only"),
    // docker-monitor.json
    rule(
        "CorruptDockerImage",
        None,
        r"Error trying v2 registry: failed to register layer: rename /var/lib/docker/image/(.+) /var/lib/docker/image/(.+): directory not empty.*",
    ),
    rule(
        "CorruptDockerOverlay2",
        Some("CorruptDockerOverlay2"),
        r"returned error: readlink /var/lib/docker/overlay2.*: invalid argument.*",
    ),
    rule(
        "DockerContainerStartupFailure",
        None,
        r"OCI runtime start failed: container process is already dead: unknown",
    ),
    // systemd-monitor.json
    rule(
        "KubeletStart",
        None,
        r"Started (Kubernetes kubelet|kubelet.service|kubelet.service - Kubernetes kubelet|kubelet.service - .*).",
    ),
    rule(
        "DockerStart",
        None,
        r"Starting (Docker Application Container Engine|docker.service|docker.service - Docker Application Container Engine)...",
    ),
    rule(
        "ContainerdStart",
        None,
        r"Starting (containerd container runtime|containerd.service|containerd.service - containerd container runtime)...",
    ),
    // kubesnap: the kubelet's and the runtime's own words for an unhealthy runtime, and etcd's
    // for a disk too slow for it.
    rule(
        "ContainerRuntimeUnhealthy",
        None,
        r"(container runtime is down|container runtime not ready|ContainerRuntimeUnhealthy|runtime network not ready)",
    ),
    rule("PLEGUnhealthy", None, r"PLEG is not healthy"),
    rule(
        "EtcdSlowDisk",
        None,
        r"(slow fdatasync|apply request took too long|leader failed to send out heartbeat on time)",
    ),
];

/// The compiled rules.
#[derive(Debug)]
pub(crate) struct NodeRules {
    set: RegexSet,
}

impl NodeRules {
    pub(crate) fn new() -> Result<NodeRules, regex::Error> {
        Ok(NodeRules { set: RegexSet::new(RULES.iter().map(|rule| rule.pattern))? })
    }
}

/// One matching line of a chunk.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NodeHit {
    /// Index in [`RULES`].
    pub(crate) rule: usize,
    /// 1-based line number within the chunk.
    pub(crate) line: u64,
    /// The line, only for the first hits of each rule in the chunk.
    pub(crate) text: Option<String>,
    pub(crate) ts: Option<Ts>,
}

/// How many lines per rule and chunk are kept as text.
const KEPT: usize = 3;

/// Scans one chunk (whole lines) of a node log: its hits, and how many lines it has.
pub(crate) fn scan(
    rules: &NodeRules,
    times: &TimeReader,
    chunk: &[u8],
    layout: LogLayout,
) -> (u64, Vec<NodeHit>) {
    let mut hits = Vec::new();
    let mut kept = vec![0usize; RULES.len()];
    let mut lines = 0u64;
    for raw in chunk.split(|&b| b == b'\n') {
        if raw.is_empty() {
            continue;
        }
        lines += 1;
        let (text, ts) = match layout {
            LogLayout::Journal => {
                let (text, ts) = journal_entry(raw);
                (std::borrow::Cow::Owned(text.into_bytes()), ts)
            }
            _ => (std::borrow::Cow::Borrowed(raw), None),
        };
        let Some(rule) = rules.set.matches(&text).iter().next() else { continue };
        let ts = ts.or_else(|| times.read(raw));
        let text = (kept[rule] < KEPT).then(|| {
            kept[rule] += 1;
            String::from_utf8_lossy(&text[..text.len().min(1_000)]).trim_end().to_owned()
        });
        hits.push(NodeHit { rule, line: lines, text, ts });
    }
    (lines, hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_and_journal_lines_get_node_problem_detector_reasons() {
        let rules = NodeRules::new().unwrap();
        let times = TimeReader::new().unwrap();
        let chunk = b"\
Nov 20 00:43:15 cp-1 kernel: [ 12.5] Memory cgroup out of memory: Killed process 4242 (java) total-vm:4194304kB, anon-rss:2097152kB, file-rss:0kB, shmem-rss:0kB
Nov 20 00:44:00 cp-1 kernel: [ 57.1] INFO: task docker:1234 blocked for more than 120 seconds.
Nov 20 00:45:00 cp-1 kernel: [ 60.0] EXT4-fs (sda1): Remounting filesystem read-only
Nov 20 00:46:00 cp-1 kubelet[99]: E1120 00:46:00.1 skipping pod synchronization - PLEG is not healthy: pleg was last seen active 3m0s ago
Nov 20 00:47:00 cp-1 systemd[1]: Started Kubernetes kubelet.
Nov 20 00:48:00 cp-1 rke2[8828]: nothing to see
";
        let (lines, hits) = scan(&rules, &times, chunk, LogLayout::Plain);
        assert_eq!(lines, 6);
        let reasons: Vec<&str> = hits.iter().map(|hit| RULES[hit.rule].reason).collect();
        assert_eq!(
            reasons,
            ["OOMKilling", "DockerHung", "FilesystemIsReadOnly", "PLEGUnhealthy", "KubeletStart"]
        );
        assert!(hits.iter().all(|hit| hit.ts.is_some()), "syslog times are read");
        assert_eq!(hits[0].line, 1);
    }

    #[test]
    fn journal_export_lines_are_matched_on_their_message() {
        let rules = NodeRules::new().unwrap();
        let times = TimeReader::new().unwrap();
        let chunk = br#"{"MESSAGE":"Starting containerd container runtime...","__REALTIME_TIMESTAMP":"1700000000000000"}
"#;
        let (_, hits) = scan(&rules, &times, chunk, LogLayout::Journal);
        assert_eq!(hits.len(), 1);
        assert_eq!(RULES[hits[0].rule].reason, "ContainerdStart");
        assert!(matches!(hits[0].ts, Some(Ts::At(_))));
    }
}
