//! The test control plane is real and does what the collector tests rely on: Ready kwok nodes,
//! the scenarios' pods in their intended states, `kubectl logs` (and `--previous`) serving the
//! scenarios' lines, `kubectl top` serving usage that changes over time, and discovery listing
//! the aggregated `metrics.k8s.io` API and a CRD (issue 3's proof, run by `tests/cluster/smoke`
//! with the real `kubectl` against the cluster the test command started).

use std::process::Command;

use kubesnap_tests::{cluster, repo};

#[test]
fn control_plane_serves_nodes_scenarios_logs_metrics_and_discovery() {
    let Some(cluster) = cluster::shared("control_plane_serves_nodes_scenarios_logs_metrics_and_discovery")
    else {
        return;
    };
    let dir = cluster.dir.expect(
        "the smoke check needs the cluster's folder (KUBESNAP_TEST_CLUSTER_DIR, set by tests/run-all)",
    );
    let output = Command::new(repo().join("tests/cluster/smoke"))
        .arg(&dir)
        .output()
        .expect("tests/cluster/smoke could not be started");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "tests/cluster/smoke failed:\n{log}{}",
        String::from_utf8_lossy(&output.stdout)
    );
    for proof in ["kubectl get nodes", "logs", "top", "metrics.k8s.io"] {
        assert!(log.contains(proof), "smoke passed without proving `{proof}`:\n{log}");
    }
}
