//! Diagnostic `crash-loop-backoff`: containers in CrashLoopBackOff;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::containers::{self, ContainerStatus, LastWords};
use crate::facts::kubectl;
use crate::facts::pod_events::PodEvents;
use crate::facts::workload::{PodGroup, group_by_workload};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "crash-loop-backoff",
    category: Category::Pods,
    title: "Containers in CrashLoopBackOff",
    severities: &[Severity::P0, Severity::P1],
    what: "Containers waiting in `CrashLoopBackOff`: they start, exit, and the kubelet waits longer before \
           each restart. The finding names the crash: the last exit code and reason from \
           `lastState.terminated`, and the line the previous run died on, from its log.",
    why: "A crash-looping container serves nothing; when every pod of a workload crash-loops, the service \
          is down.",
    fix: "Read the previous run's log (`kubectl logs --previous`), fix the cause (configuration, dependency, \
          image), or roll back the change that started it (`kubectl rollout undo`).",
    example: "A Deployment whose new image fails to read its configuration: `3 of 3 pods crash-looping: \
              Error (exit code 1)`, with `FATAL: config file /etc/app.yaml not found` from the previous \
              run's log and `kubectl rollout undo deployment/api -n shop` as the first fix.",
    needs: &[],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let affected: Vec<(&Object, Vec<ContainerStatus<'_>>)> = facts
        .cluster()
        .of_kind("Pod")
        .filter_map(|pod| {
            let looping: Vec<ContainerStatus<'_>> = containers::statuses(pod)
                .into_iter()
                .filter(|status| status.waiting_reason() == Some("CrashLoopBackOff"))
                .collect();
            (!looping.is_empty()).then_some((pod, looping))
        })
        .collect();
    let events = PodEvents::new(facts.cluster(), &["BackOff"]);
    group_by_workload(facts, affected).iter().map(|group| finding(facts.cluster(), &events, group)).collect()
}

fn finding(
    model: &ClusterModel,
    events: &PodEvents<'_>,
    group: &PodGroup<'_, Vec<ContainerStatus<'_>>>,
) -> Finding {
    let outage = group.is_outage();
    let severity = if outage { Severity::P0 } else { Severity::P1 };
    let Some((pod, looping)) = group.pods.first() else {
        return DIAGNOSTIC.finding(severity, group.label());
    };
    let pod_ref = pod.reference();
    let namespace = pod.namespace.as_deref().unwrap_or_default();
    let status = looping[0];
    let last = status.last_termination();
    let crash = match &last {
        Some(termination) => containers::describe_exit(termination),
        None => "no recorded exit".to_owned(),
    };
    let short = last.as_ref().map(containers::short_exit).unwrap_or_else(|| "no recorded exit".to_owned());
    let title = match &group.workload {
        Some(_) => format!("{} crash-looping ({short})", group.label()),
        None => format!("{}: container {} crash-looping ({short})", group.label(), status.name),
    };

    let mut finding = DIAGNOSTIC.finding(severity, title);
    for object in group.objects() {
        finding = finding.object(object);
    }
    finding = finding
        .evidence(Evidence::field(
            pod_ref.clone(),
            status.pointer("state/waiting/reason"),
            &"CrashLoopBackOff".into(),
        ))
        .evidence(Evidence::field(
            pod_ref.clone(),
            status.pointer("restartCount"),
            &status.restart_count().into(),
        ));
    if let Some(termination) = &last {
        if let Some(code) = termination.exit_code {
            finding = finding.evidence(Evidence::field(
                pod_ref.clone(),
                format!("{}/exitCode", termination.pointer),
                &code.into(),
            ));
        }
        if !termination.reason.is_empty() {
            finding = finding.evidence(Evidence::field(
                pod_ref.clone(),
                format!("{}/reason", termination.pointer),
                &termination.reason.into(),
            ));
        }
        if !termination.message.is_empty() {
            finding = finding.evidence(Evidence::field(
                pod_ref.clone(),
                format!("{}/message", termination.pointer),
                &termination.message.trim().into(),
            ));
        }
    }
    let words = containers::last_words(model, namespace, &pod.name, status.name, true);
    if let Some(words) = &words {
        for line in &words.lines {
            finding = finding.evidence(Evidence::log_line(&words.log.path, line));
        }
    }
    if let Some(event) = events.last(pod) {
        finding = finding.evidence(Evidence::event(event));
    }
    let others: Vec<String> = group
        .pods
        .iter()
        .skip(1)
        .map(|(pod, looping)| {
            let exit = looping[0].last_termination().map(|t| containers::short_exit(&t));
            format!(
                "{} ({} restarts{})",
                pod.name,
                looping[0].restart_count(),
                exit.map(|e| format!(", {e}")).unwrap_or_default()
            )
        })
        .collect();
    if !others.is_empty() {
        finding = finding.evidence(Evidence::note(format!("also crash-looping: {}", others.join("; "))));
    }

    finding = finding.explanation(explain(group, pod, &status, &crash, words.as_ref(), outage));
    finding = finding
        .remediation(kubectl::logs(&pod_ref, status.name, true))
        .remediation(kubectl::describe(&pod_ref))
        .remediation(kubectl::events(&pod_ref));
    if let Some(workload) = group
        .workload
        .as_ref()
        .filter(|w| matches!(w.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet"))
    {
        finding = finding
            .remediation(kubectl::rollout("history", workload))
            .remediation(kubectl::rollout("undo", workload));
    }
    finding
}

fn explain(
    group: &PodGroup<'_, Vec<ContainerStatus<'_>>>,
    pod: &Object,
    status: &ContainerStatus<'_>,
    crash: &str,
    words: Option<&LastWords<'_>>,
    outage: bool,
) -> String {
    let mut text = format!(
        "Container `{}` of pod {} keeps exiting, and the kubelet waits longer before each restart \
         (restarted {} times). Its last run ended with {crash}.",
        status.name,
        pod.name,
        status.restart_count()
    );
    match words.and_then(|words| words.cause) {
        Some(cause) => text.push_str(&format!(" The previous run's log points at: `{}`.", cause.text.trim())),
        None => text.push_str(" The bundle holds no log of the previous run."),
    }
    if group.pods.len() > 1 {
        text.push_str(&format!(" {} pods of {} share the condition.", group.pods.len(), group.subject()));
    }
    if outage {
        text.push_str(" No pod of the workload is running: the service it backs is down.");
    }
    text
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, uid: d1}
spec: {replicas: 2}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-7d9f
  namespace: shop
  uid: r1
  ownerReferences: [{kind: Deployment, name: api, uid: d1, controller: true}]
"#;

    fn pod(name: &str, state: &str) -> String {
        format!(
            r#"
---
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: shop
  ownerReferences: [{{kind: ReplicaSet, name: api-7d9f, uid: r1, controller: true}}]
spec: {{containers: [{{name: api, image: "shop/api:2.0"}}]}}
status:
  phase: Running
  containerStatuses:
  - name: api
    restartCount: 12
    ready: false
    {state}
"#
        )
    }

    const LOOPING: &str = r#"state: {waiting: {reason: CrashLoopBackOff, message: "back-off 5m0s restarting failed container"}}
    lastState: {terminated: {exitCode: 1, reason: Error, finishedAt: "2025-06-01T11:58:00Z"}}"#;

    #[test]
    fn every_replica_crash_looping_is_one_p0_finding_with_the_crash_line() {
        let fixture = format!(
            "{DEPLOYMENT}{}{}{}",
            pod("api-7d9f-a", LOOPING),
            pod("api-7d9f-b", LOOPING),
            r#"
---
kind: ContainerLog
namespace: shop
pod: api-7d9f-a
container: api
previous: true
lines:
- "2025-06-01T11:57:58Z INFO starting api 2.0"
- "2025-06-01T11:57:59Z FATAL config file /etc/api/config.yaml not found"
- "2025-06-01T11:57:59Z INFO shutting down"
- ""
---
apiVersion: v1
kind: Event
metadata: {name: api-7d9f-a.1, namespace: shop}
involvedObject: {kind: Pod, name: api-7d9f-a, namespace: shop}
type: Warning
reason: BackOff
message: Back-off restarting failed container api in pod api-7d9f-a_shop
count: 40
source: {component: kubelet}
lastTimestamp: "2025-06-01T11:59:00Z"
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
                P0 crash-loop-backoff Deployment shop/api: 2 of 2 pods crash-looping (Error, exit code 1)
                  objects: Deployment/shop/api, Pod/shop/api-7d9f-a, Pod/shop/api-7d9f-b
                  field Pod/shop/api-7d9f-a /status/containerStatuses/0/state/waiting/reason = CrashLoopBackOff
                  field Pod/shop/api-7d9f-a /status/containerStatuses/0/restartCount = 12
                  field Pod/shop/api-7d9f-a /status/containerStatuses/0/lastState/terminated/exitCode = 1
                  field Pod/shop/api-7d9f-a /status/containerStatuses/0/lastState/terminated/reason = Error
                  log logs/shop/api-7d9f-a/api.previous.log:1: 2025-06-01T11:57:58Z INFO starting api 2.0
                  log logs/shop/api-7d9f-a/api.previous.log:2: 2025-06-01T11:57:59Z FATAL config file /etc/api/config.yaml not found
                  log logs/shop/api-7d9f-a/api.previous.log:3: 2025-06-01T11:57:59Z INFO shutting down
                  event BackOff x40 (kubelet): Back-off restarting failed container api in pod api-7d9f-a_shop
                  note: also crash-looping: api-7d9f-b (12 restarts, Error, exit code 1)
                  why: Container `api` of pod api-7d9f-a keeps exiting, and the kubelet waits longer before each restart (restarted 12 times). Its last run ended with Error (exit code 1: application error). The previous run's log points at: `2025-06-01T11:57:59Z FATAL config file /etc/api/config.yaml not found`. 2 pods of Deployment/shop/api share the condition. No pod of the workload is running: the service it backs is down.
                  $ kubectl logs api-7d9f-a -n shop -c api --previous --tail=50
                  $ kubectl describe pod api-7d9f-a -n shop
                  $ kubectl get events -n shop --field-selector involvedObject.name=api-7d9f-a --sort-by=.lastTimestamp
                  $ kubectl rollout history deployment/api -n shop
                  $ kubectl rollout undo deployment/api -n shop
            "#]],
        );
    }

    #[test]
    fn one_replica_of_two_is_p1_without_logs() {
        let fixture = format!(
            "{DEPLOYMENT}{}{}",
            pod("api-7d9f-a", LOOPING),
            pod("api-7d9f-b", "state: {running: {}}")
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
                P1 crash-loop-backoff Deployment shop/api: 1 of 2 pods crash-looping (Error, exit code 1)
                  objects: Deployment/shop/api, Pod/shop/api-7d9f-a
                  field Pod/shop/api-7d9f-a /status/containerStatuses/0/state/waiting/reason = CrashLoopBackOff
                  field Pod/shop/api-7d9f-a /status/containerStatuses/0/restartCount = 12
                  field Pod/shop/api-7d9f-a /status/containerStatuses/0/lastState/terminated/exitCode = 1
                  field Pod/shop/api-7d9f-a /status/containerStatuses/0/lastState/terminated/reason = Error
                  why: Container `api` of pod api-7d9f-a keeps exiting, and the kubelet waits longer before each restart (restarted 12 times). Its last run ended with Error (exit code 1: application error). The bundle holds no log of the previous run.
                  $ kubectl logs api-7d9f-a -n shop -c api --previous --tail=50
                  $ kubectl describe pod api-7d9f-a -n shop
                  $ kubectl get events -n shop --field-selector involvedObject.name=api-7d9f-a --sort-by=.lastTimestamp
                  $ kubectl rollout history deployment/api -n shop
                  $ kubectl rollout undo deployment/api -n shop
            "#]],
        );
    }

    #[test]
    fn running_and_restarting_containers_are_not_crash_looping() {
        let fixture = format!(
            "{DEPLOYMENT}{}{}",
            pod("api-7d9f-a", "state: {running: {}}"),
            pod("api-7d9f-b", "state: {waiting: {reason: ContainerCreating}}")
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
