//! Diagnostic `hpa-metrics-unavailable`: horizontalPodAutoscalers without metrics;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::{ClusterModel, Object};

use super::autoscalers::target;
use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "hpa-metrics-unavailable",
    category: Category::Performance,
    title: "HorizontalPodAutoscalers without metrics",
    severities: &[Severity::P1],
    what: "HorizontalPodAutoscalers that cannot read their metrics: the `ScalingActive` condition is \
           `False` (other than `ScalingDisabled`), or the HPA has `FailedGetResourceMetric`-family warning \
           events. The finding reads the cause from the message: containers without the CPU/memory request \
           a utilization target divides by, or a metrics API that is not served.",
    why: "An HPA without metrics freezes at its current replica count: it neither scales out under load \
          nor in when idle.",
    fix: "Give the target's containers the requests the utilization target divides by, or make the \
          metrics API available (metrics-server, the adapter of custom metrics).",
    example: "`HPA shop/web cannot read its metrics (FailedGetResourceMetric): missing request for cpu in \
              container web`, with `kubectl set resources deployment/web -n shop -c web --requests=cpu=...` \
              as the fix.",
    needs: &[Need::Kind("HorizontalPodAutoscaler")],
    run,
};

/// Event reasons of the HPA controller when a metric cannot be read.
const METRIC_FAILURES: &[&str] = &[
    "FailedGetResourceMetric",
    "FailedGetContainerResourceMetric",
    "FailedGetPodsMetric",
    "FailedGetObjectMetric",
    "FailedGetExternalMetric",
    "FailedComputeMetricsReplicas",
];

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    facts
        .cluster()
        .of_kind("HorizontalPodAutoscaler")
        .filter_map(|hpa| finding(facts.cluster(), hpa))
        .collect()
}

fn finding(model: &ClusterModel, hpa: &Object) -> Option<Finding> {
    let inactive = hpa
        .condition("ScalingActive")
        .filter(|(status, reason, _)| *status == "False" && *reason != "ScalingDisabled");
    let events: Vec<_> = model
        .events_for("HorizontalPodAutoscaler", hpa.namespace.as_deref(), &hpa.name)
        .filter(|event| event.is_warning() && METRIC_FAILURES.contains(&event.reason.as_str()))
        .collect();
    if inactive.is_none() && events.is_empty() {
        return None;
    }
    let (reason, message) = match (inactive, events.last()) {
        (Some((_, reason, message)), _) => (reason.to_owned(), message.to_owned()),
        (None, Some(event)) => (event.reason.clone(), event.message.clone()),
        (None, None) => return None,
    };
    let reference = hpa.reference();
    let namespace = hpa.namespace.as_deref().unwrap_or_default();
    let workload = target(hpa, "/spec/scaleTargetRef");
    let short = message.rsplit(": ").next().unwrap_or(&message).trim().to_owned();
    let mut finding = DIAGNOSTIC
        .finding(
            Severity::P1,
            format!("HPA {namespace}/{} cannot read its metrics ({reason}): {short}", hpa.name),
        )
        .object(reference.clone());
    if let Some(workload) = &workload {
        finding = finding.object(workload.clone());
    }
    if let Some(index) = hpa
        .array_at("/status/conditions")
        .iter()
        .position(|c| c.get("type").and_then(|t| t.as_str()) == Some("ScalingActive"))
        && inactive.is_some()
    {
        finding = finding.evidence(Evidence::field(
            reference.clone(),
            format!("/status/conditions/{index}/message"),
            &message.clone().into(),
        ));
    }
    for event in events.iter().rev().take(3).rev() {
        finding = finding.evidence(Evidence::event(event));
    }
    let replicas = hpa.i64_at("/status/currentReplicas").unwrap_or(0);
    let lower = message.to_ascii_lowercase();
    let cause = if lower.contains("missing request for") {
        "A utilization target is a share of the containers' requests, and a container of the target has \
         no request for that resource: set one on every container of the pod template."
    } else if lower.contains("unable to fetch metrics")
        || lower.contains("could not find the requested resource")
        || lower.contains("no metrics returned")
    {
        "The metrics API did not answer: metrics-server (or the custom/external metrics adapter) is \
         missing, not ready, or its APIService is unavailable."
    } else {
        "Read the message above: the HPA controller could not compute a replica count from the metric."
    };
    finding = finding
        .explanation(format!(
            "The HPA cannot read the metrics it scales on, so it holds {} at {replicas} replicas \
             whatever the load. {cause}",
            workload.as_ref().map(|w| format!("{} {}", w.kind, w.name)).unwrap_or_else(|| "its \
                                                                                           target"
                .to_owned())
        ))
        .remediation(kubectl::describe(&reference))
        .remediation(Kubectl::new("get apiservice v1beta1.metrics.k8s.io"))
        .remediation(Kubectl::new("top pod").namespace(namespace));
    if lower.contains("missing request for") {
        // `missing request for cpu in container web of Pod web-7d9f-a`.
        let container = message
            .find("in container ")
            .and_then(|start| message[start + "in container ".len()..].split_whitespace().next())
            .map(|name| name.trim_end_matches(['.', ',']).to_owned());
        let resource = if lower.contains("missing request for memory") { "memory" } else { "cpu" };
        if let (Some(workload), Some(container)) = (&workload, container) {
            finding = finding.remediation(
                kubectl::on("set resources", workload)
                    .arg("-c")
                    .name(&container)
                    .joined("--requests=", resource)
                    .then("=<request>"),
            );
        }
    }
    Some(finding)
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    const HPA: &str = r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]
status:
  currentReplicas: 2
  conditions:
  - {type: AbleToScale, status: "True", reason: SucceededGetScale}
"#;

    #[test]
    fn scaling_inactive_for_a_missing_request_names_the_container() {
        let fixture = format!(
            "{HPA}  - {{type: ScalingActive, status: \"False\", reason: FailedGetResourceMetric, \
             message: \"the HPA was unable to compute the replica count: failed to get cpu utilization: \
             missing request for cpu in container web of Pod web-7d9f-a\"}}\n{}",
            r#"---
apiVersion: v1
kind: Event
metadata: {name: web.1, namespace: shop}
involvedObject: {kind: HorizontalPodAutoscaler, name: web, namespace: shop}
type: Warning
reason: FailedGetResourceMetric
message: "failed to get cpu utilization: missing request for cpu in container web of Pod web-7d9f-a"
count: 12
source: {component: horizontal-pod-autoscaler}
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 hpa-metrics-unavailable HPA shop/web cannot read its metrics (FailedGetResourceMetric): missing request for cpu in container web of Pod web-7d9f-a
              objects: HorizontalPodAutoscaler/shop/web, Deployment/shop/web
              field HorizontalPodAutoscaler/shop/web /status/conditions/1/message = the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu in container web of Pod web-7d9f-a
              event FailedGetResourceMetric x12 (horizontal-pod-autoscaler): failed to get cpu utilization: missing request for cpu in container web of Pod web-7d9f-a
              why: The HPA cannot read the metrics it scales on, so it holds Deployment web at 2 replicas whatever the load. A utilization target is a share of the containers' requests, and a container of the target has no request for that resource: set one on every container of the pod template.
              $ kubectl describe horizontalpodautoscaler web -n shop
              $ kubectl get apiservice v1beta1.metrics.k8s.io
              $ kubectl top pod -n shop
              $ kubectl set resources deployment/web -n shop -c web --requests=cpu=<request>
        "#]],
        );
    }

    #[test]
    fn an_active_hpa_or_a_disabled_one_is_fine() {
        let active =
            format!("{HPA}  - {{type: ScalingActive, status: \"True\", reason: ValidMetricFound}}\n");
        check(
            &DIAGNOSTIC,
            &active,
            expect![[r#"
            no findings
        "#]],
        );
        let disabled =
            format!("{HPA}  - {{type: ScalingActive, status: \"False\", reason: ScalingDisabled}}\n");
        check(
            &DIAGNOSTIC,
            &disabled,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
