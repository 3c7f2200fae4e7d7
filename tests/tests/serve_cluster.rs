//! `kubesnap-analyze serve` against the live cluster its bundle was collected from: both
//! scenarios applied, one collection, then the same kubectl commands against the cluster and
//! against the served bundle. The cluster keeps moving after the capture (crash loops restart,
//! Jobs run), so an object is compared where it has not changed since: its `resourceVersion` in
//! the bundle is the live one. Ages are normalized (the served ones are as at capture time).

#![cfg(test)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use kubesnap_tests::cluster::{self, Cluster};
use serde_json::Value;

/// A served bundle, stopped on drop.
struct Served {
    child: Child,
    kubeconfig: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new(cluster::kubectl())
        .env("KUBECONFIG", kubeconfig)
        .args(args)
        .arg("--request-timeout=30s")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("failed to run kubectl: {err}"))
}

fn ok(kubeconfig: &Path, args: &[&str]) -> String {
    let output = kubectl(kubeconfig, args);
    assert!(output.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn collect(cluster: &Cluster, dir: &Path) -> PathBuf {
    let bundle = dir.join("bundle.tar.gz");
    let output = Command::new(env!("CARGO_BIN_EXE_kubesnap-collect-dup"))
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .arg("-o")
        .arg(&bundle)
        .args(["--no-progress", "--metrics-duration", "10s", "--metrics-interval", "5s"])
        .output()
        .unwrap_or_else(|err| panic!("failed to run the collector: {err}"));
    assert!(bundle.is_file(), "no bundle: {}", String::from_utf8_lossy(&output.stderr));
    bundle
}

fn serve(bundle: &Path, dir: &Path) -> Served {
    let kubeconfig = dir.join("served-kubeconfig");
    let child = Command::new(env!("CARGO_BIN_EXE_kubesnap-analyze-dup"))
        .arg("serve")
        .arg(bundle)
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        .arg("-q")
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("failed to start serve: {err}"));
    let started = Instant::now();
    while !std::fs::read_to_string(&kubeconfig).is_ok_and(|text| text.contains("current-context")) {
        assert!(started.elapsed() < Duration::from_secs(120), "serve wrote no kubeconfig");
        std::thread::sleep(Duration::from_millis(50));
    }
    Served { child, kubeconfig }
}

/// Ages (`5m`, `2d3h`, `<invalid>`) replaced by one word.
fn normalize_ages(text: &str) -> String {
    // Line by line: an age that ends a line (describe's pod tables) is a word of its own too.
    text.split('\n').map(normalize_line_ages).collect::<Vec<_>>().join("\n")
}

fn normalize_line_ages(line: &str) -> String {
    line.split(' ')
        .map(|word| {
            let core = word.trim_matches(|c| c == '(' || c == ')' || c == ',');
            let is_age = !core.is_empty()
                && core.chars().next().is_some_and(|c| c.is_ascii_digit())
                && core.chars().all(|c| c.is_ascii_digit() || "smhdy".contains(c))
                && core.chars().last().is_some_and(|c| "smhdy".contains(c));
            if is_age || core == "<invalid>" { word.replace(core, "AGE") } else { word.to_owned() }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A kubectl table's rows as cells (split where kubectl pads), ages normalized.
fn table(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            line.split("  ").map(str::trim).filter(|cell| !cell.is_empty()).map(normalize_ages).collect()
        })
        .collect()
}

/// `(namespace, name) -> resourceVersion` of a `-o json` list.
fn versions(list: &str) -> BTreeMap<(String, String), String> {
    let list: Value = serde_json::from_str(list).unwrap_or_default();
    list["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    let metadata = &item["metadata"];
                    let text = |key: &str| metadata[key].as_str().unwrap_or_default().to_owned();
                    ((text("namespace"), text("name")), text("resourceVersion"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// An object as compared: without what the collector drops or redacts by design
/// (`managedFields`, `last-applied-configuration`).
fn comparable(mut object: Value) -> Value {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
        if let Some(annotations) = metadata.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
    object
}

fn has_redaction(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains("<redacted"),
        Value::Array(items) => items.iter().any(has_redaction),
        Value::Object(map) => map.values().any(has_redaction),
        _ => false,
    }
}

const TYPES: &[&str] = &[
    "pods",
    "deployments",
    "replicasets",
    "statefulsets",
    "daemonsets",
    "jobs",
    "cronjobs",
    "services",
    "endpoints",
    "nodes",
    "namespaces",
    "configmaps",
    "secrets",
    "serviceaccounts",
    "persistentvolumeclaims",
    "persistentvolumes",
    "ingresses",
    "storageclasses",
    "poddisruptionbudgets",
    "networkpolicies",
    "horizontalpodautoscalers",
    "roles",
    "rolebindings",
    "clusterroles",
    "clusterrolebindings",
    "priorityclasses",
    "customresourcedefinitions",
];

#[test]
fn kubectl_reads_the_served_bundle_as_it_read_the_cluster() {
    let Some(cluster) = cluster::shared("kubectl_reads_the_served_bundle_as_it_read_the_cluster") else {
        return;
    };
    cluster.apply_scenario("prod-simulation");
    cluster.apply_scenario("failure-catalog");
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"));
    let bundle = collect(&cluster, dir.path());
    let live = cluster.kubeconfig.clone();
    let served = serve(&bundle, dir.path());
    let bundle_config = served.kubeconfig.clone();

    let (mut compared, mut changed) = (0usize, 0usize);
    let mut unchanged_pods: Vec<(String, String)> = Vec::new();
    for kind in TYPES {
        // The live answers first, right after the capture, then the served ones.
        let live_table = table(&ok(&live, &["get", kind, "-A", "-o", "wide"]));
        let live_versions = versions(&ok(&live, &["get", kind, "-A", "-o", "json"]));
        let live_list: Value =
            serde_json::from_str(&ok(&live, &["get", kind, "-A", "-o", "json"])).unwrap_or_default();
        let served_table = table(&ok(&bundle_config, &["get", kind, "-A", "-o", "wide"]));
        let served_json = ok(&bundle_config, &["get", kind, "-A", "-o", "json"]);
        let served_versions = versions(&served_json);
        let served_list: Value = serde_json::from_str(&served_json).unwrap_or_default();
        assert_eq!(live_table.first(), served_table.first(), "{kind}: columns");
        let namespaced =
            live_table.first().is_some_and(|header| header.first().is_some_and(|c| c == "NAMESPACE"));
        let key = |row: &Vec<String>| -> (String, String) {
            if namespaced {
                (row.first().cloned().unwrap_or_default(), row.get(1).cloned().unwrap_or_default())
            } else {
                (String::new(), row.first().cloned().unwrap_or_default().replace(" (default)", ""))
            }
        };
        let served_rows: BTreeMap<(String, String), &Vec<String>> =
            served_table.iter().skip(1).map(|row| (key(row), row)).collect();
        let mut kind_compared = 0usize;
        for row in live_table.iter().skip(1) {
            let id = key(row);
            let same = live_versions.get(&id).is_some_and(|rv| served_versions.get(&id) == Some(rv));
            if !same {
                changed += 1;
                continue;
            }
            let served_row = served_rows.get(&id).unwrap_or_else(|| panic!("{kind} {id:?}: not served"));
            assert_eq!(&row, served_row, "{kind} {id:?}: the row differs");
            kind_compared += 1;
            if *kind == "pods" {
                unchanged_pods.push(id.clone());
            }
        }
        // -o json of every unchanged object, as the cluster returns it.
        if *kind != "secrets" {
            let served_items: BTreeMap<(String, String), Value> = served_list["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|item| {
                    let text = |key: &str| item["metadata"][key].as_str().unwrap_or_default().to_owned();
                    ((text("namespace"), text("name")), comparable(item.clone()))
                })
                .collect();
            for item in live_list["items"].as_array().into_iter().flatten() {
                let text = |key: &str| item["metadata"][key].as_str().unwrap_or_default().to_owned();
                let id = (text("namespace"), text("name"));
                if served_versions.get(&id) != Some(&text("resourceVersion")) {
                    continue;
                }
                let Some(served_item) = served_items.get(&id) else { continue };
                let mut live_item = comparable(item.clone());
                // A list's items carry no kind and apiVersion; the bundle's do.
                if let (Some(map), Some(served_map)) = (live_item.as_object_mut(), served_item.as_object()) {
                    for field in ["kind", "apiVersion"] {
                        if let Some(value) = served_map.get(field) {
                            map.entry(field).or_insert_with(|| value.clone());
                        }
                    }
                }
                if &live_item != served_item {
                    assert!(
                        has_redaction(served_item),
                        "{kind} {id:?}: -o json differs and nothing was redacted"
                    );
                }
            }
        }
        eprintln!("{kind}: {kind_compared} rows equal, of {} live", live_table.len().saturating_sub(1));
        compared += kind_compared;
    }
    eprintln!("{compared} rows compared equal, {changed} objects changed since the capture (not compared)");
    assert!(
        compared > 3 * changed,
        "too few objects unchanged to compare: {compared} equal, {changed} changed"
    );

    // describe: everything above the events, for unchanged pods, and nodes, deployments and
    // services; the events section is there in both.
    let describe_cut = |text: &str| normalize_ages(text.split("\nEvents:").next().unwrap_or_default());
    // Equal line for line, but for values the collector redacted by design.
    let alike = |live_text: &str, served_text: &str, what: &str| {
        let (live_text, served_text) = (describe_cut(live_text), describe_cut(served_text));
        let (live_lines, served_lines): (Vec<&str>, Vec<&str>) =
            (live_text.lines().collect(), served_text.lines().collect());
        assert_eq!(live_lines.len(), served_lines.len(), "{what}:\n{live_text}\n---\n{served_text}");
        for (live_line, served_line) in live_lines.iter().zip(&served_lines) {
            // A node's `RenewTime` is its Lease's, renewed every few seconds since the capture.
            let renewed = live_line.trim_start().starts_with("RenewTime:");
            assert!(
                live_line == served_line || served_line.contains("<redacted") || renewed,
                "{what}: {live_line:?} served as {served_line:?}"
            );
        }
    };
    // Whether the live object is still the captured one (checked around each describe: a
    // crash-looping pod restarts in between).
    let unchanged = |kind: &str, namespace: &str, name: &str| {
        let mut args = vec!["get", kind, name, "-o", "jsonpath={.metadata.resourceVersion}"];
        if !namespace.is_empty() {
            args.extend(["-n", namespace]);
        }
        let live_version = kubectl(&live, &args);
        live_version.status.success() && live_version.stdout == ok(&bundle_config, &args).into_bytes()
    };
    let mut described = 0usize;
    for (namespace, name) in unchanged_pods.iter().take(15) {
        if !unchanged("pod", namespace, name) {
            continue;
        }
        let live_text = ok(&live, &["describe", "pod", "-n", namespace, name]);
        let served_text = ok(&bundle_config, &["describe", "pod", "-n", namespace, name]);
        if !unchanged("pod", namespace, name) {
            continue;
        }
        alike(&live_text, &served_text, &format!("describe pod {namespace}/{name}"));
        assert!(served_text.contains("\nEvents:"), "describe pod {namespace}/{name}: no events section");
        described += 1;
    }
    for (kind, namespace) in [("deployments", "-A"), ("services", "-A"), ("nodes", "-A")] {
        let live_versions = versions(&ok(&live, &["get", kind, namespace, "-o", "json"]));
        let served_versions = versions(&ok(&bundle_config, &["get", kind, namespace, "-o", "json"]));
        for ((ns, name), rv) in live_versions.iter().take(10) {
            if served_versions.get(&(ns.clone(), name.clone())) != Some(rv) {
                continue;
            }
            let mut args = vec!["describe", kind, name.as_str()];
            if !ns.is_empty() {
                args.extend(["-n", ns.as_str()]);
            }
            let live_text = ok(&live, &args);
            let served_text = ok(&bundle_config, &args);
            if !unchanged(kind, ns, name) {
                continue;
            }
            alike(&live_text, &served_text, &format!("describe {kind} {ns}/{name}"));
            described += 1;
        }
    }
    eprintln!("{described} objects described alike");
    assert!(described >= 10, "only {described} objects could be described alike");

    // logs: every line served is a line of the live log (kwok's logs only grow).
    let mut logs_compared = 0usize;
    for (namespace, name) in &unchanged_pods {
        let served_log = kubectl(&bundle_config, &["logs", "-n", namespace, name, "--all-containers"]);
        if !served_log.status.success() || served_log.stdout.is_empty() {
            continue;
        }
        let live_log = ok(&live, &["logs", "-n", namespace, name, "--all-containers"]);
        let live_lines: BTreeSet<&str> = live_log.lines().collect();
        let served_text = String::from_utf8_lossy(&served_log.stdout).into_owned();
        for line in served_text.lines() {
            assert!(live_lines.contains(line), "logs {namespace}/{name}: {line:?} is not in the live log");
        }
        logs_compared += 1;
    }
    // Previous logs of the containers that restarted before the capture.
    let served_pods: Value =
        serde_json::from_str(&ok(&bundle_config, &["get", "pods", "-A", "-o", "json"])).unwrap_or_default();
    let mut previous_compared = 0usize;
    for pod in served_pods["items"].as_array().into_iter().flatten() {
        let restarted = pod["status"]["containerStatuses"]
            .as_array()
            .is_some_and(|statuses| statuses.iter().any(|s| s["restartCount"].as_i64().unwrap_or(0) > 0));
        if !restarted {
            continue;
        }
        let namespace = pod["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = pod["metadata"]["name"].as_str().unwrap_or_default();
        let served_log =
            kubectl(&bundle_config, &["logs", "-n", namespace, name, "--all-containers", "--previous"]);
        if !served_log.status.success() || served_log.stdout.is_empty() {
            continue;
        }
        let live_log = kubectl(&live, &["logs", "-n", namespace, name, "--all-containers", "--previous"]);
        let live_text = String::from_utf8_lossy(&live_log.stdout).into_owned();
        let live_lines: BTreeSet<&str> = live_text.lines().collect();
        for line in String::from_utf8_lossy(&served_log.stdout).lines() {
            assert!(
                live_lines.contains(line),
                "logs --previous {namespace}/{name}: {line:?} is not in the live log"
            );
        }
        previous_compared += 1;
    }
    eprintln!("{logs_compared} pods' logs compared, {previous_compared} previous logs");
    assert!(previous_compared > 0, "no previous log compared");
    assert!(logs_compared > 0, "no log compared");

    // events: every event served is one the cluster shows (type, reason, object, message).
    let event_key = |row: &Vec<String>| (row.get(2).cloned(), row.get(3).cloned(), row.get(4).cloned());
    let live_events: BTreeSet<_> =
        table(&ok(&live, &["get", "events", "-A"])).iter().skip(1).map(event_key).collect();
    let served_events = table(&ok(&bundle_config, &["get", "events", "-A"]));
    assert_eq!(live_events.is_empty(), served_events.len() <= 1);
    let missing: Vec<_> =
        served_events.iter().skip(1).map(event_key).filter(|key| !live_events.contains(key)).collect();
    assert!(
        missing.len() * 10 <= served_events.len(),
        "served events the cluster does not show: {missing:?}"
    );

    // top: the same pods and nodes, from the last sample.
    let names = |text: &str, columns: usize| -> BTreeSet<String> {
        table(text)
            .iter()
            .skip(1)
            .map(|row| row.iter().take(columns).cloned().collect::<Vec<_>>().join("/"))
            .collect()
    };
    let live_top = names(&ok(&live, &["top", "pods", "-A"]), 2);
    let served_top = names(&ok(&bundle_config, &["top", "pods", "-A"]), 2);
    assert!(
        !served_top.is_empty() && served_top.is_subset(&live_top),
        "top pods: {served_top:?} vs {live_top:?}"
    );
    let live_nodes = names(&ok(&live, &["top", "nodes"]), 1);
    let served_nodes = names(&ok(&bundle_config, &["top", "nodes"]), 1);
    assert!(
        !served_nodes.is_empty() && served_nodes.is_subset(&live_nodes),
        "top nodes: {served_nodes:?} vs {live_nodes:?}"
    );
}
