//! The loader on real troubleshoot support bundles (read in place from `shared/realdata`):
//! every list, log and error file is read, counted against the files themselves.

use std::collections::BTreeMap;

use crate::support::{count, files, json_items, line_count, load_real, realdata, summary};
use kubesnap_shared::model::{ClusterModel, SourceFormat};

// The real bundles, under shared/realdata; listed.rs reads these too.
pub(super) const TESTDATA: &str = "replicatedhq__troubleshoot/testdata/supportbundle/support-bundle.tar.gz";
pub(super) const BUNDLE_2021: &str = "replicatedhq__troubleshoot/support-bundle-2021-03-24T00_39_51.tar.gz";
pub(super) const TREE_2025: &str = "replicatedhq__troubleshoot/_history/6e08a811ef60f0ccdb92fa0762845ccbb1cc6141/support-bundle-2025-08-09T21_08_25";
pub(super) const BASELINE: &str = "replicatedhq__troubleshoot/test/baselines/supportbundle/baseline.tar.gz";
const PREFLIGHT_V1BETA2: &str = "replicatedhq__troubleshoot/test/baselines/preflight-v1beta2/baseline.tar.gz";
const PREFLIGHT_V1BETA3: &str = "replicatedhq__troubleshoot/test/baselines/preflight-v1beta3/baseline.tar.gz";
pub(super) const SBCTL: &str = "replicatedhq__sbctl/tests/support-bundle";

/// Folders (and top-level files) of `cluster-resources/` and the kind their items are.
const FOLDERS: &[(&str, &str)] = &[
    ("pods", "Pod"),
    ("deployments", "Deployment"),
    ("replicasets", "ReplicaSet"),
    ("statefulsets", "StatefulSet"),
    ("daemonsets", "DaemonSet"),
    ("services", "Service"),
    ("jobs", "Job"),
    ("cronjobs", "CronJob"),
    ("pvcs", "PersistentVolumeClaim"),
    ("configmaps", "ConfigMap"),
    ("nodes", "Node"),
    ("namespaces", "Namespace"),
    ("pvs", "PersistentVolume"),
    ("storage-classes", "StorageClass"),
    ("custom-resource-definitions", "CustomResourceDefinition"),
    ("clusterroles", "ClusterRole"),
    ("priorityclasses", "PriorityClass"),
];

/// Items per kind in the bundle's `cluster-resources/`, counted straight from the files, and
/// the events, and the log files by (namespace, pod, file).
struct Expected {
    kinds: BTreeMap<&'static str, usize>,
    events: usize,
    logs: BTreeMap<(String, String, String), u64>,
}

fn expected(bundle: &str) -> Expected {
    let mut expected = Expected { kinds: BTreeMap::new(), events: 0, logs: BTreeMap::new() };
    for (path, bytes) in files(&realdata(bundle)) {
        let parts: Vec<&str> = path.split('/').collect();
        let Some(at) = parts.iter().position(|part| *part == "cluster-resources") else { continue };
        match &parts[at + 1..] {
            ["pods", "logs", namespace, pod, file] => {
                expected
                    .logs
                    .insert((namespace.to_string(), pod.to_string(), file.to_string()), line_count(&bytes));
            }
            ["events", _] => expected.events += json_items(&bytes).len(),
            [folder, file] if file.ends_with(".json") => {
                if let Some((_, kind)) = FOLDERS.iter().find(|(name, _)| name == folder) {
                    *expected.kinds.entry(kind).or_default() += json_items(&bytes).len();
                }
            }
            [file] => {
                if let Some((_, kind)) =
                    FOLDERS.iter().find(|(name, _)| Some(*name) == file.strip_suffix(".json"))
                {
                    *expected.kinds.entry(kind).or_default() += json_items(&bytes).len();
                }
            }
            _ => {}
        }
    }
    expected
}

/// Every kind, the events and every log file of the bundle are in the model, with the line
/// count of the file.
fn check_complete(bundle: &str, model: &ClusterModel) -> Expected {
    let expected = expected(bundle);
    let context = summary(model);
    assert_eq!(model.format, Some(SourceFormat::Troubleshoot), "{context}");
    assert!(!expected.kinds.is_empty(), "the test found no lists in {bundle}");
    for (kind, n) in &expected.kinds {
        assert_eq!(count(model, kind), *n, "{kind} in {bundle}\n{context}");
    }
    assert_eq!(model.events.len(), expected.events, "events in {bundle}");
    assert_eq!(model.logs.len(), expected.logs.len(), "one log per file, links not counted twice\n{context}");
    for ((namespace, pod, file), lines) in &expected.logs {
        let stem = file.trim_end_matches(".log");
        let (container, previous) = match stem.strip_suffix("-previous") {
            Some(container) => (container, true),
            None => (stem, false),
        };
        let log = model.log(namespace, pod, container, previous);
        assert_eq!(log.map(|log| log.lines), Some(*lines), "{namespace}/{pod}/{file}");
    }
    expected
}

fn status_of<'a>(
    model: &'a ClusterModel,
    namespace: &'a str,
    prefix: &'a str,
) -> Vec<&'a kubesnap_shared::json::Value> {
    model
        .of_kind_in("Pod", namespace)
        .filter(|pod| pod.name.starts_with(prefix))
        .flat_map(|pod| pod.array_at("/status/containerStatuses"))
        .collect()
}

#[test]
fn testdata_bundle_with_kube_system_restarts() {
    let model = load_real(TESTDATA);
    let expected = check_complete(TESTDATA, &model);
    assert!(
        expected.logs.keys().any(|(_, _, file)| file.ends_with("-previous.log")),
        "previous logs are in the bundle"
    );
    assert_eq!(model.server_version.as_deref(), Some("v1.24.4+k3s1"));
    // kube-system restart counts as the pod list says them, pod by pod.
    let files = files(&realdata(TESTDATA));
    let listed = json_items(&files["support-bundle/cluster-resources/pods/kube-system.json"]);
    assert!(!listed.is_empty());
    for pod in &listed {
        let name = pod["metadata"]["name"].as_str().unwrap();
        let restarts: Vec<_> = pod["status"]["containerStatuses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["restartCount"].clone())
            .collect();
        let model_pod = model.get("Pod", Some("kube-system"), name).unwrap();
        let loaded: Vec<_> = model_pod
            .array_at("/status/containerStatuses")
            .iter()
            .map(|s| s["restartCount"].clone())
            .collect();
        assert_eq!(loaded, restarts, "{name}");
    }
    let provisioner = status_of(&model, "kube-system", "local-path-provisioner");
    assert!(provisioner[0]["restartCount"].as_i64() >= Some(96));
    assert_eq!(provisioner[0]["lastState"]["terminated"]["reason"], "Error");
    assert_eq!(provisioner[0]["lastState"]["terminated"]["exitCode"], 1);
    assert!(model.events.iter().any(|event| event.is_warning() && event.reason == "BackOff"));
    // The all-logs/ links point at the logs already read.
    assert!(model.logs.iter().all(|log| log.path.contains("cluster-resources/pods/logs/")));
    assert!(model.read_problems.is_empty(), "{:?}", model.read_problems);
    assert!(model.gaps.iter().any(|gap| gap.what == "pod metrics over time"));
}

#[test]
fn bundle_2021_image_pull_backoff_and_failed_mounts() {
    let model = load_real(BUNDLE_2021);
    check_complete(BUNDLE_2021, &model);
    assert_eq!(model.server_version.as_deref(), Some("v1.20.2+k3s1"));
    for pod in ["kotsadm-minio-0", "kotsadm-migrations"] {
        let waiting: Vec<_> = model
            .of_kind_in("Pod", "qakots")
            .filter(|p| p.name.starts_with(pod))
            .flat_map(|p| {
                p.array_at("/status/containerStatuses")
                    .iter()
                    .chain(p.array_at("/status/initContainerStatuses"))
            })
            .filter_map(|status| status["state"]["waiting"]["reason"].as_str())
            .collect();
        assert!(waiting.contains(&"ImagePullBackOff"), "{pod}: {waiting:?}");
    }
    let files = files(&realdata(BUNDLE_2021));
    let failed_mounts =
        json_items(&files["support-bundle-2021-03-24T00_39_51/cluster-resources/events/default.json"])
            .iter()
            .filter(|event| event["reason"] == "FailedMount")
            .count();
    assert_eq!(failed_mounts, 6, "the manifest of the real data says six");
    let loaded = model
        .events
        .iter()
        .filter(|e| e.namespace.as_deref() == Some("default") && e.reason == "FailedMount")
        .count();
    assert_eq!(loaded, failed_mounts);
    assert!(
        model.events.iter().any(|e| e.reason == "FailedScheduling" && e.involved.name.starts_with("svclb"))
    );
    // secrets-errors/ and the kots collector's -errors.json are collector failures.
    let errors = files.keys().filter(|path| path.contains("-errors")).count();
    assert_eq!(model.failures.len(), errors, "{:?}", model.failures);
}

#[test]
fn tree_2025_crash_loop_oom_and_connection_errors() {
    let model = load_real(TREE_2025);
    check_complete(TREE_2025, &model);
    assert_eq!(model.server_version.as_deref(), Some("v1.33.1"));
    let crash = status_of(&model, "test-crash", "crash-loop-app");
    assert_eq!(crash.len(), 2);
    for status in crash {
        assert_eq!(status["restartCount"], 22);
        assert_eq!(status["lastState"]["terminated"]["exitCode"], 1);
    }
    let oom = status_of(&model, "test-oom", "memory-hog");
    assert_eq!(oom[0]["lastState"]["terminated"]["reason"], "OOMKilled");
    assert_eq!(oom[0]["lastState"]["terminated"]["exitCode"], 137);

    // The connection test's log: every "connection refused" line counted, with its time.
    let files = files(&realdata(TREE_2025));
    let (path, bytes) = files
        .iter()
        .find(|(path, _)| path.starts_with("cluster-resources/pods/logs/test-connection/"))
        .unwrap();
    let text = String::from_utf8_lossy(bytes);
    let refused =
        text.lines().filter(|line| line.to_lowercase().contains("connection refused")).count() as u64;
    assert!(refused > 0);
    let log = model.logs.iter().find(|log| &log.path == path).unwrap();
    assert_eq!(log.families["connection_refused"].count, refused);
    assert!(log.families["connection_refused"].samples[0].text.contains("password authentication failed"));
    let untimed = text.lines().filter(|line| !line.starts_with("[")).count() as u64;
    assert_eq!(log.untimed_lines, untimed);
    let refusals = &log.families["connection_refused"];
    let windowed: u64 = refusals.windows.iter().map(|window| window.count).sum();
    assert!(
        log.first_timestamp.is_some() && windowed + refusals.unwindowed == refused,
        "every refusal is timed"
    );
    assert!(log.error_lines.iter().all(|line| line.text.contains("ERROR")));

    // The previous run's last lines say why it crashed.
    let previous = model.logs.iter().filter(|l| l.key.namespace == "test-crash" && l.key.previous).count();
    assert_eq!(previous, 2);
    let tail = &model.logs.iter().find(|l| l.key.namespace == "test-crash" && l.key.previous).unwrap().tail;
    assert_eq!(tail.last().map(|line| line.text.as_str()), Some("ERROR: Database connection failed!"));

    // The ReplicaSets troubleshoot wrote into `statefulsets-errors.json/` are ReplicaSets.
    let misnamed: usize = files
        .iter()
        .filter(|(path, _)| path.starts_with("cluster-resources/statefulsets-errors.json/"))
        .map(|(_, bytes)| json_items(bytes).len())
        .sum();
    assert!(misnamed > 0);
    assert_eq!(count(&model, "ReplicaSet"), misnamed);
    // The PDB collector failed in every namespace: one gap, nine failures.
    assert_eq!(model.failures.iter().filter(|f| f.scope == "pod-disruption-budgets").count(), 9);
    assert!(
        model.gaps.iter().any(|gap| gap.what == "pod-disruption-budgets in 9 namespaces (not found)"),
        "{:?}",
        model.gaps
    );
}

#[test]
fn ci_baselines_with_kubelet_stats_and_collector_errors() {
    let model = load_real(BASELINE);
    check_complete(BASELINE, &model);
    assert_eq!(model.server_version.as_deref(), Some("v1.31.2+k3s1"));
    let stats = &model.kubelet_stats["primary-node"];
    assert!(stats.pointer("/node/fs/capacityBytes").is_some());
    assert!(!model.gaps.iter().any(|gap| gap.what == "kubelet stats (volume usage)"));
    for scope in ["etcd", "sonobuoy", "helm", "metrics"] {
        assert!(
            model.failures.iter().any(|failure| failure.scope == scope && failure.what == "collect"),
            "{scope}: {:?}",
            model.failures
        );
    }
    assert!(model.gaps.iter().any(|gap| gap.what == "previous container logs"));
    for preflight in [PREFLIGHT_V1BETA2, PREFLIGHT_V1BETA3] {
        let model = load_real(preflight);
        check_complete(preflight, &model);
        assert!(model.kubelet_stats.contains_key("primary-node"));
        assert!(model.gaps.iter().any(|gap| gap.what == "container logs"));
    }
}

#[test]
fn sbctl_tree_with_redacted_custom_resources() {
    let model = load_real(SBCTL);
    check_complete(SBCTL, &model);
    let velero = status_of(&model, "velero", "velero-");
    assert!(velero.iter().any(|s| s["state"]["waiting"]["reason"] == "CrashLoopBackOff"), "{velero:?}");
    assert!(
        model
            .events
            .iter()
            .filter(|e| e.namespace.as_deref() == Some("velero"))
            .any(|e| e.reason == "BackOff")
    );
    // Longhorn resources whose `***HIDDEN***` values broke the YAML are read all the same.
    let files = files(&realdata(SBCTL));
    for (folder, kind) in [
        ("engines.longhorn.io", "Engine"),
        ("instancemanagers.longhorn.io", "InstanceManager"),
        ("replicas.longhorn.io", "Replica"),
    ] {
        let text = String::from_utf8_lossy(
            &files[&format!("cluster-resources/custom-resources/{folder}/longhorn-system.yaml")],
        )
        .into_owned();
        assert!(text.contains("***HIDDEN***"));
        let items = text.lines().filter(|line| line.starts_with("- apiVersion:")).count();
        assert_eq!(count(&model, kind), items, "{kind}");
    }
    assert!(model.read_problems.is_empty(), "{:?}", model.read_problems);
}
