//! Importers: how each bundle format's paths map onto the cluster model.
//!
//! Each format (native, troubleshoot, must-gather, sonobuoy, `kubectl cluster-info dump`)
//! classifies the paths of its entries into what they hold ([`EntryClass`]); the analyzer's
//! loader reads each entry once and parses it with the functions of [`parse`]. The format is
//! detected from the content (the paths inside and, for two marker files, their first bytes),
//! never from the bundle's file name: see [`Detector`]. `docs/formats.md` describes each
//! format, what is read and what is missing.

mod cluster_info_dump;
mod detect;
pub(crate) mod kinds;
mod must_gather;
mod native;
pub mod parse;
mod sonobuoy;
mod troubleshoot;

pub use detect::Detector;

use crate::model::{Coverage, Gap, LogKey, SourceFormat};

/// How a file of objects is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Json,
    Yaml,
}

/// How a log file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLayout {
    /// One log line per line.
    Plain,
    /// Gzip-compressed lines (must-gather's rotated logs).
    Gzip,
    /// journald JSON export, one entry per line (sonobuoy's `systemd_logs`): the text is the
    /// `MESSAGE` field and the time `__REALTIME_TIMESTAMP`.
    Journal,
    /// Several containers in one file, each between `==== START logs for container C of pod
    /// NS/P ====` and `==== END ... ====` (`kubectl cluster-info dump`'s `logs.txt`).
    Markers,
}

/// What one entry of a bundle holds, once its format is known.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryClass {
    /// Kubernetes objects: a List, a JSON array of objects, one object, or YAML documents of
    /// those. `kind` and `api_version` fill in what the items lack.
    Objects { syntax: Syntax, kind: Option<&'static str>, api_version: Option<&'static str> },
    /// Native `events/watched.jsonl`: `{"type": ..., "object": Event}` per line.
    WatchedEvents,
    /// A container log. `namespace_known` is false for troubleshoot's per-collector folders
    /// (`<collector>/<pod>/<container>.log`), whose namespace is found from the pod's name
    /// once every object is read.
    Log { key: LogKey, layout: LogLayout, namespace_known: bool },
    /// Native `metrics/pods.jsonl`.
    PodMetrics,
    /// Native `metrics/nodes.jsonl`.
    NodeMetrics,
    /// Kubelet `/stats/summary` of one node (the content's `node.nodeName` wins).
    KubeletStats { node: String },
    /// The API server's `/version` (or troubleshoot's `cluster_version.json` around it).
    ServerVersion,
    /// A collector's error file: a JSON array of strings, an object of strings, or
    /// `{"collector", "error"}`. `scope` names what could not be collected; `list` says it was
    /// a list of resources (so the bundle lacks that kind), not a single collector's output.
    CollectorErrors { scope: String, namespace: Option<String>, list: bool },
    /// Nothing the model holds (analysis results, host files, the native control files, which
    /// the reader itself parses).
    Ignored,
}

/// The importer of one detected format: classifies every path of the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Importer {
    format: SourceFormat,
    /// The folder the format's tree sits in (`""` at the top; must-gather finds it per path).
    root: String,
}

/// The namespace under which node-level logs (journals, host service logs) are kept: never a
/// real namespace, since namespaces cannot start with `_`.
pub const NODE_LOG_NAMESPACE: &str = crate::model::NODE_LOG_NAMESPACE;

impl Importer {
    pub fn new(format: SourceFormat, root: &str) -> Importer {
        Importer { format, root: root.to_owned() }
    }

    pub fn format(&self) -> SourceFormat {
        self.format
    }

    /// The folder the format's tree sits in.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// What the entry at `path` (as the reader delivers it) holds.
    pub fn classify(&self, path: &str) -> EntryClass {
        if self.format == SourceFormat::MustGather {
            return must_gather::classify(path);
        }
        let Some(relative) = crate::reader::strip_root(&self.root, path) else {
            return EntryClass::Ignored;
        };
        match self.format {
            SourceFormat::Native => native::classify(relative),
            SourceFormat::Troubleshoot => troubleshoot::classify(relative),
            SourceFormat::Sonobuoy => sonobuoy::classify(relative),
            SourceFormat::ClusterInfoDump => cluster_info_dump::classify(relative),
            SourceFormat::MustGather => EntryClass::Ignored,
        }
    }

    /// Whether this format holds the objects of `kind` whatever the bundle: `Listed` when it
    /// always writes their list (so zero objects means none), `NotCaptured` when it never
    /// does (in the words of [`Importer::gaps`]), `None` when it depends on how the bundle
    /// was collected.
    pub fn kind_coverage(&self, kind: &str) -> Option<Coverage> {
        let why = |what: &str| {
            self.gaps().into_iter().find(|gap| gap.what == what).map(|gap| Coverage::NotCaptured(gap.why))
        };
        match self.format {
            SourceFormat::ClusterInfoDump if CLUSTER_INFO_DUMP_KINDS.contains(&kind) => {
                Some(Coverage::Listed)
            }
            SourceFormat::ClusterInfoDump => why("most resource kinds"),
            SourceFormat::Troubleshoot if kind == "Secret" => why("secrets"),
            _ => None,
        }
    }

    /// What this format never carries, whatever the bundle: reported as missing, never as
    /// healthy.
    pub fn gaps(&self) -> Vec<Gap> {
        let gap = |what: &str, why: &str| Gap { what: what.to_owned(), why: why.to_owned() };
        let name = self.format.name();
        match self.format {
            SourceFormat::Native => Vec::new(),
            SourceFormat::Troubleshoot => vec![
                gap("pod metrics over time", &format!("a {name} holds no metrics.k8s.io samples")),
                gap("node metrics over time", &format!("a {name} holds no metrics.k8s.io samples")),
                gap("secrets", &format!("a {name} does not list Secrets")),
                gap("events seen during collection", &format!("a {name} has no event watch")),
            ],
            SourceFormat::MustGather => vec![
                gap("pod metrics over time", &format!("an {name} holds no metrics.k8s.io samples")),
                gap("node metrics over time", &format!("an {name} holds no metrics.k8s.io samples")),
                gap("kubelet stats (volume usage)", &format!("an {name} holds no kubelet /stats/summary")),
                gap("events seen during collection", &format!("an {name} has no event watch")),
            ],
            SourceFormat::Sonobuoy => vec![
                gap("pod metrics over time", &format!("{name} hold no metrics.k8s.io samples")),
                gap("node metrics over time", &format!("{name} hold no metrics.k8s.io samples")),
                gap("kubelet stats (volume usage)", &format!("{name} hold no kubelet /stats/summary")),
                gap("previous container logs", &format!("{name} hold current container logs only")),
                gap("events seen during collection", &format!("{name} have no event watch")),
            ],
            SourceFormat::ClusterInfoDump => vec![
                gap("pod metrics over time", &format!("a {name} holds no metrics")),
                gap("node metrics over time", &format!("a {name} holds no metrics")),
                gap("kubelet stats (volume usage)", &format!("a {name} holds no kubelet stats")),
                gap("previous container logs", &format!("a {name} holds current container logs only")),
                gap(
                    "most resource kinds",
                    &format!(
                        "a {name} holds only nodes, events, replication controllers, services, daemon sets, deployments, replica sets and pods"
                    ),
                ),
                gap("events seen during collection", &format!("a {name} has no event watch")),
            ],
        }
    }
}

/// The kinds `kubectl cluster-info dump` writes a list of, even an empty one: `nodes` at the
/// top and seven lists per namespace (see `cluster_info_dump.rs`).
const CLUSTER_INFO_DUMP_KINDS: &[&str] =
    &["Node", "Event", "ReplicationController", "Service", "DaemonSet", "Deployment", "ReplicaSet", "Pod"];

/// Splits a log file name into the container and whether it is the previous run's, for the
/// `<container>.log` / `<container>-previous.log` convention of troubleshoot.
pub(crate) fn split_previous(stem: &str) -> (&str, bool) {
    match stem.strip_suffix("-previous") {
        Some(container) => (container, true),
        None => (stem, false),
    }
}

pub(crate) fn log_key(namespace: &str, pod: &str, container: &str, previous: bool) -> LogKey {
    LogKey { namespace: namespace.to_owned(), pod: pod.to_owned(), container: container.to_owned(), previous }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_info_dump_lists_its_kinds_and_nothing_else() {
        let importer = Importer::new(SourceFormat::ClusterInfoDump, "");
        for kind in CLUSTER_INFO_DUMP_KINDS {
            assert_eq!(importer.kind_coverage(kind), Some(Coverage::Listed), "{kind}");
            // Each is a file the importer reads as objects of that kind.
            let file = match *kind {
                "Node" => "nodes.json".to_owned(),
                "ReplicationController" => "default/replication-controllers.json".to_owned(),
                _ => format!("default/{}.json", kinds::by_kind(kind).map_or("", |found| found.0)),
            };
            assert!(
                matches!(importer.classify(&file), EntryClass::Objects { kind: Some(found), .. } if found == *kind),
                "{file} is not read as {kind}"
            );
        }
        assert!(matches!(
            importer.kind_coverage("StorageClass"),
            Some(Coverage::NotCaptured(why)) if why.contains("holds only nodes")
        ));
    }

    #[test]
    fn what_a_format_never_holds_is_one_of_its_gaps() {
        let troubleshoot = Importer::new(SourceFormat::Troubleshoot, "");
        assert_eq!(
            troubleshoot.kind_coverage("Secret"),
            Some(Coverage::NotCaptured("a troubleshoot support bundle does not list Secrets".to_owned()))
        );
        assert_eq!(troubleshoot.kind_coverage("StorageClass"), None);
        assert_eq!(Importer::new(SourceFormat::Native, "").kind_coverage("Secret"), None);
        assert_eq!(Importer::new(SourceFormat::Sonobuoy, "").kind_coverage("Pod"), None);
    }
}
