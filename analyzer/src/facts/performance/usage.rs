//! What each container used over the capture, next to what it asked for: `K8sPerformanceAnalyzer`'s
//! per-series statistics joined with the container's requests and limits, grouped per
//! workload for findings.
//!
//! [`container_stats`] and [`top_consumers`] are the views the report shows (`K8sPerformanceAnalyzer`'s
//! "pod analysis" and its "Top CPU/Memory Consumers"); the performance diagnostics read the
//! same [`ContainerUsage`] so that a finding's p95 is the report's p95.

use std::collections::BTreeMap;

use jiff::Timestamp;
use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, ContainerKey, MetricSeries, Object, ObjectRef};
use kubesnap_shared::quantity;
use serde::Serialize;

use crate::facts::Facts;
use crate::stats::{self, Summary};

/// Requests and limits of one container: CPU in millicores, memory in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Resources {
    pub(crate) cpu_request: Option<f64>,
    pub(crate) cpu_limit: Option<f64>,
    pub(crate) memory_request: Option<f64>,
    pub(crate) memory_limit: Option<f64>,
}

impl Resources {
    /// The resources of a container spec as the API server admits it: a request left out
    /// where a limit is set defaults to the limit (so a template and its pods agree).
    pub(crate) fn of(container: &Value) -> Resources {
        let read = |pointer: &str, parse: fn(&str) -> Option<f64>| {
            container.pointer(pointer).and_then(|value| match value {
                Value::String(text) => parse(text),
                // YAML manifests write `cpu: 1`; the API always returns strings.
                Value::Number(number) => parse(&number.to_string()),
                _ => None,
            })
        };
        let cpu_limit = read("/resources/limits/cpu", quantity::cpu_millicores);
        let memory_limit = read("/resources/limits/memory", quantity::bytes);
        Resources {
            cpu_request: read("/resources/requests/cpu", quantity::cpu_millicores).or(cpu_limit),
            cpu_limit,
            memory_request: read("/resources/requests/memory", quantity::bytes).or(memory_limit),
            memory_limit,
        }
    }
}

/// One container's samples with their statistics and its spec's resources.
#[derive(Debug, Clone)]
pub(crate) struct ContainerUsage<'a> {
    pub(crate) series: &'a MetricSeries,
    /// The pod, when the bundle holds it (a pod deleted during the capture keeps its samples).
    pub(crate) pod: Option<&'a Object>,
    /// The container's JSON pointer in the pod (`/spec/containers/0`).
    pub(crate) pointer: Option<String>,
    pub(crate) resources: Resources,
    /// CPU in millicores.
    pub(crate) cpu: Summary,
    /// Memory (working set) in bytes.
    pub(crate) memory: Summary,
}

impl<'a> ContainerUsage<'a> {
    pub(crate) fn key(&self) -> &'a ContainerKey {
        &self.series.key
    }

    /// `shop/api-7d9f-a/api`, the series name of evidence.
    pub(crate) fn label(&self) -> String {
        let key = self.key();
        format!("{}/{}/{}", key.namespace, key.pod, key.container)
    }

    pub(crate) fn pod_ref(&self) -> ObjectRef {
        let key = self.key();
        ObjectRef { kind: "Pod".to_owned(), namespace: Some(key.namespace.clone()), name: key.pod.clone() }
    }

    pub(crate) fn first(&self) -> Option<Timestamp> {
        self.series.samples.first().map(|sample| sample.at)
    }

    pub(crate) fn last(&self) -> Option<Timestamp> {
        self.series.samples.last().map(|sample| sample.at)
    }

    /// The pod is Running and Ready: its usage is the workload's normal use, not that of a
    /// container crash-looping or starting (right-sizing reads only these).
    pub(crate) fn serving(&self) -> bool {
        self.pod.is_some_and(|pod| {
            pod.str_at("/status/phase") == Some("Running")
                && pod.condition("Ready").is_some_and(|(status, _, _)| status == "True")
        })
    }

    /// How long the samples cover, in minutes.
    pub(crate) fn window_minutes(&self) -> f64 {
        match (self.first(), self.last()) {
            (Some(first), Some(last)) => minutes_between(first, last),
            _ => 0.0,
        }
    }

    /// The stability score of the CPU and memory series; memory in MiB as `K8sPerformanceAnalyzer`
    /// measures it, so its `max(mean, 1)` floor means what it meant there.
    pub(crate) fn stability_score(&self) -> f64 {
        let mib = |value: f64| value / MIB;
        let memory = Summary {
            mean: mib(self.memory.mean),
            median: mib(self.memory.median),
            stdev: mib(self.memory.stdev),
            min: mib(self.memory.min),
            max: mib(self.memory.max),
            p95: mib(self.memory.p95),
            ..self.memory
        };
        stats::stability_score(&self.cpu, &memory)
    }
}

pub(crate) const MIB: f64 = 1_048_576.0;

/// Minutes from `from` to `to` (negative when `to` is earlier).
pub(crate) fn minutes_between(from: Timestamp, to: Timestamp) -> f64 {
    (to.as_millisecond() - from.as_millisecond()) as f64 / 60_000.0
}

/// Every container series with at least one sample, in (namespace, pod, container) order.
pub(crate) fn usages(model: &ClusterModel) -> Vec<ContainerUsage<'_>> {
    model
        .pod_metrics
        .iter()
        .filter_map(|series| {
            let cpu: Vec<f64> = series.samples.iter().map(|sample| sample.cpu_millicores).collect();
            let memory: Vec<f64> = series.samples.iter().map(|sample| sample.memory_bytes).collect();
            let key = &series.key;
            let pod = model.get("Pod", Some(&key.namespace), &key.pod);
            let (pointer, resources) = pod
                .and_then(|pod| container_in_pod(pod, &key.container))
                .map(|(pointer, spec)| (Some(pointer), Resources::of(spec)))
                .unwrap_or_default();
            Some(ContainerUsage {
                series,
                pod,
                pointer,
                resources,
                cpu: Summary::of(&cpu)?,
                memory: Summary::of(&memory)?,
            })
        })
        .collect()
}

/// A container of a pod's spec by name, with its JSON pointer.
pub(crate) fn container_in_pod<'a>(pod: &'a Object, name: &str) -> Option<(String, &'a Value)> {
    ["containers", "initContainers"].into_iter().find_map(|list| {
        pod.array_at(&format!("/spec/{list}")).iter().enumerate().find_map(|(index, container)| {
            (container.get("name").and_then(Value::as_str) == Some(name))
                .then(|| (format!("/spec/{list}/{index}"), container))
        })
    })
}

/// The statistics the report shows for one container (`K8sPerformanceAnalyzer`'s `pod_analysis` entry).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ContainerStats {
    pub(crate) namespace: String,
    pub(crate) pod: String,
    pub(crate) container: String,
    pub(crate) first: Option<Timestamp>,
    pub(crate) last: Option<Timestamp>,
    /// CPU in millicores.
    pub(crate) cpu_millicores: Summary,
    /// Memory (working set) in bytes.
    pub(crate) memory_bytes: Summary,
    /// The stability score, 0..=100 (below 70 is unstable).
    pub(crate) stability_score: f64,
    pub(crate) cpu_request_millicores: Option<f64>,
    pub(crate) cpu_limit_millicores: Option<f64>,
    pub(crate) memory_request_bytes: Option<f64>,
    pub(crate) memory_limit_bytes: Option<f64>,
}

/// Per container: CPU and memory mean, median, stdev, min, max and p95 over the capture, with
/// the requests and limits, in (namespace, pod, container) order.
pub(crate) fn container_stats(facts: &Facts<'_>) -> Vec<ContainerStats> {
    facts
        .usages()
        .iter()
        .map(|usage| ContainerStats {
            namespace: usage.key().namespace.clone(),
            pod: usage.key().pod.clone(),
            container: usage.key().container.clone(),
            first: usage.first(),
            last: usage.last(),
            cpu_millicores: usage.cpu,
            memory_bytes: usage.memory,
            stability_score: usage.stability_score(),
            cpu_request_millicores: usage.resources.cpu_request,
            cpu_limit_millicores: usage.resources.cpu_limit,
            memory_request_bytes: usage.resources.memory_request,
            memory_limit_bytes: usage.resources.memory_limit,
        })
        .collect()
}

/// One pod of `K8sPerformanceAnalyzer`'s top-consumer lists: the sum of its containers' means.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Consumer {
    pub(crate) namespace: String,
    pub(crate) pod: String,
    pub(crate) mean: f64,
}

/// `K8sPerformanceAnalyzer`'s "Top CPU Consumers" (millicores) and "Top Memory Consumers" (bytes).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct TopConsumers {
    pub(crate) cpu: Vec<Consumer>,
    pub(crate) memory: Vec<Consumer>,
}

/// The `count` pods with the highest mean CPU and memory, highest first (ties by name).
///
/// A ranking is not a problem to fix, so it is not a finding: a P3 on every bundle would only
/// trip `--fail-on P3` and push real findings down. The report shows it beside the charts.
pub(crate) fn top_consumers(facts: &Facts<'_>, count: usize) -> TopConsumers {
    let mut pods: BTreeMap<(&str, &str), (f64, f64)> = BTreeMap::new();
    for usage in facts.usages() {
        let key = usage.key();
        let pod = pods.entry((key.namespace.as_str(), key.pod.as_str())).or_default();
        pod.0 += usage.cpu.mean;
        pod.1 += usage.memory.mean;
    }
    let top = |pick: fn(&(f64, f64)) -> f64| {
        let mut ranked: Vec<Consumer> = pods
            .iter()
            .map(|((namespace, pod), means)| Consumer {
                namespace: (*namespace).to_owned(),
                pod: (*pod).to_owned(),
                mean: pick(means),
            })
            .collect();
        // A stable sort on a name-ordered list keeps ties in name order.
        ranked.sort_by(|a, b| b.mean.total_cmp(&a.mean));
        ranked.truncate(count);
        ranked
    };
    TopConsumers { cpu: top(|means| means.0), memory: top(|means| means.1) }
}

/// Containers sharing a condition, grouped by workload and container name: a Deployment's
/// three leaking replicas are one finding.
#[derive(Debug)]
pub(crate) struct Group<'a, T> {
    /// The owning workload; `None` for a lone pod (or one not in the bundle).
    pub(crate) workload: Option<ObjectRef>,
    pub(crate) container: String,
    /// The affected containers with what the diagnostic found, by pod name.
    pub(crate) members: Vec<(ContainerUsage<'a>, T)>,
}

impl<T> Group<'_, T> {
    /// The workload, else the pod.
    pub(crate) fn subject(&self) -> ObjectRef {
        match (&self.workload, self.members.first()) {
            (Some(workload), _) => workload.clone(),
            (None, Some((usage, _))) => usage.pod_ref(),
            (None, None) => ObjectRef { kind: "Pod".to_owned(), namespace: None, name: String::new() },
        }
    }

    /// `Deployment shop/api container api` (`, 3 pods` when several).
    pub(crate) fn label(&self) -> String {
        let subject = self.subject();
        let pods = match self.members.len() {
            1 => String::new(),
            count => format!(" ({count} pods)"),
        };
        format!(
            "{} {}/{} container {}{pods}",
            subject.kind,
            subject.namespace.as_deref().unwrap_or_default(),
            subject.name,
            self.container
        )
    }

    /// The workload then every pod.
    pub(crate) fn objects(&self) -> Vec<ObjectRef> {
        self.workload.iter().cloned().chain(self.members.iter().map(|(usage, _)| usage.pod_ref())).collect()
    }
}

/// Groups affected containers by (workload or pod, container name), in that order.
pub(crate) fn group<'a, T>(facts: &Facts<'a>, affected: Vec<(ContainerUsage<'a>, T)>) -> Vec<Group<'a, T>> {
    let mut groups: BTreeMap<(ObjectRef, String), Group<'a, T>> = BTreeMap::new();
    for (usage, detail) in affected {
        let workload = usage.pod.and_then(|pod| facts.workload_of(pod));
        let subject = workload.clone().unwrap_or_else(|| usage.pod_ref());
        let container = usage.key().container.clone();
        groups
            .entry((subject, container.clone()))
            .or_insert_with(|| Group { workload, container, members: Vec::new() })
            .members
            .push((usage, detail));
    }
    let mut groups: Vec<Group<'a, T>> = groups.into_values().collect();
    for group in &mut groups {
        group.members.sort_by(|(a, _), (b, _)| a.key().cmp(b.key()));
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    const FIXTURE: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: prod-simulation}
spec:
  containers:
  - name: database
    resources: {requests: {cpu: 500m, memory: 1Gi}, limits: {cpu: 2, memory: 4Gi}}
  - name: connection-monitor
    resources: {limits: {cpu: 500m, memory: 512Mi}}
---
kind: MetricSeries
namespace: prod-simulation
pod: db-0
container: database
samples:
- {at: "2025-06-01T11:55:00Z", cpu: 400m, memory: 900Mi}
- {at: "2025-06-01T11:55:30Z", cpu: 600m, memory: 910Mi}
---
kind: MetricSeries
namespace: prod-simulation
pod: db-0
container: connection-monitor
samples:
- {at: "2025-06-01T11:55:00Z", cpu: 20m, memory: 30Mi}
- {at: "2025-06-01T11:55:30Z", cpu: 480m, memory: 32Mi}
---
kind: MetricSeries
namespace: prod-simulation
pod: web-1
container: web
samples:
- {at: "2025-06-01T11:55:00Z", cpu: 900m, memory: 100Mi}
"#;

    #[test]
    fn stats_join_samples_with_resources_and_requests_default_to_limits() {
        let model = model_from_yaml(FIXTURE);
        let stats = container_stats(&Facts::new(&model));
        let names: Vec<&str> = stats.iter().map(|s| s.container.as_str()).collect();
        assert_eq!(names, ["connection-monitor", "database", "web"]);
        let monitor = &stats[0];
        assert_eq!(monitor.cpu_millicores.mean, 250.0);
        assert_eq!(monitor.cpu_request_millicores, Some(500.0), "request defaults to the limit");
        assert_eq!(monitor.memory_request_bytes, Some(512.0 * MIB));
        let database = &stats[1];
        assert_eq!(database.cpu_limit_millicores, Some(2000.0), "a YAML number is a quantity");
        assert_eq!(database.memory_bytes.max, 910.0 * MIB);
        // A pod missing from the bundle keeps its samples but has no resources.
        assert_eq!(stats[2].cpu_limit_millicores, None);
    }

    #[test]
    fn top_consumers_rank_pods_by_the_sum_of_their_containers() {
        let model = model_from_yaml(FIXTURE);
        let top = top_consumers(&Facts::new(&model), 5);
        let cpu: Vec<(&str, f64)> = top.cpu.iter().map(|c| (c.pod.as_str(), c.mean)).collect();
        assert_eq!(cpu, [("web-1", 900.0), ("db-0", 750.0)]);
        assert_eq!(top.memory[0].pod, "db-0");
        assert_eq!(top_consumers(&Facts::new(&model), 1).cpu.len(), 1);
    }
}
