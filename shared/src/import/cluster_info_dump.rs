//! `kubectl cluster-info dump --output-directory DIR` (JSON by default, YAML with `-o yaml`).
//!
//! Read from kubectl's own code (k8s.io/kubectl/pkg/cmd/clusterinfo/clusterinfo_dump.go,
//! v0.33): `nodes.<ext>` at the top, then per namespace `events`, `replication-controllers`,
//! `services`, `daemonsets`, `deployments`, `replicasets` and `pods` lists, and
//! `<ns>/<pod>/logs.txt` holding every container of the pod (init containers first), each
//! between `==== START logs for container C of pod NS/P ====` and `==== END ... ====` lines.

use super::{EntryClass, LogLayout, Syntax, kinds, log_key};

/// The per-namespace list files kubectl writes.
const LISTS: &[&str] =
    &["events", "replication-controllers", "services", "daemonsets", "deployments", "replicasets", "pods"];

pub(super) fn classify(relative: &str) -> EntryClass {
    let parts: Vec<&str> = relative.split('/').collect();
    match parts.as_slice() {
        [file] => match split_ext(file) {
            Some(("nodes", syntax)) => objects(syntax, "nodes"),
            _ => EntryClass::Ignored,
        },
        [_, file] => match split_ext(file) {
            Some((stem, syntax)) if LISTS.contains(&stem) => objects(syntax, &stem.replace('-', "")),
            _ => EntryClass::Ignored,
        },
        [namespace, pod, "logs.txt"] => EntryClass::Log {
            key: log_key(namespace, pod, "", false),
            layout: LogLayout::Markers,
            namespace_known: true,
        },
        _ => EntryClass::Ignored,
    }
}

fn objects(syntax: Syntax, plural: &str) -> EntryClass {
    let hint = kinds::by_plural(plural);
    EntryClass::Objects { syntax, kind: hint.map(|h| h.0), api_version: hint.map(|h| h.1) }
}

fn split_ext(file: &str) -> Option<(&str, Syntax)> {
    if let Some(stem) = file.strip_suffix(".json") {
        Some((stem, Syntax::Json))
    } else {
        file.strip_suffix(".yaml").map(|stem| (stem, Syntax::Yaml))
    }
}

/// How much a path says that a folder is a cluster-info dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Marker {
    /// A shape only a cluster-info dump has: `<ns>/replication-controllers.<ext>`,
    /// `<ns>/<pod>/logs.txt`.
    Decisive,
    /// A namespace's list (`<ns>/pods.<ext>`, `events`, `services`): other layouts have them too.
    List,
    /// `nodes.<ext>` at the top: so does any folder of `kubectl get -o yaml` output, so it
    /// counts only beside a namespace's list.
    Nodes,
}

/// Whether `path` has the shape of a cluster-info dump's file; returns the root.
pub(super) fn marker_root(path: &str) -> Option<(String, Marker)> {
    let parts: Vec<&str> = path.split('/').collect();
    let (file, _) = parts.split_last()?;
    let (stem, _) = split_ext(file).unwrap_or((file, Syntax::Json));
    let (keep, marker) = match stem {
        "replication-controllers" => (2, Marker::Decisive),
        "logs.txt" => (3, Marker::Decisive),
        "nodes" if split_ext(file).is_some() => (1, Marker::Nodes),
        "pods" | "events" | "services" if split_ext(file).is_some() => (2, Marker::List),
        _ => return None,
    };
    if parts.len() < keep || parts.len() > keep + 2 {
        return None;
    }
    Some((parts[..parts.len() - keep].join("/"), marker))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_names() {
        assert_eq!(
            classify("nodes.json"),
            EntryClass::Objects { syntax: Syntax::Json, kind: Some("Node"), api_version: Some("v1") }
        );
        assert_eq!(
            classify("kube-system/replication-controllers.yaml"),
            EntryClass::Objects {
                syntax: Syntax::Yaml,
                kind: Some("ReplicationController"),
                api_version: Some("v1")
            }
        );
        assert_eq!(
            classify("default/web-0/logs.txt"),
            EntryClass::Log {
                key: log_key("default", "web-0", "", false),
                layout: LogLayout::Markers,
                namespace_known: true
            }
        );
        assert_eq!(classify("default/secrets.json"), EntryClass::Ignored);
    }

    #[test]
    fn marker() {
        assert_eq!(
            marker_root("dump/default/replication-controllers.json"),
            Some(("dump".into(), Marker::Decisive))
        );
        assert_eq!(marker_root("default/web/logs.txt"), Some(("".into(), Marker::Decisive)));
        assert_eq!(marker_root("nodes.json"), Some(("".into(), Marker::Nodes)));
        assert_eq!(marker_root("dump/kube-system/pods.yaml"), Some(("dump".into(), Marker::List)));
    }
}
