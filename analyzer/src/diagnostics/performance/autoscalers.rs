//! HorizontalPodAutoscalers and VerticalPodAutoscalers read from their raw JSON: what they
//! target, the metrics an HPA scales on with their targets and current values (autoscaling/v2
//! and the v1 CPU-only shape), and the modes and recommendations of a VPA.

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object, ObjectRef};
use kubesnap_shared::quantity;

/// The workload an autoscaler's `spec.scaleTargetRef` / `spec.targetRef` names.
pub(crate) fn target(autoscaler: &Object, pointer: &str) -> Option<ObjectRef> {
    let reference = autoscaler.at(pointer)?;
    Some(ObjectRef {
        kind: reference.get("kind")?.as_str()?.to_owned(),
        namespace: autoscaler.namespace.clone(),
        name: reference.get("name")?.as_str()?.to_owned(),
    })
}

/// One metric an HPA scales on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HpaMetric {
    /// `cpu`, `memory`, or the custom metric's name.
    pub(crate) name: String,
    /// `Resource` or `ContainerResource`: the pods' own CPU or memory.
    pub(crate) resource: bool,
    /// Utilization in percent of the requests, else a value in base units.
    pub(crate) utilization: bool,
    pub(crate) target: Option<f64>,
    pub(crate) current: Option<f64>,
    /// The JSON pointer of the metric in `spec`.
    pub(crate) pointer: String,
}

impl HpaMetric {
    /// `cpu 95% (target 70%)`.
    pub(crate) fn describe(&self) -> String {
        let value = |number: f64| {
            if self.utilization { format!("{number:.0}%") } else { format!("{number}") }
        };
        match (self.current, self.target) {
            (Some(current), Some(target)) => {
                format!("{} {} (target {})", self.name, value(current), value(target))
            }
            (None, Some(target)) => format!("{} unknown (target {})", self.name, value(target)),
            (Some(current), None) => format!("{} {}", self.name, value(current)),
            (None, None) => self.name.clone(),
        }
    }

    pub(crate) fn above_target(&self) -> bool {
        matches!((self.current, self.target), (Some(current), Some(target)) if current > target)
    }
}

/// The metrics of an HPA with their current values.
pub(crate) fn hpa_metrics(hpa: &Object) -> Vec<HpaMetric> {
    // autoscaling/v1: CPU utilization only.
    if let Some(target) = hpa.at("/spec/targetCPUUtilizationPercentage").and_then(Value::as_f64) {
        return vec![HpaMetric {
            name: "cpu".to_owned(),
            resource: true,
            utilization: true,
            target: Some(target),
            current: hpa.at("/status/currentCPUUtilizationPercentage").and_then(Value::as_f64),
            pointer: "/spec/targetCPUUtilizationPercentage".to_owned(),
        }];
    }
    let current_metrics = hpa.array_at("/status/currentMetrics");
    hpa.array_at("/spec/metrics")
        .iter()
        .enumerate()
        .filter_map(|(index, metric)| {
            let kind = metric.get("type")?.as_str()?;
            let field = lower_first(kind);
            let source = metric.get(&field)?;
            let name = source
                .get("name")
                .or_else(|| source.pointer("/metric/name"))
                .and_then(Value::as_str)
                .unwrap_or(kind)
                .to_owned();
            let target = source.get("target")?;
            let (key, utilization) = match target.get("type").and_then(Value::as_str) {
                Some("Utilization") => ("averageUtilization", true),
                Some("AverageValue") => ("averageValue", false),
                _ => ("value", false),
            };
            let current = current_metrics
                .iter()
                .filter(|current| current.get("type").and_then(Value::as_str) == Some(kind))
                .filter_map(|current| current.get(&field))
                .find(|current| {
                    current.get("name").or_else(|| current.pointer("/metric/name")).and_then(Value::as_str)
                        == Some(name.as_str())
                })
                .and_then(|current| number(current.get("current")?.get(key)?));
            Some(HpaMetric {
                resource: matches!(kind, "Resource" | "ContainerResource"),
                utilization,
                target: target.get(key).and_then(number),
                current,
                pointer: format!("/spec/metrics/{index}"),
                name,
            })
        })
        .collect()
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// A number, or a quantity string (`950m`, `1Gi`) in base units.
pub(crate) fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => quantity::parse(text),
        _ => None,
    }
}

/// The HPAs that scale `workload`.
pub(crate) fn hpas_for<'a>(model: &'a ClusterModel, workload: &ObjectRef) -> Vec<&'a Object> {
    model
        .of_kind("HorizontalPodAutoscaler")
        .filter(|hpa| target(hpa, "/spec/scaleTargetRef").as_ref() == Some(workload))
        .collect()
}

/// A VPA's update mode; `Auto` when unset, as the VPA defaults it.
pub(crate) fn vpa_mode(vpa: &Object) -> &str {
    vpa.str_at("/spec/updatePolicy/updateMode").unwrap_or("Auto")
}

/// The resources a VPA controls for `container` (`cpu`, `memory`); empty when its container
/// policy turns it off. The `*` policy applies to containers without their own.
pub(crate) fn vpa_controls(vpa: &Object, container: &str) -> Vec<String> {
    let policies = vpa.array_at("/spec/resourcePolicy/containerPolicies");
    let named = |wanted: &str| {
        policies.iter().find(|policy| policy.get("containerName").and_then(Value::as_str) == Some(wanted))
    };
    let policy = named(container).or_else(|| named("*"));
    if policy.and_then(|policy| policy.get("mode")).and_then(Value::as_str) == Some("Off") {
        return Vec::new();
    }
    match policy.and_then(|policy| policy.get("controlledResources")).and_then(Value::as_array) {
        Some(resources) => resources.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        None => vec!["cpu".to_owned(), "memory".to_owned()],
    }
}

/// The pod template spec of a workload in the bundle, with its pointer.
pub(crate) fn template_spec<'a>(
    model: &'a ClusterModel,
    workload: &ObjectRef,
) -> Option<(&'a Object, &'static str)> {
    let object = model.get(&workload.kind, workload.namespace.as_deref(), &workload.name)?;
    let pointer = match workload.kind.as_str() {
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        "Pod" => "/spec",
        _ => "/spec/template/spec",
    };
    object.at(pointer).map(|_| (object, pointer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    #[test]
    fn reads_v2_and_v1_metrics_with_their_current_values() {
        let model = model_from_yaml(
            r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {kind: Deployment, name: web}
  metrics:
  - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}
  - {type: Pods, pods: {metric: {name: rps}, target: {type: AverageValue, averageValue: "100"}}}
status:
  currentMetrics:
  - {type: Resource, resource: {name: cpu, current: {averageUtilization: 95, averageValue: 950m}}}
---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: old, namespace: shop}
spec: {scaleTargetRef: {kind: Deployment, name: old}, targetCPUUtilizationPercentage: 50}
"#,
        );
        let web = model.get("HorizontalPodAutoscaler", Some("shop"), "web").unwrap();
        let metrics = hpa_metrics(web);
        assert_eq!(metrics.len(), 2);
        assert_eq!(metrics[0].describe(), "cpu 95% (target 70%)");
        assert!(metrics[0].above_target() && metrics[0].resource);
        assert_eq!(metrics[1].describe(), "rps unknown (target 100)");
        assert!(!metrics[1].resource);
        let old = model.get("HorizontalPodAutoscaler", Some("shop"), "old").unwrap();
        assert_eq!(hpa_metrics(old)[0].describe(), "cpu unknown (target 50%)");
        let deployment =
            ObjectRef { kind: "Deployment".into(), namespace: Some("shop".into()), name: "web".into() };
        assert_eq!(hpas_for(&model, &deployment).len(), 1);
    }

    #[test]
    fn vpa_policies_default_to_auto_and_both_resources() {
        let model = model_from_yaml(
            r#"
apiVersion: autoscaling.k8s.io/v1
kind: VerticalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  targetRef: {kind: Deployment, name: web}
  resourcePolicy:
    containerPolicies:
    - {containerName: sidecar, mode: "Off"}
    - {containerName: "*", controlledResources: [memory]}
"#,
        );
        let vpa = model.get("VerticalPodAutoscaler", Some("shop"), "web").unwrap();
        assert_eq!(vpa_mode(vpa), "Auto");
        assert!(vpa_controls(vpa, "sidecar").is_empty());
        assert_eq!(vpa_controls(vpa, "web"), ["memory"]);
    }
}
