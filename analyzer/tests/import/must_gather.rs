//! The loader on a real OpenShift must-gather (`.tar.xz`, read in place) and on omc's
//! must-gather fragments: objects counted against the YAML files, container logs with their
//! RFC3339Nano prefixes, rotated logs merged.

use std::collections::BTreeSet;

use crate::support::{count, files, line_count, load_real, realdata, summary, yaml_items};
use kubesnap_shared::model::{NODE_LOG_NAMESPACE, SourceFormat};

const METAL: &str = "openshift__must-gather-clean/test/files/must-gather-metal.tar.xz";
const OMC: &str = "gmeghnag__omc/testdata";

/// The path under the image folder (`must-gather-metal/<image>/...`).
fn inner(path: &str) -> Option<&str> {
    ["/namespaces/", "/cluster-scoped-resources/", "/host_service_logs/"]
        .iter()
        .find_map(|marker| path.find(marker).map(|at| &path[at + 1..]))
}

#[test]
fn metal_must_gather() {
    let model = load_real(METAL);
    let context = summary(&model);
    assert_eq!(model.format, Some(SourceFormat::MustGather), "{context}");
    let files = files(&realdata(METAL));
    let (mut pods, mut events, mut nodes, mut operators) = (BTreeSet::new(), BTreeSet::new(), 0, 0);
    let (mut logs, mut previous, mut host_logs) = (Vec::new(), 0, 0);
    for (path, bytes) in &files {
        let Some(inner) = inner(path) else { continue };
        let parts: Vec<&str> = inner.split('/').collect();
        let identity = |item: &serde_json::Value| {
            (
                item["metadata"]["namespace"].as_str().unwrap_or("").to_owned(),
                item["metadata"]["name"].as_str().unwrap().to_owned(),
            )
        };
        match parts.as_slice() {
            ["namespaces", _, "core", "pods.yaml"] => pods.extend(yaml_items(bytes).iter().map(identity)),
            ["namespaces", _, "pods", pod, file] if file.strip_suffix(".yaml") == Some(pod) => {
                pods.extend(yaml_items(bytes).iter().map(identity))
            }
            ["namespaces", _, "core", "events.yaml"] => events.extend(yaml_items(bytes).iter().map(identity)),
            ["cluster-scoped-resources", "core", "nodes", _] => nodes += 1,
            ["cluster-scoped-resources", "config.openshift.io", "clusteroperators", _] => operators += 1,
            ["namespaces", namespace, "pods", pod, container, _, "logs", file] if !bytes.is_empty() => {
                match *file {
                    "current.log" => logs.push((
                        namespace.to_string(),
                        pod.to_string(),
                        container.to_string(),
                        path.clone(),
                        line_count(bytes),
                    )),
                    "previous.log" => previous += 1,
                    _ => {}
                }
            }
            ["host_service_logs", _, _] if !bytes.is_empty() => host_logs += 1,
            _ => {}
        }
    }
    assert!(
        pods.len() > 100 && !events.is_empty() && nodes == 6,
        "the test read the archive: {} pods",
        pods.len()
    );
    assert_eq!(count(&model, "Pod"), pods.len(), "{context}");
    assert_eq!(model.events.len(), events.len());
    assert_eq!(count(&model, "Node"), nodes);
    assert_eq!(count(&model, "ClusterOperator"), operators);
    assert_eq!(model.logs.iter().filter(|log| log.key.previous).count(), previous);
    assert_eq!(model.logs.iter().filter(|log| log.key.namespace == NODE_LOG_NAMESPACE).count(), host_logs);
    assert_eq!(
        model.logs.iter().filter(|log| !log.key.previous && log.key.namespace != NODE_LOG_NAMESPACE).count(),
        logs.len()
    );
    for (namespace, pod, container, path, lines) in &logs {
        let log = model.log(namespace, pod, container, false).unwrap_or_else(|| panic!("{path}"));
        assert_eq!(log.lines, *lines, "{path}");
        assert_eq!(&log.path, path);
    }
    // The RFC3339Nano prefix times every line of etcd's log.
    let (namespace, pod, container, path, _) =
        logs.iter().find(|(_, pod, c, _, _)| pod.starts_with("etcd-master-0") && c == "etcd").unwrap();
    let log = model.log(namespace, pod, container, false).unwrap();
    let text = String::from_utf8_lossy(&files[path]);
    let first = text.lines().next().unwrap().split(' ').next().unwrap();
    assert_eq!(log.first_timestamp, Some(first.parse().unwrap()));
    assert_eq!(log.untimed_lines, 0);
    // Pods and events the cluster had at the time: a captured time from them, not the clock.
    assert!(
        model.captured_at.map(|t| t.to_string()).unwrap_or_default().starts_with("2021-09-14"),
        "{context}"
    );
    assert!(model.gaps.iter().any(|gap| gap.what == "pod metrics over time"));
    assert!(model.read_problems.is_empty(), "{:?}", model.read_problems);
}

#[test]
fn omc_fragments_merge_rotated_logs() {
    let model = load_real(OMC);
    assert_eq!(model.format, Some(SourceFormat::MustGather));
    let files = files(&realdata(OMC));
    let logs_dir = "namespaces/test-namespace/pods/test-pod/test-container/test-container/logs/";
    let current = line_count(&files[&format!("{logs_dir}current.log")]);
    // The rotated run is there twice, plain and compressed: one run.
    let rotated = line_count(&files[&format!("{logs_dir}rotated/1.log.20231102-061208")]);
    let log = model.log("test-namespace", "test-pod", "test-container", false).unwrap();
    assert_eq!(log.lines, current + rotated);
    assert_eq!(log.path, format!("{logs_dir}current.log"));
    // klog lines after the prefix: the prefix is the time, the klog letter the level.
    assert_eq!(log.error_lines.len(), 1);
    assert!(log.error_lines[0].text.contains("My Error LogMessage"));
    let crds = files.keys().filter(|path| path.contains("customresourcedefinitions/")).count();
    assert_eq!(count(&model, "CustomResourceDefinition"), crds);
}
