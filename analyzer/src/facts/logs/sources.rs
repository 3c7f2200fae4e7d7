//! Whose log is it: each scanned log with the pod (or node) it belongs to and the subject its
//! findings name, the owning workload when there is one.
//!
//! The logs diagnostics report one finding per workload (or per pod when no workload owns it),
//! as the pod diagnostics do, and node journals (namespace `_node` in the model: the pod is
//! the node, the container the unit) under their Node.

use std::collections::BTreeMap;

use kubesnap_shared::model::{ClusterModel, ContainerLog, NODE_LOG_NAMESPACE, Object, ObjectRef};

use crate::facts::workload::workload_of;

/// One log and whose it is.
#[derive(Debug, Clone)]
pub(crate) struct Source<'a> {
    pub(crate) log: &'a ContainerLog,
    /// The pod object, when the bundle holds it (never for node logs).
    pub(crate) pod: Option<&'a Object>,
    /// The pod, or the Node of a node log.
    pub(crate) member: ObjectRef,
    /// What findings name first: the owning workload, else `member`.
    pub(crate) subject: ObjectRef,
}

impl Source<'_> {
    pub(crate) fn is_node(&self) -> bool {
        self.log.key.namespace == NODE_LOG_NAMESPACE
    }

    /// `pod api-1, container app (previous run)` or `node n1, unit kubelet`.
    pub(crate) fn describe(&self) -> String {
        let key = &self.log.key;
        if self.is_node() {
            return format!("node {}, unit {}", key.pod, key.container);
        }
        let run = if key.previous { "previous run" } else { "current run" };
        format!("pod {}, container {} ({run})", key.pod, key.container)
    }
}

/// Every log of the model with its pod and subject, in the model's (key) order.
pub(crate) fn sources(model: &ClusterModel) -> Vec<Source<'_>> {
    let mut workloads: BTreeMap<(&str, &str), Option<ObjectRef>> = BTreeMap::new();
    model
        .logs
        .iter()
        .map(|log| {
            let key = &log.key;
            if key.namespace == NODE_LOG_NAMESPACE {
                let node = ObjectRef { kind: "Node".to_owned(), namespace: None, name: key.pod.clone() };
                return Source { log, pod: None, member: node.clone(), subject: node };
            }
            let pod = model.get("Pod", Some(&key.namespace), &key.pod);
            let member = ObjectRef {
                kind: "Pod".to_owned(),
                namespace: Some(key.namespace.clone()),
                name: key.pod.clone(),
            };
            let workload = workloads
                .entry((&key.namespace, &key.pod))
                .or_insert_with(|| pod.and_then(|pod| workload_of(model, pod)))
                .clone();
            let subject = workload.unwrap_or_else(|| member.clone());
            Source { log, pod, member, subject }
        })
        .collect()
}

/// Sources grouped by subject, subjects in order, each group's logs in key order.
pub(crate) fn by_subject<'a>(sources: Vec<Source<'a>>) -> BTreeMap<ObjectRef, Vec<Source<'a>>> {
    let mut groups: BTreeMap<ObjectRef, Vec<Source<'a>>> = BTreeMap::new();
    for source in sources {
        groups.entry(source.subject.clone()).or_default().push(source);
    }
    groups
}

/// `Deployment shop/api` or `Node n1`.
pub(crate) fn label(object: &ObjectRef) -> String {
    match &object.namespace {
        Some(namespace) => format!("{} {namespace}/{}", object.kind, object.name),
        None => format!("{} {}", object.kind, object.name),
    }
}

/// `1 pod`, `3 pods`, `node journal`: how many members a group's lines come from.
pub(crate) fn members_phrase(sources: &[&Source<'_>]) -> String {
    let mut members: Vec<&ObjectRef> = sources.iter().map(|source| &source.member).collect();
    members.sort();
    members.dedup();
    match (sources.first().is_some_and(|source| source.is_node()), members.len()) {
        (true, _) => {
            let mut units: Vec<&str> =
                sources.iter().map(|source| source.log.key.container.as_str()).collect();
            units.sort_unstable();
            units.dedup();
            format!("node logs: {}", units.join(", "))
        }
        (false, 1) => "1 pod".to_owned(),
        (false, count) => format!("{count} pods"),
    }
}
