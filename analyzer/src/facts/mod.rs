//! What the diagnostics, the incident summary and the report know about the cluster: the loaded
//! [`ClusterModel`] and the facts derived from it, each computed once per run, on first use, and
//! shared by every diagnostic thread.
//!
//! [`Facts`] is the one way in: [`Facts::cluster`] gives the model, and the facts that cost a
//! scan of it (workloads and owners, container usage, DNS and database pods, coverage by kind)
//! are answered here once. The modules below are the query layer over the model (containers and
//! their statuses, pod events, kubectl command builders, Service backends, pod health,
//! selectors, log families/sources/windows/dependencies, usage statistics and units, node ages
//! and versions, kubelet stats); `diagnostics/` holds only the checks and their findings, and
//! `incident/` and `report/` read from here.
//!
//! Without the cache, a fact such as "which pods run a database" was recomputed by a full scan
//! of the pods for every finding that wanted it: on 10,000 pods that was half of the analyzer's
//! CPU. A fact belongs in [`Facts`] when more than one reader (or one reader per finding) needs
//! it and it costs a scan of the model. Facts are pure functions of the model, so computing one
//! lazily on whichever thread asks first cannot change any output.

pub(crate) mod alerts;
pub(crate) mod conformance;
pub(crate) mod containers;
pub(crate) mod kubectl;
pub(crate) mod logs;
pub(crate) mod network;
pub(crate) mod nodes;
pub(crate) mod performance;
pub(crate) mod platform;
pub(crate) mod pod_events;
pub(crate) mod pod_spec;
pub(crate) mod releases;
pub(crate) mod scheduling;
pub(crate) mod storage;
pub(crate) mod workload;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use kubesnap_shared::model::{ClusterModel, Coverage, Object, ObjectRef};

use logs::database;
use network::{backends, dns};
use performance::usage::{self, ContainerUsage};
use workload::Template;

/// A [`ClusterModel`] with its derived facts. The model itself is [`Facts::cluster`]; what the
/// model also answers but costs a scan ([`Facts::captured`]) is asked here, never of the model.
#[derive(Debug)]
pub(crate) struct Facts<'m> {
    model: &'m ClusterModel,
    usages: OnceLock<Vec<ContainerUsage<'m>>>,
    database_pods: OnceLock<Vec<&'m Object>>,
    dns_pods: OnceLock<Vec<&'m Object>>,
    workloads: OnceLock<Workloads<'m>>,
    usage_index: OnceLock<UsageIndex>,
    templates: OnceLock<Vec<Template<'m>>>,
    endpoints_captured: OnceLock<bool>,
    node_loads: OnceLock<scheduling::NodeLoads>,
    /// [`Facts::fit`]'s answers by pod.
    fits: Mutex<HashMap<ObjectRef, Arc<scheduling::Fit>>>,
    /// [`Facts::captured`]'s answers by kind.
    coverage: Mutex<HashMap<String, Coverage>>,
}

/// Which workload owns each pod, and each workload's pods.
#[derive(Debug, Default)]
struct Workloads<'m> {
    /// By (namespace, pod name): the owning workload, `None` for a pod without a controller.
    of_pod: HashMap<(&'m str, &'m str), Option<ObjectRef>>,
    /// Each workload's pods, in model order.
    pods: BTreeMap<ObjectRef, Vec<&'m Object>>,
}

/// Positions in [`Facts::usages`] by the subject that owns the container and by node.
#[derive(Debug, Default)]
struct UsageIndex {
    /// By workload, or by pod for a pod without a controller (and for a series whose pod is gone).
    by_subject: BTreeMap<ObjectRef, Vec<usize>>,
    by_node: BTreeMap<String, Vec<usize>>,
}

impl<'m> Facts<'m> {
    pub(crate) fn new(model: &'m ClusterModel) -> Facts<'m> {
        Facts {
            model,
            usages: OnceLock::new(),
            database_pods: OnceLock::new(),
            dns_pods: OnceLock::new(),
            workloads: OnceLock::new(),
            usage_index: OnceLock::new(),
            templates: OnceLock::new(),
            endpoints_captured: OnceLock::new(),
            node_loads: OnceLock::new(),
            fits: Mutex::new(HashMap::new()),
            coverage: Mutex::new(HashMap::new()),
        }
    }

    /// [`ClusterModel::captured`], answered once per kind and run: on a native bundle each
    /// answer reads the whole manifest, and diagnostics ask per Service, per claim, per pod.
    pub(crate) fn captured(&self, kind: &str) -> Coverage {
        let cached = self.coverage.lock().unwrap_or_else(PoisonError::into_inner).get(kind).cloned();
        if let Some(coverage) = cached {
            return coverage;
        }
        // Computed outside the lock: two threads asking at once compute the same answer.
        let coverage = self.model.captured(kind);
        self.coverage
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(kind.to_owned(), coverage.clone());
        coverage
    }

    /// Where `pod` could run ([`scheduling::of_pod`]), computed once per pod and run: the
    /// `unschedulable` and `node-not-ready` rules both ask it of every pending pod.
    pub(crate) fn fit(&self, pod: &Object) -> Arc<scheduling::Fit> {
        let key = pod.reference();
        let cached = self.fits.lock().unwrap_or_else(PoisonError::into_inner).get(&key).cloned();
        if let Some(fit) = cached {
            return fit;
        }
        // Computed outside the lock: two threads asking at once compute the same answer.
        let loads = self.node_loads.get_or_init(|| scheduling::NodeLoads::of(self.model));
        let fit = Arc::new(scheduling::of_pod(self.model, loads, pod));
        self.fits.lock().unwrap_or_else(PoisonError::into_inner).insert(key, Arc::clone(&fit));
        fit
    }

    /// Every container series with at least one sample, with its statistics and its spec's
    /// requests and limits, in (namespace, pod, container) order.
    pub(crate) fn usages(&self) -> &[ContainerUsage<'m>] {
        self.usages.get_or_init(|| usage::usages(self.model))
    }

    /// The loaded model itself, borrowed for as long as the facts.
    pub(crate) fn cluster(&self) -> &'m ClusterModel {
        self.model
    }

    /// One pod spec per workload, and one per pod no workload of the bundle owns, in owner
    /// order (see [`workload::templates`]): the security and resource checks read specs here,
    /// so a Deployment's 40 pods are checked once.
    pub(crate) fn templates(&self) -> &[Template<'m>] {
        self.templates.get_or_init(|| workload::templates(self))
    }

    /// The pods that run a database (by image or `app.kubernetes.io/name`), in model order.
    pub(crate) fn database_pods(&self) -> &[&'m Object] {
        self.database_pods
            .get_or_init(|| self.model.of_kind("Pod").filter(|pod| database::is_database_pod(pod)).collect())
    }

    /// The cluster DNS pods that are not gone (CoreDNS, kube-dns, OpenShift DNS), in model order.
    pub(crate) fn dns_pods(&self) -> &[&'m Object] {
        self.dns_pods.get_or_init(|| dns::pods(self.model))
    }

    /// Whether the bundle shows Services' endpoints ([`backends::endpoints_captured`]).
    /// [`backends::of_service`] asks it for every Service without endpoints, and on a native
    /// bundle holding no endpoint object the answer is a search of the whole manifest.
    pub(crate) fn endpoints_captured(&self) -> bool {
        *self.endpoints_captured.get_or_init(|| backends::endpoints_captured(self.model))
    }

    fn workloads(&self) -> &Workloads<'m> {
        self.workloads.get_or_init(|| {
            let mut workloads = Workloads::default();
            for pod in self.model.of_kind("Pod") {
                let owner = workload::workload_of(self.model, pod);
                if let Some(owner) = &owner {
                    workloads.pods.entry(owner.clone()).or_default().push(pod);
                }
                let namespace = pod.namespace.as_deref().unwrap_or_default();
                workloads.of_pod.insert((namespace, pod.name.as_str()), owner);
            }
            workloads
        })
    }

    /// The workload that owns `pod` (following ReplicaSet → Deployment and Job → CronJob),
    /// `None` for a pod without a controller. The same as [`workload::workload_of`], looked up.
    pub(crate) fn workload_of(&self, pod: &Object) -> Option<ObjectRef> {
        let namespace = pod.namespace.as_deref().unwrap_or_default();
        match self.workloads().of_pod.get(&(namespace, pod.name.as_str())) {
            Some(owner) => owner.clone(),
            // Not a pod of this model (a fixture's hand-made object): compute it.
            None => workload::workload_of(self.model, pod),
        }
    }

    /// The pods a workload owns, in model order.
    pub(crate) fn pods_of_workload(&self, workload: &ObjectRef) -> &[&'m Object] {
        self.workloads().pods.get(workload).map(Vec::as_slice).unwrap_or_default()
    }

    fn usage_index(&self) -> &UsageIndex {
        self.usage_index.get_or_init(|| {
            let mut index = UsageIndex::default();
            for (position, usage) in self.usages().iter().enumerate() {
                let subject =
                    usage.pod.and_then(|pod| self.workload_of(pod)).unwrap_or_else(|| usage.pod_ref());
                index.by_subject.entry(subject).or_default().push(position);
                if let Some(node) = usage.pod.and_then(|pod| pod.str_at("/spec/nodeName")) {
                    index.by_node.entry(node.to_owned()).or_default().push(position);
                }
            }
            index
        })
    }

    /// The usages of the containers of a workload's pods (or of one pod without a controller),
    /// in [`Facts::usages`] order.
    pub(crate) fn usages_of(&self, subject: &ObjectRef) -> impl Iterator<Item = &ContainerUsage<'m>> {
        let positions = self.usage_index().by_subject.get(subject).map(Vec::as_slice).unwrap_or_default();
        positions.iter().map(|&position| &self.usages()[position])
    }

    /// The usages of one pod's containers, in container order.
    pub(crate) fn usages_of_pod(&self, namespace: &str, pod: &str) -> &[ContainerUsage<'m>] {
        let usages = self.usages();
        let key = |usage: &ContainerUsage<'m>| (usage.key().namespace.as_str(), usage.key().pod.as_str());
        let start = usages.partition_point(|usage| key(usage) < (namespace, pod));
        let end = start + usages[start..].partition_point(|usage| key(usage) == (namespace, pod));
        &usages[start..end]
    }

    /// The usages of the containers of the pods scheduled on `node`, in [`Facts::usages`] order.
    pub(crate) fn usages_on_node(&self, node: &str) -> impl Iterator<Item = &ContainerUsage<'m>> {
        let positions = self.usage_index().by_node.get(node).map(Vec::as_slice).unwrap_or_default();
        positions.iter().map(|&position| &self.usages()[position])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    const FIXTURE: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-7d9f
  namespace: shop
  ownerReferences: [{kind: Deployment, name: web, uid: d1, controller: true}]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-7d9f-a
  namespace: shop
  ownerReferences: [{kind: ReplicaSet, name: web-7d9f, uid: r1, controller: true}]
spec: {nodeName: n1, containers: [{name: app}, {name: sidecar}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-7d9f-b
  namespace: shop
  ownerReferences: [{kind: ReplicaSet, name: web-7d9f, uid: r1, controller: true}]
spec: {nodeName: n2, containers: [{name: app}]}
---
apiVersion: v1
kind: Pod
metadata: {name: lone, namespace: shop}
spec: {nodeName: n1, containers: [{name: app}]}
---
kind: MetricSeries
namespace: shop
pod: web-7d9f-a
container: app
samples: [{at: "2025-06-01T11:55:00Z", cpu: 100m, memory: 10Mi}]
---
kind: MetricSeries
namespace: shop
pod: web-7d9f-a
container: sidecar
samples: [{at: "2025-06-01T11:55:00Z", cpu: 10m, memory: 5Mi}]
---
kind: MetricSeries
namespace: shop
pod: web-7d9f-b
container: app
samples: [{at: "2025-06-01T11:55:00Z", cpu: 200m, memory: 20Mi}]
---
kind: MetricSeries
namespace: shop
pod: lone
container: app
samples: [{at: "2025-06-01T11:55:00Z", cpu: 1m, memory: 1Mi}]
---
kind: MetricSeries
namespace: shop
pod: deleted-during-capture
container: app
samples: [{at: "2025-06-01T11:55:00Z", cpu: 1m, memory: 1Mi}]
"#;

    fn labels<'a>(usages: impl IntoIterator<Item = &'a ContainerUsage<'a>>) -> Vec<String> {
        usages.into_iter().map(ContainerUsage::label).collect()
    }

    fn deployment() -> ObjectRef {
        ObjectRef { kind: "Deployment".into(), namespace: Some("shop".into()), name: "web".into() }
    }

    #[test]
    fn workload_facts_agree_with_computing_them() {
        let cluster = model_from_yaml(FIXTURE);
        let facts = Facts::new(&cluster);
        for pod in cluster.of_kind("Pod") {
            assert_eq!(facts.workload_of(pod), workload::workload_of(&cluster, pod), "{}", pod.name);
        }
        let pods: Vec<&str> =
            facts.pods_of_workload(&deployment()).iter().map(|pod| pod.name.as_str()).collect();
        assert_eq!(pods, ["web-7d9f-a", "web-7d9f-b"]);
        assert!(facts.pods_of_workload(&cluster.of_kind("Pod").last().unwrap().reference()).is_empty());
    }

    #[test]
    fn usages_are_found_by_workload_pod_and_node() {
        let cluster = model_from_yaml(FIXTURE);
        let facts = Facts::new(&cluster);
        assert_eq!(
            labels(facts.usages_of(&deployment())),
            ["shop/web-7d9f-a/app", "shop/web-7d9f-a/sidecar", "shop/web-7d9f-b/app"]
        );
        let lone = ObjectRef { kind: "Pod".into(), namespace: Some("shop".into()), name: "lone".into() };
        assert_eq!(labels(facts.usages_of(&lone)), ["shop/lone/app"]);
        // A series whose pod is gone is its own subject, on no node.
        let gone = ObjectRef { name: "deleted-during-capture".into(), ..lone };
        assert_eq!(labels(facts.usages_of(&gone)), ["shop/deleted-during-capture/app"]);
        assert_eq!(
            labels(facts.usages_of_pod("shop", "web-7d9f-a")),
            ["shop/web-7d9f-a/app", "shop/web-7d9f-a/sidecar"]
        );
        assert_eq!(labels(facts.usages_of_pod("shop", "lone")), ["shop/lone/app"]);
        assert!(facts.usages_of_pod("shop", "web").is_empty());
        assert!(facts.usages_of_pod("other", "lone").is_empty());
        assert_eq!(
            labels(facts.usages_on_node("n1")),
            ["shop/lone/app", "shop/web-7d9f-a/app", "shop/web-7d9f-a/sidecar"]
        );
        assert_eq!(labels(facts.usages_on_node("n2")), ["shop/web-7d9f-b/app"]);
        assert!(facts.usages_on_node("n3").next().is_none());
    }
}
