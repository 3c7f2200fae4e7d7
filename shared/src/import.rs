//! Importers: how each bundle format's paths map onto the cluster model.
//!
//! Each format (native, troubleshoot, must-gather, sonobuoy, `kubectl cluster-info dump`,
//! support-bundle-kit)
//! classifies the paths of its entries into what they hold ([`EntryClass`]); the analyzer's
//! loader reads each entry once and parses it with the functions of [`parse`]. The format is
//! detected from the content (the paths inside and, for two marker files, their first bytes),
//! never from the bundle's file name: see [`Detector`]. `docs/formats.md` describes each
//! format, what is read and what is missing.

mod cluster_info_dump;
mod detect;
mod formats;
pub(crate) mod kinds;
mod must_gather;
mod native;
pub mod parse;
mod rke2;
mod sonobuoy;
mod support_bundle_kit;
pub mod text;
mod troubleshoot;

pub use detect::{Detection, Detector, LOOKED_FOR, Refusal};
pub use formats::{FormatGap, shortfall};
pub use rke2::DEFAULT_CONTAINER;

use crate::model::{LogKey, SourceFormat};

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
    /// kubectl's text output (`get` tables, `describe` blocks, transcripts); `hint` is the kind
    /// the file's name says; `standalone` when the text is the whole bundle (not a file of a
    /// collector's layout), so a file that holds none of kubectl's output is a problem.
    KubectlText { hint: Option<&'static str>, standalone: bool },
    /// An answer of `etcdctl` a host collector saved (`endpointhealth`, `alarmlist`, ...).
    EtcdCheck { node: String, check: String },
    /// An archive of one node's files (support-bundle-kit's `nodes/<node>.zip`): its members
    /// are read through [`crate::reader::read_zip`] and classified by
    /// [`Importer::classify_member`].
    NodeArchive { node: String },
    /// A test plugin's processed results (sonobuoy's `plugins/<plugin>/sonobuoy_results.yaml`).
    PluginResults { plugin: String },
    /// A log of failed API requests, `Failed to get <path>: <message>` per line
    /// (support-bundle-kit's `bundleGenerationError.log`).
    FailedRequests,
    /// Native `helm/releases.json`: the metadata of Helm's release revisions.
    HelmReleases,
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
    /// The name of the folder the bundle was opened as, when it was one: what `root` would be
    /// had the folder been archived (the RKE2 collector names its folder after the host and
    /// the time).
    opened_folder: Option<String>,
}

/// The namespace under which node-level logs (journals, host service logs) are kept: never a
/// real namespace, since namespaces cannot start with `_`.
pub const NODE_LOG_NAMESPACE: &str = crate::model::NODE_LOG_NAMESPACE;

impl Importer {
    pub fn new(format: SourceFormat, root: &str) -> Importer {
        Importer { format, root: root.to_owned(), opened_folder: None }
    }

    /// The same importer, told the name of the folder the bundle was opened as.
    pub fn opened_as_folder(mut self, name: Option<String>) -> Importer {
        self.opened_folder = name;
        self
    }

    /// The folder the collector wrote the tree into: the root, or the opened folder's name.
    fn collector_folder(&self) -> &str {
        match (&self.opened_folder, self.root.is_empty()) {
            (Some(name), true) => name,
            _ => &self.root,
        }
    }

    pub fn format(&self) -> SourceFormat {
        self.format
    }

    /// The folder the format's tree sits in.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The time of the capture when the layout itself says (the RKE2 collector's folder name):
    /// what relative ages in kubectl text count back from.
    pub fn capture_time(&self) -> Option<jiff::Timestamp> {
        match self.format {
            SourceFormat::Rke2LogCollector => rke2::split_root(self.collector_folder()).1,
            _ => None,
        }
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
            SourceFormat::SupportBundleKit => support_bundle_kit::classify(relative),
            SourceFormat::Rke2LogCollector => {
                rke2::classify(relative, &rke2::split_root(self.collector_folder()).0)
            }
            SourceFormat::MustGather => EntryClass::Ignored,
            SourceFormat::KubectlText => EntryClass::KubectlText { hint: None, standalone: true },
        }
    }
}

impl Importer {
    /// What the member `member` (its path inside the archive) of the node archive of `node`
    /// holds.
    pub fn classify_member(&self, node: &str, member: &str) -> EntryClass {
        match self.format {
            SourceFormat::SupportBundleKit => support_bundle_kit::classify_node_member(node, member),
            _ => EntryClass::Ignored,
        }
    }
}

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
