//! The only place that builds and parses paths inside a native bundle.
//!
//! Every path here is relative to the bundle's single top-level folder. The layout is meant to
//! be browsed by a person after `tar xzf`: one folder per API group, version and resource, one
//! file per namespace, logs per namespace, pod and container. `docs/bundle-format.md` is the
//! specification; a test keeps the two in step.

/// The first entry of every native bundle: what format and version it is.
pub const FORMAT_FILE: &str = "format.json";
/// The last entry: every file, failure and redaction of the collection.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The API server's `/version` answer.
pub const CLUSTER_VERSION: &str = "cluster/version.json";
/// What discovery found: groups, versions, resources and their verbs.
pub const API_RESOURCES: &str = "cluster/api-resources.json";
/// Events received through the watch that runs during the whole collection, one per line.
pub const WATCHED_EVENTS: &str = "events/watched.jsonl";
/// `metrics.k8s.io` PodMetricsList samples, one JSON object per line.
pub const POD_METRICS: &str = "metrics/pods.jsonl";
/// `metrics.k8s.io` NodeMetricsList samples, one JSON object per line.
pub const NODE_METRICS: &str = "metrics/nodes.jsonl";
/// The metadata of every Helm release revision found in Helm's storage Secrets and ConfigMaps
/// (`crate::helm::HelmReleases`); written whenever Secrets were listed.
pub const HELM_RELEASES: &str = "helm/releases.json";
/// Name used in place of a namespace for cluster-scoped lists. Namespaces are DNS labels and
/// cannot start with `_`, so it cannot collide.
pub const CLUSTER_SCOPE: &str = "_cluster";
/// Name used in place of a namespace for the List of a namespaced resource that was listed
/// across all namespaces and held no object there. Such a listing's items go to one file per
/// namespace, so without this file an empty listing would leave no trace, and a reader could
/// not tell "there are none" from "not collected". Like [`CLUSTER_SCOPE`], it cannot collide
/// with a namespace.
pub const EMPTY_SCOPE: &str = "_empty";
/// Folder name of the legacy core API group, whose real name is the empty string.
pub const CORE_GROUP: &str = "core";

/// Path of one list of resources as the server returned it.
///
/// `group` is the API group (`""` for the core group), `namespace` is `None` for
/// cluster-scoped resources, and [`EMPTY_SCOPE`] for the empty listing of a namespaced one
/// across all namespaces.
pub fn resource_list(group: &str, version: &str, resource: &str, namespace: Option<&str>) -> String {
    let group = if group.is_empty() { CORE_GROUP } else { group };
    let scope = namespace.unwrap_or(CLUSTER_SCOPE);
    format!("resources/{group}/{version}/{resource}/{scope}.json")
}

/// Path of a container's log; `previous` is the log of the container's last terminated run.
///
/// Container names are DNS labels, so they never contain the `.` of `.previous.log`.
pub fn container_log(namespace: &str, pod: &str, container: &str, previous: bool) -> String {
    let suffix = if previous { ".previous.log" } else { ".log" };
    format!("logs/{namespace}/{pod}/{container}{suffix}")
}

/// Path of a node's kubelet `/stats/summary` answer.
pub fn kubelet_stats(node: &str) -> String {
    format!("kubelet/{node}/stats-summary.json")
}

/// What a path inside a native bundle holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryKind<'a> {
    Format,
    Manifest,
    ClusterVersion,
    ApiResources,
    /// One List of one resource.
    ResourceList {
        group: &'a str,
        version: &'a str,
        resource: &'a str,
        /// The namespace of a per-namespace List; `None` for a cluster-scoped resource
        /// ([`CLUSTER_SCOPE`]) and for the List across all namespaces ([`EMPTY_SCOPE`]).
        namespace: Option<&'a str>,
        /// Whether this is the List of a namespaced resource across all namespaces, which is
        /// written only when it holds no object ([`EMPTY_SCOPE`]): the resource was listed,
        /// and there are none. It stays a `ResourceList` so that a reader that does not know
        /// it reads it as what it is, an empty List.
        all_namespaces: bool,
    },
    WatchedEvents,
    ContainerLog {
        namespace: &'a str,
        pod: &'a str,
        container: &'a str,
        previous: bool,
    },
    PodMetrics,
    NodeMetrics,
    KubeletStats {
        node: &'a str,
    },
    /// [`HELM_RELEASES`].
    HelmReleases,
    /// A path this version of the format does not define (kept, never an error: a newer
    /// collector of the same format version may add informational files).
    Other,
}

/// Parses a path relative to the bundle root into what it holds.
pub fn classify(path: &str) -> EntryKind<'_> {
    match path {
        FORMAT_FILE => return EntryKind::Format,
        MANIFEST_FILE => return EntryKind::Manifest,
        CLUSTER_VERSION => return EntryKind::ClusterVersion,
        API_RESOURCES => return EntryKind::ApiResources,
        WATCHED_EVENTS => return EntryKind::WatchedEvents,
        POD_METRICS => return EntryKind::PodMetrics,
        NODE_METRICS => return EntryKind::NodeMetrics,
        HELM_RELEASES => return EntryKind::HelmReleases,
        _ => {}
    }
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["resources", group, version, resource, file] => match file.strip_suffix(".json") {
            Some(scope) => EntryKind::ResourceList {
                group: if *group == CORE_GROUP { "" } else { group },
                version,
                resource,
                namespace: (scope != CLUSTER_SCOPE && scope != EMPTY_SCOPE).then_some(scope),
                all_namespaces: scope == EMPTY_SCOPE,
            },
            None => EntryKind::Other,
        },
        ["logs", namespace, pod, file] => {
            if let Some(container) = file.strip_suffix(".previous.log") {
                EntryKind::ContainerLog { namespace, pod, container, previous: true }
            } else if let Some(container) = file.strip_suffix(".log") {
                EntryKind::ContainerLog { namespace, pod, container, previous: false }
            } else {
                EntryKind::Other
            }
        }
        ["kubelet", node, "stats-summary.json"] => EntryKind::KubeletStats { node },
        _ => EntryKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_and_classify_agree() {
        let path = resource_list("", "v1", "pods", Some("default"));
        assert_eq!(path, "resources/core/v1/pods/default.json");
        assert_eq!(
            classify(&path),
            EntryKind::ResourceList {
                group: "",
                version: "v1",
                resource: "pods",
                namespace: Some("default"),
                all_namespaces: false
            }
        );
        let path = resource_list("apiextensions.k8s.io", "v1", "customresourcedefinitions", None);
        assert_eq!(
            classify(&path),
            EntryKind::ResourceList {
                group: "apiextensions.k8s.io",
                version: "v1",
                resource: "customresourcedefinitions",
                namespace: None,
                all_namespaces: false
            }
        );
        let path = container_log("ns", "web-0", "nginx", true);
        assert_eq!(path, "logs/ns/web-0/nginx.previous.log");
        assert_eq!(
            classify(&path),
            EntryKind::ContainerLog { namespace: "ns", pod: "web-0", container: "nginx", previous: true }
        );
        assert_eq!(
            classify(&container_log("ns", "a.b", "c", false)),
            EntryKind::ContainerLog { namespace: "ns", pod: "a.b", container: "c", previous: false }
        );
        let path = resource_list("", "v1", "resourcequotas", Some(EMPTY_SCOPE));
        assert_eq!(path, "resources/core/v1/resourcequotas/_empty.json");
        assert_eq!(
            classify(&path),
            EntryKind::ResourceList {
                group: "",
                version: "v1",
                resource: "resourcequotas",
                namespace: None,
                all_namespaces: true
            }
        );
        assert_eq!(classify(&kubelet_stats("node-1")), EntryKind::KubeletStats { node: "node-1" });
        assert_eq!(classify("notes/readme.txt"), EntryKind::Other);
        assert_eq!(classify(HELM_RELEASES), EntryKind::HelmReleases);
    }
}
