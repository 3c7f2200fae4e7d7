//! Usage over time: `metrics.k8s.io` samples of every running pod and ready node every 30 s for
//! the 5 minutes of the collection (the sampling of the reference performance analysis), and each kubelet's `/stats/summary`.
//!
//! Usage is drawn per container around its requests; a memory-leaking container grows by a
//! fixed share of its limit each sample, an OOM-killed one sits near its limit, and a few
//! containers run above their CPU request.

use serde_json::{Value, json};

use crate::prng::Prng;

use super::clock::{BASE, rfc3339};
use super::plan::{ContainerPlan, Fault, Kind, NodePlan, Plan, PodPlan};

/// Samples every 30 s for 5 minutes.
pub(crate) const SAMPLES: u64 = 10;
pub(crate) const INTERVAL: i64 = 30;
/// The kubelet stats are read halfway through the sampling.
pub(crate) const STATS_SAMPLE: u64 = SAMPLES / 2;

/// Whether the metrics API reports the pod: running containers on a ready node.
pub(crate) fn reports_usage(pod: &PodPlan, kind: Kind, nodes: &[NodePlan]) -> bool {
    kind != Kind::Job
        && pod.node.is_some_and(|n| nodes[n].ready)
        && !matches!(
            pod.fault,
            Fault::CrashLoop | Fault::ImagePull | Fault::ConfigError | Fault::Unschedulable | Fault::Evicted
        )
}

/// CPU in nanocores and working set in bytes of one container at one sample.
pub(crate) fn usage(pod: &PodPlan, index: usize, container: &ContainerPlan, sample: u64) -> (u64, u64) {
    let mut base = Prng::derive(pod.seed, &[2, index as u64]);
    let (cpu_request_m, memory_limit_mi, memory_request_mi) = container
        .resources
        .map_or((100, 512, 128), |r| (r.cpu_request_m, r.memory_limit_mi, r.memory_request_mi));
    let hot = base.chance(30_000);
    let cpu_share = if hot { 1.2 + base.unit() } else { 0.05 + 0.6 * base.unit() };
    let memory_share = 0.4 + 0.7 * base.unit();
    let mut jitter = Prng::derive(pod.seed, &[3, index as u64, sample]);
    let cpu = (cpu_request_m as f64 * cpu_share * (0.85 + 0.3 * jitter.unit()) * 1_000_000.0) as u64;
    let limit = (memory_limit_mi << 20) as f64;
    let main = index == 0;
    let memory = match pod.fault {
        Fault::MemoryLeak if main => limit * (0.45 + 0.05 * sample as f64) + 1_000_000.0 * jitter.unit(),
        Fault::OomKilled if main => limit * (0.86 + 0.08 * jitter.unit()),
        _ => (memory_request_mi << 20) as f64 * memory_share * (0.97 + 0.06 * jitter.unit()),
    };
    (cpu, memory as u64)
}

/// `metrics/pods.jsonl`.
pub(crate) fn pod_metrics(plan: &Plan) -> Vec<u8> {
    let mut out = Vec::new();
    for sample in 0..SAMPLES {
        let at = rfc3339(BASE + sample as i64 * INTERVAL + 2);
        let mut items = Vec::new();
        for (namespace, workload, pod) in plan.pods() {
            if !reports_usage(pod, workload.kind, &plan.nodes) {
                continue;
            }
            let containers: Vec<Value> = pod
                .containers
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.init)
                .map(|(index, container)| {
                    let (cpu, memory) = usage(pod, index, container, sample);
                    json!({ "name": container.name, "usage": { "cpu": format!("{cpu}n"), "memory": format!("{}Ki", memory / 1024) } })
                })
                .collect();
            items.push(json!({
                "metadata": { "name": pod.name, "namespace": namespace.name, "creationTimestamp": at, "labels": { "app.kubernetes.io/name": workload.name } },
                "timestamp": rfc3339(BASE + sample as i64 * INTERVAL - 8),
                "window": "15.012s",
                "containers": containers,
            }));
        }
        let line = json!({ "timestamp": at, "items": items });
        out.extend(serde_json::to_vec(&line).unwrap_or_default());
        out.push(b'\n');
    }
    out
}

/// Usage summed per node, with the system's share on top.
pub(crate) fn node_usage(plan: &Plan, sample: u64) -> Vec<(u64, u64)> {
    let mut totals: Vec<(u64, u64)> = plan.nodes.iter().map(|_| (350_000_000, 1_600 << 20)).collect();
    for (_, workload, pod) in plan.pods() {
        if !reports_usage(pod, workload.kind, &plan.nodes) {
            continue;
        }
        let Some(node) = pod.node else { continue };
        for (index, container) in pod.containers.iter().enumerate().filter(|(_, c)| !c.init) {
            let (cpu, memory) = usage(pod, index, container, sample);
            totals[node].0 += cpu;
            totals[node].1 += memory;
        }
    }
    totals
}

/// `metrics/nodes.jsonl`.
pub(crate) fn node_metrics(plan: &Plan) -> Vec<u8> {
    let mut out = Vec::new();
    for sample in 0..SAMPLES {
        let at = rfc3339(BASE + sample as i64 * INTERVAL + 2);
        let totals = node_usage(plan, sample);
        let items: Vec<Value> = plan
            .nodes
            .iter()
            .zip(&totals)
            .filter(|(node, _)| node.ready)
            .map(|(node, (cpu, memory))| {
                json!({
                    "metadata": { "name": node.name, "creationTimestamp": at, "labels": { "kubernetes.io/hostname": node.name, "node.kubernetes.io/instance-type": "m6i.2xlarge", "topology.kubernetes.io/zone": node.zone } },
                    "timestamp": rfc3339(BASE + sample as i64 * INTERVAL - 5),
                    "window": "20.029s",
                    "usage": { "cpu": format!("{cpu}n"), "memory": format!("{}Ki", memory / 1024) },
                })
            })
            .collect();
        let line = json!({ "timestamp": at, "items": items });
        out.extend(serde_json::to_vec(&line).unwrap_or_default());
        out.push(b'\n');
    }
    out
}

fn fs_stats(at: &str, capacity: u64, used: u64) -> Value {
    let used = used.min(capacity);
    let inodes_used = (used / 65_536).min(6_000_000);
    json!({ "time": at, "availableBytes": capacity - used, "capacityBytes": capacity, "usedBytes": used, "inodesFree": 6_000_000 - inodes_used, "inodes": 6_000_000, "inodesUsed": inodes_used })
}

/// `kubelet/<node>/stats-summary.json` of one ready node.
///
/// `totals` is [`node_usage`] at the sample the stats are taken ([`STATS_SAMPLE`]).
pub(crate) fn kubelet_summary(plan: &Plan, node_index: usize, totals: &[(u64, u64)]) -> Value {
    let node = &plan.nodes[node_index];
    let at = rfc3339(BASE + 150);
    let sample = STATS_SAMPLE;
    let (node_cpu, node_memory) = totals[node_index];
    let node_fs_capacity: u64 = 107_361_579_008;
    let mut pods = Vec::new();
    let mut node_fs_used: u64 = 9_000_000_000;
    for (namespace, workload, pod) in plan.pods() {
        if pod.node != Some(node_index) || !reports_usage(pod, workload.kind, &plan.nodes) {
            continue;
        }
        let mut prng = Prng::derive(pod.seed, &[4]);
        let mut pod_cpu = 0;
        let mut pod_memory = 0;
        let containers: Vec<Value> = pod
            .containers
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.init)
            .map(|(index, container)| {
                let (cpu, memory) = usage(pod, index, container, sample);
                pod_cpu += cpu;
                pod_memory += memory;
                let rootfs = prng.between(40_000, 8_000_000);
                let logs = prng.between(100_000, 60_000_000);
                node_fs_used += rootfs + logs;
                json!({
                    "name": container.name,
                    "startTime": rfc3339(pod.created + 5),
                    "cpu": { "time": at, "usageNanoCores": cpu, "usageCoreNanoSeconds": cpu / 1000 * (BASE - pod.created) as u64 },
                    "memory": { "time": at, "availableBytes": container.resources.map_or(0, |r| (r.memory_limit_mi << 20).saturating_sub(memory)), "usageBytes": memory + memory / 8, "workingSetBytes": memory, "rssBytes": memory - memory / 10, "pageFaults": prng.between(1_000, 900_000), "majorPageFaults": prng.below(40) },
                    "rootfs": fs_stats(&at, node_fs_capacity, rootfs),
                    "logs": fs_stats(&at, node_fs_capacity, logs),
                })
            })
            .collect();
        let mut volumes = vec![
            json!({ "time": at, "availableBytes": 33_170_882_560u64, "capacityBytes": 33_170_894_848u64, "usedBytes": 12_288, "inodesFree": 4_049_672, "inodes": 4_049_681, "inodesUsed": 9, "name": "kube-api-access" }),
        ];
        for claim in
            workload.claims.iter().filter(|claim| claim.pod.is_some_and(|p| workload.pods[p].uid == pod.uid))
        {
            let capacity = claim.size_gi << 30;
            let used = capacity / 1000 * claim.used_per_mille;
            let mut volume = fs_stats(&at, capacity, used);
            volume["name"] = json!("data");
            volume["pvcRef"] = json!({ "name": claim.name, "namespace": namespace.name });
            volumes.push(volume);
        }
        pods.push(json!({
            "podRef": { "name": pod.name, "namespace": namespace.name, "uid": pod.uid },
            "startTime": rfc3339(pod.created + 1),
            "containers": containers,
            "cpu": { "time": at, "usageNanoCores": pod_cpu, "usageCoreNanoSeconds": pod_cpu / 1000 * (BASE - pod.created) as u64 },
            "memory": { "time": at, "usageBytes": pod_memory + pod_memory / 8, "workingSetBytes": pod_memory, "rssBytes": pod_memory - pod_memory / 10, "pageFaults": 0, "majorPageFaults": 0 },
            "network": { "time": at, "name": "eth0", "rxBytes": prng.between(1 << 20, 1 << 34), "rxErrors": 0, "txBytes": prng.between(1 << 20, 1 << 33), "txErrors": 0 },
            "volume": volumes,
            "ephemeral-storage": fs_stats(&at, node_fs_capacity, prng.between(100_000, 80_000_000)),
            "process_stats": { "process_count": prng.between(1, 40) },
        }));
    }
    json!({
        "node": {
            "nodeName": node.name,
            "systemContainers": [
                { "name": "kubelet", "startTime": rfc3339(node.created + 20), "cpu": { "time": at, "usageNanoCores": 41_220_118, "usageCoreNanoSeconds": 94_413_220_000_000u64 }, "memory": { "time": at, "usageBytes": 121_442_304, "workingSetBytes": 98_213_888, "rssBytes": 88_104_960, "pageFaults": 912_311, "majorPageFaults": 12 } },
                { "name": "runtime", "startTime": rfc3339(node.created + 10), "cpu": { "time": at, "usageNanoCores": 22_002_133, "usageCoreNanoSeconds": 51_210_993_000_000u64 }, "memory": { "time": at, "usageBytes": 301_002_752, "workingSetBytes": 172_441_600, "rssBytes": 120_819_712, "pageFaults": 1_221_004, "majorPageFaults": 31 } },
            ],
            "startTime": rfc3339(node.created),
            "cpu": { "time": at, "usageNanoCores": node_cpu, "usageCoreNanoSeconds": node_cpu / 1000 * (BASE - node.created) as u64 },
            "memory": { "time": at, "availableBytes": (32_386_780u64 * 1024).saturating_sub(node_memory), "usageBytes": node_memory + node_memory / 4, "workingSetBytes": node_memory, "rssBytes": node_memory - node_memory / 8, "pageFaults": 88_130_441, "majorPageFaults": 1_442 },
            "network": { "time": at, "name": "ens5", "rxBytes": 912_330_114_221u64, "rxErrors": 0, "txBytes": 401_229_003_118u64, "txErrors": 0 },
            "fs": fs_stats(&at, node_fs_capacity, node_fs_used),
            "runtime": { "imageFs": fs_stats(&at, node_fs_capacity, 6_210_002_944) },
            "rlimit": { "time": at, "maxpid": 4_194_304, "curproc": 1_400 + 20 * pods.len() as u64 },
        },
        "pods": pods,
    })
}
