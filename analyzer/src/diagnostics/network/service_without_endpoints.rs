//! Diagnostic `service-without-endpoints`: services without ready endpoints;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::network::backends::{self, Backends, Source};
use crate::facts::network::{pod_health, selector};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "service-without-endpoints",
    category: Category::Network,
    title: "Services without ready endpoints",
    severities: &[Severity::P1, Severity::P2],
    what: "Services with a selector whose EndpointSlices (or Endpoints) hold no ready address although pods \
           match the selector: none of them is Ready (each with the reason). Ingresses routing to the \
           Service are named as the blast radius. A selector that matches no pod at all is \
           `service-selector-matches-nothing`'s finding, not this one's.",
    why: "Traffic to a Service without ready endpoints is refused or times out: its callers and the \
          Ingresses routing to it fail.",
    fix: "Make the matching pods Ready (see their own findings), or correct the selector so it matches the \
          pods' labels.",
    example: "`Service shop/api has no ready endpoints: 2 pods match but none is Ready`, with `api-7d9f-a: \
              CrashLoopBackOff in container api, 12 restarts` and Ingress shop/web routing to it.",
    needs: &[],
    run,
};

/// How many not-ready pods a finding lists one by one.
const LISTED_PODS: usize = 5;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for service in facts.cluster().of_kind("Service") {
        if service.str_at("/spec/type") == Some("ExternalName")
            || selector::service_selector(service).is_empty()
        {
            continue;
        }
        let backends = backends::of_service(facts, service);
        if backends.ready > 0 {
            continue;
        }
        // A selector that matches no pod at all is `service-selector-matches-nothing`'s finding,
        // with the near misses and the scaled-down workloads: one finding per Service and problem.
        let wanted = selector::service_selector(service);
        let namespace = service.namespace.as_deref().unwrap_or_default();
        if !facts
            .cluster()
            .of_kind_in("Pod", namespace)
            .any(|pod| !pod_health::is_gone(pod) && pod.matches_labels(&wanted))
        {
            continue;
        }
        findings.push(finding(facts.cluster(), service, &backends));
    }
    findings
}

fn finding(model: &ClusterModel, service: &Object, backends: &Backends<'_>) -> Finding {
    let service_ref = service.reference();
    let selector = selector::service_selector(service);
    let selector_text = selector::to_text(&selector);
    let ingresses = backends::ingresses_to(model, service);
    let nothing_matches = backends.pods.is_empty();
    let cause = if nothing_matches {
        format!("no pod matches its selector {selector_text}")
    } else {
        let count = backends.pods.len();
        let noun = if count == 1 { "pod matches" } else { "pods match" };
        format!("{count} {noun} but none is Ready")
    };
    // A selector matching nothing with nobody routing to it may be a leftover; a Service whose
    // pods exist but fail, or that an Ingress exposes, is broken for its users.
    let severity = if nothing_matches && ingresses.is_empty() { Severity::P2 } else { Severity::P1 };
    let namespace = service.namespace.as_deref().unwrap_or_default();
    let mut finding = DIAGNOSTIC
        .finding(severity, format!("Service {namespace}/{} has no ready endpoints: {cause}", service.name))
        .object(service_ref.clone());
    for ingress in &ingresses {
        finding = finding.object(ingress.clone());
    }
    finding = finding
        .evidence(Evidence::field(
            service_ref.clone(),
            "/spec/selector",
            service.at("/spec/selector").unwrap_or(&kubesnap_shared::json::Value::Null),
        ))
        .evidence(Evidence::note(backends.describe()));
    for pod in backends.pods.iter().take(LISTED_PODS) {
        let why = pod_health::trouble(pod).unwrap_or_else(|| "Ready".to_owned());
        finding =
            finding.object(pod.reference()).evidence(Evidence::note(format!("pod {}: {why}", pod.name)));
    }
    if backends.pods.len() > LISTED_PODS {
        finding = finding.evidence(Evidence::note(format!(
            "and {} more matching pods, none Ready",
            backends.pods.len() - LISTED_PODS
        )));
    }
    if !ingresses.is_empty() {
        let names: Vec<&str> = ingresses.iter().map(|ingress| ingress.name.as_str()).collect();
        finding = finding.evidence(Evidence::note(format!("routed to by Ingress {}", names.join(", "))));
    }

    let mut explanation = if nothing_matches {
        format!(
            "Service {} selects pods labelled {selector_text}, and no pod of namespace {namespace} carries \
             those labels, so it has no endpoints and every connection to it fails. The selector is \
             probably wrong, or the workload it should select is missing or scaled to zero.",
            service.name
        )
    } else {
        format!(
            "Service {} selects {} pod{}, and none is Ready, so none receives traffic and every \
             connection to the Service fails. The pods' own problem is the cause: fix it and the endpoints \
             come back by themselves.",
            service.name,
            backends.pods.len(),
            if backends.pods.len() == 1 { "" } else { "s" }
        )
    };
    if !ingresses.is_empty() {
        explanation.push_str(" Ingresses route to it: its outside users get 503 errors.");
    }
    if backends.source == Source::NotCollected {
        explanation
            .push_str(" (The bundle holds no Endpoints or EndpointSlices: judged from pod readiness.)");
    }
    finding = finding.explanation(explanation).remediation(kubectl::describe(&service_ref)).remediation(
        Kubectl::new("get endpointslices")
            .namespace(namespace)
            .arg("-l")
            .joined("kubernetes.io/service-name=", &service.name),
    );
    match backends.pods.first() {
        Some(pod) => {
            finding = finding
                .remediation(
                    Kubectl::new("get pods")
                        .namespace(namespace)
                        .arg("-l")
                        .name(&selector_text)
                        .arg("-o wide"),
                )
                .remediation(kubectl::describe(&pod.reference()));
        }
        None => {
            finding = finding.remediation(Kubectl::new("get pods").namespace(namespace).arg("--show-labels"));
        }
    }
    finding
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    const SERVICE: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: api, namespace: shop}
subsets: [{notReadyAddresses: [{ip: 10.0.0.5}], ports: [{port: 8080}]}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec: {rules: [{host: shop.example, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}]}}]}
"#;

    #[test]
    fn matching_pods_not_ready_and_an_ingress_make_a_p1() {
        let fixture = format!(
            "{SERVICE}{}",
            r#"
---
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop, labels: {app: api}}
status:
  phase: Running
  conditions: [{type: Ready, status: "False"}]
  containerStatuses: [{name: api, ready: false, restartCount: 9, state: {waiting: {reason: CrashLoopBackOff}}}]
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
                P1 service-without-endpoints Service shop/api has no ready endpoints: 1 pod matches but none is Ready
                  objects: Service/shop/api, Ingress/shop/web, Pod/shop/api-1
                  field Service/shop/api /spec/selector = {"app":"api"}
                  note: 0 ready, 1 not ready addresses in Endpoints api
                  note: pod api-1: CrashLoopBackOff in container api, 9 restarts
                  note: routed to by Ingress web
                  why: Service api selects 1 pod, and none is Ready, so none receives traffic and every connection to the Service fails. The pods' own problem is the cause: fix it and the endpoints come back by themselves. Ingresses route to it: its outside users get 503 errors.
                  $ kubectl describe service api -n shop
                  $ kubectl get endpointslices -n shop -l kubernetes.io/service-name=api
                  $ kubectl get pods -n shop -l app=api -o wide
                  $ kubectl describe pod api-1 -n shop
            "#]],
        );
    }

    #[test]
    fn a_selector_matching_no_pod_is_left_to_the_selector_diagnostic() {
        let fixture = r#"
apiVersion: v1
kind: Service
metadata: {name: old, namespace: shop}
spec: {selector: {app: old}}
---
apiVersion: v1
kind: Endpoints
metadata: {name: old, namespace: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop, labels: {app: api}}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
"#;
        check(
            &DIAGNOSTIC,
            fixture,
            expect![[r#"
                no findings
            "#]],
        );
    }

    #[test]
    fn ready_endpoints_external_names_and_selectorless_services_are_fine() {
        let fixture = r#"
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: api-abc, namespace: shop, labels: {kubernetes.io/service-name: api}}
endpoints: [{addresses: [10.0.0.1], conditions: {ready: true}}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec: {type: ExternalName, externalName: db.example.com}
---
apiVersion: v1
kind: Service
metadata: {name: kubernetes, namespace: default}
spec: {ports: [{port: 443}]}
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
