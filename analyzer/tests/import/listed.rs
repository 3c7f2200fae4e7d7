//! Empty lists in real bundles: a kind that a bundle lists with no item comes out `Listed`
//! (there are none), and a kind the bundle holds no list of does not. Both are found from the
//! files themselves, read here independently of the importers.

use std::collections::{BTreeMap, BTreeSet};

use kubesnap_shared::model::{ClusterModel, Coverage};
use serde_json::Value;

use crate::support::{files, load_real, realdata, summary};
use crate::troubleshoot::{BASELINE, BUNDLE_2021, SBCTL, TESTDATA, TREE_2025};

const METAL: &str = "openshift__must-gather-clean/test/files/must-gather-metal.tar.xz";

/// Troubleshoot folders (and top-level file stems) whose files may be bare arrays or `null`,
/// which name no kind: the kind their items are. Troubleshoot before v0.50 wrote lists so.
const BARE: &[(&str, &str)] = &[
    ("limitranges", "LimitRange"),
    ("ingress", "Ingress"),
    ("statefulsets", "StatefulSet"),
    ("pvcs", "PersistentVolumeClaim"),
    ("pvs", "PersistentVolume"),
    ("services", "Service"),
    ("events", "Event"),
    ("deployments", "Deployment"),
    ("pods", "Pod"),
    ("storage-classes", "StorageClass"),
    ("resource-quotas", "ResourceQuota"),
    ("network-policy", "NetworkPolicy"),
];

/// Kinds asked about when looking for one the bundle holds no list of, with every name a
/// folder or file of their lists takes in these formats.
const CANDIDATES: &[(&str, &[&str])] = &[
    ("HorizontalPodAutoscaler", &["horizontalpodautoscalers", "horizontal-pod-autoscalers"]),
    ("VerticalPodAutoscaler", &["verticalpodautoscalers"]),
    ("VolumeAttachment", &["volumeattachments", "volume-attachments"]),
    ("CSIDriver", &["csidrivers"]),
    ("RuntimeClass", &["runtimeclasses"]),
    ("PodDisruptionBudget", &["poddisruptionbudgets", "pod-disruption-budgets"]),
    ("NetworkPolicy", &["networkpolicies", "network-policy"]),
    ("ResourceQuota", &["resourcequotas", "resource-quota", "resource-quotas"]),
    ("LimitRange", &["limitranges"]),
    ("StorageClass", &["storageclasses", "storage-classes"]),
    ("Lease", &["leases"]),
    ("PriorityClass", &["priorityclasses", "priority-classes"]),
    ("CronJob", &["cronjobs"]),
    ("Job", &["jobs"]),
    ("Ingress", &["ingresses", "ingress"]),
    ("EndpointSlice", &["endpointslices", "endpoint-slices"]),
];

/// What a bundle's object files say, per kind.
#[derive(Debug, Default)]
struct Lists {
    /// How many list files of each kind hold no item.
    empty: BTreeMap<String, usize>,
    /// Kinds of which some file holds an item or is one object.
    with_items: BTreeSet<String>,
    /// API groups each kind's lists and items name: a kind seen in two groups is a custom kind
    /// named like a built-in one (longhorn's `Node`), left out.
    groups: BTreeMap<String, BTreeSet<String>>,
    /// Every file and folder name, without extension.
    names: BTreeSet<String>,
}

impl Lists {
    /// Kinds whose every list file is empty: zero objects of them, yet listed.
    fn only_empty(&self) -> BTreeMap<&str, usize> {
        self.empty
            .iter()
            .filter(|(kind, _)| !self.with_items.contains(*kind))
            .filter(|(kind, _)| self.groups.get(*kind).is_none_or(|groups| groups.len() <= 1))
            .map(|(kind, n)| (kind.as_str(), *n))
            .collect()
    }

    /// Candidate kinds the bundle holds no list, item or file of.
    fn absent(&self) -> Vec<&'static str> {
        CANDIDATES
            .iter()
            .filter(|(kind, names)| {
                !self.empty.contains_key(*kind)
                    && !self.with_items.contains(*kind)
                    && !names.iter().any(|name| self.names.contains(*name))
            })
            .map(|(kind, _)| *kind)
            .collect()
    }

    fn note_group(&mut self, kind: &str, api_version: Option<&str>) {
        if let Some(api_version) = api_version {
            let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
            self.groups.entry(kind.to_owned()).or_default().insert(group.to_owned());
        }
    }

    fn items(&mut self, items: &[Value], kind: Option<&str>) {
        for item in items {
            let own = item.get("kind").and_then(Value::as_str);
            if let Some(kind) = own.or(kind) {
                self.with_items.insert(kind.to_owned());
                self.note_group(kind, item.get("apiVersion").and_then(Value::as_str));
            }
        }
    }

    /// One document of an object file; `bare_kind` is what the file's folder names.
    fn document(&mut self, value: &Value, bare_kind: Option<&str>, json: bool) {
        match value {
            Value::Object(map) if map.contains_key("items") => {
                let list_kind = map.get("kind").and_then(Value::as_str).and_then(|k| k.strip_suffix("List"));
                let kind = list_kind.filter(|kind| !kind.is_empty()).or(bare_kind);
                let items = map.get("items").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                if let Some(kind) = kind {
                    self.note_group(kind, map.get("apiVersion").and_then(Value::as_str));
                    if items.is_empty() {
                        *self.empty.entry(kind.to_owned()).or_default() += 1;
                    }
                }
                self.items(items, kind);
            }
            Value::Array(items) => {
                if let (true, Some(kind)) = (items.is_empty(), bare_kind) {
                    *self.empty.entry(kind.to_owned()).or_default() += 1;
                }
                self.items(items, bare_kind);
            }
            Value::Null if json => {
                if let Some(kind) = bare_kind {
                    *self.empty.entry(kind.to_owned()).or_default() += 1;
                }
            }
            Value::Object(_) => self.items(std::slice::from_ref(value), None),
            _ => {}
        }
    }
}

/// Reads the object files of a troubleshoot bundle (`cluster-resources/`) or a must-gather
/// (`namespaces/`, `cluster-scoped-resources/`).
fn lists(bundle: &str) -> Lists {
    let mut lists = Lists::default();
    for (path, bytes) in files(&realdata(bundle)) {
        let parts: Vec<&str> = path.split('/').collect();
        for part in &parts {
            let stem = part.rsplit_once('.').map_or(*part, |(stem, _)| stem);
            lists.names.insert(stem.to_owned());
        }
        let Some(at) = parts.iter().position(|part| {
            matches!(*part, "cluster-resources" | "namespaces" | "cluster-scoped-resources")
        }) else {
            continue;
        };
        let inner = &parts[at..];
        let Some(file) = inner.last() else { continue };
        let json = file.ends_with(".json");
        if !(json || file.ends_with(".yaml")) || inner.iter().any(|part| part.contains("errors")) {
            continue;
        }
        // Troubleshoot's bare arrays: `cluster-resources/<folder>/<ns>.json` or `<stem>.json`.
        let bare_kind = match inner {
            ["cluster-resources", folder, _] => BARE.iter().find(|(name, _)| name == folder),
            ["cluster-resources", file] => {
                BARE.iter().find(|(name, _)| Some(*name) == file.strip_suffix(".json"))
            }
            _ => None,
        }
        .map(|(_, kind)| *kind);
        // Troubleshoot's redactor leaves a marker YAML reads as an alias.
        let text = String::from_utf8_lossy(&bytes).replace("***HIDDEN***", "HIDDEN");
        if json {
            if let Ok(value) = serde_json::from_str::<Value>(&text) {
                lists.document(&value, bare_kind, true);
            }
        } else {
            for value in kubesnap_shared::yaml::documents::<Value>(text.as_bytes()).unwrap_or_default() {
                lists.document(&value, bare_kind, false);
            }
        }
    }
    lists
}

/// Every kind a bundle lists only emptily is `Listed` with no object, and every candidate kind
/// it holds nothing of is not `Listed`.
fn check(bundle: &str) -> (BTreeMap<String, usize>, Vec<&'static str>) {
    let model: ClusterModel = load_real(bundle);
    let context = summary(&model);
    let lists = lists(bundle);
    let only_empty = lists.only_empty();
    assert!(
        !only_empty.is_empty(),
        "{bundle}: no kind is listed only emptily, so this bundle tests nothing\n{lists:?}"
    );
    for (kind, n_files) in &only_empty {
        assert_eq!(model.of_kind(kind).count(), 0, "{bundle}: {kind} has objects\n{context}");
        assert_eq!(
            model.captured(kind),
            Coverage::Listed,
            "{bundle}: {kind} is listed empty in {n_files} files\n{context}"
        );
    }
    let absent = lists.absent();
    for kind in &absent {
        assert!(
            !model.captured(kind).is_listed(),
            "{bundle}: {kind} is in no file yet comes out listed: {:?}\n{context}",
            model.listed_kinds
        );
    }
    let only_empty = only_empty.into_iter().map(|(kind, n)| (kind.to_owned(), n)).collect();
    (only_empty, absent)
}

#[test]
fn troubleshoot_v0_50_empty_lists() {
    let (only_empty, absent) = check(TESTDATA);
    assert!(!absent.is_empty(), "no candidate kind is absent: {only_empty:?}");
}

#[test]
fn troubleshoot_2021_bare_empty_arrays() {
    // Every list of this age is a bare array, named only by its folder: the kinds `check`
    // finds listed emptily are found through the importer's hint alone.
    let (only_empty, absent) = check(BUNDLE_2021);
    assert!(!absent.is_empty(), "no candidate kind is absent: {only_empty:?}");
}

#[test]
fn troubleshoot_2025_tree_empty_lists() {
    check(TREE_2025);
}

#[test]
fn troubleshoot_baseline_null_items() {
    // `"items": null` lists of this bundle are empty lists too.
    check(BASELINE);
}

#[test]
fn sbctl_empty_lists() {
    check(SBCTL);
}

#[test]
fn must_gather_empty_yaml_lists() {
    let (only_empty, absent) = check(METAL);
    assert!(!absent.is_empty(), "no candidate kind is absent: {only_empty:?}");
}
