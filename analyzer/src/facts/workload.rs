//! Which workload a pod belongs to, grouping pods by it, and the pod templates of workloads.
//!
//! Reports stay readable when a condition shared by a whole ReplicaSet's pods is one finding
//! naming the Deployment and its pods, not one finding per pod: [`group_by_workload`] does that
//! for the pod diagnostics, and [`templates`] gives the security diagnostics one pod spec per
//! workload.

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object, ObjectRef};

use super::Facts;

/// The workload that owns `pod`, following ReplicaSet → Deployment and Job → CronJob; `None`
/// for a pod without a controller.
pub(crate) fn workload_of(model: &ClusterModel, pod: &Object) -> Option<ObjectRef> {
    let namespace = pod.namespace.as_deref();
    let (kind, name, _) = controller(pod)?;
    let owner =
        ObjectRef { kind: kind.to_owned(), namespace: namespace.map(str::to_owned), name: name.to_owned() };
    let parent_kind = match kind {
        "ReplicaSet" => "Deployment",
        "Job" => "CronJob",
        _ => return Some(owner),
    };
    match model.get(kind, namespace, name) {
        Some(object) => match controller(object) {
            Some((owner_kind, owner_name, _)) if owner_kind == parent_kind => Some(ObjectRef {
                kind: owner_kind.to_owned(),
                namespace: namespace.map(str::to_owned),
                name: owner_name.to_owned(),
            }),
            _ => Some(owner),
        },
        // A bundle without ReplicaSets (some foreign formats): a ReplicaSet named
        // `<deployment>-<pod-template-hash>` whose Deployment is in the bundle is its child.
        None if kind == "ReplicaSet" => {
            let hash = pod.labels().get("pod-template-hash").cloned().unwrap_or_default();
            let parent = name.strip_suffix(&format!("-{hash}")).filter(|_| !hash.is_empty());
            match parent.and_then(|parent| model.get("Deployment", namespace, parent)) {
                Some(deployment) => Some(deployment.reference()),
                None => Some(owner),
            }
        }
        None => Some(owner),
    }
}

/// Whether `object` is a Job that completed (condition `Complete=True`), or a pod of one: its
/// failed attempts before that (a pod that failed, restarts, a mount that failed once) are
/// history. Returns the Job's `namespace/name` and its completion time as written.
pub(crate) fn completed_job(model: &ClusterModel, object: &ObjectRef) -> Option<(String, String)> {
    let namespace = object.namespace.as_deref();
    let job = match object.kind.as_str() {
        "Job" => model.get("Job", namespace, &object.name)?,
        "Pod" => {
            let pod = model.get("Pod", namespace, &object.name)?;
            let (kind, name, _) = controller(pod)?;
            if kind != "Job" {
                return None;
            }
            model.get("Job", namespace, name)?
        }
        _ => return None,
    };
    let (status, _, _) = job.condition("Complete")?;
    (status == "True").then(|| {
        let at = job.str_at("/status/completionTime").unwrap_or("an unknown time").to_owned();
        (format!("{}/{}", namespace.unwrap_or_default(), job.name), at)
    })
}

/// The replicas a long-running workload wants and how many of them are available, from its
/// status: `(desired, available)` for a Deployment, StatefulSet, DaemonSet, ReplicaSet or
/// ReplicationController; `None` for other kinds or a DaemonSet without a status.
pub(crate) fn replicas(workload: &Object) -> Option<(i64, i64)> {
    let number = |pointer: &str| workload.i64_at(pointer);
    match workload.kind.as_str() {
        "DaemonSet" => {
            Some((number("/status/desiredNumberScheduled")?, number("/status/numberAvailable").unwrap_or(0)))
        }
        "StatefulSet" => Some((
            number("/spec/replicas").unwrap_or(1),
            number("/status/availableReplicas").or_else(|| number("/status/readyReplicas")).unwrap_or(0),
        )),
        "Deployment" | "ReplicaSet" | "ReplicationController" => {
            Some((number("/spec/replicas").unwrap_or(1), number("/status/availableReplicas").unwrap_or(0)))
        }
        _ => None,
    }
}

/// What runs a pod, as far as "is something down" is concerned: only a long-running controller
/// wants its pods up all the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A Deployment (through its ReplicaSet), StatefulSet, DaemonSet, ReplicaSet or
    /// ReplicationController: it wants its replicas running and ready.
    LongRunning(ObjectRef),
    /// A Job or CronJob: its pods run to completion.
    Batch(ObjectRef),
    /// A static pod the kubelet runs from a file (its mirror pod is owned by the Node).
    Static(ObjectRef),
    /// Owned by another kind of object (a ConfigMap of an operator's revision installer, a
    /// custom resource): that object's operator decides what the pod is for.
    Operator(ObjectRef),
    /// A collection or test tool's own pod (a support-bundle collector, a conformance run):
    /// it describes the collection, not the cluster. The text says which tool.
    Tool(&'static str),
    /// No owner at all.
    Bare,
}

/// Label keys (on a pod) and namespace label keys that mark the pods of a collection or test tool.
const TOOL_POD_LABELS: &[(&str, &str)] = &[
    ("sonobuoy-component", "sonobuoy, a conformance and diagnostics tool"),
    ("sonobuoy-plugin", "sonobuoy, a conformance and diagnostics tool"),
    ("rrd-collector", "the troubleshoot support-bundle collector (its collectd collector)"),
    ("troubleshoot.sh/kind", "the troubleshoot support-bundle collector"),
    ("troubleshoot.io/kind", "the troubleshoot support-bundle collector"),
];
const TOOL_NAMESPACE_LABELS: &[(&str, &str)] =
    &[("e2e-run", "a Kubernetes end-to-end (conformance) test run, which names its namespaces so")];

/// The collection or test tool pod labels (a pod's, or a workload's template's) name.
pub(crate) fn tool_of_labels(labels: &BTreeMap<String, String>) -> Option<&'static str> {
    TOOL_POD_LABELS.iter().find(|(key, _)| labels.contains_key(*key)).map(|(_, tool)| *tool)
}

/// What runs `pod` (see [`Origin`]).
pub(crate) fn origin(facts: &Facts<'_>, pod: &Object) -> Origin {
    if let Some(tool) = tool_of_labels(&pod.labels()) {
        return Origin::Tool(tool);
    }
    let namespace = pod.namespace.as_deref().and_then(|name| facts.cluster().get("Namespace", None, name));
    if let Some(namespace) = namespace {
        let labels = namespace.labels();
        if let Some((_, tool)) = TOOL_NAMESPACE_LABELS.iter().find(|(key, _)| labels.contains_key(*key)) {
            return Origin::Tool(tool);
        }
    }
    if pod.str_at("/metadata/annotations/kubernetes.io~1config.mirror").is_some() {
        let node = pod.str_at("/spec/nodeName").unwrap_or_default();
        return Origin::Static(ObjectRef { kind: "Node".to_owned(), namespace: None, name: node.to_owned() });
    }
    match facts.workload_of(pod) {
        None => Origin::Bare,
        Some(owner) => match owner.kind.as_str() {
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController" => {
                Origin::LongRunning(owner)
            }
            "Job" | "CronJob" => Origin::Batch(owner),
            "Node" => Origin::Static(owner),
            _ => Origin::Operator(owner),
        },
    }
}

/// The controlling owner reference (`controller: true`), else the first one.
fn controller(object: &Object) -> Option<(&str, &str, &str)> {
    let owners = object.array_at("/metadata/ownerReferences");
    let controlling =
        owners.iter().position(|owner| owner.get("controller").and_then(Value::as_bool) == Some(true));
    let owners = object.owners();
    match controlling {
        Some(position) if position < owners.len() => Some(owners[position]),
        _ => owners.first().copied(),
    }
}

/// Pods sharing a condition, grouped by the workload that owns them.
#[derive(Debug)]
pub(crate) struct PodGroup<'a, T> {
    /// The owning workload, `None` for a lone pod.
    pub(crate) workload: Option<ObjectRef>,
    /// The affected pods with what the diagnostic found in each, by name.
    pub(crate) pods: Vec<(&'a Object, T)>,
    /// How many pods the workload has in the bundle (affected or not); 1 for a lone pod.
    pub(crate) total_pods: usize,
}

impl<T> PodGroup<'_, T> {
    /// The workload, or the lone pod.
    pub(crate) fn subject(&self) -> ObjectRef {
        match (&self.workload, self.pods.first()) {
            (Some(workload), _) => workload.clone(),
            (None, Some((pod, _))) => pod.reference(),
            // Groups are built from at least one pod; an empty one names nothing.
            (None, None) => ObjectRef { kind: "Pod".to_owned(), namespace: None, name: String::new() },
        }
    }

    /// Every pod of the workload is affected.
    pub(crate) fn all_affected(&self) -> bool {
        self.pods.len() >= self.total_pods
    }

    /// Every pod of a workload that serves traffic is affected: nothing of it serves.
    pub(crate) fn is_outage(&self) -> bool {
        const SERVING: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"];
        self.all_affected()
            && self.workload.as_ref().is_some_and(|workload| SERVING.contains(&workload.kind.as_str()))
    }

    /// Names of the affected pods after the first, for a note.
    pub(crate) fn other_pods(&self) -> Vec<&str> {
        self.pods.iter().skip(1).map(|(pod, _)| pod.name.as_str()).collect()
    }

    /// `Deployment shop/api: 2 of 3 pods` or `Pod shop/x`.
    pub(crate) fn label(&self) -> String {
        let subject = self.subject();
        let name = match &subject.namespace {
            Some(namespace) => format!("{} {namespace}/{}", subject.kind, subject.name),
            None => format!("{} {}", subject.kind, subject.name),
        };
        match &self.workload {
            Some(_) => {
                let noun = if self.total_pods == 1 { "pod" } else { "pods" };
                format!("{name}: {} of {} {noun}", self.pods.len(), self.total_pods)
            }
            None => name,
        }
    }

    /// The workload (when there is one) then the pods, for `Finding::objects`.
    pub(crate) fn objects(&self) -> Vec<ObjectRef> {
        self.workload.iter().cloned().chain(self.pods.iter().map(|(pod, _)| pod.reference())).collect()
    }
}

/// Groups affected pods by owning workload, in (workload or pod) order; pods stay in name order.
pub(crate) fn group_by_workload<'a, T>(
    facts: &Facts<'_>,
    affected: Vec<(&'a Object, T)>,
) -> Vec<PodGroup<'a, T>> {
    let mut groups: BTreeMap<ObjectRef, PodGroup<'a, T>> = BTreeMap::new();
    for (pod, detail) in affected {
        let workload = facts.workload_of(pod);
        let key = workload.clone().unwrap_or_else(|| pod.reference());
        groups
            .entry(key)
            .or_insert_with(|| PodGroup { workload, pods: Vec::new(), total_pods: 1 })
            .pods
            .push((pod, detail));
    }
    for group in groups.values_mut() {
        if let Some(workload) = &group.workload {
            group.total_pods = facts.pods_of_workload(workload).len().max(group.pods.len());
        }
    }
    let mut groups: Vec<PodGroup<'a, T>> = groups.into_values().collect();
    for group in &mut groups {
        group.pods.sort_by(|(a, _), (b, _)| a.name.cmp(&b.name));
    }
    groups
}

/// `Available=False MinimumReplicasUnavailable: Deployment does not have minimum availability`,
/// leaving out the parts a condition does not have.
pub(crate) fn condition_note(kind: &str, (status, reason, message): (&str, &str, &str)) -> String {
    let mut text = format!("{kind}={status}");
    if !reason.is_empty() {
        text.push(' ');
        text.push_str(reason);
    }
    if !message.trim().is_empty() {
        text.push_str(": ");
        text.push_str(message.trim());
    }
    text
}

/// A pod template of a workload: the object that holds it and where.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Template<'a> {
    pub(crate) owner: &'a Object,
    /// The pod spec.
    pub(crate) spec: &'a Value,
    /// The JSON pointer of the pod spec in `owner` (`/spec/template/spec`).
    pub(crate) pointer: &'static str,
}

/// One pod spec per workload: Deployments, StatefulSets, DaemonSets, CronJobs, Jobs not run
/// by a CronJob, ReplicaSets not run by a Deployment, and pods no workload in the bundle owns.
pub(crate) fn templates<'m>(facts: &Facts<'m>) -> Vec<Template<'m>> {
    let model = facts.cluster();
    const KINDS: &[(&str, &str, Option<&str>)] = &[
        ("CronJob", "/spec/jobTemplate/spec/template/spec", None),
        ("DaemonSet", "/spec/template/spec", None),
        ("Deployment", "/spec/template/spec", None),
        ("Job", "/spec/template/spec", Some("CronJob")),
        ("ReplicaSet", "/spec/template/spec", Some("Deployment")),
        ("StatefulSet", "/spec/template/spec", None),
    ];
    let mut out = Vec::new();
    for (kind, pointer, parent) in KINDS {
        for owner in model.of_kind(kind) {
            let namespace = owner.namespace.as_deref();
            let has_parent = parent.is_some_and(|parent| {
                owner
                    .owners()
                    .iter()
                    .any(|(kind, name, _)| *kind == parent && model.get(parent, namespace, name).is_some())
            });
            if let (false, Some(spec)) = (has_parent, owner.at(pointer)) {
                out.push(Template { owner, spec, pointer });
            }
        }
    }
    for pod in model.of_kind("Pod") {
        let owned = facts.workload_of(pod).is_some_and(|workload| {
            model.get(&workload.kind, workload.namespace.as_deref(), &workload.name).is_some()
        });
        if let (false, Some(spec)) = (owned, pod.at("/spec")) {
            out.push(Template { owner: pod, spec, pointer: "/spec" });
        }
    }
    out.sort_by_key(|template| template.owner.reference());
    out
}

/// The containers of a pod spec (init containers then containers) with their JSON pointer.
pub(crate) fn containers<'a>(spec: &'a Value, pointer: &str) -> Vec<(&'a Value, String)> {
    let mut out = Vec::new();
    for list in ["initContainers", "containers"] {
        let items = spec.get(list).and_then(Value::as_array).unwrap_or_default();
        for (index, container) in items.iter().enumerate() {
            out.push((container, format!("{pointer}/{list}/{index}")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    const FIXTURE: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, uid: d1}
spec: {template: {spec: {containers: [{name: api, image: api:1}]}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-7d9f
  namespace: shop
  uid: r1
  ownerReferences: [{kind: Deployment, name: api, uid: d1, controller: true}]
spec: {template: {spec: {containers: [{name: api, image: api:1}]}}}
---
apiVersion: v1
kind: Pod
metadata:
  name: api-7d9f-a
  namespace: shop
  labels: {pod-template-hash: 7d9f}
  ownerReferences: [{kind: ReplicaSet, name: api-7d9f, uid: r1, controller: true}]
spec: {containers: [{name: api, image: api:1}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: api-7d9f-b
  namespace: shop
  labels: {pod-template-hash: 7d9f}
  ownerReferences: [{kind: ReplicaSet, name: api-7d9f, uid: r1, controller: true}]
spec: {containers: [{name: api, image: api:1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: lone, namespace: shop}
spec: {containers: [{name: sh, image: busybox}]}
"#;

    #[test]
    fn pods_resolve_to_their_deployment_and_group() {
        let model = model_from_yaml(FIXTURE);
        let pods: Vec<(&Object, ())> = model.of_kind("Pod").map(|pod| (pod, ())).collect();
        let groups = group_by_workload(&Facts::new(&model), pods);
        let labels: Vec<String> = groups.iter().map(PodGroup::label).collect();
        assert_eq!(labels, ["Deployment shop/api: 2 of 2 pods", "Pod shop/lone"]);
        assert!(groups[0].all_affected());
    }

    #[test]
    fn origin_tells_long_running_controllers_from_jobs_static_operator_tool_and_bare_pods() {
        let fixture = format!(
            "{FIXTURE}{}",
            r#"
---
apiVersion: v1
kind: Pod
metadata:
  name: etcd-master-0
  namespace: kube-system
  annotations: {kubernetes.io/config.mirror: abc}
  ownerReferences: [{kind: Node, name: master-0, uid: n1, controller: true}]
spec: {nodeName: master-0, containers: [{name: etcd}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: installer-3-master-0
  namespace: openshift-kube-apiserver
  ownerReferences: [{kind: ConfigMap, name: revision-status-3, uid: c1}]
spec: {containers: [{name: installer}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: migrate-x
  namespace: shop
  ownerReferences: [{kind: Job, name: migrate, uid: j1, controller: true}]
spec: {containers: [{name: migrate}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: logs-ds-abcde
  namespace: sonobuoy
  labels: {sonobuoy-component: plugin}
  ownerReferences: [{kind: DaemonSet, name: logs-ds, uid: s1, controller: true}]
spec: {containers: [{name: logs}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: quota-123, labels: {e2e-run: 1234-5678}}
---
apiVersion: v1
kind: Pod
metadata: {name: test-pod, namespace: quota-123}
spec: {containers: [{name: pause}]}
"#
        );
        let model = model_from_yaml(&fixture);
        let facts = Facts::new(&model);
        let origin_of = |namespace: &str, name: &str| {
            let pod = model.get("Pod", Some(namespace), name).unwrap();
            match origin(&facts, pod) {
                Origin::LongRunning(owner) => format!("long-running {owner}"),
                Origin::Batch(owner) => format!("batch {owner}"),
                Origin::Static(node) => format!("static {node}"),
                Origin::Operator(owner) => format!("operator {owner}"),
                Origin::Tool(_) => "tool".to_owned(),
                Origin::Bare => "bare".to_owned(),
            }
        };
        assert_eq!(origin_of("shop", "api-7d9f-a"), "long-running Deployment/shop/api");
        assert_eq!(origin_of("shop", "lone"), "bare");
        assert_eq!(origin_of("kube-system", "etcd-master-0"), "static Node/master-0");
        assert_eq!(
            origin_of("openshift-kube-apiserver", "installer-3-master-0"),
            "operator ConfigMap/openshift-kube-apiserver/revision-status-3"
        );
        assert_eq!(origin_of("shop", "migrate-x"), "batch Job/shop/migrate");
        assert_eq!(origin_of("sonobuoy", "logs-ds-abcde"), "tool");
        assert_eq!(origin_of("quota-123", "test-pod"), "tool");
    }

    #[test]
    fn one_template_per_workload() {
        let model = model_from_yaml(FIXTURE);
        let owners: Vec<String> =
            Facts::new(&model).templates().iter().map(|t| t.owner.reference().to_string()).collect();
        assert_eq!(owners, ["Deployment/shop/api", "Pod/shop/lone"]);
    }
}
