//! Diagnostic `kubernetes-pod-crash-looping`: alert KubernetesPodCrashLooping (restarts in the
//! last 15m, for 5m); its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use jiff::Timestamp;
use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::containers::statuses;
use crate::facts::kubectl;
use crate::facts::performance::units;
use crate::facts::performance::usage::minutes_between;
use crate::facts::workload::{PodGroup, group_by_workload};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "kubernetes-pod-crash-looping",
    category: Category::Alerts,
    title: "Alert KubernetesPodCrashLooping (restarts in the last 15m, for 5m)",
    severities: &[Severity::P1, Severity::P2],
    what: "The `KubernetesPodCrashLooping` alert rule, `rate( \
           kube_pod_container_status_restarts_total[15m]) > 0 for: 5m`, from what the bundle holds: a \
           container restarted within the 15 minutes before the capture (its `lastState.terminated. \
           finishedAt`). The rate has been above zero for five minutes when that restart is at least five \
           minutes old, when a `BackOff` event shows restarts going on since before then, or when the \
           container is in `CrashLoopBackOff` after 3 restarts or more in a pod older than five minutes \
           (the back-off tops out at 5 minutes, so it restarts in every 15-minute window): firing, P1 (the \
           rule's `critical`). A first restart in the last five minutes is pending (P2). The model keeps \
           the final pod objects, not restart counts over time, so growth of the count across the sampled \
           window is only seen through those events.",
    why: "A container restarting again and again serves intermittently at best; this is the alert \
          Prometheus raises on it.",
    fix: "Read the previous run's log and exit code (crash-loop-backoff has them) and fix the cause, or roll \
          back the change that started it.",
    example: "`Deployment shop/api: 2 of 2 pods restarting (KubernetesPodCrashLooping firing; last restart \
              7m before the capture)`.",
    needs: &[Need::CaptureTime],
    run,
};

const RANGE_MINUTES: f64 = 15.0;
const FOR_MINUTES: f64 = 5.0;

/// One restarting container.
#[derive(Debug, Clone)]
struct Restarting {
    container: String,
    restarts: i64,
    /// Minutes from the last restart to the capture.
    ago: f64,
    finished_pointer: String,
    finished_at: Timestamp,
    firing: bool,
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let Some(now) = facts.cluster().captured_at else { return Vec::new() };
    let affected: Vec<(&Object, Restarting)> = facts
        .cluster()
        .of_kind("Pod")
        .filter_map(|pod| restarting(facts.cluster(), pod, now).map(|r| (pod, r)))
        .collect();
    group_by_workload(facts, affected).iter().map(finding).collect()
}

fn restarting(model: &ClusterModel, pod: &Object, now: Timestamp) -> Option<Restarting> {
    statuses(pod)
        .into_iter()
        .filter(|status| status.restart_count() > 0)
        .filter_map(|status| {
            let last = status.last_termination()?;
            let finished_at: Timestamp = last.finished_at?.parse().ok()?;
            let ago = minutes_between(finished_at, now);
            if !(0.0..=RANGE_MINUTES).contains(&ago) {
                return None;
            }
            // rate(...[15m]) > 0 at every evaluation of the last 5 minutes.
            let earlier = model.events_for("Pod", pod.namespace.as_deref(), &pod.name).any(|event| {
                event.reason == "BackOff"
                    && event.count >= 2
                    && event.first_seen.is_some_and(|first| minutes_between(first, now) >= FOR_MINUTES)
                    && event.last_seen.is_some_and(|last| minutes_between(last, now) <= RANGE_MINUTES)
            });
            // In CrashLoopBackOff the kubelet's back-off tops out at 5 minutes, so a container that
            // has looped for longer than that restarts in every 15-minute window.
            let looping = status.waiting_reason() == Some("CrashLoopBackOff")
                && status.restart_count() >= 3
                && pod.created_at().is_some_and(|created| minutes_between(created, now) >= FOR_MINUTES);
            Some(Restarting {
                container: status.name.to_owned(),
                restarts: status.restart_count(),
                ago,
                finished_pointer: format!("{}/finishedAt", last.pointer),
                finished_at,
                firing: ago >= FOR_MINUTES || earlier || looping,
            })
        })
        .min_by(|a, b| a.ago.total_cmp(&b.ago))
}

fn finding(group: &PodGroup<'_, Restarting>) -> Finding {
    let firing = group.pods.iter().any(|(_, r)| r.firing);
    let severity = if firing { Severity::P1 } else { Severity::P2 };
    let latest = group.pods.iter().map(|(_, r)| r.ago).fold(f64::INFINITY, f64::min);
    let state = if firing { "firing" } else { "pending" };
    let mut finding = DIAGNOSTIC.finding(
        severity,
        format!(
            "{} restarting (KubernetesPodCrashLooping {state}; last restart {} before the capture)",
            group.label(),
            units::span(latest)
        ),
    );
    for object in group.objects() {
        finding = finding.object(object);
    }
    for (pod, r) in &group.pods {
        finding = finding.evidence(Evidence::field(
            pod.reference(),
            &r.finished_pointer,
            &r.finished_at.to_string().into(),
        ));
        finding = finding
            .evidence(Evidence::note(format!("{}/{}: {} restarts", pod.name, r.container, r.restarts)));
    }
    let (pod, first) = &group.pods[0];
    let mut explanation = format!(
        "The rule `rate(kube_pod_container_status_restarts_total[15m]) > 0` with `for: 5m` is true while \
         a restart falls in the last 15 minutes. Container `{}` of pod {} last restarted {} before the \
         capture.",
        first.container,
        pod.name,
        units::span(first.ago)
    );
    if firing {
        explanation
            .push_str(" The rate has been above zero for at least the 5 minutes the rule waits: it fires.");
    } else {
        explanation.push_str(
            " That restart is under 5 minutes old and nothing in the bundle shows an earlier one in the \
             window: Prometheus would show the alert pending (the bundle has no restart counts over time \
             to tell more).",
        );
    }
    explanation.push_str(" crash-loop-backoff and pod-restarts give the exit code and the last log lines.");
    let pod_ref = pod.reference();
    finding
        .explanation(explanation)
        .remediation(kubectl::logs(&pod_ref, &first.container, true))
        .remediation(kubectl::describe(&pod_ref))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;
    use crate::testing::deployment;

    fn restarted(fixture: String, pod: &str, finished_at: &str) -> String {
        let anchor = format!("name: {pod}\n");
        let start = fixture.find(&anchor).unwrap();
        let status = fixture[start..].find("status:\n").unwrap() + start;
        let mut out = fixture.clone();
        out.insert_str(
            status + "status:\n".len(),
            &format!(
                "  containerStatuses: [{{name: api, restartCount: 6, state: {{running: {{}}}}, \
                 lastState: {{terminated: {{exitCode: 1, reason: Error, finishedAt: \
                 \"{finished_at}\"}}}}}}]\n"
            ),
        );
        out
    }

    #[test]
    fn a_restart_seven_minutes_ago_fires_and_one_a_minute_ago_is_pending() {
        let fixture = deployment("shop", "api", &["api-a", "api-b"], "[{name: api}]");
        let fixture =
            restarted(restarted(fixture, "api-a", "2025-06-01T11:53:00Z"), "api-b", "2025-06-01T11:56:00Z");
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 kubernetes-pod-crash-looping Deployment shop/api: 2 of 2 pods restarting (KubernetesPodCrashLooping firing; last restart 4m before the capture)
              objects: Deployment/shop/api, Pod/shop/api-a, Pod/shop/api-b
              field Pod/shop/api-a /status/containerStatuses/0/lastState/terminated/finishedAt = 2025-06-01T11:53:00Z
              note: api-a/api: 6 restarts
              field Pod/shop/api-b /status/containerStatuses/0/lastState/terminated/finishedAt = 2025-06-01T11:56:00Z
              note: api-b/api: 6 restarts
              why: The rule `rate(kube_pod_container_status_restarts_total[15m]) > 0` with `for: 5m` is true while a restart falls in the last 15 minutes. Container `api` of pod api-a last restarted 7m before the capture. The rate has been above zero for at least the 5 minutes the rule waits: it fires. crash-loop-backoff and pod-restarts give the exit code and the last log lines.
              $ kubectl logs api-a -n shop -c api --previous --tail=50
              $ kubectl describe pod api-a -n shop
        "#]],
        );
        let recent = restarted(
            deployment("shop", "web", &["web-a"], "[{name: api}]"),
            "web-a",
            "2025-06-01T11:59:00Z",
        );
        check(
            &DIAGNOSTIC,
            &recent,
            expect![[r#"
            P2 kubernetes-pod-crash-looping Deployment shop/web: 1 of 1 pod restarting (KubernetesPodCrashLooping pending; last restart 1m before the capture)
              objects: Deployment/shop/web, Pod/shop/web-a
              field Pod/shop/web-a /status/containerStatuses/0/lastState/terminated/finishedAt = 2025-06-01T11:59:00Z
              note: web-a/api: 6 restarts
              why: The rule `rate(kube_pod_container_status_restarts_total[15m]) > 0` with `for: 5m` is true while a restart falls in the last 15 minutes. Container `api` of pod web-a last restarted 1m before the capture. That restart is under 5 minutes old and nothing in the bundle shows an earlier one in the window: Prometheus would show the alert pending (the bundle has no restart counts over time to tell more). crash-loop-backoff and pod-restarts give the exit code and the last log lines.
              $ kubectl logs web-a -n shop -c api --previous --tail=50
              $ kubectl describe pod web-a -n shop
        "#]],
        );
    }

    #[test]
    fn a_restart_older_than_15_minutes_is_not_crash_looping() {
        let fixture = restarted(
            deployment("shop", "api", &["api-a"], "[{name: api}]"),
            "api-a",
            "2025-06-01T11:30:00Z",
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }

    #[test]
    fn a_container_looping_for_minutes_fires_even_if_its_last_restart_is_recent() {
        let fixture = deployment("shop", "payment-api", &["payment-api-a"], "[{name: api}]").replace(
            "metadata:\n  name: payment-api-a\n",
            "metadata:\n  name: payment-api-a\n  creationTimestamp: \"2025-06-01T11:30:00Z\"\n",
        );
        let fixture = restarted(fixture, "payment-api-a", "2025-06-01T11:59:00Z").replace(
            "restartCount: 6, state: {running: {}}",
            "restartCount: 20, state: {waiting: {reason: CrashLoopBackOff}}",
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 kubernetes-pod-crash-looping Deployment shop/payment-api: 1 of 1 pod restarting (KubernetesPodCrashLooping firing; last restart 1m before the capture)
              objects: Deployment/shop/payment-api, Pod/shop/payment-api-a
              field Pod/shop/payment-api-a /status/containerStatuses/0/lastState/terminated/finishedAt = 2025-06-01T11:59:00Z
              note: payment-api-a/api: 20 restarts
              why: The rule `rate(kube_pod_container_status_restarts_total[15m]) > 0` with `for: 5m` is true while a restart falls in the last 15 minutes. Container `api` of pod payment-api-a last restarted 1m before the capture. The rate has been above zero for at least the 5 minutes the rule waits: it fires. crash-loop-backoff and pod-restarts give the exit code and the last log lines.
              $ kubectl logs payment-api-a -n shop -c api --previous --tail=50
              $ kubectl describe pod payment-api-a -n shop
        "#]],
        );
    }
}
