//! Diagnostic `hpa-vpa-conflict`: HPA and VPA fighting over the same resource;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::{ClusterModel, Object};

use super::autoscalers::{hpa_metrics, target, template_spec, vpa_controls, vpa_mode};
use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "hpa-vpa-conflict",
    category: Category::Performance,
    title: "HPA and VPA fighting over the same resource",
    severities: &[Severity::P2],
    what: "Workloads scaled by an HPA on CPU or memory utilization and by a VPA that rewrites the same \
           resource's requests (update mode `Auto`, `Recreate`, `Initial` or `InPlaceOrRecreate`, the \
           resource among its container policy's `controlledResources`).",
    why: "Utilization is usage over request: the VPA raising requests makes the HPA remove replicas, which \
          raises usage per pod, and the two oscillate.",
    fix: "Keep one of them per resource: turn the VPA to Off (recommendations only), restrict its \
          controlledResources to the other resource, or scale the HPA on a custom metric.",
    example: "`Deployment shop/web: HPA web scales on cpu and VPA web (Auto) sets cpu requests`, with the \
              patch that turns the VPA to `Off` or restricts it to memory.",
    needs: &[Need::Kind("HorizontalPodAutoscaler"), Need::Kind("VerticalPodAutoscaler")],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for hpa in facts.cluster().of_kind("HorizontalPodAutoscaler") {
        let Some(workload) = target(hpa, "/spec/scaleTargetRef") else { continue };
        let scaled: Vec<String> = hpa_metrics(hpa)
            .into_iter()
            .filter(|metric| metric.resource && matches!(metric.name.as_str(), "cpu" | "memory"))
            .map(|metric| metric.name)
            .collect();
        if scaled.is_empty() {
            continue;
        }
        for vpa in facts
            .cluster()
            .of_kind_in("VerticalPodAutoscaler", workload.namespace.as_deref().unwrap_or_default())
        {
            if target(vpa, "/spec/targetRef").as_ref() != Some(&workload) || vpa_mode(vpa) == "Off" {
                continue;
            }
            let containers = container_names(facts.cluster(), &workload);
            let mut shared: Vec<String> = containers
                .iter()
                .flat_map(|container| vpa_controls(vpa, container))
                .filter(|resource| scaled.contains(resource))
                .collect();
            // Without the template in the bundle, the VPA's defaults (both resources) stand.
            if containers.is_empty() {
                shared = vpa_controls(vpa, "*").into_iter().filter(|r| scaled.contains(r)).collect();
            }
            shared.sort();
            shared.dedup();
            if !shared.is_empty() {
                findings.push(finding(hpa, vpa, &workload, &scaled, &shared));
            }
        }
    }
    findings
}

fn container_names(model: &ClusterModel, workload: &kubesnap_shared::model::ObjectRef) -> Vec<String> {
    let Some((object, pointer)) = template_spec(model, workload) else { return Vec::new() };
    object
        .array_at(&format!("{pointer}/containers"))
        .iter()
        .filter_map(|container| container.get("name")?.as_str().map(str::to_owned))
        .collect()
}

fn finding(
    hpa: &Object,
    vpa: &Object,
    workload: &kubesnap_shared::model::ObjectRef,
    scaled: &[String],
    shared: &[String],
) -> Finding {
    let namespace = workload.namespace.as_deref().unwrap_or_default();
    let mode = vpa_mode(vpa);
    let resources = shared.join(" and ");
    let mut finding = DIAGNOSTIC
        .finding(
            Severity::P2,
            format!(
                "{} {namespace}/{}: HPA {} scales on {resources} and VPA {} ({mode}) sets {resources} \
                 requests",
                workload.kind, workload.name, hpa.name, vpa.name
            ),
        )
        .object(workload.clone())
        .object(hpa.reference())
        .object(vpa.reference())
        .evidence(Evidence::note(format!("HPA {} metrics: {}", hpa.name, scaled.join(", "))))
        .evidence(Evidence::field(
            vpa.reference(),
            "/spec/updatePolicy/updateMode",
            &vpa.at("/spec/updatePolicy/updateMode").cloned().unwrap_or_else(|| "Auto (default)".into()),
        ))
        .explanation(format!(
            "The HPA keeps the pods' average {resources} utilization (usage divided by request) at its \
             target; the VPA rewrites the same requests from usage. When the VPA raises a request, \
             utilization drops and the HPA removes replicas; usage per pod then rises and the VPA raises \
             the request again. The two controllers chase each other and the replica count and requests \
             oscillate."
        ))
        .remediation(
            kubectl::on("patch", &vpa.reference())
                .arg("--type=merge -p")
                .name(r#"{"spec":{"updatePolicy":{"updateMode":"Off"}}}"#),
        );
    // When the HPA only scales on one resource, the VPA can keep the other.
    let other: Vec<&str> = ["cpu", "memory"].into_iter().filter(|r| !scaled.iter().any(|s| s == r)).collect();
    if let [other] = other.as_slice() {
        let patch = format!(
            r#"{{"spec":{{"resourcePolicy":{{"containerPolicies":[{{"containerName":"*","controlledResources":["{other}"]}}]}}}}}}"#
        );
        finding =
            finding.remediation(kubectl::on("patch", &vpa.reference()).arg("--type=merge -p").name(&patch));
    }
    finding.remediation(kubectl::describe(&hpa.reference()))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;
    use crate::testing::deployment;

    const HPA: &str = r#"
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 10
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]
"#;

    fn vpa(spec: &str) -> String {
        format!(
            "\n---\napiVersion: autoscaling.k8s.io/v1\nkind: VerticalPodAutoscaler\n\
             metadata: {{name: web, namespace: shop}}\n\
             spec: {{targetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}{spec}}}\n"
        )
    }

    #[test]
    fn an_auto_vpa_on_cpu_under_a_cpu_hpa_conflicts() {
        let fixture = deployment("shop", "web", &["web-a"], "[{name: web}]") + HPA + &vpa("");
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 hpa-vpa-conflict Deployment shop/web: HPA web scales on cpu and VPA web (Auto) sets cpu requests
              objects: Deployment/shop/web, HorizontalPodAutoscaler/shop/web, VerticalPodAutoscaler/shop/web
              note: HPA web metrics: cpu
              field VerticalPodAutoscaler/shop/web /spec/updatePolicy/updateMode = Auto (default)
              why: The HPA keeps the pods' average cpu utilization (usage divided by request) at its target; the VPA rewrites the same requests from usage. When the VPA raises a request, utilization drops and the HPA removes replicas; usage per pod then rises and the VPA raises the request again. The two controllers chase each other and the replica count and requests oscillate.
              $ kubectl patch verticalpodautoscaler/web -n shop --type=merge -p '{"spec":{"updatePolicy":{"updateMode":"Off"}}}'
              $ kubectl patch verticalpodautoscaler/web -n shop --type=merge -p '{"spec":{"resourcePolicy":{"containerPolicies":[{"containerName":"*","controlledResources":["memory"]}]}}}'
              $ kubectl describe horizontalpodautoscaler web -n shop
        "#]],
        );
    }

    #[test]
    fn an_off_vpa_or_one_limited_to_memory_does_not() {
        let off = deployment("shop", "web", &["web-a"], "[{name: web}]")
            + HPA
            + &vpa(", updatePolicy: {updateMode: \"Off\"}");
        check(
            &DIAGNOSTIC,
            &off,
            expect![[r#"
            no findings
        "#]],
        );
        let memory_only = deployment("shop", "web", &["web-a"], "[{name: web}]")
            + HPA
            + &vpa(", resourcePolicy: {containerPolicies: [{containerName: \"*\", controlledResources: \
                 [memory]}]}");
        check(
            &DIAGNOSTIC,
            &memory_only,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
