//! Diagnostic `ingress-backend-missing`: ingress routes to missing Services or ports;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::network::backends::{self, IngressBackend, PortRef};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "ingress-backend-missing",
    category: Category::Network,
    title: "Ingress routes to missing Services or ports",
    severities: &[Severity::P1],
    what: "Ingress rules and default backends that route to a Service that does not exist in the Ingress's \
           namespace, or to a port (number or name) the Service does not expose.",
    why: "The ingress controller answers 503 for those hosts and paths: the route is down for its users.",
    fix: "Create the Service, or point the Ingress backend at the right Service name and port.",
    example: "`Ingress shop/web: shop.example.com/api → Service api-v2 (does not exist)`.",
    // Without Services in the bundle every backend would look missing.
    needs: &[Need::Kind("Service")],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for ingress in facts.cluster().of_kind("Ingress") {
        let namespace = ingress.namespace.as_deref();
        let broken: Vec<(IngressBackend, String)> = backends::ingress_backends(ingress)
            .into_iter()
            .filter_map(|backend| {
                let problem = match facts.cluster().get("Service", namespace, &backend.service) {
                    None => "does not exist".to_owned(),
                    Some(service) => port_problem(service, &backend.port)?,
                };
                Some((backend, problem))
            })
            .collect();
        if !broken.is_empty() {
            findings.push(finding(facts.cluster(), ingress, &broken));
        }
    }
    findings
}

/// Why `port` does not reach `service`, or `None` when it does.
fn port_problem(service: &Object, port: &PortRef) -> Option<String> {
    if service.str_at("/spec/type") == Some("ExternalName") {
        return None;
    }
    let ports = service.array_at("/spec/ports");
    let found = match port {
        PortRef::Number(number) => {
            ports.iter().any(|p| p.get("port").and_then(Value::as_i64) == Some(*number))
        }
        PortRef::Name(name) => {
            ports.iter().any(|p| p.get("name").and_then(Value::as_str) == Some(name.as_str()))
        }
        PortRef::Unset => ports.len() == 1,
    };
    if found {
        return None;
    }
    let exposed: Vec<String> = ports
        .iter()
        .map(|p| {
            let number = p.get("port").map(Value::to_string).unwrap_or_default();
            match p.get("name").and_then(Value::as_str) {
                Some(name) => format!("{number} ({name})"),
                None => number,
            }
        })
        .collect();
    Some(format!(
        "has no port {port}; it exposes {}",
        if exposed.is_empty() { "none".to_owned() } else { exposed.join(", ") }
    ))
}

fn finding(model: &ClusterModel, ingress: &Object, broken: &[(IngressBackend, String)]) -> Finding {
    let namespace = ingress.namespace.as_deref().unwrap_or_default();
    let ingress_ref = ingress.reference();
    let routes: Vec<String> = broken
        .iter()
        .map(|(backend, problem)| format!("{} → Service {} ({problem})", backend.route, backend.service))
        .collect();
    let mut finding = DIAGNOSTIC
        .finding(Severity::P1, format!("Ingress {namespace}/{}: {}", ingress.name, routes.join("; ")))
        .object(ingress_ref.clone());
    for (backend, _) in broken {
        if let Some(value) = ingress.at(&backend.pointer) {
            finding = finding.evidence(Evidence::field(ingress_ref.clone(), backend.pointer.clone(), value));
        }
        if let Some(service) = model.get("Service", Some(namespace), &backend.service) {
            finding = finding.object(service.reference()).evidence(Evidence::field(
                service.reference(),
                "/spec/ports",
                service.at("/spec/ports").unwrap_or(&Value::Null),
            ));
        }
    }
    for event in model.events_for("Ingress", Some(namespace), &ingress.name).filter(|e| e.is_warning()) {
        finding = finding.evidence(Evidence::event(event));
    }
    let missing: Vec<&str> = broken
        .iter()
        .filter(|(backend, _)| model.get("Service", Some(namespace), &backend.service).is_none())
        .map(|(backend, _)| backend.service.as_str())
        .collect();
    let mut explanation = format!(
        "Ingress {} sends requests to backends that cannot take them, so the ingress controller answers \
         503 for those routes.",
        ingress.name
    );
    if !missing.is_empty() {
        explanation.push_str(&format!(
            " Namespace {namespace} has no Service named {}: a Service renamed or deleted, or an Ingress \
             written for another namespace (an Ingress can only route within its own).",
            missing.join(", ")
        ));
    }
    if missing.len() < broken.len() {
        explanation.push_str(" Other backends name a port the Service does not expose.");
    }
    let mut finding = finding
        .explanation(explanation)
        .remediation(kubectl::describe(&ingress_ref))
        .remediation(Kubectl::new("get services").namespace(namespace));
    if let Some((backend, _)) =
        broken.iter().find(|(backend, _)| !missing.contains(&backend.service.as_str()))
    {
        finding = finding.remediation(
            Kubectl::new("get service")
                .name(&backend.service)
                .namespace(namespace)
                .arg("-o jsonpath='{.spec.ports}'"),
        );
    }
    finding.remediation(Kubectl::new("edit ingress").name(&ingress.name).namespace(namespace))
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
spec: {selector: {app: api}, ports: [{name: http, port: 80}, {name: grpc, port: 9000}]}
"#;

    #[test]
    fn missing_services_and_ports_are_one_finding_per_ingress() {
        let fixture = format!(
            "{SERVICE}{}",
            r#"
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  defaultBackend: {service: {name: api, port: {name: http}}}
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /api, pathType: Prefix, backend: {service: {name: api-v2, port: {number: 80}}}}
      - {path: /rpc, pathType: Prefix, backend: {service: {name: api, port: {number: 8080}}}}
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 ingress-backend-missing Ingress shop/web: shop.example.com/api → Service api-v2 (does not exist); shop.example.com/rpc → Service api (has no port 8080; it exposes 80 (http), 9000 (grpc))
              objects: Ingress/shop/web, Service/shop/api
              field Ingress/shop/web /spec/rules/0/http/paths/0/backend = {"service":{"name":"api-v2","port":{"number":80}}}
              field Ingress/shop/web /spec/rules/0/http/paths/1/backend = {"service":{"name":"api","port":{"number":8080}}}
              field Service/shop/api /spec/ports = [{"name":"http","port":80},{"name":"grpc","port":9000}]
              why: Ingress web sends requests to backends that cannot take them, so the ingress controller answers 503 for those routes. Namespace shop has no Service named api-v2: a Service renamed or deleted, or an Ingress written for another namespace (an Ingress can only route within its own). Other backends name a port the Service does not expose.
              $ kubectl describe ingress web -n shop
              $ kubectl get services -n shop
              $ kubectl get service api -n shop -o jsonpath='{.spec.ports}'
              $ kubectl edit ingress web -n shop
        "#]],
        );
    }

    #[test]
    fn existing_services_with_their_ports_are_fine() {
        let fixture = format!(
            "{SERVICE}{}",
            r#"
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 9000}}}}
      - {path: /static, pathType: Prefix, backend: {resource: {apiGroup: k8s.example.com, kind: Bucket, name: b}}}
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
