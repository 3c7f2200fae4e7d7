//! Diagnostic `log-warning-patterns`: warning patterns in logs;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use super::family_finding;
use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::logs::families::WARNINGS;
use crate::facts::logs::patterns::{self, Group};
use crate::finding::{Category, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "log-warning-patterns",
    category: Category::Logs,
    title: "Warning patterns in logs",
    severities: &[Severity::P2, Severity::P3],
    what: "The five core warning families (`high_cpu`, `high_memory`, `slow_response`, `retry_attempt`, \
           `deprecated_api`) in every container log and node journal, one finding per family per workload \
           (pod, node), with counts per pod and container and sample lines. **Severity.** P3: warnings are \
           hints. CPU throttling (a `high_cpu` line that says `throttl...`) is P2, as `K8sLogAnalyzer` \
           singles it out: a throttled container answers slower.",
    why: "Retries and slow responses show a failing dependency before errors do; CPU throttling slows a \
          service; deprecations break at the next upgrade.",
    fix: "Find what is retried or slow; raise CPU limits of throttled containers; migrate off deprecated \
          APIs.",
    example: "`Deployment shop/api: retry warnings in logs (40 lines, 2 pods)`.",
    needs: &[Need::Logs],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    patterns::groups(facts.cluster(), WARNINGS)
        .iter()
        .map(|group| family_finding::finding(&DIAGNOSTIC, facts, group, severity(group), "warnings"))
        .collect()
}

fn severity(group: &Group<'_>) -> Severity {
    let throttled = group.family.code == "high_cpu"
        && group
            .logs
            .iter()
            .flat_map(|hits| &hits.samples)
            .any(|line| line.text.to_ascii_lowercase().contains("throttl"));
    if throttled { Severity::P2 } else { group.family.severity }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    #[test]
    fn throttling_is_p2_and_retries_p3() {
        let fixture = r#"
apiVersion: v1
kind: Pod
metadata: {name: worker, namespace: jobs}
spec: {containers: [{name: w, image: w:1, resources: {limits: {cpu: 200m}}}]}
---
kind: ContainerLog
namespace: jobs
pod: worker
container: w
lines:
- "2025-06-01T11:50:00Z WARN CPU throttling detected: 80% of periods throttled"
- "2025-06-01T11:50:05Z WARN upstream busy, retrying in 5s"
"#;
        check(
            &DIAGNOSTIC,
            fixture,
            expect![[r#"
                P2 log-warning-patterns Pod jobs/worker: high CPU warnings in logs (1 line, 1 pod)
                  objects: Pod/jobs/worker
                  note: pod worker, container w (current run): 1 line, at 2025-06-01T11:50:00Z
                  log logs/jobs/worker/w.log:1: 2025-06-01T11:50:00Z WARN CPU throttling detected: 80% of periods throttled
                  note: container w of pod worker: cpu limit 200m
                  why: 1 log line of Pod jobs/worker matches the `high_cpu` pattern. Consider increasing CPU limits or optimizing application performance. Monitor: kubectl top pods, CPU usage patterns, and application profiling.
                  $ kubectl logs worker -n jobs -c w --tail=50
                  $ kubectl top pod worker -n jobs --containers
                P3 log-warning-patterns Pod jobs/worker: retry warnings in logs (1 line, 1 pod)
                  objects: Pod/jobs/worker
                  note: pod worker, container w (current run): 1 line, at 2025-06-01T11:50:05Z
                  log logs/jobs/worker/w.log:2: 2025-06-01T11:50:05Z WARN upstream busy, retrying in 5s
                  why: 1 log line of Pod jobs/worker matches the `retry_attempt` pattern. Retries hide a failing dependency until they run out: find what is retried.
                  $ kubectl logs worker -n jobs -c w --tail=50
            "#]],
        );
    }

    #[test]
    fn quiet_logs_have_no_warnings() {
        let fixture = r#"
kind: ContainerLog
namespace: jobs
pod: worker
container: w
lines: ["2025-06-01T11:50:00Z INFO done in 3ms"]
"#;
        check(
            &DIAGNOSTIC,
            fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
