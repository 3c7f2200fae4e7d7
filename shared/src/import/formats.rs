//! What each format always holds, never holds, and promises: questions about a
//! [`SourceFormat`], answered without an importer or a bundle.
//!
//! A gap a format never fills is a [`FormatGap`], a typed value: coverage asks for one by
//! variant, never by its prose. The prose ([`Gap`]) is made only when the model records it.

use crate::model::{ClusterModel, Coverage, Gap, SourceFormat};

/// Something a format never carries, whatever the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FormatGap {
    PodMetrics,
    NodeMetrics,
    KubeletStats,
    Secrets,
    PreviousLogs,
    WatchedEvents,
    /// Only a few kinds are written (`kubectl cluster-info dump`).
    MostKinds,
}

impl FormatGap {
    /// What is missing, in a reader's words.
    pub fn what(self) -> &'static str {
        match self {
            FormatGap::PodMetrics => "pod metrics over time",
            FormatGap::NodeMetrics => "node metrics over time",
            FormatGap::KubeletStats => "kubelet stats (volume usage)",
            FormatGap::Secrets => "secrets",
            FormatGap::PreviousLogs => "previous container logs",
            FormatGap::WatchedEvents => "events seen during collection",
            FormatGap::MostKinds => "most resource kinds",
        }
    }
}

/// The kinds `kubectl cluster-info dump` writes a list of, even an empty one: `nodes` at the
/// top and seven lists per namespace (see `cluster_info_dump.rs`).
pub(crate) const CLUSTER_INFO_DUMP_KINDS: &[&str] =
    &["Node", "Event", "ReplicationController", "Service", "DaemonSet", "Deployment", "ReplicaSet", "Pod"];

impl SourceFormat {
    /// What this format never carries, whatever the bundle.
    pub fn never_holds(self) -> &'static [FormatGap] {
        use FormatGap::*;
        match self {
            SourceFormat::Native => &[],
            SourceFormat::Troubleshoot => &[PodMetrics, NodeMetrics, Secrets, WatchedEvents],
            SourceFormat::MustGather => &[PodMetrics, NodeMetrics, KubeletStats, WatchedEvents],
            SourceFormat::Sonobuoy => &[PodMetrics, NodeMetrics, KubeletStats, PreviousLogs, WatchedEvents],
            SourceFormat::ClusterInfoDump => {
                &[PodMetrics, NodeMetrics, KubeletStats, PreviousLogs, MostKinds, WatchedEvents]
            }
            SourceFormat::SupportBundleKit => {
                &[PodMetrics, NodeMetrics, KubeletStats, Secrets, PreviousLogs, WatchedEvents]
            }
            SourceFormat::Rke2LogCollector => {
                &[PodMetrics, NodeMetrics, KubeletStats, Secrets, WatchedEvents]
            }
            SourceFormat::KubectlText => &[PodMetrics, NodeMetrics, KubeletStats, Secrets, WatchedEvents],
        }
    }

    /// Why this format lacks `gap`, in a sentence naming the format.
    pub fn why(self, gap: FormatGap) -> String {
        let name = self.name();
        // "a troubleshoot support bundle holds", "sonobuoy results hold".
        let (article, verb, does) = match self {
            SourceFormat::Sonobuoy => ("", "hold", "do"),
            SourceFormat::MustGather => ("an ", "holds", "does"),
            SourceFormat::KubectlText => ("", "holds", "does"),
            _ => ("a ", "holds", "does"),
        };
        let has = if verb == "hold" { "have" } else { "has" };
        let subject = format!("{article}{name}");
        match (self, gap) {
            (SourceFormat::ClusterInfoDump, FormatGap::PodMetrics | FormatGap::NodeMetrics) => {
                format!("{subject} {verb} no metrics")
            }
            (SourceFormat::ClusterInfoDump, FormatGap::KubeletStats) => {
                format!("{subject} {verb} no kubelet stats")
            }
            (SourceFormat::KubectlText, FormatGap::PodMetrics | FormatGap::NodeMetrics) => {
                format!("{subject} {verb} at most one `kubectl top` sample, no series over time")
            }
            (SourceFormat::KubectlText, FormatGap::Secrets) => {
                format!("{subject} does not show Secrets' contents")
            }
            (_, FormatGap::PodMetrics | FormatGap::NodeMetrics) => {
                format!("{subject} {verb} no metrics.k8s.io samples")
            }
            (_, FormatGap::KubeletStats) => format!("{subject} {verb} no kubelet /stats/summary"),
            (_, FormatGap::Secrets) => format!("{subject} {does} not list Secrets"),
            (_, FormatGap::PreviousLogs) => format!("{subject} {verb} current container logs only"),
            (_, FormatGap::WatchedEvents) => format!("{subject} {has} no event watch"),
            (_, FormatGap::MostKinds) => format!(
                "{subject} {verb} only nodes, events, replication controllers, services, daemon sets, deployments, replica sets and pods"
            ),
        }
    }

    /// What this format never carries, as the model records it: reported as missing, never as
    /// healthy.
    pub fn gaps(self) -> Vec<Gap> {
        self.never_holds()
            .iter()
            .map(|gap| Gap { what: gap.what().to_owned(), why: self.why(*gap) })
            .collect()
    }

    /// Whether this format holds the objects of `kind` whatever the bundle: `Listed` when it
    /// always writes their list (so zero objects means none), `NotCaptured` when it never
    /// does (in the words of [`SourceFormat::gaps`]), `None` when it depends on how the bundle
    /// was collected.
    pub fn kind_coverage(self, kind: &str) -> Option<Coverage> {
        let never =
            |gap: FormatGap| self.never_holds().contains(&gap).then(|| Coverage::NotCaptured(self.why(gap)));
        match self {
            SourceFormat::ClusterInfoDump if CLUSTER_INFO_DUMP_KINDS.contains(&kind) => {
                Some(Coverage::Listed)
            }
            _ if kind == "Secret" && self.never_holds().contains(&FormatGap::Secrets) => {
                never(FormatGap::Secrets)
            }
            _ if self.never_holds().contains(&FormatGap::MostKinds) => never(FormatGap::MostKinds),
            _ => None,
        }
    }

    /// The kinds every bundle of this format holds a list of: a bundle without them is not a
    /// capture of a cluster, whatever else it holds.
    pub fn promised_kinds(self) -> &'static [&'static str] {
        match self {
            // Text holds what someone chose to print: a node's description alone is text too.
            SourceFormat::KubectlText => &[],
            _ => &["Pod"],
        }
    }
}

/// Why a bundle that was recognized is still no picture of a cluster: it holds no object, or
/// lacks what its format promises. `None` when it holds what it should.
///
/// An analysis of such a bundle finds nothing, and "nothing found" must not read as "healthy":
/// the analyzer says this in its headline and its exit code.
pub fn shortfall(model: &ClusterModel) -> Option<String> {
    let format = model.format?;
    let name = format.name();
    if model.objects.is_empty() && model.listed_kinds.is_empty() {
        let rest = match (model.events.len(), model.logs.len()) {
            (0, 0) => String::new(),
            (events, logs) => format!(" (only {events} events and {logs} logs)"),
        };
        return Some(format!("this {name} holds no Kubernetes object{rest}"));
    }
    let missing: Vec<&str> = format
        .promised_kinds()
        .iter()
        .copied()
        .filter(|kind| !model.has_kind(kind) && !model.listed_kinds.contains(*kind))
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(format!(
        "this {name} holds {} objects but no {} list, which every {name} has",
        model.objects.len(),
        missing.join(" or ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{EntryClass, Importer, kinds};
    use crate::model::Object;

    #[test]
    fn a_cluster_info_dump_lists_its_kinds_and_nothing_else() {
        let importer = Importer::new(SourceFormat::ClusterInfoDump, "");
        for kind in CLUSTER_INFO_DUMP_KINDS {
            assert_eq!(SourceFormat::ClusterInfoDump.kind_coverage(kind), Some(Coverage::Listed), "{kind}");
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
            SourceFormat::ClusterInfoDump.kind_coverage("StorageClass"),
            Some(Coverage::NotCaptured(why)) if why.contains("holds only nodes")
        ));
    }

    #[test]
    fn what_a_format_never_holds_is_one_of_its_gaps() {
        assert_eq!(
            SourceFormat::Troubleshoot.kind_coverage("Secret"),
            Some(Coverage::NotCaptured("a troubleshoot support bundle does not list Secrets".to_owned()))
        );
        assert!(SourceFormat::Troubleshoot.gaps().contains(&Gap {
            what: "secrets".into(),
            why: "a troubleshoot support bundle does not list Secrets".into()
        }));
        assert_eq!(SourceFormat::Troubleshoot.kind_coverage("StorageClass"), None);
        assert_eq!(SourceFormat::Native.kind_coverage("Secret"), None);
        assert_eq!(SourceFormat::Sonobuoy.kind_coverage("Pod"), None);
        assert!(SourceFormat::Native.gaps().is_empty());
        assert_eq!(
            SourceFormat::Sonobuoy.why(FormatGap::PreviousLogs),
            "sonobuoy results hold current container logs only"
        );
        assert_eq!(
            SourceFormat::MustGather.why(FormatGap::WatchedEvents),
            "an OpenShift must-gather has no event watch"
        );
    }

    fn model_of(format: SourceFormat, objects: &[serde_json::Value]) -> ClusterModel {
        let mut model = ClusterModel { format: Some(format), ..ClusterModel::default() };
        model.objects = objects
            .iter()
            .flat_map(|value| Object::from_value(value.clone(), None, None, "test.json"))
            .collect();
        model.finish();
        model
    }

    #[test]
    fn an_empty_or_podless_bundle_falls_short_and_says_why() {
        let empty = model_of(SourceFormat::MustGather, &[]);
        assert_eq!(
            shortfall(&empty).as_deref(),
            Some("this OpenShift must-gather holds no Kubernetes object")
        );
        let node = serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}});
        let podless = model_of(SourceFormat::Troubleshoot, std::slice::from_ref(&node));
        assert_eq!(
            shortfall(&podless).as_deref(),
            Some(
                "this troubleshoot support bundle holds 1 objects but no Pod list, which every troubleshoot support bundle has"
            )
        );
        let mut listed = model_of(SourceFormat::Troubleshoot, &[node]);
        listed.listed_kinds.insert("Pod".into());
        assert_eq!(shortfall(&listed), None, "an empty pod list is a cluster without pods");
        assert_eq!(shortfall(&ClusterModel::default()), None, "a fixture without a format");
    }
}
