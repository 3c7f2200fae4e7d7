//! `kubesnap-analyze serve` read by real kubectl: sbctl's expected answers for its bundle,
//! `kubectl get all -A` on every foreign sample, logs, events, describe, the refusals of a
//! read-only bundle, and the bearer token. Bundles from `../shared/realdata`, read in place.

#![cfg(test)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn realdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata").join(relative)
}

/// kubectl 1.33 when the machine has it beside the default one.
fn kubectl_program() -> String {
    let versioned = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .any(|dir| dir.join("kubectl.1.33").is_file());
    if versioned { "kubectl.1.33".to_owned() } else { "kubectl".to_owned() }
}

/// A running `serve` and the kubeconfig it wrote.
struct Served {
    child: Child,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(bundle: &Path) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let child = Command::new(env!("CARGO_BIN_EXE_kubesnap-analyze"))
        .arg("serve")
        .arg(bundle)
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        .arg("-q")
        .stdin(Stdio::null())
        .spawn()
        .expect("failed to start kubesnap-analyze serve");
    let started = Instant::now();
    while !std::fs::read_to_string(&kubeconfig).is_ok_and(|text| text.contains("current-context")) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "serve wrote no kubeconfig for {}",
            bundle.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Served { child, kubeconfig, _dir: dir }
}

impl Served {
    fn kubectl(&self, args: &[&str]) -> Output {
        Command::new(kubectl_program())
            .args(args)
            .arg("--request-timeout=30s")
            .env("KUBECONFIG", &self.kubeconfig)
            .output()
            .expect("kubectl is needed by these tests (kubectl.1.33 or kubectl on PATH)")
    }

    /// stdout of a kubectl command that must succeed.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.kubectl(args);
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

/// A kubectl table's rows, cells split where kubectl pads (two spaces or more).
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            line.split("  ").map(str::trim).filter(|cell| !cell.is_empty()).map(str::to_owned).collect()
        })
        .collect()
}

/// A cell as sbctl's expectation prints it: numbers bare, `(… ago)` and ages left out by the
/// caller (sbctl recorded them against the time its tests ran, not the bundle's).
fn cell(value: &Value) -> String {
    match value {
        Value::String(text) => text.split(" (").next().unwrap_or_default().to_owned(),
        other => other.to_string(),
    }
}

const SBCTL: &str = "replicatedhq__sbctl/tests/support-bundle";

#[test]
fn sbctl_expected_answers_are_reproduced() {
    let served = serve(&realdata(SBCTL));
    let results = realdata("replicatedhq__sbctl/tests/results");
    let cases: [(&str, &[&str], usize); 5] = [
        ("pods_all_namespaces.json", &["get", "pods", "-A", "-o", "wide"], 4),
        ("pods_velero_namespace.json", &["get", "pods", "-n", "velero", "-o", "wide"], 4),
        ("pods_restic_only.json", &["get", "pods", "-n", "velero", "-l", "name=restic", "-o", "wide"], 4),
        ("configmaps_all_namespaces.json", &["get", "configmaps", "-A"], 2),
        ("configmaps_kube_public_namespace.json", &["get", "configmaps", "-n", "kube-public"], 2),
    ];
    for (file, args, age_column) in cases {
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(results.join(file)).unwrap()).unwrap();
        let all_namespaces = args.contains(&"-A");
        let mut got = rows(&served.ok(args));
        let header = got.remove(0);
        let expected_header: Vec<String> = expected["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|column| column["name"].as_str().unwrap().to_uppercase())
            .collect();
        let header = if all_namespaces { header[1..].to_vec() } else { header };
        assert_eq!(header, expected_header, "{file}: columns");
        let expected_rows = expected["rows"].as_array().unwrap();
        let mut expected_names: Vec<(String, String)> = expected_rows
            .iter()
            .map(|row| {
                let metadata = &row["object"]["metadata"];
                (
                    metadata["namespace"].as_str().unwrap().to_owned(),
                    metadata["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        expected_names.sort();
        let mut got_names: Vec<(String, String)> = got
            .iter()
            .map(|row| {
                if all_namespaces {
                    (row[0].clone(), row[1].clone())
                } else {
                    (String::new(), row[0].clone())
                }
            })
            .collect();
        got_names.sort();
        if !all_namespaces {
            expected_names.iter_mut().for_each(|(namespace, _)| namespace.clear());
        }
        // sbctl's configmaps -A answer holds only some namespaces' configmaps: every one it
        // holds must be served as it says; the pods' answers are whole.
        if file.starts_with("pods") {
            assert_eq!(got_names, expected_names, "{file}: rows");
        }
        for row in expected_rows {
            let cells: Vec<String> = row["cells"].as_array().unwrap().iter().map(cell).collect();
            let name = &cells[0];
            let namespace = row["object"]["metadata"]["namespace"].as_str().unwrap();
            let served_row = got
                .iter()
                .map(|row| if all_namespaces { row[1..].to_vec() } else { row.clone() })
                .zip(&got_names)
                .find(|(row, _)| &row[0] == name)
                .map(|(row, _)| row)
                .unwrap_or_else(|| panic!("{file}: {namespace}/{name} not served"));
            let served_cells: Vec<String> =
                served_row.iter().map(|c| c.split(" (").next().unwrap().to_owned()).collect();
            for (index, (want, have)) in cells.iter().zip(&served_cells).enumerate() {
                if index != age_column {
                    assert_eq!(have, want, "{file}: {name}, column {}", expected_header[index]);
                }
            }
            assert_eq!(served_cells.len(), cells.len(), "{file}: {name}: {served_cells:?}");
        }
    }
}

#[test]
fn kubectl_reads_a_troubleshoot_bundle_as_a_cluster() {
    let served = serve(&realdata(SBCTL));
    // Discovery: built-in kinds, CRDs and their custom resources.
    let resources = served.ok(&["api-resources"]);
    for line in ["pods ", "deployments ", "cronjobs ", "volumes ", "backupstoragelocations "] {
        assert!(resources.lines().any(|l| l.starts_with(line)), "api-resources lacks {line}:\n{resources}");
    }
    let all = served.ok(&["get", "all", "-A"]);
    for kind in ["pod/", "service/", "deployment.apps/", "replicaset.apps/"] {
        assert!(all.contains(kind), "get all -A lacks {kind}:\n{all}");
    }
    let volumes = served.ok(&["get", "volumes.longhorn.io", "-n", "longhorn-system"]);
    assert!(volumes.starts_with("NAME"), "{volumes}");
    // Selectors and output forms.
    let names =
        served.ok(&["get", "pods", "-n", "velero", "--field-selector", "status.phase=Running", "-o", "name"]);
    assert!(names.lines().all(|line| line.starts_with("pod/")) && names.lines().count() >= 3, "{names}");
    let json: Value =
        serde_json::from_str(&served.ok(&["get", "pod", "-n", "velero", "restic-5dkdh", "-o", "json"]))
            .unwrap();
    assert_eq!(json["spec"]["nodeName"], "troubleshoot-demo-002");
    let yaml = served.ok(&["get", "pod", "-n", "velero", "restic-5dkdh", "-o", "yaml"]);
    assert!(yaml.contains("nodeName: troubleshoot-demo-002"), "{yaml}");
    let jsonpath = served.ok(&[
        "get",
        "pods",
        "-n",
        "velero",
        "-l",
        "name=restic",
        "-o",
        "jsonpath={.items[*].metadata.name}",
    ]);
    assert_eq!(jsonpath, "restic-5dkdh restic-cccz9 restic-f8vwl");
    let nodes = served.ok(&["get", "nodes"]);
    assert!(
        nodes.starts_with("NAME ") && nodes.contains("troubleshoot-demo-001") && nodes.contains(" Ready "),
        "{nodes}"
    );
    // Logs: the default container, --previous, --tail.
    let pods = served.ok(&["get", "pods", "-n", "velero", "-o", "name"]);
    let crashing = pods.lines().find(|line| line.contains("velero-6996dd565b")).unwrap().trim();
    let previous = served.ok(&["logs", "-n", "velero", crashing, "--previous", "--tail", "3"]);
    assert_eq!(previous.lines().count(), 3, "{previous}");
    // Describe and its event look-up.
    let describe = served.ok(&["describe", "-n", "velero", crashing]);
    assert!(describe.contains("Name:") && describe.contains("Events:"), "{describe}");
    let version = served.ok(&["version", "-o", "json"]);
    assert!(version.contains("\"gitVersion\": \"v1.23.5\""), "{version}");
}

#[test]
fn what_a_bundle_cannot_do_is_refused_with_a_reason() {
    let served = serve(&realdata(SBCTL));
    let refused = |args: &[&str], why: &str| {
        let started = Instant::now();
        let output = served.kubectl(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "kubectl {args:?} succeeded");
        assert!(stderr.contains(why), "kubectl {args:?}: {stderr}");
        assert!(started.elapsed() < Duration::from_secs(20), "kubectl {args:?} hung");
    };
    refused(&["delete", "pod", "-n", "velero", "restic-5dkdh"], "read-only bundle");
    refused(&["label", "node", "troubleshoot-demo-001", "x=y"], "read-only bundle");
    refused(&["exec", "-n", "velero", "restic-5dkdh", "--", "true"], "not running anywhere");
    refused(&["get", "pods", "-n", "velero", "nothere"], "not found");
    refused(&["get", "pods", "--token", "not-the-token"], "Unauthorized");
    // A watch answers what it holds and ends, with a warning that says why.
    let started = Instant::now();
    let output = served.kubectl(&["get", "pods", "-n", "velero", "-w"]);
    assert!(started.elapsed() < Duration::from_secs(20), "get -w hung");
    assert!(String::from_utf8_lossy(&output.stdout).contains("restic-5dkdh"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing changes after capture"));
}

#[test]
fn every_foreign_sample_serves_get_all() {
    let samples = [
        "replicatedhq__troubleshoot/testdata/supportbundle/support-bundle.tar.gz",
        "replicatedhq__troubleshoot/support-bundle-2021-03-24T00_39_51.tar.gz",
        "openshift__must-gather-clean/test/files/must-gather-metal.tar.xz",
        "vmware-tanzu__sonobuoy/pkg/discovery/testdata/healthsummary",
        "vmware-tanzu__sonobuoy/test/integration/testdata/results-4-e2e-failures.tar.gz",
        "rancher__support-bundle-kit/tests/integration/sampleSupportBundle",
        "Rancheroo__r8s/example-log-bundle/w-guard-wg-cp-svtk6-lqtxw-2025-11-27_04_19_09",
        "gmeghnag__omc/testdata",
    ];
    for sample in samples {
        let path = realdata(sample);
        assert!(path.exists(), "{sample} is missing");
        let model = kubesnap_analyzer::load::load(&path, &kubesnap_analyzer::load::LoadOptions::default())
            .unwrap_or_else(|error| panic!("{sample}: {error}"));
        let pods = model.of_kind("Pod").count();
        let served = serve(&path);
        let all = served.ok(&["get", "all", "-A"]);
        assert_eq!(
            all.lines().filter(|line| line.contains(" pod/")).count(),
            pods,
            "{sample}: get all -A:\n{all}"
        );
        let nodes = served.ok(&["get", "nodes", "-o", "name"]);
        assert_eq!(nodes.lines().count(), model.of_kind("Node").count(), "{sample}: get nodes");
        served.ok(&["get", "events", "-A"]);
    }
}
