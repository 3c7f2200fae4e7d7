//! Diagnostic `loadbalancer-pending`: loadBalancer Services without an external address;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::nodes::age;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "loadbalancer-pending",
    category: Category::Network,
    title: "LoadBalancer Services without an external address",
    severities: &[Severity::P1, Severity::P2],
    what: "Services of type LoadBalancer without `status.loadBalancer.ingress` (the `<pending>` EXTERNAL-IP \
           of `kubectl get svc`) older than a few minutes, with the Service's events \
           (`SyncLoadBalancerFailed`) and whether the bundle shows anything that could provision a load \
           balancer (a cloud provider, MetalLB, kube-vip, k3s servicelb).",
    why: "Outside clients cannot reach the Service through its load balancer.",
    fix: "Read the Service's events; install or fix the load balancer implementation (cloud controller \
          manager, MetalLB address pool, kube-vip), or use a NodePort or an Ingress.",
    example: "`Service shop/web: LoadBalancer pending for 2h`, with `Error syncing load balancer: failed to \
              ensure load balancer: no available IPs` x14.",
    needs: &[],
    run,
};

/// Provisioning a cloud load balancer takes a minute or two; younger ones are left alone.
const GRACE_SECONDS: i64 = 5 * 60;

/// Pod name fragments of load balancer implementations that run in the cluster.
const IMPLEMENTATIONS: &[&str] = &[
    "metallb",
    "kube-vip",
    "cloud-controller-manager",
    "svclb-",
    "load-balancer-controller",
    "cilium-operator",
    "openelb",
    "purelb",
];

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let implementation = has_implementation(facts.cluster());
    facts
        .cluster()
        .of_kind("Service")
        .filter(|service| service.str_at("/spec/type") == Some("LoadBalancer"))
        .filter(|service| service.array_at("/status/loadBalancer/ingress").is_empty())
        .filter_map(|service| finding(facts.cluster(), service, implementation))
        .collect()
}

/// Nodes with a cloud provider ID, or pods of a known implementation.
fn has_implementation(model: &ClusterModel) -> bool {
    model
        .of_kind("Node")
        .any(|node| node.str_at("/spec/providerID").is_some_and(|id| !id.starts_with("kind://")))
        || model.of_kind("Pod").any(|pod| IMPLEMENTATIONS.iter().any(|name| pod.name.contains(name)))
}

fn finding(model: &ClusterModel, service: &Object, implementation: bool) -> Option<Finding> {
    let namespace = service.namespace.as_deref().unwrap_or_default();
    let service_ref = service.reference();
    let events: Vec<_> = model.events_for("Service", Some(namespace), &service.name).collect();
    let failed: Vec<_> = events.iter().filter(|event| event.is_warning()).collect();
    let pending_for = age::seconds_since(model, service.created_at());
    if failed.is_empty() && pending_for.is_some_and(|seconds| seconds < GRACE_SECONDS) {
        return None;
    }
    let severity = if failed.is_empty() { Severity::P2 } else { Severity::P1 };
    let since = pending_for.map(|seconds| format!(" for {}", age::human(seconds))).unwrap_or_default();
    let mut finding = DIAGNOSTIC
        .finding(severity, format!("Service {namespace}/{}: LoadBalancer pending{since}", service.name))
        .object(service_ref.clone())
        .evidence(Evidence::field(service_ref.clone(), "/spec/type", &"LoadBalancer".into()))
        .evidence(Evidence::field(
            service_ref.clone(),
            "/status/loadBalancer",
            service
                .at("/status/loadBalancer")
                .unwrap_or(&kubesnap_shared::json::Value::Object(Default::default())),
        ));
    for event in events.iter().rev().take(3).rev() {
        finding = finding.evidence(Evidence::event(event));
    }
    if !implementation {
        finding = finding.evidence(Evidence::note(
            "no node has a cloud providerID and no MetalLB, kube-vip, servicelb or \
             cloud-controller-manager pod is in the bundle",
        ));
    }
    let mut explanation = format!(
        "Service {} asks for an external load balancer and has not been given an address{since}.",
        service.name
    );
    match (failed.last(), implementation) {
        (Some(event), _) => explanation.push_str(&format!(
            " The controller reports: \
                                                           \"{}\".",
            event.message.trim()
        )),
        (None, false) => explanation.push_str(
            " Nothing in the cluster seems able to provision one (bare metal without MetalLB or \
             similar): the Service stays pending forever, though its NodePort still works.",
        ),
        (None, true) => explanation.push_str(" No failure event explains it; the controller's logs may."),
    }
    Some(
        finding
            .explanation(explanation)
            .remediation(kubectl::describe(&service_ref))
            .remediation(kubectl::events(&service_ref))
            .remediation(Kubectl::new(
                "get pods -A -o wide | grep -iE 'metallb|kube-vip|cloud-controller|svclb'",
            )),
    )
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    #[test]
    fn pending_with_a_failure_event_and_without_implementation() {
        let fixture = r#"
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, creationTimestamp: "2025-06-01T10:00:00Z"}
spec: {type: LoadBalancer, selector: {app: web}}
status: {loadBalancer: {}}
---
apiVersion: v1
kind: Event
metadata: {name: web.1, namespace: shop}
involvedObject: {kind: Service, name: web, namespace: shop}
type: Warning
reason: SyncLoadBalancerFailed
message: "Error syncing load balancer: failed to ensure load balancer: no available IPs"
count: 14
source: {component: service-controller}
lastTimestamp: "2025-06-01T11:58:00Z"
---
apiVersion: v1
kind: Service
metadata: {name: quiet, namespace: shop, creationTimestamp: "2025-06-01T11:00:00Z"}
spec: {type: LoadBalancer}
"#;
        check(
            &DIAGNOSTIC,
            fixture,
            expect![[r#"
            P2 loadbalancer-pending Service shop/quiet: LoadBalancer pending for 1h
              objects: Service/shop/quiet
              field Service/shop/quiet /spec/type = LoadBalancer
              field Service/shop/quiet /status/loadBalancer = {}
              note: no node has a cloud providerID and no MetalLB, kube-vip, servicelb or cloud-controller-manager pod is in the bundle
              why: Service quiet asks for an external load balancer and has not been given an address for 1h. Nothing in the cluster seems able to provision one (bare metal without MetalLB or similar): the Service stays pending forever, though its NodePort still works.
              $ kubectl describe service quiet -n shop
              $ kubectl get events -n shop --field-selector involvedObject.name=quiet --sort-by=.lastTimestamp
              $ kubectl get pods -A -o wide | grep -iE 'metallb|kube-vip|cloud-controller|svclb'
            P1 loadbalancer-pending Service shop/web: LoadBalancer pending for 2h
              objects: Service/shop/web
              field Service/shop/web /spec/type = LoadBalancer
              field Service/shop/web /status/loadBalancer = {}
              event SyncLoadBalancerFailed x14 (service-controller): Error syncing load balancer: failed to ensure load balancer: no available IPs
              note: no node has a cloud providerID and no MetalLB, kube-vip, servicelb or cloud-controller-manager pod is in the bundle
              why: Service web asks for an external load balancer and has not been given an address for 2h. The controller reports: "Error syncing load balancer: failed to ensure load balancer: no available IPs".
              $ kubectl describe service web -n shop
              $ kubectl get events -n shop --field-selector involvedObject.name=web --sort-by=.lastTimestamp
              $ kubectl get pods -A -o wide | grep -iE 'metallb|kube-vip|cloud-controller|svclb'
        "#]],
        );
    }

    #[test]
    fn provisioned_young_and_other_types_are_fine() {
        let fixture = r#"
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, creationTimestamp: "2025-06-01T10:00:00Z"}
spec: {type: LoadBalancer}
status: {loadBalancer: {ingress: [{ip: 203.0.113.7}]}}
---
apiVersion: v1
kind: Service
metadata: {name: new, namespace: shop, creationTimestamp: "2025-06-01T11:58:00Z"}
spec: {type: LoadBalancer}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop, creationTimestamp: "2025-06-01T10:00:00Z"}
spec: {type: ClusterIP}
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
