//! Impact assessment (the playbook's step 2): which Services and Ingresses have no healthy
//! backend, which workloads are down, which namespaces are affected.

use std::collections::BTreeMap;

use kubesnap_shared::model::{Object, ObjectRef};
use serde::Serialize;

use super::links;
use crate::facts::Facts;
use crate::facts::network::{backends, pod_health};
use crate::finding::{Category, Finding, Severity};

/// What is down.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Impact {
    /// Services with a selector and no ready backend.
    pub(crate) services: Vec<ServiceDown>,
    /// Ingresses with at least one backend Service missing or without a ready backend.
    pub(crate) ingresses: Vec<IngressDown>,
    /// Workloads that want replicas and have none available.
    pub(crate) workloads_down: Vec<WorkloadDown>,
    /// Namespaces with a P0 or P1 finding (security findings aside) or a down object, most severe
    /// first; a down object's namespace is never more severe than its findings.
    pub(crate) namespaces: Vec<NamespaceImpact>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ServiceDown {
    pub(crate) service: ObjectRef,
    /// `ClusterIP`, `LoadBalancer`, ...
    pub(crate) service_type: String,
    /// Reachable from outside the cluster (LoadBalancer, NodePort).
    pub(crate) entry_point: bool,
    pub(crate) why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct IngressDown {
    pub(crate) ingress: ObjectRef,
    /// `shop.example.com/api → Service api: no ready backend`, one per failing route.
    pub(crate) routes: Vec<String>,
    /// Every route fails.
    pub(crate) all_down: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct WorkloadDown {
    pub(crate) workload: ObjectRef,
    pub(crate) desired: i64,
    pub(crate) available: i64,
    /// Why its first pod does not serve.
    pub(crate) why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct NamespaceImpact {
    pub(crate) namespace: String,
    pub(crate) worst: Severity,
    /// Findings at P0 or P1 in it.
    pub(crate) findings: usize,
}

pub(crate) fn assess(facts: &Facts<'_>, findings: &[Finding]) -> Impact {
    // Objects read from kubectl text have no labels, endpoints or conditions: which Service or
    // Ingress has a ready backend cannot be known, so none is counted down (nor its namespace
    // affected).
    let from_text = !facts.cluster().text_fields.is_empty();
    let services: Vec<ServiceDown> = facts
        .cluster()
        .of_kind("Service")
        .filter(|_| !from_text)
        .filter_map(|service| {
            let why = links::service_down(facts, service)?;
            Some(ServiceDown {
                service: service.reference(),
                service_type: service.str_at("/spec/type").unwrap_or("ClusterIP").to_owned(),
                entry_point: links::is_entry_point(service),
                why,
            })
        })
        .collect();
    let ingresses = facts
        .cluster()
        .of_kind("Ingress")
        .filter(|_| !from_text)
        .filter_map(|ingress| ingress_down(facts, ingress))
        .collect();
    let workloads_down: Vec<WorkloadDown> = ["Deployment", "StatefulSet", "DaemonSet"]
        .iter()
        .flat_map(|kind| facts.cluster().of_kind(kind))
        .filter_map(|w| down(facts, w))
        .collect();

    let mut namespaces: BTreeMap<String, (Severity, usize)> = BTreeMap::new();
    for finding in findings.iter().filter(|f| f.severity <= Severity::P1 && f.category != Category::Security)
    {
        if let Some(namespace) = &finding.namespace {
            let entry = namespaces.entry(namespace.clone()).or_insert((finding.severity, 0));
            entry.0 = entry.0.min(finding.severity);
            entry.1 += 1;
        }
    }
    // A namespace with a down object and no P0/P1 finding is as severe as the findings say, never
    // more: the worst finding in it, or the bundle's worst when none is there. A Service left
    // without pods on purpose, reported at P3, does not make its namespace P1 under a P2 headline.
    let bundle_worst = findings.iter().map(|finding| finding.severity).min().unwrap_or(Severity::P3);
    let worst_in = |namespace: &str| {
        findings
            .iter()
            .filter(|f| f.category != Category::Security && f.namespace.as_deref() == Some(namespace))
            .map(|finding| finding.severity)
            .min()
            .unwrap_or(bundle_worst)
    };
    let down_objects = services.iter().map(|s| &s.service).chain(workloads_down.iter().map(|w| &w.workload));
    for object in down_objects {
        if let Some(namespace) = &object.namespace {
            namespaces.entry(namespace.clone()).or_insert_with(|| (worst_in(namespace), 0));
        }
    }
    let mut namespaces: Vec<NamespaceImpact> = namespaces
        .into_iter()
        .map(|(namespace, (worst, findings))| NamespaceImpact { namespace, worst, findings })
        .collect();
    namespaces.sort_by(|a, b| {
        (a.worst, std::cmp::Reverse(a.findings), &a.namespace).cmp(&(
            b.worst,
            std::cmp::Reverse(b.findings),
            &b.namespace,
        ))
    });
    Impact { services, ingresses, workloads_down, namespaces }
}

fn ingress_down(facts: &Facts<'_>, ingress: &Object) -> Option<IngressDown> {
    let namespace = ingress.namespace.as_deref();
    let all = backends::ingress_backends(ingress);
    let mut routes = Vec::new();
    for backend in &all {
        let why = match facts.cluster().get("Service", namespace, &backend.service) {
            // A route to a Service the bundle listed and lacks is down; to one it did not
            // capture, nothing is known.
            None if facts.captured("Service").is_listed() => Some("no such Service".to_owned()),
            None => None,
            Some(service) => links::service_down(facts, service),
        };
        if let Some(why) = why {
            routes.push(format!("{} → Service {}: {why}", backend.route, backend.service));
        }
    }
    routes.dedup();
    (!routes.is_empty()).then(|| IngressDown {
        ingress: ingress.reference(),
        all_down: routes.len() >= all.len(),
        routes,
    })
}

/// The workload, when it wants replicas and has none available.
fn down(facts: &Facts<'_>, workload: &Object) -> Option<WorkloadDown> {
    let (desired, available) = crate::facts::workload::replicas(workload)?;
    if desired <= 0 || available > 0 {
        return None;
    }
    let reference = workload.reference();
    let pods = links::pods_of(facts, &reference);
    let why = pods
        .iter()
        .find_map(|pod| pod_health::trouble(pod).map(|trouble| format!("pod {} {trouble}", pod.name)))
        .unwrap_or_else(|| match pods.len() {
            0 => "no pod of it is in the bundle".to_owned(),
            _ => "its pods are not available".to_owned(),
        });
    Some(WorkloadDown { workload: reference, desired, available, why })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    #[test]
    fn a_route_to_a_service_is_down_only_where_services_were_listed() {
        let mut model = model_from_yaml(
            r#"
kind: Ingress
apiVersion: networking.k8s.io/v1
metadata: {name: web, namespace: shop}
spec: {defaultBackend: {service: {name: api, port: {number: 80}}}}
"#,
        );
        let routes = |model: &kubesnap_shared::model::ClusterModel| {
            let model = Facts::new(model);
            let ingress = model.cluster().get("Ingress", Some("shop"), "web").unwrap();
            ingress_down(&model, ingress).map(|down| (down.routes, down.all_down))
        };
        // No Service captured: whether `api` exists is unknown, so nothing is called down.
        assert_eq!(routes(&model), None);
        // An empty ServiceList: `api` does not exist.
        model.listed_kinds.insert("Service".to_owned());
        assert_eq!(
            routes(&model),
            Some((vec!["default backend → Service api: no such Service".to_owned()], true))
        );
    }

    #[test]
    fn a_down_object_makes_its_namespace_no_more_severe_than_its_findings() {
        let (model, findings) = crate::incident::causes::tests::analyzed(
            r#"
apiVersion: v1
kind: Service
metadata: {name: machine-api-controllers, namespace: openshift-machine-api}
spec: {selector: {k8s-app: controller}, ports: [{port: 8443}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: openshift-machine-api}
"#,
        );
        let impact = assess(&Facts::new(&model), &findings);
        let worst_finding = findings.iter().map(|finding| finding.severity).min();
        assert_eq!(impact.services.len(), 1, "{impact:?}");
        let namespaces: Vec<(&str, Severity)> =
            impact.namespaces.iter().map(|ns| (ns.namespace.as_str(), ns.worst)).collect();
        assert_eq!(namespaces, vec![("openshift-machine-api", worst_finding.unwrap_or(Severity::P3))]);
        assert!(worst_finding.is_none_or(|worst| worst > Severity::P1), "{findings:#?}");
    }
}
