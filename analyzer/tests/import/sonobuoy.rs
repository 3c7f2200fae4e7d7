//! The loader on real sonobuoy results: the health summary test folder, two v0.53 result
//! tarballs and an old v0.10 one, counted against their files.

use std::collections::BTreeMap;

use crate::support::{count, files, json_items, line_count, load_real, realdata, summary};
use kubesnap_shared::model::{ClusterModel, NODE_LOG_NAMESPACE, SourceFormat};

const HEALTH: &str = "vmware-tanzu__sonobuoy/pkg/discovery/testdata/healthsummary";
const FAILURES: &str = "vmware-tanzu__sonobuoy/test/integration/testdata/results-4-e2e-failures.tar.gz";
const QUICK: &str = "vmware-tanzu__sonobuoy/test/integration/testdata/results-quick-no-failures.tar.gz";
const V010: &str = "vmware-tanzu__sonobuoy/pkg/client/results/testdata/results-0.10.tar.gz";

/// Every `resources/` file's items by kind (the items' own kind, or the file's name), every
/// pod log's lines and every journal's entries, straight from the files.
fn check_complete(bundle: &str) -> ClusterModel {
    let model = load_real(bundle);
    let context = summary(&model);
    assert_eq!(model.format, Some(SourceFormat::Sonobuoy), "{context}");
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut events = 0;
    let mut logs = 0;
    for (path, bytes) in files(&realdata(bundle)) {
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            ["resources", _, .., file] if file.ends_with(".json") => {
                for item in json_items(&bytes) {
                    let kind = match item["kind"].as_str() {
                        Some(kind) => kind.to_owned(),
                        // v0.10 names files by plural kind.
                        None => match file.trim_end_matches(".json") {
                            "ComponentStatuses" => "ComponentStatus".to_owned(),
                            "StorageClasses" => "StorageClass".to_owned(),
                            "Endpoints" => "Endpoints".to_owned(),
                            plural => plural.trim_end_matches('s').to_owned(),
                        },
                    };
                    if kind == "Event" {
                        events += 1;
                    } else {
                        *kinds.entry(kind).or_default() += 1;
                    }
                }
            }
            ["podlogs", namespace, pod, "logs", file] if !bytes.is_empty() => {
                logs += 1;
                let log = model.log(namespace, pod, file.trim_end_matches(".txt"), false).unwrap();
                assert_eq!(log.lines, line_count(&bytes), "{path}");
            }
            ["plugins", "systemd-logs" | "systemd_logs", "results", node, ..] => {
                logs += 1;
                let log = model.log(NODE_LOG_NAMESPACE, node, "systemd", false).unwrap();
                let entries = bytes.split(|&b| b == b'\n').filter(|line| !line.is_empty()).count() as u64;
                assert_eq!(log.lines, entries, "{path}");
                assert_eq!(log.untimed_lines, 0, "journald entries carry their time");
            }
            _ => {}
        }
    }
    assert!(!kinds.is_empty());
    for (kind, n) in &kinds {
        assert_eq!(count(&model, kind), *n, "{kind} in {bundle}\n{context}");
    }
    assert_eq!(model.events.len(), events);
    assert_eq!(model.logs.len(), logs, "{context}");
    model
}

#[test]
fn health_summary_not_ready_worker() {
    let model = check_complete(HEALTH);
    assert_eq!(model.server_version.as_deref(), Some("v1.20.0"));
    let worker = model.get("Node", None, "kind-worker").unwrap();
    let (status, reason, _) = worker.condition("Ready").unwrap();
    assert_eq!((status, reason), ("False", "KubeletNotReady"));
    let pending = model
        .of_kind_in("Pod", "kube-system")
        .filter(|pod| pod.str_at("/status/phase") == Some("Pending"))
        .count();
    assert_eq!(pending, 4);
}

#[test]
fn result_tarballs_with_node_journals() {
    for bundle in [FAILURES, QUICK] {
        let model = check_complete(bundle);
        assert_eq!(model.server_version.as_deref(), Some("v1.21.1"));
        assert!(model.gaps.iter().any(|gap| gap.what == "events"), "these results hold no events");
        let journal = model.log(NODE_LOG_NAMESPACE, "kind-control-plane", "systemd", false).unwrap();
        assert!(journal.first_timestamp < journal.last_timestamp);
    }
    let model = load_real(FAILURES);
    let provisioner = model.of_kind_in("Pod", "local-path-storage").next().unwrap();
    let status = &provisioner.array_at("/status/containerStatuses")[0];
    assert_eq!(status["restartCount"], 7);
    assert_eq!(status["lastState"]["terminated"]["reason"], "Error");
    let unschedulable = model
        .of_kind("Pod")
        .filter(|pod| pod.namespace.as_deref().is_some_and(|ns| ns.starts_with("resourcequota")))
        .any(|pod| {
            pod.condition("PodScheduled")
                .is_some_and(|(status, reason, _)| status == "False" && reason == "Unschedulable")
        });
    assert!(unschedulable);
}

#[test]
fn old_results_format() {
    let model = check_complete(V010);
    assert_eq!(model.server_version.as_deref(), Some("v1.8.4"));
    let scheduling = model.events.iter().filter(|event| event.reason == "FailedScheduling").count();
    assert_eq!(scheduling, 4);
    // Items without kind take it from the file name.
    assert!(model.of_kind("Pod").all(|pod| pod.raw.get("kind").is_none()));
}

/// Every leaf of a `sonobuoy_results.yaml` tree, by status, counted straight from the YAML.
fn leaf_statuses(value: &serde_json::Value, counts: &mut BTreeMap<String, u64>) {
    match value.get("items").and_then(serde_json::Value::as_array) {
        Some(items) if !items.is_empty() => items.iter().for_each(|item| leaf_statuses(item, counts)),
        _ => {
            let status = value.get("status").and_then(serde_json::Value::as_str).unwrap_or_default();
            *counts.entry(status.to_owned()).or_default() += 1;
        }
    }
}

#[test]
fn plugin_results_counted_against_their_files() {
    for bundle in [FAILURES, QUICK] {
        let model = load_real(bundle);
        let mut expected = Vec::new();
        for (path, bytes) in files(&realdata(bundle)) {
            let parts: Vec<&str> = path.split('/').collect();
            if let ["plugins", plugin, "sonobuoy_results.yaml"] = parts.as_slice() {
                let tree: serde_json::Value = kubesnap_shared::yaml::from_slice(&bytes).unwrap();
                let mut counts = BTreeMap::new();
                for item in tree["items"].as_array().unwrap() {
                    leaf_statuses(item, &mut counts);
                }
                let status = tree["status"].as_str().unwrap().to_owned();
                expected.push(((*plugin).to_owned(), status, counts));
            }
        }
        assert_eq!(expected.len(), 2, "{bundle}: e2e and systemd-logs");
        let got: Vec<_> = model
            .plugin_results
            .iter()
            .map(|result| {
                let mut counts = BTreeMap::new();
                for (status, n) in
                    [("passed", result.passed), ("failed", result.failed), ("skipped", result.skipped)]
                {
                    if n > 0 {
                        counts.insert(status.to_owned(), n);
                    }
                }
                (result.plugin.clone(), result.status.clone(), counts)
            })
            .collect();
        assert_eq!(got, expected, "{bundle}");
        assert!(model.plugin_results.iter().all(|result| result.other == 0));
    }
    // The four failures of the e2e run (junit_01.xml: tests=25 failures=4), with their messages.
    let model = load_real(FAILURES);
    let e2e = model.plugin_results.iter().find(|result| result.plugin == "e2e").unwrap();
    assert_eq!((e2e.passed, e2e.failed, e2e.status.as_str()), (21, 4, "failed"));
    assert!(e2e.failures.iter().any(|failure| failure.name.contains("Daemon set [Serial] should rollback")
        && failure.message.contains("needs a cluster with at least 2 nodes")));
    assert!(e2e.failures.iter().all(|failure| !failure.message.contains(".go:")), "{:?}", e2e.failures);
}
