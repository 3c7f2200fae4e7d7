//! Diagnostic `application-down`: alert ApplicationDown (pods not up for 1m);
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use jiff::Timestamp;
use kubesnap_shared::model::{ClusterModel, Object, ObjectRef};

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::performance::units;
use crate::facts::performance::usage::minutes_between;
use crate::facts::workload::{Origin, PodGroup, group_by_workload, origin};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "application-down",
    category: Category::Alerts,
    title: "Alert ApplicationDown (pods not up for 1m)",
    severities: &[Severity::P0, Severity::P1],
    what: "The `ApplicationDown` alert rule, `up{job=\"kubernetes-pods\"} == 0 for: 1m`: pods that have not \
           been Running and Ready for at least a minute before the capture (since the Ready condition's \
           last transition, else since the pod was created), one finding per workload, with the Services \
           whose every selected pod is down (no ready backend). Only pods a long-running controller keeps \
           up count (Deployments through their ReplicaSets, StatefulSets, DaemonSets, \
           ReplicationControllers, and static pods): pods of Jobs, operators' installer pods, collection \
           and test tools' pods, bare pods and finished pods are not applications; a DaemonSet pod the \
           scheduler cannot place is left to pod-pending-unschedulable; a pod that is down for less than a \
           minute is still pending.",
    why: "Every pod of a serving workload down is an outage (P0), some of them a degradation (P1); the \
          Services named are what callers see failing.",
    fix: "Read why the pods are not ready (`kubectl describe pod`, the previous logs), fix the cause or \
          roll back the change that started it.",
    example: "`Deployment shop/api: 2 of 2 pods down for 14m (ApplicationDown firing); Service shop/api has \
              no ready backend`.",
    needs: &[Need::CaptureTime],
    run,
};

const FOR_MINUTES: f64 = 1.0;

/// Why a pod is down and since when.
#[derive(Debug, Clone)]
struct Down {
    since: Option<Timestamp>,
    minutes: f64,
    why: String,
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let Some(now) = facts.cluster().captured_at else { return Vec::new() };
    let affected: Vec<(&Object, Down)> = facts
        .cluster()
        .of_kind("Pod")
        .filter_map(|pod| down(facts, pod, now).map(|down| (pod, down)))
        .collect();
    group_by_workload(facts, affected).iter().map(|group| finding(facts.cluster(), group)).collect()
}

fn down(facts: &Facts<'_>, pod: &Object, now: Timestamp) -> Option<Down> {
    let phase = pod.str_at("/status/phase").unwrap_or("Unknown");
    // Only what a long-running controller (or the kubelet, for a static pod) keeps up is a
    // scrape target that should be up: not a Job's, an operator's installer, a tool's or a bare pod.
    let daemon = match origin(facts, pod) {
        Origin::LongRunning(owner) => owner.kind == "DaemonSet",
        Origin::Static(_) => false,
        Origin::Batch(_) | Origin::Operator(_) | Origin::Tool(_) | Origin::Bare => return None,
    };
    if matches!(phase, "Succeeded" | "Failed") || pod.deleting_since().is_some() {
        return None;
    }
    // A DaemonSet's pod the scheduler cannot place on its node (a host port taken, a taint) is a
    // scheduling problem of that node, which pod-pending-unschedulable reports.
    if daemon && pod.condition("PodScheduled").is_some_and(|(status, _, _)| status == "False") {
        return None;
    }
    let ready = pod.condition("Ready");
    if phase == "Running" && ready.is_some_and(|(status, _, _)| status == "True") {
        return None;
    }
    let since = pod.condition_since("Ready").or_else(|| pod.created_at());
    let minutes = since.map(|since| minutes_between(since, now)).unwrap_or(f64::INFINITY);
    if minutes < FOR_MINUTES {
        return None;
    }
    let why = match ready {
        Some((_, reason, message)) if !reason.is_empty() || !message.is_empty() => {
            format!("{phase}, Ready=False ({})", if message.is_empty() { reason } else { message })
        }
        _ => phase.to_owned(),
    };
    Some(Down { since, minutes, why })
}

fn finding(model: &ClusterModel, group: &PodGroup<'_, Down>) -> Finding {
    let outage = group.is_outage() || (group.workload.is_none() && group.all_affected());
    let severity = if outage && group.workload.is_some() { Severity::P0 } else { Severity::P1 };
    let longest = group.pods.iter().map(|(_, down)| down.minutes).fold(0.0, f64::max);
    let for_text = if longest.is_finite() { format!(" for {}", units::span(longest)) } else { String::new() };
    let services = dark_services(model, group);
    let mut title = format!("{} down{for_text} (ApplicationDown firing)", group.label());
    if !services.is_empty() {
        let names: Vec<String> = services.iter().map(|s| s.name.clone()).collect();
        title.push_str(&format!("; Service {} without a ready backend", names.join(", ")));
    }
    let mut finding = DIAGNOSTIC.finding(severity, title);
    for object in group.objects() {
        finding = finding.object(object);
    }
    for service in &services {
        finding = finding.object(service.clone());
    }
    for (pod, down) in &group.pods {
        let since = down.since.map(|t| format!(" since {t}")).unwrap_or_default();
        finding = finding.evidence(Evidence::note(format!("{}: {}{since}", pod.name, down.why)));
    }
    let (pod, _) = &group.pods[0];
    let pod_ref = pod.reference();
    let mut explanation = format!(
        "The ApplicationDown alert rule `up{{job=\"kubernetes-pods\"}} == 0` with `for: 1m` fires for a pod \
         whose target has not been up for a minute; {} of {} pods have not been Running and Ready for at \
         least that long before the capture.",
        group.pods.len(),
        group.total_pods
    );
    if !services.is_empty() {
        explanation
            .push_str(" Every pod the Services select is down, so callers get connection errors or 503s.");
    }
    if outage {
        explanation.push_str(" Nothing of the workload is serving.");
    }
    explanation
        .push_str(" pod-not-ready and crash-loop-backoff give the cause when it is a probe or a crash.");
    finding = finding
        .explanation(explanation)
        .remediation(kubectl::describe(&pod_ref))
        .remediation(kubectl::logs(
            &pod_ref,
            pod.array_at("/spec/containers")
                .first()
                .and_then(|c| c.get("name")?.as_str())
                .unwrap_or_default(),
            true,
        ))
        .remediation(kubectl::events(&pod_ref));
    for service in &services {
        finding = finding.remediation(
            Kubectl::new("get endpointslices")
                .namespace(service.namespace.as_deref().unwrap_or_default())
                .arg("-l")
                .joined("kubernetes.io/service-name=", &service.name),
        );
    }
    finding
}

/// Services with a selector whose every selected pod is in the group (so none is ready).
fn dark_services(model: &ClusterModel, group: &PodGroup<'_, Down>) -> Vec<ObjectRef> {
    let Some((first, _)) = group.pods.first() else { return Vec::new() };
    let namespace = first.namespace.as_deref().unwrap_or_default();
    let down: Vec<&str> = group.pods.iter().map(|(pod, _)| pod.name.as_str()).collect();
    model
        .of_kind_in("Service", namespace)
        .filter(|service| {
            let selector = service
                .at("/spec/selector")
                .and_then(|value| value.as_object())
                .map(|map| {
                    map.iter().filter_map(|(k, v)| Some((k.to_owned(), v.as_str()?.to_owned()))).collect()
                })
                .unwrap_or_default();
            let selected: Vec<&Object> =
                model.of_kind_in("Pod", namespace).filter(|pod| pod.matches_labels(&selector)).collect();
            !selected.is_empty() && selected.iter().all(|pod| down.contains(&pod.name.as_str()))
        })
        .map(Object::reference)
        .collect()
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;
    use crate::testing::deployment;

    const SERVICE: &str = "\n---\napiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\n\
                           spec: {selector: {app: api}}\n";

    fn not_ready(fixture: String, pod: &str, since: &str) -> String {
        fixture.replacen(
            &format!(
                "name: {pod}\n  namespace: shop\n  labels: {{app: api}}\n  ownerReferences: \
                      [{{kind: ReplicaSet, name: api-rs, uid: api-rs-uid, controller: true}}]\n\
                      spec: {{nodeName: node-1, containers: [{{name: api}}]}}\n\
                      status:\n  phase: Running\n  conditions: [{{type: Ready, status: \"True\", \
                      lastTransitionTime: \"2025-06-01T10:00:00Z\"}}]"
            ),
            &format!(
                "name: {pod}\n  namespace: shop\n  labels: {{app: api}}\n  ownerReferences: \
                      [{{kind: ReplicaSet, name: api-rs, uid: api-rs-uid, controller: true}}]\n\
                      spec: {{nodeName: node-1, containers: [{{name: api}}]}}\n\
                      status:\n  phase: Running\n  conditions: [{{type: Ready, status: \"False\", \
                      reason: ContainersNotReady, message: \"containers with unready status: [api]\", \
                      lastTransitionTime: \"{since}\"}}]"
            ),
            1,
        )
    }

    #[test]
    fn every_pod_down_is_an_outage_and_names_the_dark_service() {
        let fixture = deployment("shop", "api", &["api-a", "api-b"], "[{name: api}]") + SERVICE;
        let fixture =
            not_ready(not_ready(fixture, "api-a", "2025-06-01T11:46:00Z"), "api-b", "2025-06-01T11:50:00Z");
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P0 application-down Deployment shop/api: 2 of 2 pods down for 14m (ApplicationDown firing); Service api without a ready backend
              objects: Deployment/shop/api, Pod/shop/api-a, Pod/shop/api-b, Service/shop/api
              note: api-a: Running, Ready=False (containers with unready status: [api]) since 2025-06-01T11:46:00Z
              note: api-b: Running, Ready=False (containers with unready status: [api]) since 2025-06-01T11:50:00Z
              why: The ApplicationDown alert rule `up{job="kubernetes-pods"} == 0` with `for: 1m` fires for a pod whose target has not been up for a minute; 2 of 2 pods have not been Running and Ready for at least that long before the capture. Every pod the Services select is down, so callers get connection errors or 503s. Nothing of the workload is serving. pod-not-ready and crash-loop-backoff give the cause when it is a probe or a crash.
              $ kubectl describe pod api-a -n shop
              $ kubectl logs api-a -n shop -c api --previous --tail=50
              $ kubectl get events -n shop --field-selector involvedObject.name=api-a --sort-by=.lastTimestamp
              $ kubectl get endpointslices -n shop -l kubernetes.io/service-name=api
        "#]],
        );
    }

    #[test]
    fn finished_tool_job_operator_and_bare_pods_are_not_applications() {
        let pods = r#"
apiVersion: v1
kind: Pod
metadata: {name: lone, namespace: shop, creationTimestamp: "2025-06-01T10:00:00Z"}
spec: {containers: [{name: sh}]}
status: {phase: Pending}
---
apiVersion: v1
kind: Pod
metadata:
  name: installer-3
  namespace: shop
  creationTimestamp: "2025-06-01T10:00:00Z"
  ownerReferences: [{kind: ConfigMap, name: revision-status-3, uid: c1}]
spec: {containers: [{name: installer}]}
status: {phase: Failed}
---
apiVersion: v1
kind: Pod
metadata:
  name: collector-abcde
  namespace: shop
  creationTimestamp: "2025-06-01T10:00:00Z"
  labels: {rrd-collector: x}
  ownerReferences: [{kind: DaemonSet, name: collector, uid: d1, controller: true}]
spec: {containers: [{name: sleep}]}
status: {phase: Pending}
"#;
        check(
            &DIAGNOSTIC,
            pods,
            expect![[r#"
            no findings
        "#]],
        );
    }

    #[test]
    fn a_daemonset_pod_that_cannot_be_scheduled_is_left_to_the_scheduling_diagnostic() {
        let pod = |scheduled: &str| {
            format!(
                r#"
apiVersion: v1
kind: Pod
metadata:
  name: svclb-web-abcde
  namespace: shop
  creationTimestamp: "2025-06-01T10:00:00Z"
  ownerReferences: [{{kind: DaemonSet, name: svclb-web, uid: d1, controller: true}}]
spec: {{containers: [{{name: lb-port-80}}]}}
status:
  phase: Pending
  conditions: [{{type: PodScheduled, status: "{scheduled}", reason: Unschedulable}}]
"#
            )
        };
        check(
            &DIAGNOSTIC,
            &pod("False"),
            expect![[r#"
            no findings
        "#]],
        );
        check(
            &DIAGNOSTIC,
            &pod("True"),
            expect![[r#"
                P0 application-down DaemonSet shop/svclb-web: 1 of 1 pod down for 2h 0m (ApplicationDown firing)
                  objects: DaemonSet/shop/svclb-web, Pod/shop/svclb-web-abcde
                  note: svclb-web-abcde: Pending since 2025-06-01T10:00:00Z
                  why: The ApplicationDown alert rule `up{job="kubernetes-pods"} == 0` with `for: 1m` fires for a pod whose target has not been up for a minute; 1 of 1 pods have not been Running and Ready for at least that long before the capture. Nothing of the workload is serving. pod-not-ready and crash-loop-backoff give the cause when it is a probe or a crash.
                  $ kubectl describe pod svclb-web-abcde -n shop
                  $ kubectl logs svclb-web-abcde -n shop -c lb-port-80 --previous --tail=50
                  $ kubectl get events -n shop --field-selector involvedObject.name=svclb-web-abcde --sort-by=.lastTimestamp
            "#]],
        );
    }

    #[test]
    fn a_pod_down_under_a_minute_is_not_yet_an_alert_and_one_of_two_is_p1() {
        let fixture = deployment("shop", "api", &["api-a", "api-b"], "[{name: api}]") + SERVICE;
        let fixture = not_ready(fixture, "api-a", "2025-06-01T11:59:30Z");
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
        let one = not_ready(
            deployment("shop", "api", &["api-a", "api-b"], "[{name: api}]") + SERVICE,
            "api-a",
            "2025-06-01T11:30:00Z",
        );
        check(
            &DIAGNOSTIC,
            &one,
            expect![[r#"
            P1 application-down Deployment shop/api: 1 of 2 pods down for 30m (ApplicationDown firing)
              objects: Deployment/shop/api, Pod/shop/api-a
              note: api-a: Running, Ready=False (containers with unready status: [api]) since 2025-06-01T11:30:00Z
              why: The ApplicationDown alert rule `up{job="kubernetes-pods"} == 0` with `for: 1m` fires for a pod whose target has not been up for a minute; 1 of 2 pods have not been Running and Ready for at least that long before the capture. pod-not-ready and crash-loop-backoff give the cause when it is a probe or a crash.
              $ kubectl describe pod api-a -n shop
              $ kubectl logs api-a -n shop -c api --previous --tail=50
              $ kubectl get events -n shop --field-selector involvedObject.name=api-a --sort-by=.lastTimestamp
        "#]],
        );
    }
}
