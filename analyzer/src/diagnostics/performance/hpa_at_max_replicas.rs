//! Diagnostic `hpa-at-max-replicas`: horizontalPodAutoscalers capped at their maximum;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::Object;

use super::autoscalers::{HpaMetric, hpa_metrics, target};
use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "hpa-at-max-replicas",
    category: Category::Performance,
    title: "HorizontalPodAutoscalers capped at their maximum",
    severities: &[Severity::P1, Severity::P2],
    what: "HorizontalPodAutoscalers running at `spec.maxReplicas` while a metric is above its target (P1: \
           demand the HPA may not meet), or whose `ScalingLimited` condition says `TooManyReplicas` (P2: it \
           wanted more). The finding gives the replicas the HPA would run without the cap, `ceil(current × \
           current metric / target)` as the HPA computes it.",
    why: "An HPA at its ceiling no longer absorbs load: every pod takes more than it was sized for and \
          latency or errors follow.",
    fix: "Raise maxReplicas (`kubectl patch hpa ... maxReplicas`) if the cluster has room, or make each \
          pod cheaper; check the nodes can hold the extra pods.",
    example: "`HPA shop/web at its max of 5 replicas with cpu 95% (target 70%)`: it would run 7, with \
              `kubectl patch horizontalpodautoscaler/web -n shop --type=merge -p \
              '{\"spec\":{\"maxReplicas\":7}}'`.",
    needs: &[Need::Kind("HorizontalPodAutoscaler")],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    facts.cluster().of_kind("HorizontalPodAutoscaler").filter_map(finding).collect()
}

fn finding(hpa: &Object) -> Option<Finding> {
    let max = hpa.i64_at("/spec/maxReplicas")?;
    let current = hpa.i64_at("/status/currentReplicas").unwrap_or(0);
    let limited = hpa
        .condition("ScalingLimited")
        .filter(|(status, reason, _)| *status == "True" && *reason == "TooManyReplicas");
    let metrics = hpa_metrics(hpa);
    let above: Vec<&HpaMetric> = metrics.iter().filter(|metric| metric.above_target()).collect();
    let at_max = max > 0 && current >= max;
    if !(at_max && (!above.is_empty() || limited.is_some())) {
        return None;
    }
    let severity = if above.is_empty() { Severity::P2 } else { Severity::P1 };
    // The HPA's own rule: desired = ceil(current × current value / target), the largest metric wins.
    let wanted = above
        .iter()
        .filter_map(|metric| Some((current as f64 * metric.current? / metric.target?).ceil() as i64))
        .max()
        .filter(|wanted| *wanted > max);
    let reference = hpa.reference();
    let namespace = hpa.namespace.as_deref().unwrap_or_default();
    let pressure = if above.is_empty() {
        "ScalingLimited: TooManyReplicas".to_owned()
    } else {
        above.iter().map(|metric| metric.describe()).collect::<Vec<_>>().join(", ")
    };
    let mut finding = DIAGNOSTIC
        .finding(
            severity,
            format!("HPA {namespace}/{} at its max of {max} replicas with {pressure}", hpa.name),
        )
        .object(reference.clone());
    if let Some(workload) = target(hpa, "/spec/scaleTargetRef") {
        finding = finding.object(workload);
    }
    finding = finding
        .evidence(Evidence::field(reference.clone(), "/spec/maxReplicas", &max.into()))
        .evidence(Evidence::field(reference.clone(), "/status/currentReplicas", &current.into()));
    for metric in &above {
        finding = finding.evidence(Evidence::note(format!("metric {}", metric.describe())));
    }
    if let Some((status, reason, message)) = hpa.condition("ScalingLimited").filter(|_| limited.is_some()) {
        finding = finding
            .evidence(Evidence::note(format!("condition ScalingLimited={status} ({reason}): {message}")));
    }
    let mut explanation =
        format!("The HPA runs {current} replicas, its maximum of {max}, and cannot add more. ");
    match wanted {
        Some(wanted) => explanation.push_str(&format!(
            "At the current load ({pressure}) it would run {wanted}: each pod is carrying about {:.0}% of \
             the load it was sized for.",
            wanted as f64 / max as f64 * 100.0
        )),
        None if !above.is_empty() => {
            explanation.push_str(&format!("Its metrics are above target: {pressure}."))
        }
        None => explanation
            .push_str("Its ScalingLimited condition says the replicas it wants exceed the maximum."),
    }
    explanation.push_str(" Check the nodes have room before raising the maximum.");
    finding = finding.explanation(explanation).remediation(kubectl::describe(&reference));
    if let Some(wanted) = wanted {
        let patch = format!(r#"{{"spec":{{"maxReplicas":{wanted}}}}}"#);
        finding = finding.remediation(kubectl::on("patch", &reference).arg("--type=merge -p").name(&patch));
    }
    Some(finding.remediation(Kubectl::new("top pod").namespace(namespace)))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    fn hpa(name: &str, current: u32, utilization: u32, conditions: &str) -> String {
        format!(
            r#"
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: {name}, namespace: shop}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}
  minReplicas: 2
  maxReplicas: 5
  metrics: [{{type: Resource, resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 70}}}}}}]
status:
  currentReplicas: {current}
  desiredReplicas: {current}
  currentMetrics: [{{type: Resource, resource: {{name: cpu, current: {{averageUtilization: {utilization}}}}}}}]
  conditions: [{conditions}]
"#
        )
    }

    #[test]
    fn at_max_above_target_is_p1_with_the_replicas_it_would_run() {
        let limited = r#"{type: ScalingLimited, status: "True", reason: TooManyReplicas, message: "the desired replica count is more than the maximum replica count"}"#;
        let fixture = hpa("web", 5, 95, limited) + &hpa("api", 5, 60, limited);
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 hpa-at-max-replicas HPA shop/api at its max of 5 replicas with ScalingLimited: TooManyReplicas
              objects: HorizontalPodAutoscaler/shop/api, Deployment/shop/api
              field HorizontalPodAutoscaler/shop/api /spec/maxReplicas = 5
              field HorizontalPodAutoscaler/shop/api /status/currentReplicas = 5
              note: condition ScalingLimited=True (TooManyReplicas): the desired replica count is more than the maximum replica count
              why: The HPA runs 5 replicas, its maximum of 5, and cannot add more. Its ScalingLimited condition says the replicas it wants exceed the maximum. Check the nodes have room before raising the maximum.
              $ kubectl describe horizontalpodautoscaler api -n shop
              $ kubectl top pod -n shop
            P1 hpa-at-max-replicas HPA shop/web at its max of 5 replicas with cpu 95% (target 70%)
              objects: HorizontalPodAutoscaler/shop/web, Deployment/shop/web
              field HorizontalPodAutoscaler/shop/web /spec/maxReplicas = 5
              field HorizontalPodAutoscaler/shop/web /status/currentReplicas = 5
              note: metric cpu 95% (target 70%)
              note: condition ScalingLimited=True (TooManyReplicas): the desired replica count is more than the maximum replica count
              why: The HPA runs 5 replicas, its maximum of 5, and cannot add more. At the current load (cpu 95% (target 70%)) it would run 7: each pod is carrying about 140% of the load it was sized for. Check the nodes have room before raising the maximum.
              $ kubectl describe horizontalpodautoscaler web -n shop
              $ kubectl patch horizontalpodautoscaler/web -n shop --type=merge -p '{"spec":{"maxReplicas":7}}'
              $ kubectl top pod -n shop
        "#]],
        );
    }

    #[test]
    fn below_max_or_at_max_under_target_is_fine() {
        let fixture = hpa("web", 3, 95, "")
            + &hpa("api", 5, 40, r#"{type: ScalingLimited, status: "False", reason: DesiredWithinRange}"#);
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
