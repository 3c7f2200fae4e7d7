//! Diagnostic `test-plugin-failed`: conformance test plugins that failed;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::PluginResult;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::conformance::{plugin_pods, size_need};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "test-plugin-failed",
    category: Category::Cluster,
    title: "Conformance test plugins that failed",
    severities: &[Severity::P2],
    what: "The results of a conformance run's test plugins (sonobuoy's \
           `plugins/<plugin>/sonobuoy_results.yaml`, whatever the plugin's own format): a plugin whose \
           results say `failed`, or that holds failed tests. One finding per plugin, with how many tests \
           ran, passed, failed and were skipped, and each failed test with its message; the plugin's pods \
           are named when the bundle holds them.",
    why: "A failed conformance or e2e run is what the bundle was taken for; the failed tests' messages say \
          whether the cluster or the test environment is at fault.",
    fix: "Read each failed test's message; fix what it names in the cluster, or run the suite where the \
          environment fits it, then rerun only the failed tests (`sonobuoy run --rerun-failed`).",
    example: "`Test plugin e2e failed: 4 of 25 tests failed (21 passed, 5746 skipped)`.",
    needs: &[],
    run,
};

/// The failed tests quoted in a finding; the rest are counted.
const QUOTED: usize = 10;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    facts
        .cluster()
        .plugin_results
        .iter()
        .filter(|result| result.failed > 0 || result.status == "failed")
        .map(|result| finding(facts, result))
        .collect()
}

fn finding(facts: &Facts<'_>, result: &PluginResult) -> Finding {
    let ran = result.passed + result.failed + result.other;
    let title = if ran == 0 {
        format!("Test plugin {} failed without test results", result.plugin)
    } else {
        format!(
            "Test plugin {} failed: {} of {ran} tests failed ({} passed, {} skipped)",
            result.plugin, result.failed, result.passed, result.skipped
        )
    };
    let mut finding = DIAGNOSTIC.finding(Severity::P2, title);
    let pods = plugin_pods(facts.cluster(), &result.plugin);
    for pod in &pods {
        finding = finding.object(pod.reference());
    }
    finding = finding.evidence(Evidence::note(format!(
        "{}: status {}, {} passed, {} failed, {} skipped{}",
        result.source,
        if result.status.is_empty() { "not given" } else { &result.status },
        result.passed,
        result.failed,
        result.skipped,
        if result.other > 0 { format!(", {} with another status", result.other) } else { String::new() }
    )));
    for pod in &pods {
        if let Some(phase) = pod.str_at("/status/phase") {
            finding = finding.evidence(Evidence::note(format!(
                "Pod {}/{}: phase {phase}",
                pod.namespace.as_deref().unwrap_or_default(),
                pod.name
            )));
        }
    }
    for failure in result.failures.iter().take(QUOTED) {
        let text = if failure.message.is_empty() {
            format!("failed: {}", failure.name)
        } else {
            format!("failed: {}: {}", failure.name, failure.message)
        };
        finding = finding.evidence(Evidence::note(text));
    }
    if result.failures.len() > QUOTED {
        finding = finding
            .evidence(Evidence::note(format!("and {} more failed tests", result.failures.len() - QUOTED)));
    }
    let environment = result.failures.iter().filter(|failure| size_need(failure).is_some()).count();
    let mut explanation = format!(
        "The {} plugin's results say the run failed. Each failed test's message says what it met: a fault of \
         the cluster, or of the environment the suite ran in.",
        result.plugin
    );
    if environment > 0 {
        explanation.push_str(&format!(
            " {environment} of the {} failures say the cluster is too small for them (see \
             cluster-too-small-for-tests): those are about the test environment, not a fault of the cluster.",
            result.failures.len()
        ));
    }
    finding
        .explanation(explanation)
        .remediation(format!("sonobuoy results <results.tar.gz> --plugin {} --mode detailed", result.plugin))
        .remediation("sonobuoy run --rerun-failed <results.tar.gz>")
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use kubesnap_shared::model::TestFailure;

    use super::*;
    use crate::testing::{model_from_yaml, render};

    fn result(status: &str, passed: u64, failures: &[(&str, &str)]) -> PluginResult {
        PluginResult {
            plugin: "e2e".into(),
            status: status.into(),
            passed,
            failed: failures.len() as u64,
            skipped: 7,
            other: 0,
            failures: failures
                .iter()
                .map(|(name, message)| TestFailure { name: (*name).into(), message: (*message).into() })
                .collect(),
            source: "plugins/e2e/sonobuoy_results.yaml".into(),
        }
    }

    const PLUGIN_POD: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: sonobuoy-e2e-job-1
  namespace: sonobuoy
  labels: {sonobuoy-plugin: e2e}
status: {phase: Failed}
"#;

    #[test]
    fn failed_tests_with_their_messages_and_the_plugin_pod() {
        let mut model = model_from_yaml(PLUGIN_POD);
        model.plugin_results.push(result(
            "failed",
            21,
            &[(
                "[sig-apps] Daemon set rollback",
                "Conformance test suite needs a cluster with at least 2 nodes.",
            )],
        ));
        expect![[r#"
            P2 test-plugin-failed Test plugin e2e failed: 1 of 22 tests failed (21 passed, 7 skipped)
              objects: Pod/sonobuoy/sonobuoy-e2e-job-1
              note: plugins/e2e/sonobuoy_results.yaml: status failed, 21 passed, 1 failed, 7 skipped
              note: Pod sonobuoy/sonobuoy-e2e-job-1: phase Failed
              note: failed: [sig-apps] Daemon set rollback: Conformance test suite needs a cluster with at least 2 nodes.
              why: The e2e plugin's results say the run failed. Each failed test's message says what it met: a fault of the cluster, or of the environment the suite ran in. 1 of the 1 failures say the cluster is too small for them (see cluster-too-small-for-tests): those are about the test environment, not a fault of the cluster.
              $ sonobuoy results <results.tar.gz> --plugin e2e --mode detailed
              $ sonobuoy run --rerun-failed <results.tar.gz>
        "#]]
        .assert_eq(&render(&run(&Facts::new(&model))));
    }

    #[test]
    fn a_passed_run_is_no_finding() {
        let mut model = model_from_yaml(PLUGIN_POD);
        model.plugin_results.push(result("passed", 25, &[]));
        assert!(run(&Facts::new(&model)).is_empty());
    }
}
