//! Diagnostic `pod-not-ready`: running pods that are not Ready;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::{Event, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::containers::{self, ContainerStatus};
use crate::facts::kubectl;
use crate::facts::pod_events::PodEvents;
use crate::facts::workload::{condition_note, group_by_workload};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "pod-not-ready",
    category: Category::Pods,
    title: "Running pods that are not Ready",
    severities: &[Severity::P1, Severity::P2],
    what: "Running pods whose `Ready` condition is False (and that are neither crash-looping nor \
           terminating: other diagnostics cover those), with the containers that are not ready and the \
           probe failures of their `Unhealthy` events.",
    why: "A pod that is not Ready gets no Service traffic; when no pod of a workload is Ready, its \
          Service has no endpoints.",
    fix: "Read the probe failure: fix the application's health endpoint or its dependency, or correct the \
          probe (path, port, timeouts, initialDelaySeconds).",
    example: "`Deployment shop/api: 3 of 3 pods not Ready` with `Readiness probe failed: HTTP probe failed \
              with statuscode: 503`.",
    needs: &[],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let affected: Vec<(&Object, Vec<ContainerStatus<'_>>)> = facts
        .cluster()
        .of_kind("Pod")
        .filter(|pod| {
            pod.str_at("/status/phase") == Some("Running")
                && pod.deleting_since().is_none()
                && pod.condition("Ready").is_some_and(|(status, _, _)| status == "False")
        })
        .filter_map(|pod| {
            let statuses = containers::statuses(pod);
            if statuses.iter().any(|status| status.waiting_reason() == Some("CrashLoopBackOff")) {
                return None;
            }
            let not_ready: Vec<ContainerStatus<'_>> =
                statuses.into_iter().filter(|status| !status.init && !status.ready()).collect();
            Some((pod, not_ready))
        })
        .collect();
    let events = PodEvents::new(facts.cluster(), &["Unhealthy"]);
    let mut findings = Vec::new();
    for group in group_by_workload(facts, affected) {
        let Some((pod, not_ready)) = group.pods.first() else { continue };
        let pod_ref = pod.reference();
        let severity = if group.is_outage() { Severity::P1 } else { Severity::P2 };
        let mut finding = DIAGNOSTIC.finding(severity, format!("{} not Ready", group.label()));
        for object in group.objects() {
            finding = finding.object(object);
        }
        if let Some(condition) = pod.condition("Ready") {
            finding = finding.evidence(Evidence::note(condition_note("Ready", condition)));
        }
        for status in not_ready {
            finding =
                finding.evidence(Evidence::field(pod_ref.clone(), status.pointer("ready"), &false.into()));
        }
        let probes: &[&Event] = events.of(pod);
        for event in probes.iter().rev().take(2).rev() {
            finding = finding.evidence(Evidence::event(event));
        }
        if group.pods.len() > 1 {
            finding = finding
                .evidence(Evidence::note(format!("also not Ready: {}", group.other_pods().join(", "))));
        }
        let names: Vec<&str> = not_ready.iter().map(|status| status.name).collect();
        let mut explanation = match names.as_slice() {
            [] => format!("Pod {} runs but is not Ready (a readiness gate or condition is unmet).", pod.name),
            names => format!("Pod {} runs but its containers {} are not Ready.", pod.name, names.join(", ")),
        };
        match probes.last() {
            Some(event) => {
                explanation.push_str(&format!(" The last probe failure: \"{}\".", event.message.trim()))
            }
            None => explanation.push_str(" The bundle holds no probe failure event for it."),
        }
        explanation.push_str(" A pod that is not Ready receives no traffic from its Services.");
        if group.is_outage() {
            explanation.push_str(" No pod of the workload is Ready: its Services have no endpoints.");
        }
        finding = finding
            .explanation(explanation)
            .remediation(kubectl::describe(&pod_ref))
            .remediation(kubectl::events(&pod_ref));
        if let Some(status) = not_ready.first() {
            finding = finding.remediation(kubectl::logs(&pod_ref, status.name, false));
        }
        findings.push(finding);
    }
    findings
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec: {containers: [{name: web, image: web}]}
status:
  phase: Running
  conditions:
  - {type: Ready, status: "False", reason: ContainersNotReady, message: "containers with unready status: [web]"}
  containerStatuses:
  - {name: web, ready: false, restartCount: 0, state: {running: {}}}
---
apiVersion: v1
kind: Event
metadata: {name: web.1, namespace: shop}
involvedObject: {kind: Pod, name: web, namespace: shop}
type: Warning
reason: Unhealthy
message: "Readiness probe failed: HTTP probe failed with statuscode: 503"
count: 120
source: {component: kubelet}
"#;

    #[test]
    fn a_running_pod_failing_its_readiness_probe() {
        check(
            &DIAGNOSTIC,
            POD,
            expect![[r#"
            P2 pod-not-ready Pod shop/web not Ready
              objects: Pod/shop/web
              note: Ready=False ContainersNotReady: containers with unready status: [web]
              field Pod/shop/web /status/containerStatuses/0/ready = false
              event Unhealthy x120 (kubelet): Readiness probe failed: HTTP probe failed with statuscode: 503
              why: Pod web runs but its containers web are not Ready. The last probe failure: "Readiness probe failed: HTTP probe failed with statuscode: 503". A pod that is not Ready receives no traffic from its Services.
              $ kubectl describe pod web -n shop
              $ kubectl get events -n shop --field-selector involvedObject.name=web --sort-by=.lastTimestamp
              $ kubectl logs web -n shop -c web --tail=50
        "#]],
        );
    }

    #[test]
    fn a_ready_pod_is_fine() {
        let fixture =
            POD.replace("status: \"False\"", "status: \"True\"").replace("ready: false", "ready: true");
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
