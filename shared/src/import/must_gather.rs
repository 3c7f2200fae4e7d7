//! OpenShift must-gathers (`oc adm must-gather`), also as `omc` reads them.
//!
//! YAML everywhere: one object per file under `cluster-scoped-resources/<group>/<plural>/` and
//! `namespaces/<ns>/<group>/<plural>/`, lists in `<group>/<plural>.yaml`, each namespace as
//! `namespaces/<ns>/<ns>.yaml`, each pod as `namespaces/<ns>/pods/<pod>/<pod>.yaml`. Container
//! logs are `namespaces/<ns>/pods/<pod>/<container>/<container>/logs/{current,previous}.log`
//! with an RFC 3339 nano prefix per line, older runs in `logs/rotated/` (plain or `.gz`).
//! The tree sits under one or two image folders (`must-gather.local.N/<image>/`), possibly
//! several of them, so the root is found per path.

use super::{EntryClass, LogLayout, Syntax, kinds, log_key};
use crate::model::NODE_LOG_NAMESPACE;

/// How deep the tree may sit under image folders.
const MAX_ROOT_DEPTH: usize = 3;

pub(super) fn classify(path: &str) -> EntryClass {
    let parts: Vec<&str> = path.split('/').collect();
    let Some(start) = root_index(&parts) else { return EntryClass::Ignored };
    match &parts[start..] {
        ["cluster-scoped-resources", _group, file] | ["namespaces", _, _group, file]
            if file.ends_with(".yaml") =>
        {
            // `namespaces/<ns>/<ns>.yaml` is the namespace itself; otherwise a list named by
            // its plural.
            let stem = file.trim_end_matches(".yaml");
            yaml(kinds::by_plural(stem))
        }
        ["namespaces", namespace, file] if file.strip_suffix(".yaml") == Some(namespace) => {
            yaml(kinds::by_plural("namespaces"))
        }
        ["namespaces", namespace, "pods", pod, container, _, "logs", file] => {
            log(namespace, pod, container, file)
        }
        ["namespaces", namespace, "pods", pod, container, _, "logs", "rotated", file] => {
            // Older runs of the current container: merged into its current log.
            let layout = if file.ends_with(".gz") { LogLayout::Gzip } else { LogLayout::Plain };
            EntryClass::Log { key: log_key(namespace, pod, container, false), layout, namespace_known: true }
        }
        ["namespaces", _, "pods", pod, file] if file.strip_suffix(".yaml") == Some(pod) => {
            yaml(kinds::by_plural("pods"))
        }
        ["cluster-scoped-resources", _group, plural, file] | ["namespaces", _, _group, plural, file]
            if file.ends_with(".yaml") =>
        {
            yaml(kinds::by_plural(plural))
        }
        ["host_service_logs", role, file] => match file.strip_suffix("_service.log") {
            Some(unit) => EntryClass::Log {
                key: log_key(NODE_LOG_NAMESPACE, role, unit, false),
                layout: LogLayout::Plain,
                namespace_known: true,
            },
            None => EntryClass::Ignored,
        },
        _ => EntryClass::Ignored,
    }
}

/// Where the must-gather tree starts in `parts`: the first `cluster-scoped-resources`,
/// `namespaces` or `host_service_logs` folder within the first levels.
fn root_index(parts: &[&str]) -> Option<usize> {
    parts
        .iter()
        .take(MAX_ROOT_DEPTH + 1)
        .position(|part| matches!(*part, "cluster-scoped-resources" | "namespaces" | "host_service_logs"))
}

/// Whether `path` has the shape only a must-gather has: what detection looks for.
pub(super) fn marker_root(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let start = root_index(&parts)?;
    let strong = match &parts[start..] {
        // YAML: an Insights archive has the same folders with JSON in them.
        ["cluster-scoped-resources", _, .., file] => file.ends_with(".yaml"),
        ["namespaces", namespace, file] => file.strip_suffix(".yaml") == Some(namespace),
        ["namespaces", _, "core", file] => file.ends_with(".yaml"),
        ["namespaces", _, "pods", _, _, _, "logs", ..] => true,
        _ => false,
    };
    strong.then(|| parts[..start].join("/"))
}

fn yaml(hint: Option<(&'static str, &'static str)>) -> EntryClass {
    EntryClass::Objects { syntax: Syntax::Yaml, kind: hint.map(|h| h.0), api_version: hint.map(|h| h.1) }
}

fn log(namespace: &str, pod: &str, container: &str, file: &str) -> EntryClass {
    // `*.insecure.log` is the same log fetched again without TLS verification when the first
    // fetch failed; the loader keeps the fuller of the two.
    let previous = match file {
        "current.log" | "current.insecure.log" => false,
        "previous.log" | "previous.insecure.log" => true,
        _ => return EntryClass::Ignored,
    };
    EntryClass::Log {
        key: log_key(namespace, pod, container, previous),
        layout: LogLayout::Plain,
        namespace_known: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "must-gather.local.1/quay-io-image";

    fn at(path: &str) -> EntryClass {
        classify(&format!("{ROOT}/{path}"))
    }

    #[test]
    fn objects_and_lists() {
        assert_eq!(at("namespaces/openshift-etcd/core/pods.yaml"), yaml(Some(("Pod", "v1"))));
        assert_eq!(at("namespaces/openshift-etcd/openshift-etcd.yaml"), yaml(Some(("Namespace", "v1"))));
        assert_eq!(
            at("namespaces/openshift-etcd/apps/daemonsets/etcd.yaml"),
            yaml(Some(("DaemonSet", "apps/v1")))
        );
        assert_eq!(at("namespaces/ns/pods/etcd-0/etcd-0.yaml"), yaml(Some(("Pod", "v1"))));
        assert_eq!(at("cluster-scoped-resources/core/nodes/master-0.yaml"), yaml(Some(("Node", "v1"))));
        assert_eq!(at("cluster-scoped-resources/config.openshift.io/clusteroperators.yaml"), yaml(None));
        assert_eq!(at("event-filter.html"), EntryClass::Ignored);
    }

    #[test]
    fn logs() {
        assert_eq!(
            at("namespaces/ns/pods/etcd-0/etcd/etcd/logs/previous.log"),
            EntryClass::Log {
                key: log_key("ns", "etcd-0", "etcd", true),
                layout: LogLayout::Plain,
                namespace_known: true
            }
        );
        assert_eq!(
            at("namespaces/ns/pods/p/c/c/logs/rotated/1.log.20231102-061208.gz"),
            EntryClass::Log {
                key: log_key("ns", "p", "c", false),
                layout: LogLayout::Gzip,
                namespace_known: true
            }
        );
        assert_eq!(
            at("host_service_logs/masters/kubelet_service.log"),
            EntryClass::Log {
                key: log_key(NODE_LOG_NAMESPACE, "masters", "kubelet", false),
                layout: LogLayout::Plain,
                namespace_known: true
            }
        );
    }

    #[test]
    fn marker_finds_root() {
        assert_eq!(marker_root(&format!("{ROOT}/namespaces/ns/core/pods.yaml")).as_deref(), Some(ROOT));
        assert_eq!(marker_root("namespaces/ns/ns.yaml").as_deref(), Some(""));
        assert_eq!(marker_root("namespaces/ns/pods.json"), None);
    }
}
