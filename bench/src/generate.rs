//! The bundle generator: writes a realistic native bundle of a cluster of any size through
//! [`BundleWriter`] and the [`layout`] paths, deterministic from a seed.
//!
//! The cluster is planned first ([`plan`]), then written in the order a collector writes it:
//! discovery, cluster-scoped lists, per-namespace lists, watched events, logs (streamed),
//! metrics samples and kubelet stats. Memory stays bounded by one namespace's objects and the
//! short logs; large logs stream through [`logs::LogStream`].

mod clock;
mod events;
mod logs;
mod objects;
mod plan;
mod telemetry;

use std::collections::BTreeMap;
use std::io::Write;

use kubesnap_shared::manifest::{ClusterInfo, Failure, FailureKind, Tool};
use kubesnap_shared::writer::BundleHeader;
use kubesnap_shared::{BundleWriter, layout};
use serde_json::{Value, json};

use crate::prng::Prng;

use self::logs::{Ending, LogContext, LogStream, render_small};
use self::objects::{cluster, config, list, network, pod, workloads};
use self::plan::{Fault, Kind, Plan};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Pods in total, kube-system's included.
    pub pods: u64,
    /// Bytes of container logs in total (at least the short logs' size).
    pub log_bytes: u64,
    pub seed: u64,
    /// Application namespaces (kube-system, default, kube-public and kube-node-lease come on top).
    pub namespaces: u64,
    pub nodes: u64,
    /// gzip level, 0–9.
    pub compression: u32,
}

impl Config {
    /// Namespaces and nodes in proportion to pods: about 100 pods per namespace and 50 per node.
    pub fn sized(pods: u64, log_bytes: u64, seed: u64) -> Config {
        Config {
            pods,
            log_bytes,
            seed,
            namespaces: (pods / 100).clamp(1, 200),
            nodes: pods.div_ceil(50).max(1),
            compression: 6,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub pods: u64,
    pub namespaces: u64,
    pub nodes: u64,
    pub entries: u64,
    /// Uncompressed bytes of all entries but `format.json` and `manifest.json`.
    pub bytes: u64,
    pub log_files: u64,
    pub log_bytes: u64,
    /// Pods per fault, for the record (`crash-loop`, `oom-killed`, ...).
    pub faults: BTreeMap<String, u64>,
}

/// The top-level folder of every generated bundle.
pub const ROOT: &str = "kubesnap-bench-20260314T120000Z";

/// Writes the bundle for `config` into `out` and returns `out` and what was written.
pub fn generate<W: Write>(config: &Config, out: W) -> kubesnap_shared::Result<(W, Summary)> {
    let plan = plan::plan(config);
    let mut options = BTreeMap::new();
    options.insert(
        "generator".to_owned(),
        json!({
            "pods": config.pods, "log_bytes": config.log_bytes, "seed": config.seed,
            "namespaces": config.namespaces, "nodes": config.nodes,
        }),
    );
    let header = BundleHeader {
        root: ROOT.to_owned(),
        tool: Tool { name: "kubesnap-gen-bundle".to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() },
        cluster: ClusterInfo {
            context: Some("kubesnap-bench".to_owned()),
            server: Some("https://10.0.0.1:6443".to_owned()),
            version: Some(cluster::SERVER_VERSION.to_owned()),
            platform: Some("linux/amd64".to_owned()),
        },
        options,
        started_at: jiff::Timestamp::from_second(clock::BASE).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        compression: config.compression,
    };
    let mut sink = Sink { writer: BundleWriter::new(out, header)?, summary: Summary::default() };
    sink.summary.pods = plan.n_pods() as u64;
    sink.summary.namespaces = plan.namespaces.len() as u64;
    sink.summary.nodes = plan.nodes.len() as u64;
    for (_, _, pod) in plan.pods() {
        if pod.fault != Fault::None {
            *sink.summary.faults.entry(format!("{:?}", pod.fault)).or_default() += 1;
        }
    }

    sink.json(layout::CLUSTER_VERSION, &cluster::version())?;
    sink.bytes(
        layout::API_RESOURCES,
        &serde_json::to_vec_pretty(&cluster::api_resources()).unwrap_or_default(),
    )?;
    write_cluster_scoped(&mut sink, &plan)?;
    for (index, namespace) in plan.namespaces.iter().enumerate() {
        write_namespace(&mut sink, &plan, index as u64, namespace)?;
    }
    sink.bytes(layout::WATCHED_EVENTS, &events::watched(&plan))?;
    write_logs(&mut sink, &plan, config.log_bytes)?;
    sink.bytes(layout::POD_METRICS, &telemetry::pod_metrics(&plan))?;
    sink.bytes(layout::NODE_METRICS, &telemetry::node_metrics(&plan))?;
    let totals = telemetry::node_usage(&plan, telemetry::STATS_SAMPLE);
    for (index, node) in plan.nodes.iter().enumerate() {
        if node.ready {
            sink.json(
                &layout::kubelet_stats(&node.name),
                &telemetry::kubelet_summary(&plan, index, &totals),
            )?;
        } else {
            sink.writer.record_failure(Failure {
                what: "kubelet-stats".to_owned(),
                scope: node.name.clone(),
                namespace: None,
                kind: FailureKind::Timeout,
                status: None,
                message: format!(
                    "Get \"https://{}:10250/stats/summary\": dial tcp {}:10250: i/o timeout",
                    node.internal_ip, node.internal_ip
                ),
            });
        }
    }
    let Sink { mut writer, summary } = sink;
    // The collection "ends" when its metrics sampling does, whatever the wall clock says, so
    // the same arguments give byte-identical bundles.
    if let Ok(finished_at) = jiff::Timestamp::from_second(clock::BASE + clock::COLLECTION) {
        writer.set_finished_at(finished_at);
    }
    Ok((writer.finish()?, summary))
}

struct Sink<W: Write> {
    writer: BundleWriter<W>,
    summary: Summary,
}

impl<W: Write> Sink<W> {
    fn bytes(&mut self, path: &str, data: &[u8]) -> kubesnap_shared::Result<()> {
        self.writer.add(path, data)?;
        self.summary.entries += 1;
        self.summary.bytes += data.len() as u64;
        Ok(())
    }

    fn json(&mut self, path: &str, value: &Value) -> kubesnap_shared::Result<()> {
        // Compact, as the API server answers; serializing a Value cannot fail.
        let bytes = serde_json::to_vec(value).unwrap_or_default();
        self.bytes(path, &bytes)
    }

    fn list(
        &mut self,
        group: &str,
        version: &str,
        resource: &str,
        kind: &str,
        namespace: Option<&str>,
        items: Vec<Value>,
    ) -> kubesnap_shared::Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let api_version = if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") };
        self.json(
            &layout::resource_list(group, version, resource, namespace),
            &list(&api_version, kind, items),
        )
    }

    fn log(&mut self, path: &str, size: u64, reader: impl std::io::Read) -> kubesnap_shared::Result<()> {
        self.writer.add_reader(path, size, reader)?;
        self.summary.entries += 1;
        self.summary.bytes += size;
        self.summary.log_files += 1;
        self.summary.log_bytes += size;
        Ok(())
    }
}

fn write_cluster_scoped<W: Write>(sink: &mut Sink<W>, plan: &Plan) -> kubesnap_shared::Result<()> {
    sink.list("", "v1", "namespaces", "Namespace", None, cluster::namespaces(plan.seed, &plan.namespaces))?;
    let nodes = plan
        .nodes
        .iter()
        .enumerate()
        .map(|(index, node)| cluster::node(node, plan.seed, index as u64))
        .collect();
    sink.list("", "v1", "nodes", "Node", None, nodes)?;
    let mut volumes = Vec::new();
    for namespace in &plan.namespaces {
        for workload in &namespace.workloads {
            for claim in workload.claims.iter().filter(|claim| claim.bound) {
                let node = claim.pod.and_then(|p| workload.pods[p].node).map(|n| &plan.nodes[n]);
                volumes.push(cluster::persistent_volume(&namespace.name, claim, node));
            }
        }
    }
    sink.list("", "v1", "persistentvolumes", "PersistentVolume", None, volumes)?;
    sink.list("storage.k8s.io", "v1", "storageclasses", "StorageClass", None, cluster::storage_classes())
}

fn write_namespace<W: Write>(
    sink: &mut Sink<W>,
    plan: &Plan,
    index: u64,
    namespace: &plan::NamespacePlan,
) -> kubesnap_shared::Result<()> {
    let ns = Some(namespace.name.as_str());
    let not_ready: Vec<bool> = plan.nodes.iter().map(|node| !node.ready).collect();
    let pods = namespace
        .workloads
        .iter()
        .flat_map(|workload| workload.pods.iter().map(move |p| pod::pod(namespace, workload, p, &plan.nodes)))
        .collect();
    sink.list("", "v1", "pods", "Pod", ns, pods)?;

    let mut services = Vec::new();
    let mut endpoints = Vec::new();
    let mut slices = Vec::new();
    for workload in &namespace.workloads {
        if let Some(service) = &workload.service {
            services.push(network::service(
                &namespace.name,
                service,
                pod::selector(workload),
                workload.created,
            ));
            endpoints.push(network::endpoints(namespace, service, Some(workload), &plan.nodes));
            slices.push(network::endpoint_slice(namespace, service, Some(workload), &plan.nodes));
        }
    }
    if let Some(service) = &namespace.orphan_service {
        let selector = json!({ "app.kubernetes.io/name": "api-v1" });
        services.push(network::service(&namespace.name, service, selector, namespace.created + 3_600));
        endpoints.push(network::endpoints(namespace, service, None, &plan.nodes));
        slices.push(network::endpoint_slice(namespace, service, None, &plan.nodes));
    }
    sink.list("", "v1", "services", "Service", ns, services)?;
    sink.list("", "v1", "endpoints", "Endpoints", ns, endpoints)?;
    sink.list("", "v1", "configmaps", "ConfigMap", ns, config::config_maps(plan.seed, index, namespace))?;
    sink.list("", "v1", "secrets", "Secret", ns, config::secrets(plan.seed, index, namespace))?;

    let mut claims: Vec<Value> = Vec::new();
    for workload in &namespace.workloads {
        let labels = json!({ "app.kubernetes.io/name": workload.name });
        claims.extend(
            workload
                .claims
                .iter()
                .map(|claim| cluster::persistent_volume_claim(&namespace.name, claim, Some(&labels))),
        );
    }
    if let Some(claim) = &namespace.pending_claim {
        claims.push(cluster::persistent_volume_claim(&namespace.name, claim, None));
    }
    sink.list("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", ns, claims)?;
    sink.list("", "v1", "events", "Event", ns, events::namespace_events(plan, index, namespace))?;
    if index == 0 {
        sink.list("", "v1", "events", "Event", Some("default"), events::node_events(plan))?;
    }

    let mut by_kind: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for workload in &namespace.workloads {
        for (kind, object) in workloads::workload_objects(namespace, workload, &not_ready) {
            let resource = match (kind, object["kind"].as_str()) {
                (_, Some("ReplicaSet")) => "replicasets",
                (Kind::Deployment, _) => "deployments",
                (Kind::StatefulSet, _) => "statefulsets",
                (Kind::DaemonSet, _) => "daemonsets",
                (Kind::Job, _) => "jobs",
            };
            by_kind.entry(resource).or_default().push(object);
        }
    }
    for (resource, items) in by_kind {
        let (group, kind) = match resource {
            "replicasets" => ("apps", "ReplicaSet"),
            "deployments" => ("apps", "Deployment"),
            "statefulsets" => ("apps", "StatefulSet"),
            "daemonsets" => ("apps", "DaemonSet"),
            _ => ("batch", "Job"),
        };
        sink.list(group, "v1", resource, kind, ns, items)?;
    }
    sink.list("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", ns, slices)
}

/// A log to write: rendered whole (short, its ending matters) or streamed with a share of the
/// budget.
enum Body {
    Small(Vec<u8>),
    Stream(LogContext, u64),
}

const PEERS: [&str; 7] = ["postgres", "redis", "payments", "inventory", "catalog", "auth", "kafka"];

fn write_logs<W: Write>(sink: &mut Sink<W>, plan: &Plan, log_bytes: u64) -> kubesnap_shared::Result<()> {
    let mut logs: Vec<(String, Body)> = Vec::new();
    for (namespace, workload, pod) in plan.pods() {
        let Some(node) = pod.node.map(|n| &plan.nodes[n]) else { continue };
        if !node.ready {
            sink.writer.record_failure(Failure {
                what: "logs".to_owned(),
                scope: format!("{}/{}", namespace.name, pod.name),
                namespace: Some(namespace.name.clone()),
                kind: FailureKind::Timeout,
                status: None,
                message: format!(
                    "Get \"https://{}:10250/containerLogs/{}/{}/{}\": dial tcp {}:10250: i/o timeout",
                    node.internal_ip, namespace.name, pod.name, pod.containers[0].name, node.internal_ip
                ),
            });
            continue;
        }
        for (index, container) in pod.containers.iter().enumerate() {
            let mut prng = Prng::derive(pod.seed, &[5, index as u64]);
            let context = |prng: &mut Prng, previous: bool| LogContext {
                style: container.style,
                namespace: namespace.name.clone(),
                peer: (*prng.pick(&PEERS)).to_owned(),
                port: container.port,
                seed: Prng::derive(pod.seed, &[6, index as u64, u64::from(previous)]).next_u64(),
                start: if previous { plan::log_start(pod) - 3_600 } else { plan::log_start(pod) },
                end: if previous { clock::BASE - 900 } else { clock::BASE - 1 },
            };
            let path =
                |previous| layout::container_log(&namespace.name, &pod.name, &container.name, previous);
            let main = !container.init && !container.sidecar;
            if container.init {
                if !matches!(pod.fault, Fault::Evicted) {
                    let size = prng.between(200, 1_500);
                    logs.push((
                        path(false),
                        Body::Small(render_small(context(&mut prng, false), size, Ending::WaitForDeps)),
                    ));
                }
                continue;
            }
            if main && matches!(pod.fault, Fault::ImagePull | Fault::ConfigError) {
                let reason = if pod.fault == Fault::ImagePull {
                    "trying and failing to pull image"
                } else {
                    "CreateContainerConfigError"
                };
                sink.writer.record_failure(Failure {
                    what: "logs".to_owned(),
                    scope: format!("{}/{}/{}", namespace.name, pod.name, container.name),
                    namespace: Some(namespace.name.clone()),
                    kind: FailureKind::Other,
                    status: Some(400),
                    message: format!(
                        "container \"{}\" in pod \"{}\" is waiting to start: {reason}",
                        container.name, pod.name
                    ),
                });
                continue;
            }
            if pod.fault == Fault::Evicted {
                continue;
            }
            if main && workload.kind == Kind::Job {
                let size = prng.between(1_000, 16_000);
                let ending = Ending::Job { failed: pod.fault == Fault::JobFailed };
                logs.push((path(false), Body::Small(render_small(context(&mut prng, false), size, ending))));
                continue;
            }
            let crash = prng.below(logs::CRASHES.len() as u64) as usize;
            if main && pod.fault == Fault::CrashLoop {
                let size = prng.between(1_000, 6_000);
                logs.push((
                    path(false),
                    Body::Small(render_small(context(&mut prng, false), size, Ending::Crash(crash))),
                ));
                let size = prng.between(2_000, 12_000);
                logs.push((
                    path(true),
                    Body::Small(render_small(context(&mut prng, true), size, Ending::Crash(crash))),
                ));
                continue;
            }
            let weight = if container.sidecar {
                prng.between(2, 8)
            } else {
                match prng.below(100) {
                    0..60 => prng.between(2, 6),
                    60..90 => prng.between(8, 24),
                    90..99 => prng.between(40, 120),
                    _ => prng.between(200, 400),
                }
            };
            logs.push((path(false), Body::Stream(context(&mut prng, false), weight)));
            if container.restarts > 0 {
                let size = prng.between(4_000, 48_000);
                let ending =
                    if pod.fault == Fault::OomKilled { Ending::OomKilled } else { Ending::Crash(crash) };
                logs.push((path(true), Body::Small(render_small(context(&mut prng, true), size, ending))));
            }
        }
    }
    // The streamed logs share what the short ones leave of the budget.
    let small: u64 =
        logs.iter().map(|(_, body)| if let Body::Small(bytes) = body { bytes.len() as u64 } else { 0 }).sum();
    let weights: Vec<u64> = logs
        .iter()
        .filter_map(|(_, body)| if let Body::Stream(_, weight) = body { Some(*weight) } else { None })
        .collect();
    let mut shares = plan::split(log_bytes.saturating_sub(small), &weights).into_iter();
    for (path, body) in logs {
        match body {
            Body::Small(bytes) => sink.log(&path, bytes.len() as u64, bytes.as_slice())?,
            Body::Stream(context, _) => {
                let size = shares.next().unwrap_or(0);
                if size > 0 {
                    sink.log(&path, size, LogStream::new(context, size))?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
