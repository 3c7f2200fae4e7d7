//! The network, storage, node and cluster diagnostics on real bundles and real object lists
//! (read in place from `shared/realdata`): what each shows must be found, with its objects.

use std::path::PathBuf;

use kubesnap_analyzer::finding::{Evidence, Finding, Severity};
use kubesnap_analyzer::load::{LoadOptions, load};
use kubesnap_shared::model::{ClusterModel, Object};

fn realdata(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata").join(path)
}

/// The findings of one code, on a model.
fn findings_of(model: &ClusterModel, code: &str) -> Vec<Finding> {
    let (findings, _) = kubesnap_analyzer::analyze(model);
    findings.into_iter().filter(|finding| finding.code == code).collect()
}

fn object_names(finding: &Finding, kind: &str) -> Vec<String> {
    finding.objects.iter().filter(|object| object.kind == kind).map(|object| object.name.clone()).collect()
}

/// A model of the objects of one `kind: List` YAML text (popeye's hand-written fixtures);
/// `None` when it is not such a list.
fn model_of_list(text: &str, kind: &str, source: &str) -> Option<ClusterModel> {
    let list: serde_json::Value = kubesnap_shared::yaml::from_str(text).ok()?;
    let mut model = ClusterModel::default();
    for item in list.get("items")?.as_array()? {
        model.objects.push(Object::from_value(item.clone(), Some(kind), Some("v1"), source)?);
    }
    model.finish();
    Some(model)
}

/// Sonobuoy's health summary snapshot: `kind-worker` is NotReady (KubeletNotReady), the
/// control-plane node is Ready.
#[test]
fn sonobuoy_notready_kind_worker_is_node_not_ready() {
    let model = load(
        &realdata("vmware-tanzu__sonobuoy/pkg/discovery/testdata/healthsummary"),
        &LoadOptions::default(),
    )
    .unwrap();
    let findings = findings_of(&model, "node-not-ready");
    let nodes: Vec<Vec<String>> = findings.iter().map(|finding| object_names(finding, "Node")).collect();
    assert_eq!(nodes, [vec!["kind-worker".to_owned()]], "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::P1, "one of several nodes down is not a cluster outage");
    assert!(findings[0].title.contains("KubeletNotReady"), "{}", findings[0].title);
}

/// The 2021 troubleshoot bundle holds FailedMount events in `default`: they are grouped per
/// pod, with counts. Both pods are a support-bundle collector's leftovers (P3 notes), which the
/// report folds into one advisory listing each pod's own finding.
#[test]
fn troubleshoot_2021_failed_mounts_are_volume_mount_failures() {
    let model = load(
        &realdata("replicatedhq__troubleshoot/support-bundle-2021-03-24T00_39_51.tar.gz"),
        &LoadOptions::default(),
    )
    .unwrap();
    let expected: Vec<_> = model.events.iter().filter(|event| event.reason == "FailedMount").collect();
    assert!(!expected.is_empty(), "the bundle's FailedMount events were not loaded");
    let findings = findings_of(&model, "volume-mount-failures");
    let mut involved: Vec<&str> = expected.iter().map(|event| event.involved.name.as_str()).collect();
    involved.sort_unstable();
    involved.dedup();
    let mut reported: Vec<String> =
        findings.iter().flat_map(|finding| object_names(finding, "Pod")).collect();
    reported.sort_unstable();
    assert_eq!(reported, involved, "every pod with FailedMount events is named");
    assert!(findings.iter().all(|finding| finding.severity == Severity::P3), "collector leftovers are notes");
    // One title per pod: the finding's own, or its members' in a folded advisory's evidence.
    let titles: Vec<String> = findings
        .iter()
        .flat_map(|finding| {
            let notes = finding.evidence.iter().filter_map(|evidence| match evidence {
                Evidence::Note { text } if text.contains("volume mounts failing") => Some(text.clone()),
                _ => None,
            });
            let own = finding.title.contains("volume mounts failing").then(|| finding.title.clone());
            own.into_iter().chain(notes).collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(titles.len(), involved.len(), "one finding per pod: {titles:#?}");
    let total: u64 = expected.iter().map(|event| event.count).sum();
    let counted: u64 = titles
        .iter()
        .map(|title| {
            title.split(" x").nth(1).and_then(|rest| rest.split(')').next()).unwrap().parse::<u64>().unwrap()
        })
        .sum();
    assert_eq!(counted, total, "the titles' counts add up to the events' counts");
}

/// Popeye's synthetic node list: n2 lacks network, n3 has every pressure, n4 is cordoned and
/// NotReady.
#[test]
fn popeye_nodes_pressure_not_ready_and_cordoned() {
    let path = "derailed__popeye/internal/lint/testdata/core/node/1.yaml";
    let text = std::fs::read_to_string(realdata(path)).unwrap();
    let model = model_of_list(&text, "Node", path).unwrap();
    assert_eq!(model.of_kind("Node").count(), 5, "popeye's list holds five nodes");
    let pressure: Vec<String> =
        findings_of(&model, "node-pressure").iter().map(|finding| finding.title.clone()).collect();
    assert_eq!(
        pressure,
        [
            "Node n2 has NetworkUnavailable",
            "Node n3 under MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable",
        ]
    );
    let not_ready: Vec<Vec<String>> =
        findings_of(&model, "node-not-ready").iter().map(|finding| object_names(finding, "Node")).collect();
    assert_eq!(not_ready, [vec!["n4".to_owned()]]);
    let cordoned: Vec<Vec<String>> =
        findings_of(&model, "node-cordoned").iter().map(|finding| object_names(finding, "Node")).collect();
    assert_eq!(cordoned, [vec!["n4".to_owned()]]);
}
