//! Diagnostic `pod-restarts`: containers that restart repeatedly;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::Object;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::containers::{self, ContainerStatus};
use crate::facts::kubectl;
use crate::facts::workload::group_by_workload;
use crate::finding::{Category, Evidence, Finding, Severity};

/// Restarts from which a container is reported.
const THRESHOLD: i64 = 5;

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "pod-restarts",
    category: Category::Pods,
    title: "Containers that restart repeatedly",
    severities: &[Severity::P2, Severity::P3],
    what: "Containers that restarted at least 5 times but are neither crash-looping now nor \
           OOM-killed (crash-loop-backoff and oom-killed report those), with the last exit and the previous \
           run's last log lines. **Now or then.** When every such container has run and been ready for at \
           least 10 minutes before the capture, the restarts are history: one resolved \
           P3 note. Restarts whose last run was ended by its node (`Unknown`, after a node or runtime \
           restart) are left to node-restarted.",
    why: "Each restart drops in-flight requests and connections; a container that restarts often is unstable \
          even when it is up at capture time. Restarts all over before the capture (the container has run \
          ready for 10 minutes since) are shown as resolved history at P3.",
    fix: "Read the previous run's log and the last exit code; fix the crash, or the liveness probe that \
          kills a slow but healthy container.",
    example: "`Pod shop/api-1: container api restarted 14 times (last: Error, exit code 2)`.",
    needs: &[],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let history = |status: &ContainerStatus<'_>| {
        facts.cluster().captured_at.is_some_and(|now| status.restarts_are_history(now))
    };
    let affected: Vec<(&Object, Vec<ContainerStatus<'_>>)> = facts
        .cluster()
        .of_kind("Pod")
        .filter_map(|pod| {
            let restarting: Vec<ContainerStatus<'_>> = containers::statuses(pod)
                .into_iter()
                .filter(|status| {
                    status.restart_count() >= THRESHOLD
                        && status.waiting_reason() != Some("CrashLoopBackOff")
                        && status.last_termination().is_none_or(|last| last.reason != "OOMKilled")
                        && !(history(status) && ended_by_node(status))
                })
                .collect();
            (!restarting.is_empty()).then_some((pod, restarting))
        })
        .collect();
    let mut findings = Vec::new();
    for group in group_by_workload(facts, affected) {
        let Some((pod, restarting)) = group.pods.first() else { continue };
        let pod_ref = pod.reference();
        let Some(status) = restarting.iter().max_by_key(|status| status.restart_count()).copied() else {
            continue;
        };
        let last = status.last_termination();
        let exit =
            last.as_ref().map(containers::describe_exit).unwrap_or_else(|| "no recorded exit".to_owned());
        let short =
            last.as_ref().map(containers::short_exit).unwrap_or_else(|| "no recorded exit".to_owned());
        let total: i64 =
            group.pods.iter().flat_map(|(_, statuses)| statuses.iter().map(|s| s.restart_count())).sum();
        let resolved = group.pods.iter().all(|(_, statuses)| statuses.iter().all(history));
        if resolved {
            findings.push(resolved_finding(facts, &group.objects(), pod, status, total));
            continue;
        }
        let title = match &group.workload {
            Some(_) => format!("{} restarting ({total} restarts in all; last: {short})", group.label()),
            None => {
                format!(
                    "{}: container {} restarted {} times (last: {short})",
                    group.label(),
                    status.name,
                    status.restart_count()
                )
            }
        };
        let mut finding = DIAGNOSTIC.finding(Severity::P2, title);
        for object in group.objects() {
            finding = finding.object(object);
        }
        finding = finding.evidence(Evidence::field(
            pod_ref.clone(),
            status.pointer("restartCount"),
            &status.restart_count().into(),
        ));
        if let Some(last) = &last {
            if let Some(code) = last.exit_code {
                finding = finding.evidence(Evidence::field(
                    pod_ref.clone(),
                    format!("{}/exitCode", last.pointer),
                    &code.into(),
                ));
            }
            if let Some(finished_at) = last.finished_at {
                finding = finding.evidence(Evidence::field(
                    pod_ref.clone(),
                    format!("{}/finishedAt", last.pointer),
                    &finished_at.into(),
                ));
            }
        }
        let namespace = pod.namespace.as_deref().unwrap_or_default();
        let words = containers::last_words(facts.cluster(), namespace, &pod.name, status.name, true);
        if let Some(words) = &words {
            for line in &words.lines {
                finding = finding.evidence(Evidence::log_line(&words.log.path, line));
            }
        }
        if group.pods.len() > 1 {
            finding = finding
                .evidence(Evidence::note(format!("also restarting: {}", group.other_pods().join(", "))));
        }
        let mut explanation = format!(
            "Container `{}` of pod {} restarted {} times; it runs now, but its last run ended with {exit}.",
            status.name,
            pod.name,
            status.restart_count()
        );
        if let Some(cause) = words.as_ref().and_then(|words| words.cause) {
            explanation.push_str(&format!(" The previous run's log points at: `{}`.", cause.text.trim()));
        }
        if last.as_ref().and_then(|last| last.exit_code) == Some(137) {
            explanation.push_str(" Exit code 137 without OOMKilled is usually a failing liveness probe.");
        }
        findings.push(
            finding
                .explanation(explanation)
                .remediation(kubectl::logs(&pod_ref, status.name, true))
                .remediation(kubectl::describe(&pod_ref)),
        );
    }
    findings
}

/// A run ended by its node rather than by the program: the kubelet found the container gone
/// after a node or container-runtime restart (`Unknown`, exit code 255).
pub(crate) fn ended_by_node(status: &ContainerStatus<'_>) -> bool {
    status.last_termination().is_some_and(|last| last.reason == "Unknown")
}

/// The note for restarts that are all over: when the last one was, and that it runs since.
fn resolved_finding(
    facts: &Facts<'_>,
    objects: &[kubesnap_shared::model::ObjectRef],
    pod: &Object,
    status: ContainerStatus<'_>,
    total: i64,
) -> Finding {
    let pod_ref = pod.reference();
    let last = status.last_termination();
    let short = last.as_ref().map(containers::short_exit).unwrap_or_else(|| "no recorded exit".to_owned());
    let since = status
        .started_at()
        .map(|at| at.to_string())
        .or_else(|| last.as_ref().and_then(|last| last.finished_at).map(str::to_owned))
        .unwrap_or_default();
    let subject = objects.first().unwrap_or(&pod_ref);
    let label = match &subject.namespace {
        Some(namespace) => format!("{} {namespace}/{}", subject.kind, subject.name),
        None => format!("{} {}", subject.kind, subject.name),
    };
    let mut finding = DIAGNOSTIC
        .finding(
            Severity::P3,
            format!("{label}: {total} restarts in the past, running and ready since {since} (last: {short})"),
        )
        .resolved();
    for object in objects {
        finding = finding.object(object.clone());
    }
    finding = finding.evidence(Evidence::field(
        pod_ref.clone(),
        status.pointer("restartCount"),
        &status.restart_count().into(),
    ));
    if let Some(finished_at) = last.as_ref().and_then(|last| last.finished_at.map(|at| (last, at))) {
        finding = finding.evidence(Evidence::field(
            pod_ref.clone(),
            format!("{}/finishedAt", finished_at.0.pointer),
            &finished_at.1.into(),
        ));
    }
    if let Some(started_at) = status.started_at() {
        finding = finding.evidence(Evidence::field(
            pod_ref.clone(),
            status.pointer("state/running/startedAt"),
            &started_at.to_string().into(),
        ));
    }
    let namespace = pod.namespace.as_deref().unwrap_or_default();
    let words = containers::last_words(facts.cluster(), namespace, &pod.name, status.name, true);
    if let Some(words) = &words
        && let Some(cause) = words.cause
    {
        finding = finding.evidence(Evidence::log_line(&words.log.path, cause));
    }
    finding
        .explanation(format!(
            "Container `{}` of pod {} restarted {} times, but every restart was over before the capture: \
             it has run and been ready since {since}, and the kubelet forgets a crash back-off after 10 \
             minutes of running. This is history; read the previous run's log if the restarts recur (for \
             example after each node start).",
            status.name,
            pod.name,
            status.restart_count()
        ))
        .remediation(kubectl::logs(&pod_ref, status.name, true))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    fn pod(restarts: u32, state: &str, last_reason: &str) -> String {
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: api, namespace: shop}}
spec: {{containers: [{{name: api, image: api}}]}}
status:
  phase: Running
  containerStatuses:
  - name: api
    restartCount: {restarts}
    state: {state}
    lastState: {{terminated: {{exitCode: 137, reason: {last_reason}, finishedAt: "2025-06-01T10:00:00Z"}}}}
"#
        )
    }

    #[test]
    fn a_running_container_with_many_restarts() {
        check(
            &DIAGNOSTIC,
            &pod(14, "{running: {}}", "Error"),
            expect![[r#"
            P2 pod-restarts Pod shop/api: container api restarted 14 times (last: Error, exit code 137)
              objects: Pod/shop/api
              field Pod/shop/api /status/containerStatuses/0/restartCount = 14
              field Pod/shop/api /status/containerStatuses/0/lastState/terminated/exitCode = 137
              field Pod/shop/api /status/containerStatuses/0/lastState/terminated/finishedAt = 2025-06-01T10:00:00Z
              why: Container `api` of pod api restarted 14 times; it runs now, but its last run ended with Error (exit code 137: killed by SIGKILL (out of memory, or killed after the grace period)). Exit code 137 without OOMKilled is usually a failing liveness probe.
              $ kubectl logs api -n shop -c api --previous --tail=50
              $ kubectl describe pod api -n shop
        "#]],
        );
    }

    fn ready_pod(started_at: &str, last_reason: &str) -> String {
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: api, namespace: shop}}
spec: {{containers: [{{name: api, image: api}}]}}
status:
  phase: Running
  containerStatuses:
  - name: api
    restartCount: 189
    ready: true
    state: {{running: {{startedAt: "{started_at}"}}}}
    lastState: {{terminated: {{exitCode: 1, reason: {last_reason}, finishedAt: "2025-06-01T04:59:50Z"}}}}
"#
        )
    }

    #[test]
    fn restarts_all_before_a_long_ready_run_are_one_resolved_note() {
        check(
            &DIAGNOSTIC,
            &ready_pod("2025-06-01T05:00:00Z", "Error"),
            expect![[r#"
                P3 resolved pod-restarts Pod shop/api: 189 restarts in the past, running and ready since 2025-06-01T05:00:00Z (last: Error, exit code 1)
                  objects: Pod/shop/api
                  field Pod/shop/api /status/containerStatuses/0/restartCount = 189
                  field Pod/shop/api /status/containerStatuses/0/lastState/terminated/finishedAt = 2025-06-01T04:59:50Z
                  field Pod/shop/api /status/containerStatuses/0/state/running/startedAt = 2025-06-01T05:00:00Z
                  why: Container `api` of pod api restarted 189 times, but every restart was over before the capture: it has run and been ready since 2025-06-01T05:00:00Z, and the kubelet forgets a crash back-off after 10 minutes of running. This is history; read the previous run's log if the restarts recur (for example after each node start).
                  $ kubectl logs api -n shop -c api --previous --tail=50
            "#]],
        );
        // Ready for only five minutes: the back-off may not be over, so still P2.
        check(
            &DIAGNOSTIC,
            &ready_pod("2025-06-01T11:55:00Z", "Error"),
            expect![[r#"
                P2 pod-restarts Pod shop/api: container api restarted 189 times (last: Error, exit code 1)
                  objects: Pod/shop/api
                  field Pod/shop/api /status/containerStatuses/0/restartCount = 189
                  field Pod/shop/api /status/containerStatuses/0/lastState/terminated/exitCode = 1
                  field Pod/shop/api /status/containerStatuses/0/lastState/terminated/finishedAt = 2025-06-01T04:59:50Z
                  why: Container `api` of pod api restarted 189 times; it runs now, but its last run ended with Error (exit code 1: application error).
                  $ kubectl logs api -n shop -c api --previous --tail=50
                  $ kubectl describe pod api -n shop
            "#]],
        );
        // Ended by the node (Unknown): node-restarted reports it.
        check(
            &DIAGNOSTIC,
            &ready_pod("2025-06-01T05:00:00Z", "Unknown"),
            expect![[r#"
            no findings
        "#]],
        );
    }

    #[test]
    fn few_restarts_crash_loops_and_oom_kills_are_left_to_others() {
        check(
            &DIAGNOSTIC,
            &pod(2, "{running: {}}", "Error"),
            expect![[r#"
            no findings
        "#]],
        );
        check(
            &DIAGNOSTIC,
            &pod(14, "{waiting: {reason: CrashLoopBackOff}}", "Error"),
            expect![[r#"
            no findings
        "#]],
        );
        check(
            &DIAGNOSTIC,
            &pod(14, "{running: {}}", "OOMKilled"),
            expect![[r#"
            no findings
        "#]],
        );
    }
}
