//! A `kubectl cluster-info dump` produced by the real `kubectl` against the real control plane,
//! with the failure catalog applied, is imported and analyzed, and finds what a native bundle
//! of the same cluster finds, minus what a dump cannot carry (issue 6's end-to-end proof).
//!
//! A dump holds nodes, events, pods with their logs, Services, Deployments, ReplicaSets,
//! DaemonSets and ReplicationControllers of every namespace; it has no metrics, no previous
//! logs, no Endpoints, Ingresses, PVCs, quotas, webhooks or custom resources. The comparison
//! covers the diagnostics that need only what a dump carries, and the test also checks that the
//! dump's import says what it lacks instead of reporting it healthy.

#![expect(clippy::panic, reason = "tests stop loudly")]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use kubesnap_analyzer::finding::Finding;
use kubesnap_analyzer::load::{LoadOptions, load};
use kubesnap_shared::model::{ClusterModel, SourceFormat};
use kubesnap_tests::cluster;

/// Diagnostics whose inputs a dump carries in full: pod and container statuses, events,
/// Deployments and ReplicaSets, nodes, and pod specs.
const CARRIED_BY_A_DUMP: &[&str] = &[
    "crash-loop-backoff",
    "oom-killed",
    "image-pull-backoff",
    "create-container-config-error",
    "pod-pending-unschedulable",
    "deployment-rollout-stuck",
    "plaintext-credential-in-env",
    "node-not-ready",
    "node-pressure",
];

fn model(path: &Path) -> ClusterModel {
    load(path, &LoadOptions::default()).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// What a finding is about, for comparing two captures of one cluster: its code and its first
/// object (a workload for grouped pod findings, else the pod or node).
fn comparable(findings: &[Finding]) -> BTreeSet<String> {
    findings
        .iter()
        .filter(|finding| CARRIED_BY_A_DUMP.contains(&finding.code))
        .map(|finding| match finding.objects.first() {
            Some(object) => format!("{} {object}", finding.code),
            None => finding.code.to_owned(),
        })
        .collect()
}

#[test]
fn a_real_cluster_info_dump_finds_what_the_native_bundle_finds() {
    let Some(cluster) = cluster::shared("a_real_cluster_info_dump_finds_what_the_native_bundle_finds") else {
        return;
    };
    cluster.apply_scenario("prod-simulation");
    cluster.apply_scenario("failure-catalog");
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"));

    let dump = dir.path().join("dump");
    let dump_arg = dump.to_string_lossy().into_owned();
    cluster.kubectl(&["cluster-info", "dump", "--all-namespaces", "--output-directory", &dump_arg]);

    let bundle = dir.path().join("native.tar.gz");
    let output = Command::new(env!("CARGO_BIN_EXE_kubesnap-collect-dup"))
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .arg("-o")
        .arg(&bundle)
        .args(["--no-progress", "--metrics-duration", "0"])
        .output()
        .unwrap_or_else(|err| panic!("failed to start the collector: {err}"));
    assert!(output.status.success(), "the collector failed: {}", String::from_utf8_lossy(&output.stderr));

    let native = model(&bundle);
    let foreign = model(&dump);
    assert_eq!(foreign.format, Some(SourceFormat::ClusterInfoDump), "the dump was not detected as one");
    assert_eq!(native.format, Some(SourceFormat::Native));
    let pods = |model: &ClusterModel| model.of_kind("Pod").count();
    assert_eq!(pods(&foreign), pods(&native), "the dump and the bundle hold different numbers of pods");
    assert!(!foreign.logs.is_empty(), "the dump's pod logs were not read");

    let (native_findings, _) = kubesnap_analyzer::analyze(&native);
    let (dump_findings, _) = kubesnap_analyzer::analyze(&foreign);
    let expected = comparable(&native_findings);
    let found = comparable(&dump_findings);
    for code in ["crash-loop-backoff", "oom-killed", "image-pull-backoff", "pod-pending-unschedulable"] {
        assert!(
            expected.iter().any(|key| key.starts_with(code)),
            "the native bundle of the failure catalog lacks {code}: {expected:#?}"
        );
    }
    let missed: Vec<&String> = expected.difference(&found).collect();
    assert!(missed.is_empty(), "the dump's analysis misses what the native bundle finds: {missed:#?}");

    // What a dump cannot carry is said, not taken as healthy.
    let gaps: Vec<String> = foreign.gaps.iter().map(|gap| gap.what.clone()).collect();
    for lacking in ["metrics", "previous container logs"] {
        assert!(
            gaps.iter().any(|gap| gap.contains(lacking)),
            "the dump's import does not report lacking {lacking}: {gaps:#?}"
        );
    }
}
