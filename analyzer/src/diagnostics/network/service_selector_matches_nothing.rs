//! Diagnostic `service-selector-matches-nothing`: service selectors that match no pod;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object, labels_match};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::containers;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::network::{backends, pod_health, selector};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "service-selector-matches-nothing",
    category: Category::Network,
    title: "Service selectors that match no pod",
    severities: &[Severity::P1, Severity::P2, Severity::P3],
    what: "Services whose selector matches no pod of their namespace, with the near misses that usually \
           explain it: pods that carry every key but with another value (`app=api-v2` where the Service \
           wants `app=api`), and workloads whose pod template matches but that run no pod (scaled to zero). \
           **Severity.** P1 when an Ingress routes to it, else P2; P3 when nothing routes to it, no pod has \
           part of the selector right (a typo), and the bundle shows it is so on purpose: every workload it \
           would select is scaled to zero, or it is a platform namespace's Service for a component not \
           deployed at all (machine controllers on a platform without machine management, say).",
    why: "The Service has no endpoints until its selector or the pods' labels change: every connection to \
          it fails.",
    fix: "Correct the Service's selector (or the pod template's labels) so they agree, or scale up the \
          workload it is meant for.",
    example: "`Service shop/api selects app=api,tier=web: no pod matches`, with `pod api-7d9f-a has \
              app=api, tier=backend` and `kubectl get pods -n shop --show-labels`.",
    needs: &[],
    run,
};

/// How many near-miss pods a finding quotes.
const NEAR_MISSES: usize = 3;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for service in facts.cluster().of_kind("Service") {
        let wanted = selector::service_selector(service);
        if service.str_at("/spec/type") == Some("ExternalName") || wanted.is_empty() {
            continue;
        }
        let namespace = service.namespace.as_deref().unwrap_or_default();
        let pods: Vec<&Object> =
            facts.cluster().of_kind_in("Pod", namespace).filter(|pod| !pod_health::is_gone(pod)).collect();
        if pods.iter().any(|pod| pod.matches_labels(&wanted)) {
            continue;
        }
        findings.push(finding(facts.cluster(), service, &wanted, &pods));
    }
    findings
}

fn finding(
    model: &ClusterModel,
    service: &Object,
    wanted: &BTreeMap<String, String>,
    pods: &[&Object],
) -> Finding {
    let namespace = service.namespace.as_deref().unwrap_or_default();
    let service_ref = service.reference();
    let wanted_text = selector::to_text(wanted);
    let ingresses = backends::ingresses_to(model, service);
    // Near misses: pods with the most selector keys right, then by name.
    let mut near: Vec<(usize, &Object, Vec<String>)> = pods
        .iter()
        .filter_map(|pod| {
            let labels = pod.labels();
            let right = wanted.iter().filter(|(key, value)| labels.get(*key) == Some(*value)).count();
            let wrong: Vec<String> = wanted
                .keys()
                .filter(|key| labels.get(*key) != wanted.get(*key))
                .map(|key| match labels.get(key) {
                    Some(value) => format!("{key}={value}"),
                    None => format!("no {key}"),
                })
                .collect();
            let shares_a_key = wanted.keys().any(|key| labels.contains_key(key));
            shares_a_key.then_some((right, *pod, wrong))
        })
        .collect();
    near.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
    let idle = idle_workloads(model, namespace, wanted);
    // A pod with part of the selector right points to a typo, not to intent.
    let typo = near.iter().any(|(right, _, _)| *right > 0);
    let why = if typo { None } else { intent(namespace, &idle, &ingresses) };
    let severity = match (&why, ingresses.is_empty()) {
        (_, false) => Severity::P1,
        (Some(_), true) => Severity::P3,
        (None, true) => Severity::P2,
    };
    let mut finding = DIAGNOSTIC
        .finding(
            severity,
            format!(
                "Service {namespace}/{} selects {wanted_text}: no pod matches{}",
                service.name,
                why.as_ref().map(|why| format!(" ({why})")).unwrap_or_default()
            ),
        )
        .object(service_ref.clone());
    for ingress in &ingresses {
        finding = finding.object(ingress.clone());
    }
    finding = finding.evidence(Evidence::field(
        service_ref.clone(),
        "/spec/selector",
        service.at("/spec/selector").unwrap_or(&Value::Null),
    ));

    for (_, pod, wrong) in near.iter().take(NEAR_MISSES) {
        finding = finding.evidence(Evidence::note(format!("pod {} differs: {}", pod.name, wrong.join(", "))));
    }
    for (kind, name, replicas) in &idle {
        let replicas = replicas.map(|r| format!(" (replicas: {r})")).unwrap_or_default();
        finding =
            finding.evidence(Evidence::note(format!("{kind} {name}{replicas} would match but runs no pod")));
    }
    if !ingresses.is_empty() {
        let names: Vec<&str> = ingresses.iter().map(|ingress| ingress.name.as_str()).collect();
        finding = finding.evidence(Evidence::note(format!("routed to by Ingress {}", names.join(", "))));
    }

    let mut explanation = format!(
        "No pod of namespace {namespace} carries every label of Service {}'s selector ({wanted_text}), \
         so the Service has no endpoints.",
        service.name
    );
    if let Some((_, pod, wrong)) = near.first() {
        explanation.push_str(&format!(
            " The closest pod, {}, differs in {}: a label typo or a renamed label is the usual cause.",
            pod.name,
            wrong.join(", ")
        ));
    } else if pods.is_empty() {
        explanation.push_str(&format!(" Namespace {namespace} runs no pod at all."));
    }
    if !idle.is_empty() {
        explanation.push_str(" A workload with matching labels exists but is scaled to zero or not running.");
    }
    if let Some(why) = &why {
        explanation.push_str(&format!(
            " Nothing routes to it from outside and {why}: by intent rather than by accident, so this is \
             a note (P3), not an outage."
        ));
    }
    let mut finding = finding
        .explanation(explanation)
        .remediation(Kubectl::new("get pods").namespace(namespace).arg("--show-labels"))
        .remediation(kubectl::get_yaml(&service_ref))
        .remediation(Kubectl::new("edit service").name(&service.name).namespace(namespace));
    for (kind, name, replicas) in &idle {
        if *replicas == Some(0) {
            finding = finding.remediation(
                Kubectl::new("scale")
                    .name(&format!("{}/{name}", kind.to_ascii_lowercase()))
                    .namespace(namespace)
                    .arg("--replicas=1"),
            );
        }
    }
    finding
}

/// Why a Service that selects no pod is so on purpose, when the bundle shows it and no Ingress
/// routes to it: every workload it would select is scaled to zero (`replicas: 0` is someone's
/// decision), or it is a platform namespace's Service whose component the platform does not run
/// here at all (no workload would match: a controller not deployed on this platform, by design).
fn intent(
    namespace: &str,
    idle: &[(&'static str, &str, Option<i64>)],
    ingresses: &[kubesnap_shared::model::ObjectRef],
) -> Option<String> {
    if !ingresses.is_empty() {
        return None;
    }
    match idle {
        [] if containers::is_system_namespace(Some(namespace)) => Some(
            "no workload of this platform namespace would match: its component is not deployed here"
                .to_owned(),
        ),
        [] => None,
        idle if idle.iter().all(|(_, _, replicas)| *replicas == Some(0)) => {
            let names: Vec<String> = idle.iter().map(|(kind, name, _)| format!("{kind} {name}")).collect();
            Some(format!("{} scaled to zero (replicas: 0)", names.join(", ")))
        }
        _ => None,
    }
}

/// Workloads of the namespace whose pod template labels match but that run no pod.
fn idle_workloads<'a>(
    model: &'a ClusterModel,
    namespace: &'a str,
    wanted: &BTreeMap<String, String>,
) -> Vec<(&'static str, &'a str, Option<i64>)> {
    let mut out = Vec::new();
    for kind in ["Deployment", "StatefulSet", "DaemonSet"] {
        for workload in model.of_kind_in(kind, namespace) {
            let labels = workload
                .at("/spec/template/metadata/labels")
                .and_then(Value::as_object)
                .map(|map| {
                    map.iter().filter_map(|(k, v)| Some((k.to_owned(), v.as_str()?.to_owned()))).collect()
                })
                .unwrap_or_default();
            if labels_match(wanted, &labels) {
                out.push((kind, workload.name.as_str(), workload.i64_at("/spec/replicas")));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    #[test]
    fn names_the_closest_pod_and_the_idle_workload() {
        let fixture = r#"
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api, tier: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop, labels: {app: api, tier: backend}}
status: {phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: cache-1, namespace: shop, labels: {app: cache}}
status: {phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: shop, labels: {run: other}}
status: {phase: Running}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {replicas: 0, template: {metadata: {labels: {app: api, tier: web}}}}
"#;
        check(
            &DIAGNOSTIC,
            fixture,
            expect![[r#"
                P2 service-selector-matches-nothing Service shop/api selects app=api,tier=web: no pod matches
                  objects: Service/shop/api
                  field Service/shop/api /spec/selector = {"app":"api","tier":"web"}
                  note: pod api-1 differs: tier=backend
                  note: pod cache-1 differs: app=cache, no tier
                  note: Deployment web (replicas: 0) would match but runs no pod
                  why: No pod of namespace shop carries every label of Service api's selector (app=api,tier=web), so the Service has no endpoints. The closest pod, api-1, differs in tier=backend: a label typo or a renamed label is the usual cause. A workload with matching labels exists but is scaled to zero or not running.
                  $ kubectl get pods -n shop --show-labels
                  $ kubectl get service api -n shop -o yaml
                  $ kubectl edit service api -n shop
                  $ kubectl scale deployment/web -n shop --replicas=1
            "#]],
        );
    }

    /// No pod matches, nothing routes to either Service, and the bundle shows why: the one is a
    /// platform namespace's Service for a component not deployed, the other's Deployment is
    /// scaled to zero. Notes (P3). A user namespace's Service with no workload at all stays P2.
    #[test]
    fn scaled_to_zero_and_platform_components_not_deployed_are_notes() {
        let fixture = r#"
apiVersion: v1
kind: Service
metadata: {name: machine-controllers, namespace: cluster-system}
spec: {selector: {k8s-app: controller}}
---
apiVersion: v1
kind: Service
metadata: {name: ui, namespace: storage}
spec: {selector: {app: ui}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ui, namespace: storage}
spec: {replicas: 0, template: {metadata: {labels: {app: ui}}}}
---
apiVersion: v1
kind: Service
metadata: {name: orphan, namespace: shop}
spec: {selector: {app: gone}}
"#;
        let model = crate::testing::model_from_yaml(fixture);
        let findings = (DIAGNOSTIC.run)(&crate::facts::Facts::new(&model));
        let titles: Vec<String> = findings.iter().map(|f| format!("{} {}", f.severity, f.title)).collect();
        assert_eq!(
            titles,
            [
                "P3 Service cluster-system/machine-controllers selects k8s-app=controller: no pod \
                 matches (no workload of this platform namespace would match: its component is not \
                 deployed here)",
                "P2 Service shop/orphan selects app=gone: no pod matches",
                "P3 Service storage/ui selects app=ui: no pod matches (Deployment ui scaled to zero \
                 (replicas: 0))",
            ]
        );
    }

    #[test]
    fn a_matching_pod_even_not_ready_is_not_this_problem() {
        let fixture = r#"
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}}
---
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop, labels: {app: api, pod-template-hash: x}}
status: {phase: Pending}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: other}
spec: {type: ExternalName, externalName: api.shop.svc}
"#;
        check(
            &DIAGNOSTIC,
            fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
