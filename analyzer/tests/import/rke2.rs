//! The loader on a real Rancher log collector bundle of an RKE2 node (4 nodes, RKE2 v1.32.7),
//! counted against its files: kubectl's tables read back into objects, pod logs placed in
//! their namespace, the node's journals and kernel log as node logs, etcd's answers as host
//! checks.

use crate::support::{count, files, line_count, load_real, realdata, summary};
use kubesnap_shared::import::DEFAULT_CONTAINER;
use kubesnap_shared::model::{NODE_LOG_NAMESPACE, SourceFormat};

const BUNDLE: &str = "Rancheroo__r8s/example-log-bundle/w-guard-wg-cp-svtk6-lqtxw-2025-11-27_04_19_09";
const HOST: &str = "w-guard-wg-cp-svtk6-lqtxw";

/// Rows of a kubectl table file: every non-empty line after the header.
fn rows(bytes: &[u8]) -> usize {
    String::from_utf8_lossy(bytes).lines().skip(1).filter(|line| !line.trim().is_empty()).count()
}

#[test]
fn every_table_row_log_journal_and_etcd_answer_is_read() {
    let model = load_real(BUNDLE);
    let context = summary(&model);
    assert_eq!(model.format, Some(SourceFormat::Rke2LogCollector), "{context}");
    assert_eq!(model.server_version.as_deref(), Some("v1.32.7+rke2r1"), "{context}");
    // The folder's name is the capture time.
    assert_eq!(model.captured_at, Some("2025-11-27T04:19:09Z".parse().unwrap()), "{context}");
    let files = files(&realdata(BUNDLE));
    for (file, kind) in [
        ("pods", "Pod"),
        ("nodes", "Node"),
        ("services", "Service"),
        ("deployments", "Deployment"),
        ("replicasets", "ReplicaSet"),
        ("daemonsets", "DaemonSet"),
        ("statefulsets", "StatefulSet"),
        ("namespaces", "Namespace"),
    ] {
        let expected = rows(&files[&format!("rke2/kubectl/{file}")]);
        assert_eq!(count(&model, kind), expected, "{kind} rows of rke2/kubectl/{file}\n{context}");
        assert!(model.text_fields.contains_key(kind), "{kind} is not marked as read from text");
    }
    assert_eq!(model.events.len(), rows(&files["rke2/kubectl/events"]), "{context}");
    assert!(model.events.iter().all(|event| event.last_seen.is_some()), "event ages become times");
    // `No resources found`: none exist, not "unknown".
    assert!(model.listed_kinds.contains("PersistentVolumeClaim"), "{context}");
    // A pod row knows its node and IP, never its containers.
    let pods = &model.text_fields["Pod"];
    assert!(pods.contains("/spec/nodeName") && pods.contains("/status/podIP"), "{pods:?}");
    assert!(!pods.iter().any(|field| field.contains("containers")), "{pods:?}");
    // Every pod log with bytes, current or previous, placed under its pod's namespace.
    let mut expected_logs = 0;
    for (path, bytes) in &files {
        let Some(file) = path.strip_prefix("rke2/podlogs/") else { continue };
        if bytes.is_empty() {
            continue;
        }
        expected_logs += 1;
        let (stem, previous) = file.strip_suffix("-previous").map_or((file, false), |stem| (stem, true));
        let log = model
            .logs
            .iter()
            .find(|log| {
                format!("{}-{}", log.key.namespace, log.key.pod) == stem && log.key.previous == previous
            })
            .unwrap_or_else(|| panic!("{path} was not read as a pod log\n{context}"));
        assert_eq!(log.key.container, DEFAULT_CONTAINER);
        assert!(model.get("Pod", Some(&log.key.namespace), &log.key.pod).is_some(), "{path}: no such pod");
        assert_eq!(log.lines, line_count(bytes), "{path}");
    }
    let pod_logs = model.logs.iter().filter(|log| log.key.namespace != NODE_LOG_NAMESPACE).count();
    assert_eq!(pod_logs, expected_logs, "{context}");
    // The node's journals and its kernel log and syslog, under the host's name.
    let node_logs: Vec<&str> = model
        .logs
        .iter()
        .filter(|log| log.key.namespace == NODE_LOG_NAMESPACE)
        .map(|log| {
            assert_eq!(log.key.pod, HOST);
            log.key.container.as_str()
        })
        .collect();
    for unit in ["rke2-server", "kernel", "syslog"] {
        assert!(node_logs.contains(&unit), "{unit} not read: {node_logs:?}");
    }
    // etcd answered healthy; the empty alarm list is no alarm.
    let checks: Vec<(&str, bool)> =
        model.host_checks.iter().map(|check| (check.what.as_str(), check.healthy)).collect();
    assert!(checks.contains(&("etcd endpoint health", true)), "{checks:?}");
    assert!(checks.contains(&("etcd alarms", true)), "{checks:?}");
    assert!(checks.iter().all(|(_, healthy)| *healthy), "{checks:?}");
    assert!(model.read_problems.is_empty(), "{:?}", model.read_problems);
}

#[test]
fn the_analysis_runs_only_what_text_can_feed_and_says_why_the_rest_is_skipped() {
    let model = load_real(BUNDLE);
    let (findings, skipped) = kubesnap_analyzer::analyze(&model);
    // Container-level diagnostics cannot run on table rows: skipped, with the reason.
    let crash =
        skipped.iter().find(|skipped| skipped.code == "crash-loop-backoff").expect("crash-loop-backoff ran");
    assert!(crash.reason.contains("kubectl text"), "{}", crash.reason);
    // What it can say: the nodes are Ready (no node-not-ready), etcd is healthy.
    assert!(!skipped.iter().any(|skipped| skipped.code == "node-not-ready"), "{skipped:?}");
    for code in ["node-not-ready", "etcd-unhealthy", "service-without-endpoints", "privileged-container"] {
        assert!(!findings.iter().any(|finding| finding.code == code), "{code} fired on a healthy text model");
    }
    // The log errors of this bundle are days old and every pod runs (kubectl's table does not
    // say Ready): history, P3 at most, never a current failure.
    for finding in &findings {
        assert_eq!(
            finding.severity,
            kubesnap_analyzer::finding::Severity::P3,
            "{}: {}",
            finding.code,
            finding.title
        );
    }
    // The report says which fields are missing.
    assert!(model.gaps.iter().any(|gap| gap.what.starts_with("Pod fields")), "{:?}", model.gaps);
}
