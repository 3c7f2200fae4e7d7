//! support-bundle-kit bundles (Harvester, Longhorn): Rancher's `support-bundle-kit` writes
//! every listable resource as one YAML List per resource:
//! `yamls/cluster/<group>/<version>/<plural>.yaml` (core: `yamls/cluster/v1/<plural>.yaml`) and
//! `yamls/namespaced/<ns>/<group>/<version>/<plural>.yaml` (core: `.../<ns>/v1/<plural>.yaml`),
//! container logs as `logs/<ns>/<pod>/<container>.log` with an RFC 3339 nano prefix per line,
//! `metadata.yaml` (`kubernetesversion`, `bundlecreatedat`), `bundleGenerationError.log` (one
//! failed request per line) and one zip per node under `nodes/`.
//!
//! A node's zip (`nodes/<node>.zip`, Info-ZIP's `zip -r` of the agent's folder) holds
//! `<node>/logs/` (`kernel.log`, `rke2-server.log` or `k3s-service.log`, `rancher-system-agent.log`,
//! `kubelet.log`, `containerd.log`, `console.log`, `dmesg.log`, `messages`, ... one file per unit
//! or source, written by `journalctl -u` or copied from `/var/log`) and `<node>/configs/` (the
//! node's `/etc` and `/oem` files). The logs are the node's logs, unit = the file's name
//! without `.log` and rotation or compression suffixes; binary journal files (`*.journal`) and
//! the configuration files are not read: no finding uses them (the Node objects carry the OS
//! image and versions).

use super::{EntryClass, LogLayout, Syntax, kinds, log_key};
use crate::model::NODE_LOG_NAMESPACE;

pub(super) fn classify(relative: &str) -> EntryClass {
    let parts: Vec<&str> = relative.split('/').collect();
    match parts.as_slice() {
        ["metadata.yaml"] => EntryClass::ServerVersion,
        ["bundleGenerationError.log"] => EntryClass::FailedRequests,
        ["yamls", "cluster", "v1", file] | ["yamls", "namespaced", _, "v1", file] => objects("", "v1", file),
        ["yamls", "cluster", group, version, file] | ["yamls", "namespaced", _, group, version, file] => {
            objects(group, version, file)
        }
        ["nodes", file] => match file.strip_suffix(".zip") {
            Some(node) if !node.is_empty() => EntryClass::NodeArchive { node: node.to_owned() },
            _ => EntryClass::Ignored,
        },
        ["logs", namespace, pod, file] => match file.strip_suffix(".log") {
            Some(container) => EntryClass::Log {
                key: log_key(namespace, pod, container, false),
                layout: LogLayout::Plain,
                namespace_known: true,
            },
            None => EntryClass::Ignored,
        },
        _ => EntryClass::Ignored,
    }
}

/// What a member of the node archive of `node` holds: its path inside the archive is
/// `<node folder>/logs/.../<file>` (or `logs/...` when the agent zipped the folder's content).
pub(super) fn classify_node_member(node: &str, member: &str) -> EntryClass {
    let parts: Vec<&str> = member.split('/').collect();
    let Some(logs) = parts.iter().take(2).position(|part| *part == "logs") else {
        return EntryClass::Ignored;
    };
    let [_, .., file] = &parts[logs..] else { return EntryClass::Ignored };
    if file.ends_with(".journal") || file.ends_with(".journal~") {
        return EntryClass::Ignored;
    }
    let (stem, layout) = match file.strip_suffix(".gz") {
        Some(stem) => (stem, LogLayout::Gzip),
        None => (*file, LogLayout::Plain),
    };
    // `kernel.log`, `kernel.log.1`, `messages-20220301`: one unit per source.
    let unit = match stem.find(".log") {
        Some(at) if at > 0 => &stem[..at],
        _ => stem,
    };
    EntryClass::Log { key: log_key(NODE_LOG_NAMESPACE, node, unit, false), layout, namespace_known: true }
}

/// A resource's list: the kind hint only when the plural is the built-in one of that group
/// (longhorn's `longhorn.io/v1beta1/nodes.yaml` holds no core Nodes), its API version only when
/// the path's is the hint's (`autoscaling/v1/horizontalpodautoscalers.yaml`); the content's own
/// kind and version win anyway.
fn objects(group: &str, version: &str, file: &str) -> EntryClass {
    let Some(plural) = file.strip_suffix(".yaml") else { return EntryClass::Ignored };
    let api_version = if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") };
    let hint = kinds::by_plural(plural).filter(|(_, builtin_version)| {
        builtin_version.rsplit_once('/').map_or("", |(builtin_group, _)| builtin_group) == group
    });
    EntryClass::Objects {
        syntax: Syntax::Yaml,
        kind: hint.map(|h| h.0),
        api_version: hint.map(|h| h.1).filter(|builtin| *builtin == api_version),
    }
}

/// Whether `path` has the shape only a support-bundle-kit bundle has; returns the root.
pub(super) fn marker_root(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let position = parts.iter().position(|part| *part == "yamls")?;
    if position > 2 {
        return None;
    }
    let strong = matches!(
        &parts[position..],
        ["yamls", "cluster", _, .., file] | ["yamls", "namespaced", _, _, .., file] if file.ends_with(".yaml")
    );
    strong.then(|| parts[..position].join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_by_group_and_version() {
        assert_eq!(
            classify("yamls/namespaced/kube-system/v1/pods.yaml"),
            EntryClass::Objects { syntax: Syntax::Yaml, kind: Some("Pod"), api_version: Some("v1") }
        );
        assert_eq!(
            classify("yamls/cluster/storage.k8s.io/v1/storageclasses.yaml"),
            EntryClass::Objects {
                syntax: Syntax::Yaml,
                kind: Some("StorageClass"),
                api_version: Some("storage.k8s.io/v1")
            }
        );
        // Not the core Node, not the built-in Ingress version.
        assert_eq!(
            classify("yamls/namespaced/longhorn-system/longhorn.io/v1beta1/nodes.yaml"),
            EntryClass::Objects { syntax: Syntax::Yaml, kind: None, api_version: None }
        );
        assert_eq!(
            classify("yamls/namespaced/ns/extensions/v1beta1/ingresses.yaml"),
            EntryClass::Objects { syntax: Syntax::Yaml, kind: None, api_version: None }
        );
        assert_eq!(
            classify("logs/harvester-system/kube-vip-vchbv/kube-vip.log"),
            EntryClass::Log {
                key: log_key("harvester-system", "kube-vip-vchbv", "kube-vip", false),
                layout: LogLayout::Plain,
                namespace_known: true
            }
        );
        assert_eq!(classify("metadata.yaml"), EntryClass::ServerVersion);
        assert_eq!(classify("bundleGenerationError.log"), EntryClass::FailedRequests);
    }

    #[test]
    fn node_archives_and_their_logs() {
        assert_eq!(classify("nodes/node1.zip"), EntryClass::NodeArchive { node: "node1".into() });
        assert_eq!(classify("nodes/readme.txt"), EntryClass::Ignored);
        let node_log = |unit: &str, layout| EntryClass::Log {
            key: log_key(NODE_LOG_NAMESPACE, "node1", unit, false),
            layout,
            namespace_known: true,
        };
        assert_eq!(
            classify_node_member("node1", "node1/logs/kernel.log"),
            node_log("kernel", LogLayout::Plain)
        );
        assert_eq!(
            classify_node_member("node1", "node1/logs/rke2-server.log.1.gz"),
            node_log("rke2-server", LogLayout::Gzip)
        );
        assert_eq!(classify_node_member("node1", "logs/messages"), node_log("messages", LogLayout::Plain));
        assert_eq!(classify_node_member("node1", "node1/logs/journal/system.journal"), EntryClass::Ignored);
        assert_eq!(classify_node_member("node1", "node1/configs/etc/os-release"), EntryClass::Ignored);
        assert_eq!(classify_node_member("node1", "node1/logs"), EntryClass::Ignored);
    }

    #[test]
    fn marker() {
        assert_eq!(marker_root("sb/yamls/cluster/v1/nodes.yaml").as_deref(), Some("sb"));
        assert_eq!(marker_root("yamls/namespaced/default/v1/pods.yaml").as_deref(), Some(""));
        assert_eq!(marker_root("yamls/readme.txt"), None);
    }
}
