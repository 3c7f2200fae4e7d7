//! The loader on native bundles written by the project's own writer (objects, the event
//! watch, logs with a cap, metrics samples, kubelet stats, a 403, a cut archive) and on a
//! `kubectl cluster-info dump` folder laid out as kubectl v0.33's clusterinfo_dump.go writes
//! it (JSON and YAML). No real dump is licensed for the repository; the end-to-end test
//! against the project's control plane is to come.

use std::collections::BTreeMap;
use std::path::Path;

use kubesnap_analyzer::load::{LoadOptions, load};
use kubesnap_shared::manifest::{ClusterInfo, Failure, FailureKind, Tool};
use kubesnap_shared::model::{ReadProblem, SourceFormat};
use kubesnap_shared::writer::{BundleHeader, BundleWriter};
use serde_json::json;

fn header() -> BundleHeader {
    BundleHeader {
        root: "kubesnap-test".to_owned(),
        tool: Tool { name: "kubesnap-collect".to_owned(), version: "0.1.0".to_owned() },
        cluster: ClusterInfo { version: Some("v1.33.1".to_owned()), ..ClusterInfo::default() },
        options: BTreeMap::new(),
        started_at: "2026-11-21T10:34:00Z".parse().unwrap(),
        compression: 6,
    }
}

fn event(name: &str, count: u64, last: &str) -> serde_json::Value {
    json!({"kind": "Event", "apiVersion": "v1", "metadata": {"name": name, "namespace": "prod"},
        "involvedObject": {"kind": "Pod", "namespace": "prod", "name": "web-0"},
        "reason": "BackOff", "message": "Back-off restarting failed container", "type": "Warning",
        "count": count, "lastTimestamp": last})
}

fn native_bundle() -> Vec<u8> {
    let pods = json!({"kind": "PodList", "apiVersion": "v1", "items": [
        {"metadata": {"name": "web-0", "namespace": "prod"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}},
        {"metadata": {"name": "web-1", "namespace": "prod"}, "status": {"phase": "Pending"}}]});
    let events = json!({"kind": "EventList", "apiVersion": "v1", "items": [event("web-0.1", 3, "2026-11-21T10:00:00Z")]});
    let watched = format!(
        "{}\n{}\n",
        json!({"type": "MODIFIED", "object": event("web-0.1", 5, "2026-11-21T10:34:30Z")}),
        json!({"type": "ADDED", "object": event("web-0.2", 1, "2026-11-21T10:34:40Z")})
    );
    let pod_metrics = [
        json!({"timestamp": "2026-11-21T10:34:30Z", "items": [{"metadata": {"name": "web-0", "namespace": "prod"}, "timestamp": "2026-11-21T10:34:30Z", "containers": [{"name": "app", "usage": {"cpu": "250m", "memory": "64Mi"}}]}]}),
        json!({"timestamp": "2026-11-21T10:34:00Z", "items": [{"metadata": {"name": "web-0", "namespace": "prod"}, "timestamp": "2026-11-21T10:34:00Z", "containers": [{"name": "app", "usage": {"cpu": "100m", "memory": "60Mi"}}]}]}),
        json!({"timestamp": "2026-11-21T10:35:00Z", "error": "the server is currently unable to handle the request"}),
    ]
    .iter()
    .map(|line| format!("{line}\n"))
    .collect::<String>();
    let node_metrics = format!(
        "{}\n",
        json!({"timestamp": "2026-11-21T10:34:00Z", "items": [{"metadata": {"name": "n1"}, "usage": {"cpu": "487558164n", "memory": "732212Ki"}}]})
    );
    let mut writer = BundleWriter::new(Vec::new(), header()).unwrap();
    writer.set_finished_at("2026-11-21T10:35:00Z".parse().unwrap());
    writer.add("cluster/version.json", br#"{"gitVersion": "v1.33.1"}"#).unwrap();
    writer.add("resources/core/v1/pods/prod.json", pods.to_string().as_bytes()).unwrap();
    writer.add("resources/core/v1/events/prod.json", events.to_string().as_bytes()).unwrap();
    writer.add("events/watched.jsonl", watched.as_bytes()).unwrap();
    writer.add("logs/prod/web-0/app.log", b"2026-11-21T10:34:01Z E1121 10:34:01.000000 1 db.go:1] dial tcp 10.0.0.5:5432: connect: connection refused\n2026-11-21T10:34:02Z retrying\n").unwrap();
    writer
        .add_truncated(
            "logs/prod/web-0/app.previous.log",
            b"2026-11-21T10:30:00Z fatal: out of memory\n",
            "max log bytes",
        )
        .unwrap();
    writer.add("metrics/pods.jsonl", pod_metrics.as_bytes()).unwrap();
    writer.add("metrics/nodes.jsonl", node_metrics.as_bytes()).unwrap();
    writer
        .add(
            "kubelet/n1/stats-summary.json",
            br#"{"node": {"nodeName": "n1", "fs": {"capacityBytes": 100}}}"#,
        )
        .unwrap();
    writer.add("resources/core/v1/configmaps/broken.json", b"{\"items\": [").unwrap();
    writer.record_failure(Failure {
        what: "list".to_owned(),
        scope: "v1/secrets".to_owned(),
        namespace: None,
        kind: FailureKind::Forbidden,
        status: Some(403),
        message: "secrets is forbidden: User cannot list resource".to_owned(),
    });
    writer.finish().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn native_bundle_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bundle.tar.gz", &native_bundle());
    let model = load(&path, &LoadOptions::default()).unwrap();
    let context = crate::support::summary(&model);
    assert_eq!(model.format, Some(SourceFormat::Native));
    assert_eq!(model.server_version.as_deref(), Some("v1.33.1"));
    assert_eq!(model.captured_at.map(|t| t.to_string()).as_deref(), Some("2026-11-21T10:35:00Z"));
    assert_eq!(model.of_kind("Pod").count(), 2);
    assert_eq!(model.pods_on_node("n1").count(), 1);
    // The watch's newer copy of an event replaces the listed one.
    let counts: Vec<_> = model.events.iter().map(|e| (e.name.as_str(), e.count)).collect();
    assert_eq!(counts, [("web-0.1", 5), ("web-0.2", 1)]);
    let current = model.log("prod", "web-0", "app", false).unwrap();
    assert_eq!((current.lines, current.truncated), (2, false));
    assert_eq!(current.families["connection_refused"].count, 1);
    assert_eq!(current.families["retry_attempt"].count, 1);
    assert_eq!(current.error_lines.len(), 1, "klog E after the kubelet prefix");
    let previous = model.log("prod", "web-0", "app", true).unwrap();
    assert!(previous.truncated, "the manifest says the collector cut it");
    assert_eq!(previous.families["oom_killed"].count, 1);
    let series = &model.pod_metrics[0];
    let cpu: Vec<f64> = series.samples.iter().map(|s| s.cpu_millicores).collect();
    assert_eq!(cpu, [100.0, 250.0], "oldest first");
    assert_eq!(model.node_metrics[0].node, "n1");
    assert!(model.kubelet_stats.contains_key("n1"));
    assert!(model.failures.iter().any(|f| f.what == "metrics" && f.message.contains("(1 samples)")));
    assert!(model.gaps.iter().any(|gap| gap.what == "secrets (403 forbidden)"), "{context}");
    assert!(!model.gaps.iter().any(|gap| gap.what.contains("metrics")), "{context}");
    assert_eq!(model.read_problems.len(), 1, "{context}");
    assert!(
        matches!(&model.read_problems[0], ReadProblem::Unparsable { error } if error.contains("configmaps/broken.json")),
        "{context}"
    );
}

#[test]
fn cut_native_bundle_still_loads() {
    let bytes = native_bundle();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "cut.tar.gz", &bytes[..bytes.len() * 2 / 3]);
    let model = load(&path, &LoadOptions::default()).unwrap();
    assert_eq!(model.format, Some(SourceFormat::Native));
    assert!(
        model.read_problems.iter().any(
            |problem| matches!(problem, ReadProblem::StreamEnded { error } if error.contains("truncated"))
        ),
        "{:?}",
        model.read_problems
    );
    assert!(model.gaps.iter().any(|gap| gap.what == "the manifest"));
    // The same bundle whole, for comparison: the cut one holds a prefix of it.
    let whole = write(dir.path(), "whole.tar.gz", &bytes);
    let whole = load(&whole, &LoadOptions::default()).unwrap();
    assert!(model.objects.len() <= whole.objects.len());
}

#[test]
fn same_bundle_same_model_whatever_the_chunking() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bundle.tar.gz", &native_bundle());
    let small = LoadOptions { chunk_size: 16, max_in_flight: 1, ..LoadOptions::default() };
    let a = load(&path, &LoadOptions::default()).unwrap();
    let b = load(&path, &small).unwrap();
    assert_eq!(a.logs, b.logs);
    assert_eq!(a.objects, b.objects);
    assert_eq!(a.events, b.events);
}

/// A dump as kubectl writes it: lists of typed objects (items without kind), and each pod's
/// containers in one `logs.txt` between START and END lines, init containers first.
fn dump(dir: &Path, ext: &str, encode: impl Fn(&serde_json::Value) -> String) {
    let list = |kind: &str, items: serde_json::Value| {
        encode(&json!({"kind": kind, "apiVersion": "v1", "metadata": {}, "items": items}))
    };
    write(dir, &format!("nodes.{ext}"), list("NodeList", json!([{"metadata": {"name": "n1"}, "status": {"conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-01-01T00:00:00Z"}]}}])).as_bytes());
    for namespace in ["default", "kube-system"] {
        write(dir, &format!("{namespace}/events.{ext}"), list("EventList", json!([{"metadata": {"name": format!("{namespace}.e1"), "namespace": namespace}, "involvedObject": {"kind": "Pod", "name": "web", "namespace": namespace}, "reason": "Killing", "type": "Normal", "count": 1, "lastTimestamp": "2026-01-01T00:05:00Z"}])).as_bytes());
        write(
            dir,
            &format!("{namespace}/replication-controllers.{ext}"),
            list("ReplicationControllerList", json!([])).as_bytes(),
        );
        for name in ["services", "daemonsets", "deployments", "replicasets"] {
            write(dir, &format!("{namespace}/{name}.{ext}"), list("List", json!([])).as_bytes());
        }
        write(dir, &format!("{namespace}/pods.{ext}"), list("PodList", json!([{"metadata": {"name": "web", "namespace": namespace}, "spec": {"initContainers": [{"name": "init"}], "containers": [{"name": "app"}]}}])).as_bytes());
        let logs = format!(
            "==== START logs for container init of pod {namespace}/web ====\ninit done\n==== END logs for container init of pod {namespace}/web ====\n==== START logs for container app of pod {namespace}/web ====\nERROR: dial tcp: connection refused\nok\nok\n==== END logs for container app of pod {namespace}/web ====\n"
        );
        write(dir, &format!("{namespace}/web/logs.txt"), logs.as_bytes());
    }
}

#[test]
fn cluster_info_dump_json_and_yaml() {
    for (ext, encode) in [
        (
            "json",
            Box::new(|v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap())
                as Box<dyn Fn(&serde_json::Value) -> String>,
        ),
        ("yaml", Box::new(|v: &serde_json::Value| serde_saphyr::to_string(v).unwrap())),
    ] {
        let dir = tempfile::tempdir().unwrap();
        dump(dir.path(), ext, encode);
        let model = load(dir.path(), &LoadOptions::default()).unwrap();
        let context = crate::support::summary(&model);
        assert_eq!(model.format, Some(SourceFormat::ClusterInfoDump), "{context}");
        assert_eq!(model.of_kind("Node").count(), 1);
        assert_eq!(model.of_kind("Pod").count(), 2);
        assert_eq!(model.events.len(), 2);
        for namespace in ["default", "kube-system"] {
            let init = model.log(namespace, "web", "init", false).unwrap();
            let app = model.log(namespace, "web", "app", false).unwrap();
            assert_eq!((init.lines, app.lines), (1, 3), "{ext}");
            assert_eq!(app.families["connection_refused"].count, 1);
            assert_eq!(app.tail.last().map(|line| line.text.as_str()), Some("ok"));
        }
        assert_eq!(model.logs.len(), 4, "{context}");
        assert_eq!(model.captured_at.map(|t| t.to_string()).as_deref(), Some("2026-01-01T00:05:00Z"));
        assert!(model.gaps.iter().any(|gap| gap.what == "most resource kinds"));
    }
}
