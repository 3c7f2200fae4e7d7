//! support-bundle-kit bundles (Harvester, Longhorn): Rancher's `support-bundle-kit` writes
//! every listable resource as one YAML List per resource:
//! `yamls/cluster/<group>/<version>/<plural>.yaml` (core: `yamls/cluster/v1/<plural>.yaml`) and
//! `yamls/namespaced/<ns>/<group>/<version>/<plural>.yaml` (core: `.../<ns>/v1/<plural>.yaml`),
//! container logs as `logs/<ns>/<pod>/<container>.log` with an RFC 3339 nano prefix per line,
//! `metadata.yaml` (`kubernetesversion`, `bundlecreatedat`), `bundleGenerationError.log` (one
//! failed request per line) and one zip per node under `nodes/`.

use super::{EntryClass, LogLayout, Syntax, kinds, log_key};

pub(super) fn classify(relative: &str) -> EntryClass {
    let parts: Vec<&str> = relative.split('/').collect();
    match parts.as_slice() {
        ["metadata.yaml"] => EntryClass::ServerVersion,
        ["bundleGenerationError.log"] => EntryClass::FailedRequests,
        ["yamls", "cluster", "v1", file] | ["yamls", "namespaced", _, "v1", file] => objects("", "v1", file),
        ["yamls", "cluster", group, version, file] | ["yamls", "namespaced", _, group, version, file] => {
            objects(group, version, file)
        }
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
    fn marker() {
        assert_eq!(marker_root("sb/yamls/cluster/v1/nodes.yaml").as_deref(), Some("sb"));
        assert_eq!(marker_root("yamls/namespaced/default/v1/pods.yaml").as_deref(), Some(""));
        assert_eq!(marker_root("yamls/readme.txt"), None);
    }
}
