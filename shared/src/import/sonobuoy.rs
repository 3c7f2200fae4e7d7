//! Sonobuoy results (`sonobuoy retrieve`).
//!
//! `resources/cluster/<group>_<version>_<plural>.json` and `resources/ns/<ns>/...` are JSON
//! arrays of objects; results of v0.10 name files by kind plural (`Pods.json`). Pod logs are
//! `podlogs/<ns>/<pod>/logs/<container>.txt`; the systemd-logs plugin leaves each node's
//! journal as journald JSON export (`plugins/systemd-logs/results/<node>/systemd_logs`, or
//! `plugins/systemd_logs/results/<node>` in v0.10).

use super::{EntryClass, LogLayout, Syntax, kinds, log_key};
use crate::model::NODE_LOG_NAMESPACE;

/// The container name under which a node's journal is kept.
const JOURNAL_CONTAINER: &str = "systemd";

pub(super) fn classify(relative: &str) -> EntryClass {
    let parts: Vec<&str> = relative.split('/').collect();
    match parts.as_slice() {
        ["serverversion.json"] => EntryClass::ServerVersion,
        ["resources", "cluster", file] | ["resources", "ns", _, file] => match file.strip_suffix(".json") {
            Some(stem) => {
                let hint = hint(stem);
                EntryClass::Objects {
                    syntax: Syntax::Json,
                    kind: hint.map(|h| h.0),
                    api_version: hint.map(|h| h.1),
                }
            }
            None => EntryClass::Ignored,
        },
        ["podlogs", namespace, pod, "logs", file] => match file.strip_suffix(".txt") {
            Some(container) => EntryClass::Log {
                key: log_key(namespace, pod, container, false),
                layout: LogLayout::Plain,
                namespace_known: true,
            },
            None => EntryClass::Ignored,
        },
        ["plugins", "systemd-logs" | "systemd_logs", "results", node, "systemd_logs"]
        | ["plugins", "systemd_logs", "results", node] => EntryClass::Log {
            key: log_key(NODE_LOG_NAMESPACE, node, JOURNAL_CONTAINER, false),
            layout: LogLayout::Journal,
            namespace_known: true,
        },
        _ => EntryClass::Ignored,
    }
}

/// `apps_v1_deployments` → Deployment; `Pods` → Pod.
fn hint(stem: &str) -> Option<(&'static str, &'static str)> {
    let plural = stem.rsplit('_').next().unwrap_or(stem);
    kinds::by_plural(plural)
}

/// Whether `path` has the shape only sonobuoy results have; returns the root.
pub(super) fn marker_root(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let position = parts.iter().position(|part| {
        matches!(
            *part,
            "resources" | "podlogs" | "plugins" | "meta" | "serverversion.json" | "servergroups.json"
        )
    })?;
    if position > 2 {
        return None;
    }
    let strong = match &parts[position..] {
        ["resources", "cluster", file] => file.ends_with(".json"),
        ["resources", "ns", _, file] => file.ends_with(".json"),
        ["podlogs", _, _, "logs", file] => file.ends_with(".txt"),
        ["meta", "run.log" | "config.json" | "query-time.json"] => true,
        ["serverversion.json"] | ["servergroups.json"] => true,
        _ => false,
    };
    strong.then(|| parts[..position].join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_generations_of_names() {
        assert_eq!(
            classify("resources/ns/kube-system/core_v1_pods.json"),
            EntryClass::Objects { syntax: Syntax::Json, kind: Some("Pod"), api_version: Some("v1") }
        );
        assert_eq!(
            classify("resources/cluster/rbac.authorization.k8s.io_v1_clusterroles.json"),
            EntryClass::Objects {
                syntax: Syntax::Json,
                kind: Some("ClusterRole"),
                api_version: Some("rbac.authorization.k8s.io/v1")
            }
        );
        assert_eq!(
            classify("resources/ns/kube-system/Pods.json"),
            EntryClass::Objects { syntax: Syntax::Json, kind: Some("Pod"), api_version: Some("v1") }
        );
        assert_eq!(
            classify("podlogs/kube-system/etcd-0/logs/etcd.txt"),
            EntryClass::Log {
                key: log_key("kube-system", "etcd-0", "etcd", false),
                layout: LogLayout::Plain,
                namespace_known: true
            }
        );
        assert!(matches!(
            classify("plugins/systemd_logs/results/ip-10-0-9-16"),
            EntryClass::Log { layout: LogLayout::Journal, .. }
        ));
        assert!(matches!(
            classify("plugins/systemd-logs/results/kind/systemd_logs"),
            EntryClass::Log { layout: LogLayout::Journal, .. }
        ));
        assert_eq!(classify("plugins/e2e/results/global/junit_01.xml"), EntryClass::Ignored);
    }

    #[test]
    fn marker() {
        assert_eq!(marker_root("results/resources/cluster/Nodes.json").as_deref(), Some("results"));
        assert_eq!(marker_root("resources/cluster/core_v1_nodes.json").as_deref(), Some(""));
        assert_eq!(marker_root("a/b/c/resources/cluster/x.json"), None);
        // A native bundle's resource lists are deeper: not a sonobuoy marker.
        assert_eq!(marker_root("root/resources/core/v1/pods/default.json"), None);
    }
}
