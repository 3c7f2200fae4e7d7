//! Diagnostic `oom-killed`: containers killed for running out of memory;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::Object;
use kubesnap_shared::quantity;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::containers::{self, ContainerStatus};
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::workload::group_by_workload;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "oom-killed",
    category: Category::Pods,
    title: "Containers killed for running out of memory",
    severities: &[Severity::P1, Severity::P2],
    what: "Containers whose current or previous run was ended by the kernel's out-of-memory killer \
           (`OOMKilled`), with their memory limit and, when the bundle has metrics, the highest memory \
           seen.",
    why: "The kernel kills a container that uses more memory than its limit (or when the node runs out): \
          in-flight work is lost and the container restarts, again and again if the limit is too low.",
    fix: "Raise the memory limit above the real peak (plus headroom), or find the leak; without a limit, set \
          requests so the scheduler places the pod where memory exists.",
    example: "`Pod shop/api-1: container api OOMKilled (limit 512Mi, restarted 7 times)` with `kubectl set \
              resources deployment/api -n shop -c api --limits=memory=768Mi`.",
    needs: &[],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let affected: Vec<(&Object, Vec<ContainerStatus<'_>>)> = facts
        .cluster()
        .of_kind("Pod")
        .filter_map(|pod| {
            let killed: Vec<ContainerStatus<'_>> =
                containers::statuses(pod).into_iter().filter(|status| oom_killed(status)).collect();
            (!killed.is_empty()).then_some((pod, killed))
        })
        .collect();
    let mut findings = Vec::new();
    for group in group_by_workload(facts, affected) {
        let Some((pod, killed)) = group.pods.first() else { continue };
        let status = killed[0];
        let down = group.pods.iter().any(|(_, killed)| killed.iter().any(|status| !status.running()));
        let severity = if down { Severity::P1 } else { Severity::P2 };
        let pod_ref = pod.reference();
        let spec = pod.at("/spec").and_then(|spec| containers::spec(spec, status.name));
        let limit = spec.and_then(|spec| spec.pointer("/resources/limits/memory")).and_then(|v| v.as_str());
        let limit_text =
            limit.map(|limit| format!("limit {limit}")).unwrap_or_else(|| "no memory limit".to_owned());
        let title = match &group.workload {
            Some(_) => format!("{}: container {} OOMKilled ({limit_text})", group.label(), status.name),
            None => format!(
                "{}: container {} OOMKilled ({limit_text}, restarted {} times)",
                group.label(),
                status.name,
                status.restart_count()
            ),
        };
        let mut finding = DIAGNOSTIC.finding(severity, title);
        for object in group.objects() {
            finding = finding.object(object);
        }
        let termination =
            status.current_termination().filter(|t| t.reason == "OOMKilled").or(status.last_termination());
        if let Some(termination) = &termination {
            finding = finding.evidence(Evidence::field(
                pod_ref.clone(),
                format!("{}/reason", termination.pointer),
                &termination.reason.into(),
            ));
            if let Some(finished_at) = termination.finished_at {
                finding = finding.evidence(Evidence::field(
                    pod_ref.clone(),
                    format!("{}/finishedAt", termination.pointer),
                    &finished_at.into(),
                ));
            }
        }
        finding = finding.evidence(Evidence::field(
            pod_ref.clone(),
            status.pointer("restartCount"),
            &status.restart_count().into(),
        ));
        if let Some(limit) = limit {
            finding = finding.evidence(Evidence::field(
                pod_ref.clone(),
                container_pointer(pod, status.name, "resources/limits/memory"),
                &limit.into(),
            ));
        }
        let peak = facts
            .cluster()
            .pod_metrics
            .iter()
            .find(|series| {
                series.key.namespace == pod.namespace.as_deref().unwrap_or_default()
                    && series.key.pod == pod.name
                    && series.key.container == status.name
            })
            .and_then(|series| series.samples.iter().map(|sample| sample.memory_bytes).reduce(f64::max));
        if let Some(peak) = peak {
            finding = finding.evidence(Evidence::Metric {
                series: format!(
                    "memory {}/{}/{}",
                    pod.namespace.as_deref().unwrap_or_default(),
                    pod.name,
                    status.name
                ),
                statistic: "max".to_owned(),
                value: (peak / 1_048_576.0).round(),
                unit: "MiB".to_owned(),
            });
        }
        if group.pods.len() > 1 {
            finding = finding
                .evidence(Evidence::note(format!("also OOMKilled: {}", group.other_pods().join(", "))));
        }
        let limit_bytes = limit.and_then(quantity::bytes);
        let mut explanation = match limit {
            Some(limit) => format!(
                "Container `{}` of pod {} used more memory than its limit of {limit} and the kernel \
                 killed it (exit code 137); it restarted {} times.",
                status.name,
                pod.name,
                status.restart_count()
            ),
            None => format!(
                "Container `{}` of pod {} has no memory limit and was killed when its node ran out of memory \
                 (exit code 137); it restarted {} times.",
                status.name,
                pod.name,
                status.restart_count()
            ),
        };
        if down {
            explanation.push_str(" It is not running now.");
        } else {
            explanation.push_str(" It runs again, and will be killed again when its memory grows back.");
        }
        finding = finding.explanation(explanation);
        finding = finding.remediation(kubectl::describe(&pod_ref)).remediation(kubectl::logs(
            &pod_ref,
            status.name,
            true,
        ));
        if let (Some(workload), Some(bytes)) = (&group.workload, limit_bytes) {
            // 1.5x the old limit, in whole MiB: a starting point to confirm with the peak.
            let raised = (bytes * 1.5 / 1_048_576.0).ceil();
            finding = finding.remediation(
                kubectl::on("set resources", workload)
                    .arg("-c")
                    .name(status.name)
                    .joined("--limits=memory=", &format!("{raised}Mi")),
            );
        }
        findings.push(
            finding.remediation(
                Kubectl::new("top pod").name(&pod.name).namespace_of(&pod_ref).arg("--containers"),
            ),
        );
    }
    findings
}

fn oom_killed(status: &ContainerStatus<'_>) -> bool {
    [status.current_termination(), status.last_termination()]
        .iter()
        .flatten()
        .any(|termination| termination.reason == "OOMKilled")
}

/// The JSON pointer of a field of the named container in the pod's spec.
fn container_pointer(pod: &Object, name: &str, field: &str) -> String {
    let index = pod
        .array_at("/spec/containers")
        .iter()
        .position(|container| container.get("name").and_then(|v| v.as_str()) == Some(name));
    match index {
        Some(index) => format!("/spec/containers/{index}/{field}"),
        None => format!("/spec/containers/{name}/{field}"),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    fn pod(state: &str, last: &str) -> String {
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: worker, namespace: batch}}
spec: {{containers: [{{name: side, image: s}}, {{name: work, image: w, resources: {{limits: {{memory: 512Mi}}}}}}]}}
status:
  containerStatuses:
  - {{name: side, restartCount: 0, state: {{running: {{}}}}}}
  - name: work
    restartCount: 7
    state: {state}
    lastState: {last}
---
kind: MetricSeries
namespace: batch
pod: worker
container: work
samples:
- {{at: "2025-06-01T11:50:00Z", cpu: 100m, memory: 300Mi}}
- {{at: "2025-06-01T11:51:00Z", cpu: 100m, memory: 509Mi}}
"#
        )
    }

    #[test]
    fn a_container_oom_killed_and_down_is_p1_with_its_limit_and_peak() {
        check(
            &DIAGNOSTIC,
            &pod(
                "{waiting: {reason: CrashLoopBackOff}}",
                r#"{terminated: {exitCode: 137, reason: OOMKilled, finishedAt: "2025-06-01T11:52:00Z"}}"#,
            ),
            expect![[r#"
                P1 oom-killed Pod batch/worker: container work OOMKilled (limit 512Mi, restarted 7 times)
                  objects: Pod/batch/worker
                  field Pod/batch/worker /status/containerStatuses/1/lastState/terminated/reason = OOMKilled
                  field Pod/batch/worker /status/containerStatuses/1/lastState/terminated/finishedAt = 2025-06-01T11:52:00Z
                  field Pod/batch/worker /status/containerStatuses/1/restartCount = 7
                  field Pod/batch/worker /spec/containers/1/resources/limits/memory = 512Mi
                  metric memory batch/worker/work max = 509 MiB
                  why: Container `work` of pod worker used more memory than its limit of 512Mi and the kernel killed it (exit code 137); it restarted 7 times. It is not running now.
                  $ kubectl describe pod worker -n batch
                  $ kubectl logs worker -n batch -c work --previous --tail=50
                  $ kubectl top pod worker -n batch --containers
            "#]],
        );
    }

    #[test]
    fn a_recovered_container_is_p2_and_other_exits_are_ignored() {
        check(
            &DIAGNOSTIC,
            &pod("{running: {}}", r#"{terminated: {exitCode: 137, reason: OOMKilled}}"#),
            expect![[r#"
                P2 oom-killed Pod batch/worker: container work OOMKilled (limit 512Mi, restarted 7 times)
                  objects: Pod/batch/worker
                  field Pod/batch/worker /status/containerStatuses/1/lastState/terminated/reason = OOMKilled
                  field Pod/batch/worker /status/containerStatuses/1/restartCount = 7
                  field Pod/batch/worker /spec/containers/1/resources/limits/memory = 512Mi
                  metric memory batch/worker/work max = 509 MiB
                  why: Container `work` of pod worker used more memory than its limit of 512Mi and the kernel killed it (exit code 137); it restarted 7 times. It runs again, and will be killed again when its memory grows back.
                  $ kubectl describe pod worker -n batch
                  $ kubectl logs worker -n batch -c work --previous --tail=50
                  $ kubectl top pod worker -n batch --containers
            "#]],
        );
        check(
            &DIAGNOSTIC,
            &pod("{running: {}}", r#"{terminated: {exitCode: 1, reason: Error}}"#),
            expect![[r#"
                no findings
            "#]],
        );
    }
}
