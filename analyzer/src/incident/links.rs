//! How objects relate for the incident view: the severity findings give each object, the pods
//! of a workload, the Services that select a pod, the Ingresses that route to a Service.

use std::collections::BTreeMap;

use kubesnap_shared::model::{ClusterModel, Object, ObjectRef, labels_match};

use crate::facts::Facts;
use crate::facts::network::selector::service_selector as selector;
use crate::facts::network::{backends, pod_health};
use crate::finding::{Finding, Severity};

/// The kinds that run pods.
pub(crate) const WORKLOAD_KINDS: &[&str] =
    &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ReplicationController"];

/// The most severe finding naming each object.
pub(crate) fn severities(findings: &[Finding]) -> BTreeMap<ObjectRef, Severity> {
    let mut out: BTreeMap<ObjectRef, Severity> = BTreeMap::new();
    for finding in findings {
        for object in &finding.objects {
            let entry = out.entry(object.clone()).or_insert(finding.severity);
            *entry = (*entry).min(finding.severity);
        }
    }
    out
}

/// The pods of a workload (or the pod itself), in name order.
pub(crate) fn pods_of<'a>(facts: &'a Facts<'_>, subject: &ObjectRef) -> Vec<&'a Object> {
    let namespace = subject.namespace.as_deref();
    match subject.kind.as_str() {
        "Pod" => facts.cluster().get("Pod", namespace, &subject.name).into_iter().collect(),
        "Node" => facts.cluster().pods_on_node(&subject.name).collect(),
        _ => facts.pods_of_workload(subject).to_vec(),
    }
}

/// The Services of the pod's namespace whose selector matches it.
pub(crate) fn services_selecting<'a>(model: &'a ClusterModel, pod: &Object) -> Vec<&'a Object> {
    let labels = pod.labels();
    model
        .of_kind("Service")
        .filter(|service| service.namespace == pod.namespace && labels_match(&selector(service), &labels))
        .collect()
}

/// A LoadBalancer or NodePort Service: reachable from outside the cluster.
pub(crate) fn is_entry_point(service: &Object) -> bool {
    matches!(service.str_at("/spec/type"), Some("LoadBalancer" | "NodePort"))
}

/// Whether a Service with a selector has no ready backend, and why in a few words.
pub(crate) fn service_down(facts: &Facts<'_>, service: &Object) -> Option<String> {
    if selector(service).is_empty() {
        return None;
    }
    let backends = backends::of_service(facts, service);
    if backends.ready > 0 {
        return None;
    }
    let mut why = if backends.pods.is_empty() {
        "its selector matches no running pod".to_owned()
    } else {
        backends.describe()
    };
    let troubles: Vec<String> = backends
        .pods
        .iter()
        .filter_map(|pod| pod_health::trouble(pod).map(|trouble| format!("{} {trouble}", pod.name)))
        .take(3)
        .collect();
    if !troubles.is_empty() {
        why.push_str(&format!("; {}", troubles.join("; ")));
    }
    Some(why)
}

/// `shop/api`, or `n1` for cluster-scoped objects.
pub(crate) fn short(object: &ObjectRef) -> String {
    match &object.namespace {
        Some(namespace) => format!("{namespace}/{}", object.name),
        None => object.name.clone(),
    }
}

/// `Deployment shop/api`.
pub(crate) fn label(object: &ObjectRef) -> String {
    format!("{} {}", object.kind, short(object))
}
