//! Which format a bundle is, from its content: the paths of its entries and, for the two files
//! whose name alone is not enough (`format.json`, `version.yaml`), their first bytes.
//!
//! Each path is evidence. A path only one format has (a troubleshoot `cluster-resources/`
//! folder, a must-gather `cluster-scoped-resources/`, sonobuoy's `resources/ns/`, kubectl's
//! `replication-controllers.json`) decides at once; weaker evidence (`<ns>/pods.json`) is kept
//! until the stream ends or the loader stops waiting, and `nodes.json` at the top counts only
//! beside it.

use std::collections::BTreeMap;

use super::{Importer, cluster_info_dump, must_gather, rke2, sonobuoy, support_bundle_kit};
use crate::layout::FORMAT_FILE;
use crate::manifest::FORMAT_NAME;
use crate::model::SourceFormat;

/// The folder depth under which a format's marker may sit (`bundle-name/cluster-resources`).
const MAX_ROOT_DEPTH: usize = 2;

/// What detection looks for, one line per format: the refusal of an unknown layout lists them.
pub const LOOKED_FOR: &[&str] = &[
    "a kubesnap bundle: `format.json` naming kubesnap-bundle",
    "a troubleshoot support bundle: `version.yaml` naming troubleshoot.sh, `cluster-resources/<kind>/`, or `cluster-info/cluster_version.json`",
    "an OpenShift must-gather: `cluster-scoped-resources/<group>/...yaml`, `namespaces/<ns>/<ns>.yaml` or `namespaces/<ns>/core/*.yaml`",
    "sonobuoy results: `resources/cluster/*.json`, `resources/ns/<ns>/*.json`, `podlogs/`, `meta/run.log` or `serverversion.json`",
    "a kubectl cluster-info dump: `nodes.json` beside `<ns>/pods.json`, or `<ns>/replication-controllers.json`",
    "a support-bundle-kit bundle (Harvester, Longhorn): `yamls/cluster/...yaml` or `yamls/namespaced/<ns>/...yaml`",
    "a Rancher log collector bundle (RKE2): `rke2/kubectl/` or `rke2/podlogs/`",
    "kubectl text (a file or a folder of files, when nothing above matched): `kubectl get` tables, `kubectl describe` blocks (`Name:` then `Namespace:`, `Labels:`...), or a terminal transcript of `$ kubectl ...` lines and their output",
];

/// A layout recognized but not read: the loader refuses it in these words rather than read it
/// as something it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What the bundle is: `an OpenShift Insights archive`.
    pub what: &'static str,
    /// Why it is not read, and what to bring instead.
    pub why: &'static str,
}

/// The outcome of detection once it is certain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detection {
    Import(Importer),
    Refuse(Refusal),
}

/// The Insights operator's archive: `config/`, `conditional/`, `events/`, JSON objects by kind.
const INSIGHTS: Refusal = Refusal {
    what: "an OpenShift Insights archive (`config/`, `conditional/`, `events/`, JSON objects by kind)",
    why: "the Insights operator keeps a selection of objects (nodes, cluster operators, only the pods that are failing) and no workloads, services or storage, so an analysis would call the rest healthy; collect an OpenShift must-gather (`oc adm must-gather`) instead",
};

/// Detection state over the paths seen so far.
#[derive(Debug, Default)]
pub struct Detector {
    /// Weak evidence of a cluster-info dump, by the root it implies: whether `nodes.<ext>` is
    /// there, and how many namespace lists are below it.
    dump_roots: BTreeMap<String, DumpEvidence>,
}

impl Detector {
    pub fn new() -> Detector {
        Detector::default()
    }

    /// Whether `observe` needs the first bytes of the entry at `path` to decide.
    pub fn wants_head(path: &str) -> bool {
        let file = path.rsplit('/').next().unwrap_or(path);
        let depth = path.split('/').count();
        (file == FORMAT_FILE || file == "version.yaml") && depth <= MAX_ROOT_DEPTH
    }

    /// Looks at one path (and the head of its content when [`Detector::wants_head`] said so);
    /// returns the importer, or the refusal, once the format is certain.
    pub fn observe(&mut self, path: &str, head: Option<&[u8]>) -> Option<Detection> {
        if is_insights_marker(path) {
            return Some(Detection::Refuse(INSIGHTS));
        }
        self.importer(path, head).map(Detection::Import)
    }

    fn importer(&mut self, path: &str, head: Option<&[u8]>) -> Option<Importer> {
        let parts: Vec<&str> = path.split('/').collect();
        let (file, folders) = parts.split_last()?;
        if folders.len() < MAX_ROOT_DEPTH {
            let root = folders.join("/");
            let head = head.map(String::from_utf8_lossy).unwrap_or_default();
            if *file == FORMAT_FILE && head.contains(FORMAT_NAME) {
                return Some(Importer::new(SourceFormat::Native, &root));
            }
            if *file == "version.yaml" && head.contains("troubleshoot.sh/") {
                return Some(Importer::new(SourceFormat::Troubleshoot, &root));
            }
        }
        if let Some(position) = parts.iter().position(|part| *part == "cluster-resources") {
            // `cluster-resources/<kind>...`: a folder or list file under it, not a namespace
            // called `cluster-resources` in a cluster-info dump (`cluster-resources/pods.json`).
            let troubleshoot = match &parts[position + 1..] {
                [_, _, ..] => true,
                [file] => !matches!(*file, "pods.json" | "events.json" | "services.json" | "pods.yaml"),
                [] => false,
            };
            if position <= MAX_ROOT_DEPTH && troubleshoot {
                return Some(Importer::new(SourceFormat::Troubleshoot, &parts[..position].join("/")));
            }
        }
        if matches!(parts.as_slice(), [.., "cluster-info", "cluster_version.json"])
            && parts.len() <= MAX_ROOT_DEPTH + 2
        {
            let root = parts[..parts.len() - 2].join("/");
            return Some(Importer::new(SourceFormat::Troubleshoot, &root));
        }
        if let Some(root) = must_gather::marker_root(path) {
            return Some(Importer::new(SourceFormat::MustGather, &root));
        }
        if let Some(root) = rke2::marker_root(path) {
            return Some(Importer::new(SourceFormat::Rke2LogCollector, &root));
        }
        if let Some(root) = support_bundle_kit::marker_root(path) {
            return Some(Importer::new(SourceFormat::SupportBundleKit, &root));
        }
        if let Some(root) = sonobuoy::marker_root(path) {
            return Some(Importer::new(SourceFormat::Sonobuoy, &root));
        }
        if let Some((root, marker)) = cluster_info_dump::marker_root(path) {
            if marker == cluster_info_dump::Marker::Decisive {
                return Some(Importer::new(SourceFormat::ClusterInfoDump, &root));
            }
            let evidence = self.dump_roots.entry(root).or_default();
            evidence.nodes |= marker == cluster_info_dump::Marker::Nodes;
            evidence.lists += u64::from(marker == cluster_info_dump::Marker::List);
        }
        None
    }

    /// The best guess once no more paths will come: a cluster-info dump at the root that has
    /// both `nodes.<ext>` and namespace lists (the most lists, if several). `nodes.yaml` beside
    /// `pods.yaml` is a folder of `kubectl get -o yaml` output instead, told by content later.
    pub fn conclude(&self) -> Option<Importer> {
        self.dump_roots
            .iter()
            .filter(|(_, evidence)| evidence.nodes && evidence.lists > 0)
            .max_by_key(|(root, evidence)| (evidence.lists, std::cmp::Reverse(root.len())))
            .map(|(root, _)| Importer::new(SourceFormat::ClusterInfoDump, root))
    }
}

/// What a root's paths say of a cluster-info dump there.
#[derive(Debug, Default)]
struct DumpEvidence {
    nodes: bool,
    lists: u64,
}

/// A path only an Insights archive has, within the first folders.
fn is_insights_marker(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    (0..=MAX_ROOT_DEPTH.min(parts.len())).any(|start| {
        matches!(
            &parts[start..],
            ["insights-operator", "gathers.json"]
                | ["config", "clusteroperator", _]
                | ["config", "version.json" | "id" | "infrastructure.json"]
                | ["conditional", "namespaces" | "alerts", ..]
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(paths: &[&str]) -> Option<(SourceFormat, String)> {
        let mut detector = Detector::new();
        for path in paths {
            let head: Option<&[u8]> = if Detector::wants_head(path) {
                Some(if path.ends_with("format.json") {
                    br#"{"format": "kubesnap-bundle", "format_version": 1}"#
                } else {
                    b"apiVersion: troubleshoot.sh/v1beta2\nkind: SupportBundle\n"
                })
            } else {
                None
            };
            match detector.observe(path, head) {
                Some(Detection::Import(importer)) => {
                    return Some((importer.format(), importer.root().to_owned()));
                }
                Some(Detection::Refuse(refusal)) => panic!("{path} refused: {}", refusal.what),
                None => {}
            }
        }
        detector.conclude().map(|importer| (importer.format(), importer.root().to_owned()))
    }

    #[test]
    fn each_format_from_its_paths() {
        assert_eq!(detect(&["kubesnap-x/format.json"]), Some((SourceFormat::Native, "kubesnap-x".into())));
        assert_eq!(
            detect(&["support-bundle/cluster-resources/pvcs/default.json"]),
            Some((SourceFormat::Troubleshoot, "support-bundle".into()))
        );
        assert_eq!(detect(&["sb/version.yaml"]), Some((SourceFormat::Troubleshoot, "sb".into())));
        assert_eq!(
            detect(&["must-gather.local.1/img/namespaces/ns/core/pods.yaml"]),
            Some((SourceFormat::MustGather, "must-gather.local.1/img".into()))
        );
        assert_eq!(detect(&["meta/run.log"]), Some((SourceFormat::Sonobuoy, "".into())));
        assert_eq!(
            detect(&["resources/cluster/core_v1_nodes.json"]),
            Some((SourceFormat::Sonobuoy, "".into()))
        );
        assert_eq!(
            detect(&[
                "dump/nodes.json",
                "dump/default/pods.json",
                "dump/default/replication-controllers.json"
            ]),
            Some((SourceFormat::ClusterInfoDump, "dump".into()))
        );
        assert_eq!(
            detect(&["dump/nodes.yaml", "dump/kube-system/pods.yaml"]),
            Some((SourceFormat::ClusterInfoDump, "dump".into()))
        );
        // `nodes.yaml` beside `pods.yaml` and `services.yaml` of every namespace is a folder of
        // `kubectl get -o yaml` output (kubectl output is told by content, after detection).
        assert_eq!(detect(&["out/nodes.yaml", "out/pods.yaml", "out/services.yaml"]), None);
        assert_eq!(detect(&["nodes.json", "pods.json"]), None);
        assert_eq!(detect(&["dump/default/pods.json"]), None, "no nodes: not enough");
        assert_eq!(
            detect(&["sb/metadata.yaml", "sb/yamls/namespaced/default/v1/pods.yaml"]),
            Some((SourceFormat::SupportBundleKit, "sb".into()))
        );
    }

    #[test]
    fn names_are_not_enough() {
        // A format.json that is not kubesnap's, a version.yaml that is not troubleshoot's.
        let mut detector = Detector::new();
        assert_eq!(detector.observe("x/format.json", Some(b"{\"format\": \"other\"}")), None);
        assert_eq!(detector.observe("x/version.yaml", Some(b"version: 1")), None);
        assert_eq!(detect(&["notes/readme.txt", "a/b/c.json"]), None);
    }

    #[test]
    fn an_insights_archive_is_refused_not_read_as_an_empty_must_gather() {
        // Paths of the Insights operator's documented sample archive.
        for path in [
            "insights-archive/config/clusteroperator/etcd.json",
            "config/version.json",
            "insights-operator/gathers.json",
            "conditional/namespaces/openshift-monitoring/pods/alertmanager-main-0/alertmanager-main-0.json",
        ] {
            assert!(
                matches!(Detector::new().observe(path, None), Some(Detection::Refuse(Refusal { what, .. })) if what.contains("Insights")),
                "{path}"
            );
        }
        // Its JSON objects under `cluster-scoped-resources/` are no must-gather marker (YAML is).
        let mut detector = Detector::new();
        assert_eq!(
            detector
                .observe("cluster-scoped-resources/rbac.authorization.k8s.io/clusterroles/admin.json", None),
            None
        );
        assert_eq!(
            detect(&["cluster-scoped-resources/core/nodes/n1.yaml"]).map(|found| found.0),
            Some(SourceFormat::MustGather)
        );
    }
}
