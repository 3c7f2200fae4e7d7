//! The cluster model the analyzer reads: every object of the bundle as raw JSON with indexes,
//! events in one normalized shape, container logs as scan results, metric time series, kubelet
//! stats, and what the bundle lacks.
//!
//! The model is built once by the analyzer's loader (one streaming pass over the bundle, native
//! or foreign) and is read-only afterwards: diagnostics are pure functions of it. Objects stay
//! raw JSON so that custom resources and fields newer than this code survive; typed accessors
//! read the few fields diagnostics need.

mod coverage;
mod event;
mod index;
mod logs;
mod metrics;
mod node_problems;
mod object;
mod read_problem;

use std::collections::{BTreeMap, BTreeSet};

use crate::manifest::{Failure, Manifest};

pub use coverage::Coverage;
pub use event::Event;
pub use index::Index;
pub use logs::{
    ContainerLog, ERROR_LEVEL, FamilyHits, HttpRequests, LogKey, LogLine, MinuteRequests, NODE_LOG_NAMESPACE,
    WindowHits,
};
pub use metrics::{ContainerKey, MetricSample, MetricSeries, NodeSeries};
pub use node_problems::NodeProblem;
pub use object::{Object, ObjectRef, labels_match};
pub use read_problem::ReadProblem;

/// Which kind of bundle the model was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    /// A kubesnap bundle.
    Native,
    /// A Replicated troubleshoot support bundle.
    Troubleshoot,
    /// An OpenShift must-gather.
    MustGather,
    /// Sonobuoy results.
    Sonobuoy,
    /// The output of `kubectl cluster-info dump`.
    ClusterInfoDump,
    /// A support-bundle-kit bundle (Harvester, Longhorn).
    SupportBundleKit,
    /// Rancher's log collector run on an RKE2 node.
    Rke2LogCollector,
    /// kubectl's text output: `get` tables, `describe` blocks, terminal transcripts.
    KubectlText,
}

impl SourceFormat {
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Native => "kubesnap bundle",
            SourceFormat::Troubleshoot => "troubleshoot support bundle",
            SourceFormat::MustGather => "OpenShift must-gather",
            SourceFormat::Sonobuoy => "sonobuoy results",
            SourceFormat::ClusterInfoDump => "kubectl cluster-info dump",
            SourceFormat::SupportBundleKit => "support-bundle-kit bundle",
            SourceFormat::Rke2LogCollector => "Rancher log collector bundle (RKE2)",
            SourceFormat::KubectlText => "kubectl text",
        }
    }
}

/// Something the bundle does not hold, so a diagnostic that needs it is skipped and the
/// report says what was not seen.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Gap {
    /// What is missing, in words a reader understands: `pod metrics`, `previous logs`,
    /// `secrets (403 forbidden)`.
    pub what: String,
    /// Why: the format does not carry it, the collector was denied, the archive was cut.
    pub why: String,
}

/// One health check a host collector ran (`etcdctl endpoint health`, `etcdctl alarm list`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct HostCheck {
    /// The node it ran on.
    pub node: String,
    /// What was checked: `etcd endpoint health`, `etcd alarms`.
    pub what: String,
    /// Whether the answer says healthy.
    pub healthy: bool,
    /// The answer's lines that say so (or say what is wrong).
    pub said: Vec<String>,
    /// The bundle path it was read from.
    pub source: String,
}

/// What a test plugin of a conformance run reported (sonobuoy's `plugins/<plugin>/sonobuoy_results.yaml`):
/// how many tests ran, passed, failed and were skipped, and which failed with what message.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct PluginResult {
    /// The plugin's name (`e2e`, `systemd-logs`).
    pub plugin: String,
    /// The run's verdict as the plugin's results say it (`passed`, `failed`, `unknown`).
    pub status: String,
    /// Tests (or result items) that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
    /// Tests that were skipped (not run).
    pub skipped: u64,
    /// Items with any other status (`unknown`, a plugin's own words).
    pub other: u64,
    /// The failed tests, in the results' order.
    pub failures: Vec<TestFailure>,
    /// The bundle path it was read from.
    pub source: String,
}

/// One failed test of a plugin's results.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct TestFailure {
    /// The test's name; for per-node plugins prefixed with the node (`node-1: check`).
    pub name: String,
    /// The failure's message, without the stack's file lines (may be empty).
    pub message: String,
}

/// The whole cluster as the bundle shows it.
#[derive(Debug, Default)]
pub struct ClusterModel {
    pub format: Option<SourceFormat>,
    pub manifest: Option<Manifest>,
    /// `gitVersion` of the API server, when the bundle says.
    pub server_version: Option<String>,
    /// When the bundle was captured: the reference "now" of every age and expiry, so that the
    /// same bundle always gives the same report. Native: the manifest's `finished_at`; foreign:
    /// the newest timestamp the bundle holds.
    pub captured_at: Option<jiff::Timestamp>,
    /// Every object, sorted by (kind, namespace, name) once loading ends.
    pub objects: Vec<Object>,
    /// Events from the lists and the watch, deduplicated, sorted by last seen.
    pub events: Vec<Event>,
    /// Container logs (current and previous), sorted by key.
    pub logs: Vec<ContainerLog>,
    /// Per-container CPU and memory series from the metrics API samples.
    pub pod_metrics: Vec<MetricSeries>,
    /// Per-node CPU and memory series.
    pub node_metrics: Vec<NodeSeries>,
    /// Kubelet `/stats/summary` per node, raw.
    pub kubelet_stats: BTreeMap<String, crate::json::Value>,
    /// What could not be collected (the manifest's failures, foreign error files).
    pub failures: Vec<Failure>,
    /// What the bundle lacks.
    pub gaps: Vec<Gap>,
    /// Kinds whose list the bundle holds, even an empty one (`StorageClass` for a
    /// `StorageClassList` without items, or a troubleshoot `limitranges/<ns>.json` holding `[]`),
    /// named as [`Object::index_kind`] names them: lets [`ClusterModel::captured`] tell "none
    /// exist" from "not captured" where objects alone cannot. The analyzer's loader fills it
    /// with every List, array or JSON `null` file of objects it parses, whatever the format
    /// (`import::parse::ParsedObjects::listed_kinds`).
    pub listed_kinds: BTreeSet<String>,
    /// Kinds read from kubectl text rather than objects, each with the fields (JSON pointers)
    /// the text gave: a diagnostic that reads any other field of such a kind cannot be run.
    /// Empty for bundles of objects.
    pub text_fields: BTreeMap<String, BTreeSet<String>>,
    /// Health checks a host collector ran and the bundle holds (etcd's endpoint health and
    /// alarms), as they answered.
    pub host_checks: Vec<HostCheck>,
    /// Results of a conformance run's test plugins (sonobuoy), sorted by plugin.
    pub plugin_results: Vec<PluginResult>,
    /// Problems the nodes' own logs report, by node, unit and reason.
    pub node_problems: Vec<NodeProblem>,
    /// Helm release revisions (`helm/releases.json`), sorted by (namespace, name, revision);
    /// `None` when the bundle holds no Helm history (not collected, or a foreign format).
    pub helm_releases: Option<Vec<crate::helm::HelmRelease>>,
    /// Problems met while reading: refused entries, checksum mismatches, a truncated stream.
    pub read_problems: Vec<ReadProblem>,
    pub index: Index,
}

impl ClusterModel {
    /// Sorts everything and builds the indexes. Call once, after the last object is added.
    pub fn finish(&mut self) {
        self.objects.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.objects.dedup_by(|b, a| a.same_identity(b));
        self.events.sort_by(|a, b| {
            (a.last_seen, &a.namespace, &a.involved, &a.reason).cmp(&(
                b.last_seen,
                &b.namespace,
                &b.involved,
                &b.reason,
            ))
        });
        self.logs.sort_by(|a, b| a.key.cmp(&b.key));
        self.pod_metrics.sort_by(|a, b| a.key.cmp(&b.key));
        self.node_metrics.sort_by(|a, b| a.node.cmp(&b.node));
        self.gaps.sort();
        self.gaps.dedup();
        self.plugin_results.sort_by(|a, b| (&a.plugin, &a.source).cmp(&(&b.plugin, &b.source)));
        if let Some(releases) = &mut self.helm_releases {
            releases.sort_by(|a, b| {
                (&a.namespace, &a.name, a.revision, &a.object).cmp(&(
                    &b.namespace,
                    &b.name,
                    b.revision,
                    &b.object,
                ))
            });
        }
        self.index = Index::build(&self.objects);
        self.index.index_events(&self.events);
    }

    /// Objects of one kind (`Pod`, `Deployment`, ...), in (namespace, name) order.
    pub fn of_kind<'a>(&'a self, kind: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.index.of_kind(kind).iter().map(move |&i| &self.objects[i])
    }

    /// Objects of one kind in one namespace.
    pub fn of_kind_in<'a>(&'a self, kind: &str, namespace: &'a str) -> impl Iterator<Item = &'a Object> + 'a {
        // Objects are sorted by (kind, namespace, name), so one kind's positions are sorted by
        // namespace: two binary searches instead of a scan of every object of the kind.
        let positions = self.index.of_kind(kind);
        let start = positions.partition_point(|&i| self.objects[i].namespace.as_deref() < Some(namespace));
        let end = positions.partition_point(|&i| self.objects[i].namespace.as_deref() <= Some(namespace));
        positions[start..end].iter().map(move |&i| &self.objects[i])
    }

    /// One object by kind, namespace and name.
    pub fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<&Object> {
        self.index.get(kind, namespace, name).map(|i| &self.objects[i])
    }

    /// Objects whose `ownerReferences` name `uid`.
    pub fn owned_by<'a>(&'a self, uid: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.index.owned_by(uid).iter().map(move |&i| &self.objects[i])
    }

    /// Pods scheduled on `node`.
    pub fn pods_on_node<'a>(&'a self, node: &str) -> impl Iterator<Item = &'a Object> + 'a {
        self.index.pods_on_node(node).iter().map(move |&i| &self.objects[i])
    }

    /// Pods of `namespace` whose labels match `selector` (equality-based, as Services use).
    pub fn pods_matching<'a>(
        &'a self,
        namespace: &'a str,
        selector: &'a BTreeMap<String, String>,
    ) -> impl Iterator<Item = &'a Object> + 'a {
        self.of_kind_in("Pod", namespace).filter(move |pod| pod.matches_labels(selector))
    }

    /// Events about one object, oldest first.
    pub fn events_for<'a>(
        &'a self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> impl Iterator<Item = &'a Event> + 'a {
        self.index.events_about(kind, namespace, name).iter().map(move |&i| &self.events[i])
    }

    /// Logs of one pod (every container, current and previous), in key order.
    pub fn logs_of<'a>(&'a self, namespace: &str, pod: &str) -> impl Iterator<Item = &'a ContainerLog> + 'a {
        // Logs are sorted by key (namespace, pod, container, previous): a binary search.
        let start = self
            .logs
            .partition_point(|log| (log.key.namespace.as_str(), log.key.pod.as_str()) < (namespace, pod));
        let end = self
            .logs
            .partition_point(|log| (log.key.namespace.as_str(), log.key.pod.as_str()) <= (namespace, pod));
        self.logs[start..end].iter()
    }

    /// One container's log.
    pub fn log(&self, namespace: &str, pod: &str, container: &str, previous: bool) -> Option<&ContainerLog> {
        self.logs_of(namespace, pod)
            .find(|log| log.key.container == container && log.key.previous == previous)
    }

    /// Whether the bundle holds any object of `kind`. Zero objects may mean none exist or none
    /// were captured: [`ClusterModel::captured`] tells which.
    pub fn has_kind(&self, kind: &str) -> bool {
        !self.index.of_kind(kind).is_empty()
    }

    /// Whether the bundle captured the objects of `kind`: [`Coverage::Listed`] when it holds
    /// some, or its (maybe empty) list, so that zero objects means the cluster has none;
    /// otherwise why it does not show them (the list failed, the format never holds the kind)
    /// or [`Coverage::Unknown`]. A native bundle's answer comes from its manifest, a foreign
    /// one's from its importer and its collectors' error files.
    pub fn captured(&self, kind: &str) -> Coverage {
        coverage::of(self, kind)
    }
}
