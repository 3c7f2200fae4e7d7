//! Diagnostic `node-log-problems`: problems in the nodes' own logs;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::{NodeProblem, ObjectRef};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl::Kubectl;
use crate::facts::nodes::age;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "node-log-problems",
    category: Category::Nodes,
    title: "Problems in the nodes' own logs",
    severities: &[Severity::P1, Severity::P2, Severity::P3],
    what: "The problems the nodes' own logs report (kernel log, journals, host service logs), named as \
           node-problem-detector names them: processes OOM-killed by the kernel, tasks hung, file systems \
           remounted read-only, kernel oopses, I/O and hardware errors, a container runtime or PLEG \
           unhealthy, etcd's disk too slow, and the kubelet and runtime restarting. A problem whose last \
           line is over an hour old at the capture is history (P3), and so is a runtime or PLEG problem \
           that ended before the node's Ready condition last turned True (a node starting up logs both).",
    why: "A pod's status shows the effect; the node's log shows the cause, and without node-problem-detector \
          nothing else records it.",
    fix: "Read the node's log around the lines quoted; replace failing disks or hardware, raise the node's \
          memory or lower what runs there, restart or upgrade the runtime.",
    example: "`Node cp-1: kernel OOM killer ran 3 times (kernel log)`.",
    needs: &[],
    run,
};

/// A problem whose last line is this old at capture time is history.
const ONGOING_SECONDS: i64 = 3_600;

/// Problems the kubelet reports through the node's Ready condition: a node Ready since after
/// their last line has recovered from them (a node starting up logs both until its runtime and
/// network plugin are up).
const CLEARED_BY_READY: &[&str] = &["ContainerRuntimeUnhealthy", "PLEGUnhealthy"];

/// When the node's Ready condition last turned True, if it is True.
fn ready_since(facts: &Facts<'_>, node: &str) -> Option<jiff::Timestamp> {
    let node = facts.cluster().get("Node", None, node)?;
    let (status, _, _) = node.condition("Ready")?;
    (status == "True").then(|| node.condition_since("Ready")).flatten()
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    facts.cluster().node_problems.iter().map(|problem| finding(facts, problem)).collect()
}

/// What the reason means, in words, and its severity while ongoing.
fn describe(reason: &str) -> (&'static str, Severity) {
    match reason {
        "DockerHung" => ("the docker daemon hung (kernel deadlock)", Severity::P1),
        "FilesystemIsReadOnly" => ("a file system was remounted read-only", Severity::P1),
        "XfsHasShutdown" => ("an XFS file system shut down", Severity::P1),
        "CperHardwareErrorFatal" => ("a fatal hardware error was reported", Severity::P1),
        "CorruptDockerOverlay2" => ("docker's overlay2 storage is corrupt", Severity::P1),
        "OOMKilling" => ("the kernel OOM killer killed processes", Severity::P2),
        "TaskHung" => ("tasks hung for minutes", Severity::P2),
        "KernelOops" => ("the kernel oopsed", Severity::P2),
        "Ext4Error" => ("the ext4 file system reported errors", Severity::P2),
        "IOError" => ("block I/O errors", Severity::P2),
        "MemoryReadError" => ("memory read errors", Severity::P2),
        "ContainerRuntimeUnhealthy" => ("the container runtime was reported down or not ready", Severity::P2),
        "PLEGUnhealthy" => {
            ("the kubelet's pod lifecycle event generator (PLEG) was not healthy", Severity::P2)
        }
        "EtcdSlowDisk" => ("etcd found its disk or peers too slow", Severity::P2),
        "CorruptDockerImage" => ("a docker image layer is corrupt", Severity::P2),
        "KubeletStart" => ("the kubelet was started", Severity::P3),
        "DockerStart" => ("docker was started", Severity::P3),
        "ContainerdStart" => ("containerd was started", Severity::P3),
        "Ext4Warning" => ("the ext4 file system reported warnings", Severity::P3),
        "UnregisterNetDevice" => ("a network device could not be unregistered", Severity::P3),
        "DockerContainerStartupFailure" => ("a container process died while starting", Severity::P3),
        "CperHardwareErrorRecoverable" => ("recoverable hardware errors were reported", Severity::P3),
        "CperHardwareErrorCorrected" => ("corrected hardware errors were reported", Severity::P3),
        _ => ("a node problem was reported", Severity::P3),
    }
}

fn finding(facts: &Facts<'_>, problem: &NodeProblem) -> Finding {
    let (what, ongoing_severity) = describe(&problem.reason);
    let since_last = age::seconds_since(facts.cluster(), problem.last);
    // Without times, the log cannot say whether the problem is still going on: it is reported
    // at its severity, and the explanation says so.
    let recovered = CLEARED_BY_READY
        .contains(&problem.reason.as_str())
        .then(|| ready_since(facts, &problem.node))
        .flatten()
        .filter(|since| problem.last.is_some_and(|last| last <= *since));
    let ongoing = recovered.is_none() && since_last.is_none_or(|seconds| seconds <= ONGOING_SECONDS);
    let severity = if ongoing { ongoing_severity } else { Severity::P3 };
    let times = match problem.count {
        1 => "once".to_owned(),
        n => format!("{n} times"),
    };
    let when = match since_last {
        // Node logs may run past the newest time the objects record (a foreign bundle's capture
        // time): the problem lasted to the capture.
        Some(seconds) if seconds <= 0 => ", still at capture".to_owned(),
        Some(seconds) => format!(", last {} before capture", age::human(seconds)),
        None => String::new(),
    };
    let when = match recovered {
        Some(since) => format!("{when}; Ready since {since}"),
        None => when,
    };
    let node = ObjectRef { kind: "Node".to_owned(), namespace: None, name: problem.node.clone() };
    let mut finding = DIAGNOSTIC
        .finding(severity, format!("Node {}: {what}, {times} ({} log{when})", problem.node, problem.unit))
        .object(node);
    for line in &problem.samples {
        finding = finding.evidence(Evidence::log_line(&problem.path, line));
    }
    let condition = match &problem.condition {
        Some(condition) => format!(" node-problem-detector would set the node condition {condition}."),
        None => String::new(),
    };
    let status = match (ongoing, since_last) {
        _ if recovered.is_some() => format!(
            "The node's Ready condition turned True at {} after the last of these lines and stayed so: \
             the kubelet recovered, so this is history (a node starting up logs it until its runtime and \
             network plugin are up).",
            recovered.map(|since| since.to_string()).unwrap_or_default()
        ),
        (true, Some(_)) => "It was still happening within the hour before the capture.".to_owned(),
        (true, None) => "The lines carry no time the bundle can place, so it may be over.".to_owned(),
        (false, _) => "It stopped well before the capture: history, kept for the timeline.".to_owned(),
    };
    finding
        .explanation(format!(
            "The {} log of node {} says {what} ({}: {times}).{condition} {status}",
            problem.unit, problem.node, problem.reason
        ))
        .remediation(Kubectl::new("describe node").name(&problem.node))
        .remediation(format!("journalctl -k --since -2h   # on node {}", problem.node.escape_default()))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use kubesnap_shared::model::{ClusterModel, LogLine};

    use super::*;
    use crate::testing::render;

    fn problem(reason: &str, last: &str) -> NodeProblem {
        NodeProblem {
            node: "cp-1".into(),
            unit: "kernel".into(),
            reason: reason.into(),
            condition: (reason == "FilesystemIsReadOnly").then(|| "ReadonlyFilesystem".into()),
            count: 2,
            first: Some("2025-11-20T00:43:15Z".parse().unwrap()),
            last: Some(last.parse().unwrap()),
            samples: vec![LogLine {
                line: 7,
                text: "kernel: EXT4-fs (sda1): Remounting filesystem read-only".into(),
                timestamp: None,
            }],
            path: "systemlogs/kern.log".into(),
        }
    }

    #[test]
    fn ongoing_problems_keep_their_severity_old_ones_are_history() {
        let mut model = ClusterModel {
            captured_at: Some("2025-11-27T04:19:09Z".parse().unwrap()),
            ..ClusterModel::default()
        };
        model.node_problems.push(problem("FilesystemIsReadOnly", "2025-11-27T04:00:00Z"));
        model.node_problems.push(problem("OOMKilling", "2025-11-20T00:50:00Z"));
        expect![[r#"
            P1 node-log-problems Node cp-1: a file system was remounted read-only, 2 times (kernel log, last 19m before capture)
              objects: Node/cp-1
              log systemlogs/kern.log:7: kernel: EXT4-fs (sda1): Remounting filesystem read-only
              why: The kernel log of node cp-1 says a file system was remounted read-only (FilesystemIsReadOnly: 2 times). node-problem-detector would set the node condition ReadonlyFilesystem. It was still happening within the hour before the capture.
              $ kubectl describe node cp-1
              $ journalctl -k --since -2h   # on node cp-1
            P3 node-log-problems Node cp-1: the kernel OOM killer killed processes, 2 times (kernel log, last 7d3h before capture)
              objects: Node/cp-1
              log systemlogs/kern.log:7: kernel: EXT4-fs (sda1): Remounting filesystem read-only
              why: The kernel log of node cp-1 says the kernel OOM killer killed processes (OOMKilling: 2 times). It stopped well before the capture: history, kept for the timeline.
              $ kubectl describe node cp-1
              $ journalctl -k --since -2h   # on node cp-1
        "#]]
        .assert_eq(&render(&run(&Facts::new(&model))));
    }

    #[test]
    fn a_runtime_down_before_the_node_turned_ready_is_history() {
        // A node starting up: the kubelet logs the runtime and the network plugin as not ready
        // until they are up, then the node turns Ready.
        let node = |ready: &str, since: &str| {
            kubesnap_shared::model::Object::from_value(
                serde_json::json!({"kind": "Node", "apiVersion": "v1", "metadata": {"name": "cp-1"},
                "status": {"conditions": [
                    {"type": "Ready", "status": ready, "lastTransitionTime": since}
                ]}}),
                None,
                None,
                "nodes.json",
            )
            .unwrap()
        };
        let severity = |object: Option<kubesnap_shared::model::Object>| {
            let mut model = ClusterModel {
                captured_at: Some("2025-11-27T04:19:09Z".parse().unwrap()),
                ..ClusterModel::default()
            };
            model.objects.extend(object);
            model.node_problems.push(problem("ContainerRuntimeUnhealthy", "2025-11-27T04:00:00Z"));
            model.node_problems.push(problem("OOMKilling", "2025-11-27T04:00:00Z"));
            model.finish();
            run(&Facts::new(&model)).into_iter().map(|f| (f.severity, f.title)).collect::<Vec<_>>()
        };
        let recovered = severity(Some(node("True", "2025-11-27T04:00:05Z")));
        assert_eq!(recovered[0].0, Severity::P3, "{recovered:?}");
        assert!(recovered[0].1.ends_with("; Ready since 2025-11-27T04:00:05Z)"), "{recovered:?}");
        // The kernel OOM killer is no part of Ready: still ongoing.
        assert_eq!(recovered[1].0, Severity::P2, "{recovered:?}");
        // Ready before the last line, NotReady, or no node in the bundle: ongoing.
        for object in
            [Some(node("True", "2025-11-27T03:00:00Z")), Some(node("False", "2025-11-27T04:00:05Z")), None]
        {
            let found = severity(object);
            assert_eq!(found[0].0, Severity::P2, "{found:?}");
            assert!(!found[0].1.contains("Ready since"), "{found:?}");
        }
    }
}
