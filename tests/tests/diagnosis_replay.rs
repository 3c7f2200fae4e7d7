//! Every root-cause class of the diagnosis, replayed on the real control plane: the
//! `diagnosis-replay` scenario (one namespace per class, kwok stages and kubelet events where a
//! kubelet would write the state) is applied to a cluster of this test's own, each namespace is
//! collected with `kubesnap-collect -n NS` and analyzed with `kubesnap-analyze`, and the first
//! root cause that names the namespace must be the expected one (`expected/root-causes.yaml` there says
//! what that means). Classes kubesnap does not diagnose yet are `pending`: the test prints,
//! per pending class, what kubesnap said and what is expected, and fails when one passes.

#![expect(clippy::panic, reason = "tests stop loudly")]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use kubesnap_tests::replay::{self, Expectation, Verdict};
use kubesnap_tests::{cluster, repo};
use serde_json::Value;

const SCENARIO: &str = "diagnosis-replay";

/// Straight to the process's stderr: libtest captures `eprintln!` of passing tests, and the
/// pending classes must be seen on every run.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Collects `expectation`'s namespaces into `dir/bundle.tar.gz`, analyzes it into `dir/out`,
/// and returns the report's root causes.
fn root_causes(kubeconfig: &Path, expectation: &Expectation, dir: &Path) -> Vec<Value> {
    let bundle = dir.join("bundle.tar.gz");
    let mut collect = Command::new(env!("CARGO_BIN_EXE_kubesnap-collect-dup"));
    collect.arg("--kubeconfig").arg(kubeconfig).arg("-o").arg(&bundle);
    collect.args(["--no-progress", "-q", "--metrics-duration", "0"]);
    for namespace in std::iter::once(&expectation.namespace).chain(&expectation.collect_also) {
        collect.args(["-n", namespace]);
    }
    let output = collect.stdout(Stdio::null()).output().unwrap_or_else(|err| panic!("collector: {err}"));
    assert!(
        output.status.success(),
        "{}: kubesnap-collect failed ({}):\n{}",
        expectation.namespace,
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let out = dir.join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_kubesnap-analyze-dup"))
        .arg(&bundle)
        .arg("-o")
        .arg(&out)
        .args(["--format", "json", "-q"])
        .stdout(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("analyzer: {err}"));
    // The analyzer's exit code says how severe the findings are; only its output matters here.
    let findings = std::fs::read_to_string(out.join("findings.json")).unwrap_or_else(|err| {
        panic!(
            "{}: kubesnap-analyze wrote no findings.json ({err}, {}):\n{}",
            expectation.namespace,
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let report: Value = serde_json::from_str(&findings)
        .unwrap_or_else(|err| panic!("{}: findings.json is not JSON: {err}", expectation.namespace));
    report["incident"]["root_causes"]
        .as_array()
        .unwrap_or_else(|| panic!("{}: findings.json has no incident.root_causes", expectation.namespace))
        .clone()
}

#[test]
fn every_root_cause_class_comes_first_on_its_replayed_scenario() {
    let test = "every_root_cause_class_comes_first_on_its_replayed_scenario";
    let scenario = repo().join("tests/cluster/scenarios").join(SCENARIO);
    let expectations = replay::expectations(&scenario.join("expected/root-causes.yaml"))
        .unwrap_or_else(|err| panic!("{err}"));
    // A cluster of its own: the scenario adds a NotReady, a cordoned and a tainted node, which
    // the other cluster tests must not see, and its bundles must not hold the other scenarios'.
    // KUBESNAP_REPLAY_CLUSTER_DIR names one `tests/cluster/up` started instead (kept running:
    // re-running the replay then takes seconds, for whoever works on a class).
    let reused = std::env::var_os("KUBESNAP_REPLAY_CLUSTER_DIR").map(std::path::PathBuf::from);
    // `_private` stops the private cluster when the test ends.
    let (_private, cluster) = match reused {
        Some(dir) => {
            say(&format!("{SCENARIO}: on the cluster of KUBESNAP_REPLAY_CLUSTER_DIR={}", dir.display()));
            (None, cluster::Cluster { kubeconfig: dir.join("kubeconfig"), dir: Some(dir) })
        }
        None => {
            let Some(private) = cluster::private(test) else { return };
            let cluster = private.cluster.clone();
            (Some(private), cluster)
        }
    };
    let started = Instant::now();
    cluster.apply_scenario(SCENARIO);
    say(&format!("{SCENARIO}: applied in {:?}", started.elapsed()));

    let work = tempfile::tempdir().unwrap_or_else(|err| panic!("tempdir: {err}"));
    let mut results: Vec<(&Expectation, String, Verdict)> = Vec::new();
    for expectation in &expectations {
        let dir = work.path().join(&expectation.namespace);
        std::fs::create_dir_all(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
        let causes = root_causes(&cluster.kubeconfig, expectation, &dir);
        let first = expectation.first(&causes);
        results.push((expectation, replay::summary(first), expectation.judge(first)));
    }
    say(&format!(
        "{SCENARIO}: {} namespaces collected and analyzed in {:?}",
        results.len(),
        started.elapsed()
    ));

    let mut failed = Vec::new();
    let mut now_passing = Vec::new();
    let mut pending = 0;
    for (expectation, said, verdict) in &results {
        let name = &expectation.namespace;
        match (expectation.pending, verdict.passed()) {
            (false, true) => say(&format!("ok       {name:<22} {said}")),
            (false, false) => {
                say(&format!("FAILED   {name:<22} {said}\n         {}", verdict.shortfall()));
                failed.push(name.clone());
            }
            (true, false) => {
                pending += 1;
                say(&format!(
                    "PENDING  {name:<22} ({})\n         kubesnap's first root cause: {said}\n         \
                     expected: {}\n         short of it: {}",
                    expectation.class,
                    expectation.cause,
                    verdict.shortfall()
                ));
            }
            (true, true) => {
                say(&format!(
                    "PASSES   {name:<22} {said}\n         but expected/root-causes.yaml lists it as pending: move it out"
                ));
                now_passing.push(name.clone());
            }
        }
    }
    say(&format!(
        "{SCENARIO}: {} of {} classes diagnosed first, {pending} pending",
        results.len() - failed.len() - now_passing.len() - pending,
        results.len()
    ));
    assert!(failed.is_empty(), "root cause not first or not specific enough for: {failed:?}");
    assert!(
        now_passing.is_empty(),
        "pending classes that now pass (remove `pending: true` in {}): {now_passing:?}",
        scenario.join("expected/root-causes.yaml").display()
    );
}
