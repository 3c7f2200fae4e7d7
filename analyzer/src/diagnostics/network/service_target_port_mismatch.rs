//! Diagnostic `service-target-port-mismatch`: service targetPorts no selected container exposes;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::network::{pod_health, selector};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "service-target-port-mismatch",
    category: Category::Network,
    title: "Service targetPorts no selected container exposes",
    severities: &[Severity::P1, Severity::P2],
    what: "Service ports whose `targetPort` matches no container port of the pods the Service selects: a \
           named targetPort no container declares (the endpoints then carry no port for it), or a number \
           none of the declared `containerPort`s has. Pods that declare no port at all are not judged on \
           numbers, since declaring ports is optional; nor is a port the Service's Endpoints or \
           EndpointSlices carry (with an address): traffic follows the endpoints, whatever the containers \
           declare.",
    why: "Traffic is sent to a port nothing listens on: connections fail although pods are Ready.",
    fix: "Set the Service's targetPort to the container's port (or its name), or declare the port in the \
          pod template.",
    example: "`Service shop/api port 80 → targetPort 8080, but pods listen on 8000 (http)`.",
    needs: &[],
    run,
};

/// A port of a container: name, number, protocol.
type ContainerPort<'a> = (&'a str, i64, &'a str);

fn container_ports(pod: &Object) -> Vec<ContainerPort<'_>> {
    pod.array_at("/spec/containers")
        .iter()
        .flat_map(|container| container.get("ports").and_then(Value::as_array).unwrap_or_default())
        .filter_map(|port| {
            Some((
                port.get("name").and_then(Value::as_str).unwrap_or_default(),
                port.get("containerPort")?.as_i64()?,
                port.get("protocol").and_then(Value::as_str).unwrap_or("TCP"),
            ))
        })
        .collect()
}

/// The Service's Endpoints or EndpointSlices carry the port: for a number, an endpoint port of
/// that number; for a name, an endpoint port for this Service port (the endpoints controller
/// writes one only when a container declares the name). The endpoints are what traffic follows,
/// and containers need not declare the ports they listen on.
fn endpoints_carry(
    model: &ClusterModel,
    service: &Object,
    name: &str,
    target: &Value,
    protocol: &str,
) -> bool {
    let namespace = service.namespace.as_deref().unwrap_or_default();
    let number = target.as_i64().or_else(|| target.as_str().and_then(|text| text.parse().ok()));
    let carries = |port: &Value| {
        let port_protocol = port.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
        let port_name = port.get("name").and_then(Value::as_str).unwrap_or_default();
        port_protocol == protocol
            && port_name == name
            && match number {
                Some(number) => port.get("port").and_then(Value::as_i64) == Some(number),
                None => true,
            }
    };
    let endpoints = model
        .get("Endpoints", Some(namespace), &service.name)
        .into_iter()
        .flat_map(|endpoints| endpoints.array_at("/subsets").iter())
        .filter(|subset| subset.get("addresses").and_then(Value::as_array).is_some_and(|a| !a.is_empty()))
        .flat_map(|subset| subset.get("ports").and_then(Value::as_array).unwrap_or_default());
    let slices = model
        .of_kind_in("EndpointSlice", namespace)
        .filter(|slice| slice.labels().get("kubernetes.io/service-name") == Some(&service.name))
        .filter(|slice| !slice.array_at("/endpoints").is_empty())
        .flat_map(|slice| slice.array_at("/ports").iter());
    endpoints.chain(slices).any(carries)
}

/// One Service port that finds no container port.
struct Mismatch {
    index: usize,
    port: i64,
    target: Value,
    /// The target is a name: the endpoints cannot carry it at all.
    named: bool,
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for service in facts.cluster().of_kind("Service") {
        let wanted = selector::service_selector(service);
        if wanted.is_empty() || service.str_at("/spec/type") == Some("ExternalName") {
            continue;
        }
        let namespace = service.namespace.as_deref().unwrap_or_default();
        let pods: Vec<&Object> = facts
            .cluster()
            .of_kind_in("Pod", namespace)
            .filter(|pod| pod.matches_labels(&wanted) && !pod_health::is_gone(pod))
            .collect();
        let Some(pod) = pods.first() else { continue };
        let declared = container_ports(pod);
        let mut mismatches = Vec::new();
        for (index, port) in service.array_at("/spec/ports").iter().enumerate() {
            let Some(number) = port.get("port").and_then(Value::as_i64) else { continue };
            let protocol = port.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            let target = port.get("targetPort").cloned().unwrap_or(Value::from(number));
            let (found, named) = match &target {
                Value::String(name) if name.parse::<i64>().is_err() => {
                    (declared.iter().any(|(n, _, p)| n == name && *p == protocol), true)
                }
                other => {
                    let wanted_number =
                        other.as_i64().or_else(|| other.as_str().and_then(|s| s.parse().ok()));
                    let found = declared.is_empty()
                        || declared.iter().any(|(_, n, p)| Some(*n) == wanted_number && *p == protocol);
                    (found, false)
                }
            };
            let name = port.get("name").and_then(Value::as_str).unwrap_or_default();
            if !found && !endpoints_carry(facts.cluster(), service, name, &target, protocol) {
                mismatches.push(Mismatch { index, port: number, target, named });
            }
        }
        if !mismatches.is_empty() {
            findings.push(finding(service, pod, &pods, &declared, &mismatches));
        }
    }
    findings
}

fn finding(
    service: &Object,
    pod: &Object,
    pods: &[&Object],
    declared: &[ContainerPort<'_>],
    mismatches: &[Mismatch],
) -> Finding {
    let namespace = service.namespace.as_deref().unwrap_or_default();
    let service_ref = service.reference();
    let listening: Vec<String> = declared
        .iter()
        .map(|(name, number, protocol)| {
            let name = if name.is_empty() { String::new() } else { format!(" ({name})") };
            let protocol = if *protocol == "TCP" { String::new() } else { format!("/{protocol}") };
            format!("{number}{protocol}{name}")
        })
        .collect();
    let listening = if listening.is_empty() { "no declared port".to_owned() } else { listening.join(", ") };
    let ports: Vec<String> = mismatches
        .iter()
        .map(|mismatch| format!("port {} → targetPort {}", mismatch.port, text(&mismatch.target)))
        .collect();
    let severity = if mismatches.iter().any(|m| m.named) { Severity::P1 } else { Severity::P2 };
    let mut finding = DIAGNOSTIC
        .finding(
            severity,
            format!(
                "Service {namespace}/{} {}, but pods listen on {listening}",
                service.name,
                ports.join("; ")
            ),
        )
        .object(service_ref.clone())
        .object(pod.reference());
    for mismatch in mismatches {
        finding = finding.evidence(Evidence::field(
            service_ref.clone(),
            format!("/spec/ports/{}/targetPort", mismatch.index),
            &mismatch.target,
        ));
    }
    for (index, container) in pod.array_at("/spec/containers").iter().enumerate() {
        if let Some(ports) = container.get("ports") {
            finding = finding.evidence(Evidence::field(
                pod.reference(),
                format!("/spec/containers/{index}/ports"),
                ports,
            ));
        }
    }
    if pods.len() > 1 {
        finding = finding.evidence(Evidence::note(format!(
            "{} pods match the selector; checked {}",
            pods.len(),
            pod.name
        )));
    }
    let mut explanation = String::new();
    if mismatches.iter().any(|m| m.named) {
        explanation.push_str(&format!(
            "Service {} names a targetPort that no container of pod {} declares, so its endpoints carry no \
             port for it and connections to that Service port fail.",
            service.name, pod.name
        ));
    }
    if mismatches.iter().any(|m| !m.named) {
        let lead =
            if explanation.is_empty() { format!("Service {}", service.name) } else { " It also".to_owned() };
        explanation.push_str(&format!(
            "{lead} sends traffic to a container port that pod {} does not declare (it declares \
             {listening}). Unless the application also listens there undeclared, connections are refused \
             although the pod is Ready.",
            pod.name
        ));
    }
    finding
        .explanation(explanation)
        .remediation(kubectl::describe(&service_ref))
        .remediation(
            Kubectl::new("get pod")
                .name(&pod.name)
                .namespace(namespace)
                .arg("-o jsonpath='{.spec.containers[*].ports}'"),
        )
        .remediation(Kubectl::new("edit service").name(&service.name).namespace(namespace))
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop, labels: {app: api}}
spec:
  containers:
  - name: api
    ports: [{name: http, containerPort: 8000}, {name: metrics, containerPort: 9090}]
status: {phase: Running}
"#;

    #[test]
    fn numbers_and_names_no_container_declares() {
        let fixture = format!(
            "{POD}{}",
            r#"
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: 8080}, {port: 81, targetPort: web}, {port: 9090}]
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 service-target-port-mismatch Service shop/api port 80 → targetPort 8080; port 81 → targetPort web, but pods listen on 8000 (http), 9090 (metrics)
              objects: Service/shop/api, Pod/shop/api-1
              field Service/shop/api /spec/ports/0/targetPort = 8080
              field Service/shop/api /spec/ports/1/targetPort = web
              field Pod/shop/api-1 /spec/containers/0/ports = [{"containerPort":8000,"name":"http"},{"containerPort":9090,"name":"metrics"}]
              why: Service api names a targetPort that no container of pod api-1 declares, so its endpoints carry no port for it and connections to that Service port fail. It also sends traffic to a container port that pod api-1 does not declare (it declares 8000 (http), 9090 (metrics)). Unless the application also listens there undeclared, connections are refused although the pod is Ready.
              $ kubectl describe service api -n shop
              $ kubectl get pod api-1 -n shop -o jsonpath='{.spec.containers[*].ports}'
              $ kubectl edit service api -n shop
        "#]],
        );
    }

    /// The pods declare other ports, but the endpoints carry the target: no mismatch. The
    /// named target the endpoints do not carry stays one.
    #[test]
    fn a_target_the_endpoints_carry_is_no_mismatch() {
        let fixture = format!(
            "{POD}{}",
            r#"
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{name: https, port: 443, targetPort: 8443}, {name: web, port: 81, targetPort: web}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: api, namespace: shop}
subsets: [{addresses: [{ip: 10.0.0.5}], ports: [{name: https, port: 8443, protocol: TCP}]}]
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
                P1 service-target-port-mismatch Service shop/api port 81 → targetPort web, but pods listen on 8000 (http), 9090 (metrics)
                  objects: Service/shop/api, Pod/shop/api-1
                  field Service/shop/api /spec/ports/1/targetPort = web
                  field Pod/shop/api-1 /spec/containers/0/ports = [{"containerPort":8000,"name":"http"},{"containerPort":9090,"name":"metrics"}]
                  why: Service api names a targetPort that no container of pod api-1 declares, so its endpoints carry no port for it and connections to that Service port fail.
                  $ kubectl describe service api -n shop
                  $ kubectl get pod api-1 -n shop -o jsonpath='{.spec.containers[*].ports}'
                  $ kubectl edit service api -n shop
            "#]],
        );
    }

    #[test]
    fn matching_numbers_names_and_undeclared_ports_are_fine() {
        let fixture = format!(
            "{POD}{}",
            r#"
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: http}, {port: 9090, targetPort: "9090"}]
---
apiVersion: v1
kind: Pod
metadata: {name: bare-1, namespace: shop, labels: {app: bare}}
spec: {containers: [{name: bare}]}
status: {phase: Running}
---
apiVersion: v1
kind: Service
metadata: {name: bare, namespace: shop}
spec: {selector: {app: bare}, ports: [{port: 80, targetPort: 8080}]}
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
