//! Diagnostic `resource-quota-near-limit`: resourceQuotas near or at their limit;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};
use kubesnap_shared::quantity;

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::performance::units;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "resource-quota-near-limit",
    category: Category::Performance,
    title: "ResourceQuotas near or at their limit",
    severities: &[Severity::P1, Severity::P2],
    what: "Every ResourceQuota's `status.used` against its `status.hard`, resource by resource \
           (`requests.cpu`, `limits.memory`, `pods`, `count/deployments.apps`, ...): at 90% or more P2, at \
           100% P1. A hard limit of 0 is a policy (nothing of that kind allowed), not exhaustion, and is \
           left alone. `FailedCreate` events naming the quota are quoted.",
    why: "At its quota a namespace cannot create pods: rollouts, scale-outs and Jobs stop with only an event \
          on the controller to say why.",
    fix: "Free what the namespace holds (scale down, delete finished Jobs), lower requests, or raise the \
          quota with its owner's agreement.",
    example: "`ResourceQuota shop/compute: requests.memory 100% used (8 GiB of 8 GiB), pods 90% used (9 of \
              10)`, with the `exceeded quota` events of the ReplicaSets it blocks.",
    needs: &[Need::Kind("ResourceQuota")],
    run,
};

const NEAR: f64 = 0.9;

/// One resource of a quota at or above [`NEAR`].
#[derive(Debug)]
struct Pressed<'a> {
    resource: &'a str,
    used: f64,
    hard: f64,
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    facts.cluster().of_kind("ResourceQuota").filter_map(|quota| finding(facts.cluster(), quota)).collect()
}

fn finding(model: &ClusterModel, quota: &Object) -> Option<Finding> {
    let hard = quota.at("/status/hard")?.as_object()?;
    let used = quota.at("/status/used").and_then(Value::as_object);
    let mut pressed: Vec<Pressed<'_>> = hard
        .iter()
        .filter_map(|(resource, hard)| {
            let hard = quantity::parse(hard.as_str()?)?;
            let used = quantity::parse(used?.get(resource)?.as_str()?)?;
            (hard > 0.0 && used / hard >= NEAR).then_some(Pressed { resource, used, hard })
        })
        .collect();
    if pressed.is_empty() {
        return None;
    }
    // Fullest first; serde_json's map is ordered by key, so ties stay in name order.
    pressed.sort_by(|a, b| (b.used / b.hard).total_cmp(&(a.used / a.hard)));
    let full = pressed.iter().any(|p| p.used >= p.hard);
    let severity = if full { Severity::P1 } else { Severity::P2 };
    let namespace = quota.namespace.as_deref().unwrap_or_default();
    let parts: Vec<String> = pressed
        .iter()
        .map(|p| {
            format!(
                "{} {} used ({} of {})",
                p.resource,
                units::percent(p.used / p.hard),
                amount(p.resource, p.used),
                amount(p.resource, p.hard)
            )
        })
        .collect();
    let reference = quota.reference();
    let mut finding = DIAGNOSTIC
        .finding(severity, format!("ResourceQuota {namespace}/{}: {}", quota.name, parts.join(", ")))
        .object(reference.clone());
    for p in &pressed {
        let key = p.resource.replace('~', "~0").replace('/', "~1");
        for section in ["used", "hard"] {
            if let Some(value) = quota.at(&format!("/status/{section}/{key}")) {
                finding = finding.evidence(Evidence::field(
                    reference.clone(),
                    format!("/status/{section}/{key}"),
                    value,
                ));
            }
        }
    }
    let blocked: Vec<_> = model
        .events
        .iter()
        .filter(|event| {
            event.namespace.as_deref() == Some(namespace) && event.message.contains("exceeded quota")
        })
        .filter(|event| event.message.contains(&quota.name))
        .collect();
    for event in blocked.iter().rev().take(3).rev() {
        finding = finding.evidence(Evidence::event(event));
        finding = finding.object(event.involved.clone());
    }
    let mut explanation = if full {
        format!(
            "Namespace {namespace} has used all it may of {}: the API server rejects any new object or \
             pod that would add to it, so rollouts, scale-outs and new Jobs stop.",
            pressed.iter().filter(|p| p.used >= p.hard).map(|p| p.resource).collect::<Vec<_>>().join(", ")
        )
    } else {
        format!(
            "Namespace {namespace} is within 10% of its quota: the next rollout (which briefly runs old \
             and new pods together) or scale-out may be rejected."
        )
    };
    if !blocked.is_empty() {
        let noun = if blocked.len() == 1 { "event shows a creation" } else { "events show creations" };
        explanation.push_str(&format!(" {} FailedCreate {noun} already refused.", blocked.len()));
    }
    Some(
        finding
            .explanation(explanation)
            .remediation(kubectl::describe(&reference))
            .remediation(
                Kubectl::new("get events").namespace(namespace).arg("--field-selector reason=FailedCreate"),
            )
            .remediation(Kubectl::new("top pod").namespace(namespace)),
    )
}

/// A used or hard amount as people read it: CPU, bytes, or a count.
fn amount(resource: &str, value: f64) -> String {
    if resource.contains("cpu") {
        units::cpu(value * 1000.0)
    } else if resource.contains("memory") || resource.contains("storage") {
        units::memory(value)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    fn quota(used_memory: &str, used_pods: u32) -> String {
        format!(
            r#"
apiVersion: v1
kind: ResourceQuota
metadata: {{name: compute, namespace: shop}}
spec: {{hard: {{requests.memory: 8Gi, pods: "10", requests.cpu: "4", services.loadbalancers: "0"}}}}
status:
  hard: {{requests.memory: 8Gi, pods: "10", requests.cpu: "4", services.loadbalancers: "0", count/deployments.apps: "20"}}
  used: {{requests.memory: {used_memory}, pods: "{used_pods}", requests.cpu: 1500m, services.loadbalancers: "0", count/deployments.apps: "19"}}
"#
        )
    }

    #[test]
    fn a_full_quota_is_p1_with_the_creations_it_refused() {
        let fixture = quota("8Gi", 9)
            + r#"
---
apiVersion: v1
kind: Event
metadata: {name: api-rs.1, namespace: shop}
involvedObject: {kind: ReplicaSet, name: api-7d9f, namespace: shop}
type: Warning
reason: FailedCreate
message: 'Error creating: pods "api-7d9f-x" is forbidden: exceeded quota: compute, requested: requests.memory=512Mi, used: requests.memory=8Gi, limited: requests.memory=8Gi'
count: 31
source: {component: replicaset-controller}
"#;
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 resource-quota-near-limit ResourceQuota shop/compute: requests.memory 100% used (8 GiB of 8 GiB), count/deployments.apps 95% used (19 of 20), pods 90% used (9 of 10)
              objects: ResourceQuota/shop/compute, ReplicaSet/shop/api-7d9f
              field ResourceQuota/shop/compute /status/used/requests.memory = 8Gi
              field ResourceQuota/shop/compute /status/hard/requests.memory = 8Gi
              field ResourceQuota/shop/compute /status/used/count~1deployments.apps = 19
              field ResourceQuota/shop/compute /status/hard/count~1deployments.apps = 20
              field ResourceQuota/shop/compute /status/used/pods = 9
              field ResourceQuota/shop/compute /status/hard/pods = 10
              event FailedCreate x31 (replicaset-controller): Error creating: pods "api-7d9f-x" is forbidden: exceeded quota: compute, requested: requests.memory=512Mi, used: requests.memory=8Gi, limited: requests.memory=8Gi
              why: Namespace shop has used all it may of requests.memory: the API server rejects any new object or pod that would add to it, so rollouts, scale-outs and new Jobs stop. 1 FailedCreate event shows a creation already refused.
              $ kubectl describe resourcequota compute -n shop
              $ kubectl get events -n shop --field-selector reason=FailedCreate
              $ kubectl top pod -n shop
        "#]],
        );
    }

    #[test]
    fn room_left_and_zero_hard_policies_are_fine() {
        let fixture =
            quota("6Gi", 5).replace("count/deployments.apps: \"19\"", "count/deployments.apps: \"3\"");
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
