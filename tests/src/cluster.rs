//! The real control plane for tests: one cluster per test run, scenarios applied once, and the
//! real `kubectl` to compare with.
//!
//! The cluster is the one the test command started (`tests/run-all` exports
//! `KUBESNAP_TEST_KUBECONFIG` and `KUBESNAP_TEST_CLUSTER_DIR`), so that every test binary shares
//! it. Without one, the first test that asks starts a cluster with `tests/cluster/up` into a
//! temporary folder, and a guardian process stops it with `tests/cluster/down` when the test
//! process exits (statics are never dropped, so a `Drop` could not do it).
//!
//! A missing cluster fails the test with a clear message. Only `KUBESNAP_SKIP_CLUSTER=1` skips,
//! and then loudly: `SKIPPED (KUBESNAP_SKIP_CLUSTER=1): <test>` on stderr.

#![expect(clippy::print_stderr, clippy::panic, reason = "test helper: failures must stop the test loudly")]

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

use crate::repo;

/// A running cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// The admin kubeconfig.
    pub kubeconfig: PathBuf,
    /// The folder `tests/cluster/up` wrote (pids, logs, env), when known.
    pub dir: Option<PathBuf>,
}

static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();
static APPLIED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// The shared cluster, or `None` (after printing the SKIPPED line) when
/// `KUBESNAP_SKIP_CLUSTER=1`. Panics with the reason when no cluster can be had.
pub fn shared(test: &str) -> Option<Cluster> {
    if skipped(test) {
        return None;
    }
    match SHARED.get_or_init(find_or_start) {
        Ok(cluster) => Some(cluster.clone()),
        Err(why) => panic!(
            "{test}: no Kubernetes test cluster: {why}\n(set KUBESNAP_SKIP_CLUSTER=1 to skip cluster tests)"
        ),
    }
}

/// A cluster of this test's own, for tests that break it (killing the API server). Stopped
/// when the returned guard is dropped.
pub fn private(test: &str) -> Option<PrivateCluster> {
    if skipped(test) {
        return None;
    }
    match start(test) {
        Ok(cluster) => Some(PrivateCluster { cluster }),
        Err(why) => panic!("{test}: could not start a private test cluster: {why}"),
    }
}

/// A cluster that is stopped on drop.
#[derive(Debug)]
pub struct PrivateCluster {
    pub cluster: Cluster,
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if let Some(dir) = &self.cluster.dir {
            let _ = Command::new(repo().join("tests/cluster/down")).arg(dir).stdout(Stdio::null()).status();
        }
    }
}

fn skipped(test: &str) -> bool {
    if std::env::var("KUBESNAP_SKIP_CLUSTER").as_deref() == Ok("1") {
        // Straight to the process's stderr: libtest captures `eprintln!` of passing tests,
        // and a skip must be seen.
        let _ = writeln!(std::io::stderr(), "SKIPPED (KUBESNAP_SKIP_CLUSTER=1): {test}");
        return true;
    }
    false
}

fn find_or_start() -> Result<Cluster, String> {
    if let Some(kubeconfig) = std::env::var_os("KUBESNAP_TEST_KUBECONFIG") {
        let kubeconfig = PathBuf::from(kubeconfig);
        if !kubeconfig.is_file() {
            return Err(format!("KUBESNAP_TEST_KUBECONFIG={} is not a file", kubeconfig.display()));
        }
        let dir = std::env::var_os("KUBESNAP_TEST_CLUSTER_DIR").map(PathBuf::from);
        return Ok(Cluster { kubeconfig, dir });
    }
    start("shared")
}

/// Starts a cluster with `tests/cluster/up` into a fresh temporary folder, with a guardian
/// that stops it when this process exits.
fn start(label: &str) -> Result<Cluster, String> {
    let base = std::env::temp_dir().join(format!("kubesnap-test-cluster-{}-{label}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    eprintln!("starting a test cluster in {} (tests/cluster/up)...", base.display());
    let output = Command::new(repo().join("tests/cluster/up"))
        .arg(&base)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|err| format!("failed to run tests/cluster/up: {err}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(25).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!("tests/cluster/up failed ({}):\n{}", output.status, tail.join("\n")));
    }
    // The guardian: waits for this test process to end, then stops the cluster.
    let down = repo().join("tests/cluster/down");
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; exec '{down}' '{dir}' >/dev/null 2>&1",
        pid = std::process::id(),
        down = down.display(),
        dir = base.display(),
    );
    Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| format!("failed to start the cluster guardian: {err}"))?;
    Ok(Cluster { kubeconfig: base.join("kubeconfig"), dir: Some(base) })
}

impl Cluster {
    /// Applies `tests/cluster/scenarios/<name>` once per cluster (the scenario's own
    /// namespaces); waits for its intended states.
    pub fn apply_scenario(&self, name: &str) {
        let mut applied = APPLIED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if applied.contains(name) {
            return;
        }
        let Some(dir) = &self.dir else {
            panic!(
                "applying scenario {name} needs KUBESNAP_TEST_CLUSTER_DIR (the folder tests/cluster/up wrote)"
            );
        };
        // Another test binary of this run applied it already: apply-scenario renders into
        // DIR/scenarios/NAME, and applying twice is not idempotent (a second rollout waits
        // on a deployment meant to be stuck).
        if dir.join("scenarios").join(name).is_dir() {
            applied.insert(name.to_owned());
            return;
        }
        let output = Command::new(repo().join("tests/cluster/apply-scenario"))
            .arg(dir)
            .arg(name)
            .output()
            .unwrap_or_else(|err| panic!("failed to run apply-scenario: {err}"));
        assert!(
            output.status.success(),
            "apply-scenario {name} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        applied.insert(name.to_owned());
    }

    /// Runs the real kubectl against this cluster; panics when it fails.
    pub fn kubectl(&self, args: &[&str]) -> String {
        let output = self.kubectl_output(args, None);
        assert!(
            output.status.success(),
            "kubectl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs kubectl with `stdin`, returning whatever happened.
    pub fn kubectl_output(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut command = Command::new(kubectl());
        command.env("KUBECONFIG", &self.kubeconfig).args(args);
        command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().unwrap_or_else(|err| panic!("failed to run kubectl: {err}"));
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            let _ = pipe.write_all(text.as_bytes());
        }
        child.wait_with_output().unwrap_or_else(|err| panic!("kubectl did not finish: {err}"))
    }

    /// `kubectl apply -f -` of a manifest.
    pub fn apply(&self, manifest: &str) {
        let output = self.kubectl_output(&["apply", "-f", "-"], Some(manifest));
        assert!(output.status.success(), "kubectl apply failed: {}", String::from_utf8_lossy(&output.stderr));
    }

    /// A kubeconfig for a ServiceAccount (token from the TokenRequest API), written to `path`.
    pub fn service_account_kubeconfig(&self, namespace: &str, name: &str, path: &Path) {
        let token = self.kubectl(&["create", "token", name, "-n", namespace, "--duration", "1h"]);
        let server = self.kubectl(&[
            "config",
            "view",
            "--minify",
            "--raw",
            "-o",
            "jsonpath={.clusters[0].cluster.server}",
        ]);
        let ca = self.kubectl(&[
            "config",
            "view",
            "--minify",
            "--raw",
            "-o",
            "jsonpath={.clusters[0].cluster.certificate-authority-data}",
        ]);
        let kubeconfig = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\n\
             users:\n- name: {name}\n  user:\n    token: {token}\ncontexts:\n- name: {name}\n  context:\n    cluster: test\n    user: {name}\n\
             current-context: {name}\n",
            token = token.trim(),
        );
        std::fs::write(path, kubeconfig)
            .unwrap_or_else(|err| panic!("failed to write {}: {err}", path.display()));
    }

    /// The pid of one control-plane process (`kube-apiserver`, `etcd`, ...), from `up`'s pid files.
    pub fn pid(&self, component: &str) -> Option<u32> {
        let dir = self.dir.as_ref()?;
        std::fs::read_to_string(dir.join("pids").join(format!("{component}.pid"))).ok()?.trim().parse().ok()
    }
}

/// The kubectl to use: `$KUBECTL`, else `kubectl.1.33` (the server's minor) when present.
pub fn kubectl() -> PathBuf {
    if let Some(kubectl) = std::env::var_os("KUBECTL") {
        return PathBuf::from(kubectl);
    }
    let versioned = Command::new("sh").args(["-c", "command -v kubectl.1.33"]).output();
    match versioned {
        Ok(output) if output.status.success() => {
            PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
        }
        _ => PathBuf::from("kubectl"),
    }
}
