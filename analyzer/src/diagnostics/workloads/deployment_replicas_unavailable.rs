//! Diagnostic `deployment-replicas-unavailable`: deployments with unavailable replicas;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::workload::condition_note;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "deployment-replicas-unavailable",
    category: Category::Workloads,
    title: "Deployments with unavailable replicas",
    severities: &[Severity::P0, Severity::P1, Severity::P2],
    what: "Deployments with fewer available replicas than desired (`status.availableReplicas < \
           spec.replicas`), with the `Available` condition's message.",
    why: "No available replica means the service is down; fewer replicas than desired means lost capacity \
          and no redundancy for the next failure.",
    fix: "Look at the Deployment's pods (the pod findings name why they are not available) and at its \
          rollout; roll back a bad change with `kubectl rollout undo`.",
    example: "`Deployment shop/api: 0 of 3 replicas available` with `Deployment does not have minimum \
              availability`.",
    needs: &[],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for deployment in facts.cluster().of_kind("Deployment") {
        let desired = deployment.i64_at("/spec/replicas").unwrap_or(1);
        let available = deployment.i64_at("/status/availableReplicas").unwrap_or(0);
        if desired <= 0 || available >= desired {
            continue;
        }
        let severity = if available == 0 {
            Severity::P0
        } else if available * 2 < desired {
            Severity::P1
        } else {
            Severity::P2
        };
        let object = deployment.reference();
        let namespace = deployment.namespace.as_deref().unwrap_or_default();
        let mut finding = DIAGNOSTIC
            .finding(
                severity,
                format!(
                    "Deployment {namespace}/{}: {available} of {desired} replicas available",
                    deployment.name
                ),
            )
            .object(object.clone())
            .evidence(Evidence::field(object.clone(), "/spec/replicas", &desired.into()))
            .evidence(Evidence::field(object.clone(), "/status/availableReplicas", &available.into()));
        if let Some(unavailable) = deployment.i64_at("/status/unavailableReplicas") {
            finding = finding.evidence(Evidence::field(
                object.clone(),
                "/status/unavailableReplicas",
                &unavailable.into(),
            ));
        }
        if let Some(condition) = deployment.condition("Available").filter(|(status, _, _)| *status != "True")
        {
            finding = finding.evidence(Evidence::note(condition_note("Available", condition)));
        }
        let impact = match severity {
            Severity::P0 => "Nothing serves its traffic: the service is down.",
            Severity::P1 => "Fewer than half of its replicas serve: capacity is badly reduced.",
            _ => "It runs with less capacity and redundancy than intended.",
        };
        let selector = deployment
            .at("/spec/selector/matchLabels")
            .and_then(|labels| labels.as_object())
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|(k, v)| Some(format!("{k}={}", v.as_str()?)))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        finding = finding
            .explanation(format!(
                "Deployment {} wants {desired} replicas and {available} are available. {impact} The pod \
                 findings of this report say why its pods are not available.",
                deployment.name
            ))
            .remediation(kubectl::describe(&object))
            .remediation(kubectl::rollout("status", &object));
        if !selector.is_empty() {
            finding =
                finding.remediation(Kubectl::new("get pods").namespace_of(&object).arg("-l").name(&selector));
        }
        findings.push(finding.remediation(kubectl::rollout("undo", &object)));
    }
    findings
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    fn deployment(name: &str, desired: u32, available: u32) -> String {
        format!(
            r#"
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: shop}}
spec: {{replicas: {desired}, selector: {{matchLabels: {{app: {name}}}}}}}
status:
  availableReplicas: {available}
  conditions:
  - {{type: Available, status: "{}", reason: MinimumReplicasUnavailable, message: Deployment does not have minimum availability.}}
"#,
            if available >= desired { "True" } else { "False" }
        )
    }

    #[test]
    fn severity_follows_how_much_capacity_is_left() {
        let fixture = [deployment("api", 3, 0), deployment("web", 5, 2), deployment("cart", 4, 3)].concat();
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P0 deployment-replicas-unavailable Deployment shop/api: 0 of 3 replicas available
              objects: Deployment/shop/api
              field Deployment/shop/api /spec/replicas = 3
              field Deployment/shop/api /status/availableReplicas = 0
              note: Available=False MinimumReplicasUnavailable: Deployment does not have minimum availability.
              why: Deployment api wants 3 replicas and 0 are available. Nothing serves its traffic: the service is down. The pod findings of this report say why its pods are not available.
              $ kubectl describe deployment api -n shop
              $ kubectl rollout status deployment/api -n shop
              $ kubectl get pods -n shop -l app=api
              $ kubectl rollout undo deployment/api -n shop
            P2 deployment-replicas-unavailable Deployment shop/cart: 3 of 4 replicas available
              objects: Deployment/shop/cart
              field Deployment/shop/cart /spec/replicas = 4
              field Deployment/shop/cart /status/availableReplicas = 3
              note: Available=False MinimumReplicasUnavailable: Deployment does not have minimum availability.
              why: Deployment cart wants 4 replicas and 3 are available. It runs with less capacity and redundancy than intended. The pod findings of this report say why its pods are not available.
              $ kubectl describe deployment cart -n shop
              $ kubectl rollout status deployment/cart -n shop
              $ kubectl get pods -n shop -l app=cart
              $ kubectl rollout undo deployment/cart -n shop
            P1 deployment-replicas-unavailable Deployment shop/web: 2 of 5 replicas available
              objects: Deployment/shop/web
              field Deployment/shop/web /spec/replicas = 5
              field Deployment/shop/web /status/availableReplicas = 2
              note: Available=False MinimumReplicasUnavailable: Deployment does not have minimum availability.
              why: Deployment web wants 5 replicas and 2 are available. Fewer than half of its replicas serve: capacity is badly reduced. The pod findings of this report say why its pods are not available.
              $ kubectl describe deployment web -n shop
              $ kubectl rollout status deployment/web -n shop
              $ kubectl get pods -n shop -l app=web
              $ kubectl rollout undo deployment/web -n shop
        "#]],
        );
    }

    #[test]
    fn fully_available_and_scaled_to_zero_are_fine() {
        let fixture = [deployment("api", 3, 3), deployment("idle", 0, 0)].concat();
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
