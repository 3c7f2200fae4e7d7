//! The shape of the generated cluster, decided before a byte is written: nodes, namespaces,
//! workloads, their pods and containers, which ones fail and how, and how the log budget is
//! split among the containers.
//!
//! Everything here is a pure function of the [`Config`], drawn from streams derived per object,
//! so the objects, the logs and the metrics written later agree with each other (a pod that is
//! `CrashLoopBackOff` in its status has the crash in its previous log and a `BackOff` event).

use crate::prng::Prng;

use super::Config;
use super::clock::{BASE, LOG_WINDOW};

/// How a workload or one of its pods fails. Rates are fixed per workload or per pod (see
/// [`RATES`]); the first application namespace gets one of each so that even a tiny bundle
/// holds every scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Fault {
    None,
    /// Every replica crashes at start: `CrashLoopBackOff`, the previous log ends on the cause.
    CrashLoop,
    /// The container was `OOMKilled` and restarted; it runs now.
    OomKilled,
    /// The image tag does not exist: `ImagePullBackOff`.
    ImagePull,
    /// An env var references a Secret key that does not exist: `CreateContainerConfigError`.
    ConfigError,
    /// Requests more CPU than any node has: `Pending`, `FailedScheduling`.
    Unschedulable,
    /// Evicted for node memory pressure: `Failed`, reason `Evicted`.
    Evicted,
    /// Working set grows every metrics sample towards its limit.
    MemoryLeak,
    /// A Job whose pods exit 1 until `BackoffLimitExceeded`.
    JobFailed,
}

/// Per-million rates: workload faults per Deployment/StatefulSet, pod faults per pod.
pub(crate) struct Rates {
    pub(crate) crash_loop: u64,
    pub(crate) image_pull: u64,
    pub(crate) config_error: u64,
    pub(crate) unschedulable: u64,
    pub(crate) job_failed: u64,
    pub(crate) oom_killed: u64,
    pub(crate) evicted: u64,
    pub(crate) memory_leak: u64,
    /// Per namespace: a Service whose selector matches nothing.
    pub(crate) orphan_service: u64,
    /// Per namespace: a PVC of a StorageClass that does not exist.
    pub(crate) pending_pvc: u64,
    /// Per node: `NotReady`.
    pub(crate) node_not_ready: u64,
    /// Per StatefulSet volume: above the PersistentVolumeUsageHigh alert rule's 85%.
    pub(crate) volume_full: u64,
}

pub(crate) const RATES: Rates = Rates {
    crash_loop: 15_000,
    image_pull: 8_000,
    config_error: 5_000,
    unschedulable: 5_000,
    job_failed: 150_000,
    oom_killed: 5_000,
    evicted: 3_000,
    memory_leak: 3_000,
    orphan_service: 100_000,
    pending_pvc: 100_000,
    node_not_ready: 10_000,
    volume_full: 50_000,
};

/// The faults the first application namespace gets once each, in this order.
const FORCED: [Fault; 7] = [
    Fault::CrashLoop,
    Fault::OomKilled,
    Fault::ImagePull,
    Fault::ConfigError,
    Fault::Unschedulable,
    Fault::Evicted,
    Fault::MemoryLeak,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
}

/// The dialect a container logs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogStyle {
    /// `2026-03-14T11:02:03.123Z  INFO 1 --- [exec-3] c.e.Orders : ...` (Spring, Python).
    App,
    /// `I0314 11:02:03.123456       1 file.go:88] ...` (Kubernetes components, operators).
    Klog,
    /// `{"level":"info","ts":...,"msg":...}` (zap, slog, pino).
    Json,
    /// nginx combined access log, and its error log for failures.
    Nginx,
    /// Envoy access log of a mesh sidecar.
    Envoy,
}

#[derive(Debug, Clone)]
pub(crate) struct NodePlan {
    pub(crate) name: String,
    pub(crate) uid: String,
    pub(crate) ready: bool,
    /// Second and third octet of the node's pod /24 (`10.a.b.0/24`).
    pub(crate) cidr: (u64, u64),
    pub(crate) internal_ip: String,
    pub(crate) zone: &'static str,
    pub(crate) created: i64,
    /// Pods placed so far, to number pod IPs.
    pub(crate) pods: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct ContainerPlan {
    pub(crate) name: String,
    pub(crate) image: String,
    pub(crate) style: LogStyle,
    pub(crate) init: bool,
    pub(crate) sidecar: bool,
    /// Requests/limits: CPU in millicores, memory in MiB; `None` for no requests at all.
    pub(crate) resources: Option<Resources>,
    pub(crate) restarts: u64,
    pub(crate) port: u64,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Resources {
    pub(crate) cpu_request_m: u64,
    pub(crate) cpu_limit_m: Option<u64>,
    pub(crate) memory_request_mi: u64,
    pub(crate) memory_limit_mi: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct PodPlan {
    pub(crate) name: String,
    pub(crate) uid: String,
    pub(crate) fault: Fault,
    /// Index into [`Plan::nodes`]; `None` when unscheduled.
    pub(crate) node: Option<usize>,
    pub(crate) ip: String,
    pub(crate) created: i64,
    pub(crate) containers: Vec<ContainerPlan>,
    /// The pod's own stream: logs, metrics and stats draw from sub-streams of it.
    pub(crate) seed: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct WorkloadPlan {
    pub(crate) kind: Kind,
    pub(crate) name: String,
    pub(crate) uid: String,
    /// The ReplicaSet's pod-template-hash (Deployments), the controller revision otherwise.
    pub(crate) hash: String,
    pub(crate) rs_uid: String,
    pub(crate) fault: Fault,
    pub(crate) created: i64,
    pub(crate) pods: Vec<PodPlan>,
    /// Whether it has a Service (Deployments and StatefulSets).
    pub(crate) service: Option<ServicePlan>,
    /// Volume claims (StatefulSets): `(claim name, pv uid, bound, usage above 85%)`.
    pub(crate) claims: Vec<ClaimPlan>,
}

#[derive(Debug, Clone)]
pub(crate) struct ServicePlan {
    pub(crate) name: String,
    pub(crate) uid: String,
    pub(crate) cluster_ip: String,
    pub(crate) port: u64,
    pub(crate) target_port: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct ClaimPlan {
    pub(crate) name: String,
    pub(crate) uid: String,
    pub(crate) storage_class: &'static str,
    pub(crate) bound: bool,
    pub(crate) size_gi: u64,
    /// Used share in per mille, for kubelet volume stats.
    pub(crate) used_per_mille: u64,
    /// The pod mounting it, by index in the workload.
    pub(crate) pod: Option<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct NamespacePlan {
    pub(crate) name: String,
    pub(crate) uid: String,
    pub(crate) created: i64,
    pub(crate) workloads: Vec<WorkloadPlan>,
    /// A Service whose selector matches nothing.
    pub(crate) orphan_service: Option<ServicePlan>,
    /// A standalone claim stuck `Pending`.
    pub(crate) pending_claim: Option<ClaimPlan>,
}

#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) seed: u64,
    pub(crate) nodes: Vec<NodePlan>,
    pub(crate) namespaces: Vec<NamespacePlan>,
}

impl Plan {
    pub(crate) fn pods(&self) -> impl Iterator<Item = (&NamespacePlan, &WorkloadPlan, &PodPlan)> {
        self.namespaces.iter().flat_map(|namespace| {
            namespace
                .workloads
                .iter()
                .flat_map(move |workload| workload.pods.iter().map(move |pod| (namespace, workload, pod)))
        })
    }

    pub(crate) fn n_pods(&self) -> usize {
        self.pods().count()
    }
}

const NAMESPACES: [&str; 15] = [
    "shop",
    "payments",
    "identity",
    "data",
    "platform",
    "search",
    "media",
    "analytics",
    "ml",
    "edge",
    "backoffice",
    "partners",
    "mobile-api",
    "messaging",
    "reporting",
];
const APPS: [&str; 30] = [
    "api",
    "web",
    "frontend",
    "backend",
    "worker",
    "cache-warmer",
    "gateway",
    "auth",
    "billing",
    "search",
    "orders",
    "inventory",
    "payments",
    "notifications",
    "catalog",
    "cart",
    "checkout",
    "shipping",
    "recommendations",
    "reviews",
    "users",
    "sessions",
    "reports",
    "analytics",
    "ingest",
    "scheduler",
    "mailer",
    "media",
    "pricing",
    "ledger",
];
const STATEFUL: [(&str, &str, u64); 8] = [
    ("postgres", "docker.io/library/postgres:16.4", 5432),
    ("redis", "docker.io/library/redis:7.4.1", 6379),
    ("kafka", "docker.io/bitnami/kafka:3.8.1", 9092),
    ("elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch:8.15.3", 9200),
    ("rabbitmq", "docker.io/library/rabbitmq:3.13.7", 5672),
    ("mongodb", "docker.io/library/mongo:7.0.14", 27017),
    ("minio", "quay.io/minio/minio:RELEASE.2024-10-13T13-34-11Z", 9000),
    ("zookeeper", "docker.io/bitnami/zookeeper:3.9.2", 2181),
];
const JOBS: [&str; 6] = ["db-migrate", "report-nightly", "backup", "cleanup", "reindex", "export"];
const ZONES: [&str; 3] = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
/// The alphabet Kubernetes uses for generated name suffixes (no vowels, no look-alikes).
pub(crate) const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
const CPU_REQUESTS: [u64; 6] = [50, 100, 100, 250, 500, 1000];
const MEMORY_REQUESTS: [u64; 6] = [64, 128, 256, 256, 512, 1024];

/// Builds the whole plan. Pure: same config, same plan.
pub(crate) fn plan(config: &Config) -> Plan {
    let seed = config.seed;
    let nodes = plan_nodes(config);
    let mut plan = Plan { seed, nodes, namespaces: Vec::new() };
    let mut builder = Builder { plan: &mut plan, forced: FORCED.to_vec(), next_service_ip: 0 };
    let n_nodes = builder.plan.nodes.len() as u64;
    let total = config.pods;

    // kube-system: DNS, metrics-server and, when the pod budget allows, one DaemonSet pod per
    // node (kube-proxy, the CNI agent), as in a real cluster.
    let n_daemonsets = if total >= 5 * n_nodes + 3 {
        2
    } else if total >= 3 * n_nodes + 3 {
        1
    } else {
        0
    };
    let system_pods = (3 + n_daemonsets * n_nodes).min(total);
    builder.system_namespace(system_pods, n_daemonsets);

    // Application namespaces share the rest, unevenly (weights 1–4), exactly summing up.
    let app_pods = total - system_pods;
    let n_namespaces = config.namespaces.max(1);
    let mut weights_prng = Prng::derive(seed, &[1]);
    let weights: Vec<u64> = (0..n_namespaces).map(|_| weights_prng.between(1, 4)).collect();
    for (index, share) in split(app_pods, &weights).into_iter().enumerate() {
        builder.app_namespace(index as u64, share);
    }
    plan
}

/// Splits `total` proportionally to `weights`, exactly (the remainder goes to the first ones).
pub(crate) fn split(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let mut shares: Vec<u64> =
        weights.iter().map(|&w| (u128::from(total) * u128::from(w) / sum) as u64).collect();
    let mut left = total - shares.iter().sum::<u64>();
    for share in shares.iter_mut() {
        if left == 0 {
            break;
        }
        *share += 1;
        left -= 1;
    }
    shares
}

fn plan_nodes(config: &Config) -> Vec<NodePlan> {
    let n_nodes = config.nodes.max(1);
    let mut prng = Prng::derive(config.seed, &[2]);
    let mut nodes: Vec<NodePlan> = (0..n_nodes)
        .map(|index| NodePlan {
            name: format!("worker-{index:04}"),
            uid: prng.uuid(),
            ready: true,
            cidr: (64 + index / 256, index % 256),
            internal_ip: format!("10.0.{}.{}", index / 250, 10 + index % 250),
            zone: ZONES[(index % 3) as usize],
            created: BASE - 86_400 * prng.between(20, 90) as i64,
            pods: 0,
        })
        .collect();
    if n_nodes >= 3 {
        let n_not_ready = (n_nodes * RATES.node_not_ready).div_ceil(1_000_000).max(1);
        for step in 0..n_not_ready {
            // Spread over the list, never the first node (kube-system's usual home).
            let index = (1 + step * (n_nodes / n_not_ready)) as usize % nodes.len();
            nodes[index].ready = false;
        }
    }
    nodes
}

struct Builder<'a> {
    plan: &'a mut Plan,
    forced: Vec<Fault>,
    next_service_ip: u64,
}

impl Builder<'_> {
    fn system_namespace(&mut self, pods: u64, n_daemonsets: u64) {
        let seed = self.plan.seed;
        let mut prng = Prng::derive(seed, &[3, 0]);
        let mut namespace = NamespacePlan {
            name: "kube-system".to_owned(),
            uid: prng.uuid(),
            created: BASE - 86_400 * 120,
            workloads: Vec::new(),
            orphan_service: None,
            pending_claim: None,
        };
        let mut left = pods;
        let specs: [(&str, u64, Kind, &str); 4] = [
            ("coredns", 2, Kind::Deployment, "registry.k8s.io/coredns/coredns:v1.11.3"),
            ("metrics-server", 1, Kind::Deployment, "registry.k8s.io/metrics-server/metrics-server:v0.7.2"),
            ("kube-proxy", 0, Kind::DaemonSet, "registry.k8s.io/kube-proxy:v1.33.1"),
            ("calico-node", 0, Kind::DaemonSet, "docker.io/calico/node:v3.28.2"),
        ];
        for (index, (name, replicas, kind, image)) in specs.into_iter().enumerate() {
            let replicas = match kind {
                Kind::DaemonSet if (index as u64 - 2) < n_daemonsets => self.plan.nodes.len() as u64,
                Kind::DaemonSet => 0,
                _ => replicas,
            };
            let replicas = replicas.min(left);
            if replicas == 0 {
                continue;
            }
            left -= replicas;
            let port = if name == "coredns" { 53 } else { 10250 };
            let workload = self.workload(
                &mut prng,
                0,
                index as u64,
                kind,
                name,
                image,
                LogStyle::Klog,
                port,
                replicas,
                Fault::None,
            );
            namespace.workloads.push(workload);
        }
        self.plan.namespaces.push(namespace);
    }

    fn app_namespace(&mut self, index: u64, pods: u64) {
        let seed = self.plan.seed;
        let mut prng = Prng::derive(seed, &[3, index + 1]);
        let base_name = NAMESPACES[(index % NAMESPACES.len() as u64) as usize];
        let round = index / NAMESPACES.len() as u64;
        let name = if round == 0 { base_name.to_owned() } else { format!("{base_name}-{}", round + 1) };
        let mut namespace = NamespacePlan {
            name,
            uid: prng.uuid(),
            created: BASE - 86_400 * prng.between(10, 100) as i64,
            workloads: Vec::new(),
            orphan_service: None,
            pending_claim: None,
        };
        let mut left = pods;
        let mut used_names: Vec<String> = Vec::new();
        let mut ordinal = 0u64;
        while left > 0 {
            let roll = prng.below(100);
            let kind = if roll < 75 || !self.forced.is_empty() {
                Kind::Deployment
            } else if roll < 87 {
                Kind::StatefulSet
            } else {
                Kind::Job
            };
            let (base, image, style, port, replicas) = match kind {
                Kind::StatefulSet => {
                    let (name, image, port) = *prng.pick(&STATEFUL);
                    (name.to_owned(), image.to_owned(), LogStyle::App, port, *prng.pick(&[1, 2, 3, 3, 5]))
                }
                Kind::Job => {
                    let name = format!("{}-{}", prng.pick(&JOBS), 29_707_000 + prng.below(1000));
                    let image =
                        format!("registry.example.com/{}/{}:v1.{}.0", namespace.name, name, prng.below(20));
                    (name, image, LogStyle::App, 8080, 1)
                }
                _ => {
                    let app = *prng.pick(&APPS);
                    let style = match app {
                        "web" | "frontend" | "gateway" => LogStyle::Nginx,
                        "scheduler" | "ingest" => LogStyle::Klog,
                        _ if prng.chance(600_000) => LogStyle::Json,
                        _ => LogStyle::App,
                    };
                    let image = match style {
                        LogStyle::Nginx => "docker.io/library/nginx:1.27.3".to_owned(),
                        _ => format!(
                            "registry.example.com/{}/{app}:v{}.{}.{}",
                            namespace.name,
                            prng.between(1, 4),
                            prng.below(30),
                            prng.below(10)
                        ),
                    };
                    let replicas = *prng.pick(&[1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 8, 10, 12]);
                    (app.to_owned(), image, style, if style == LogStyle::Nginx { 80 } else { 8080 }, replicas)
                }
            };
            let mut name = base.clone();
            let mut suffix = 2;
            while used_names.contains(&name) {
                name = format!("{base}-{suffix}");
                suffix += 1;
            }
            used_names.push(name.clone());
            let fault = self.workload_fault(&mut prng, kind);
            // A Job that keeps failing leaves one pod per retry.
            let replicas = if fault == Fault::JobFailed { 3 } else { replicas }.min(left);
            left -= replicas;
            let workload = self.workload(
                &mut prng,
                index + 1,
                ordinal,
                kind,
                &name,
                &image,
                style,
                port,
                replicas,
                fault,
            );
            namespace.workloads.push(workload);
            ordinal += 1;
        }
        if prng.chance(RATES.orphan_service) || index == 0 {
            // A Service left behind by a rename: its selector matches no pod.
            let uid = prng.uuid();
            namespace.orphan_service = Some(ServicePlan {
                name: "legacy-api".to_owned(),
                uid,
                cluster_ip: self.service_ip(),
                port: 80,
                target_port: 8080,
            });
        }
        if prng.chance(RATES.pending_pvc) || index == 0 {
            namespace.pending_claim = Some(ClaimPlan {
                name: "uploads".to_owned(),
                uid: prng.uuid(),
                storage_class: "fast-ssd",
                bound: false,
                size_gi: 50,
                used_per_mille: 0,
                pod: None,
            });
        }
        self.plan.namespaces.push(namespace);
    }

    fn workload_fault(&mut self, prng: &mut Prng, kind: Kind) -> Fault {
        match kind {
            Kind::Job => {
                if prng.chance(RATES.job_failed) {
                    Fault::JobFailed
                } else {
                    Fault::None
                }
            }
            Kind::DaemonSet => Fault::None,
            Kind::Deployment | Kind::StatefulSet => {
                match self.forced.first() {
                    // Pod-level faults are taken by the first pod of this workload instead.
                    Some(Fault::OomKilled | Fault::Evicted | Fault::MemoryLeak) => return Fault::None,
                    Some(_) => return self.forced.remove(0),
                    None => {}
                }
                let roll = prng.below(1_000_000);
                let mut edge = 0;
                for (rate, fault) in [
                    (RATES.crash_loop, Fault::CrashLoop),
                    (RATES.image_pull, Fault::ImagePull),
                    (RATES.config_error, Fault::ConfigError),
                    (RATES.unschedulable, Fault::Unschedulable),
                ] {
                    edge += rate;
                    if roll < edge {
                        return fault;
                    }
                }
                Fault::None
            }
        }
    }

    fn service_ip(&mut self) -> String {
        self.next_service_ip += 1;
        let n = self.next_service_ip;
        format!("10.96.{}.{}", n / 250, 10 + n % 250)
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one call site per namespace kind; a struct would only rename them"
    )]
    fn workload(
        &mut self,
        prng: &mut Prng,
        namespace_index: u64,
        ordinal: u64,
        kind: Kind,
        name: &str,
        image: &str,
        style: LogStyle,
        port: u64,
        replicas: u64,
        fault: Fault,
    ) -> WorkloadPlan {
        let seed = self.plan.seed;
        let mut hash = String::new();
        prng.chars(NAME_ALPHABET, 10, &mut hash);
        let created = BASE - prng.between(3_600, 86_400 * 60) as i64;
        let has_sidecar = kind == Kind::Deployment && style != LogStyle::Klog && prng.chance(300_000);
        let has_init = kind != Kind::DaemonSet && prng.chance(200_000);
        let best_effort = prng.chance(50_000);
        let mut pods = Vec::with_capacity(replicas as usize);
        for replica in 0..replicas {
            let pod_seed = Prng::derive(seed, &[4, namespace_index, ordinal, replica]).next_u64();
            let mut pod_prng = Prng::new(pod_seed);
            let pod_name = match kind {
                Kind::StatefulSet => format!("{name}-{replica}"),
                Kind::Deployment => {
                    let mut name = format!("{name}-{}-", &hash[..10]);
                    pod_prng.chars(NAME_ALPHABET, 5, &mut name);
                    name
                }
                Kind::DaemonSet | Kind::Job => {
                    let mut name = format!("{name}-");
                    pod_prng.chars(NAME_ALPHABET, 5, &mut name);
                    name
                }
            };
            let mut pod_fault = fault;
            if pod_fault == Fault::None && kind != Kind::Job && kind != Kind::DaemonSet {
                // Pod-level faults: the forced ones first (on the first replica), then by rate.
                if replica == 0
                    && matches!(
                        self.forced.first(),
                        Some(Fault::OomKilled | Fault::Evicted | Fault::MemoryLeak)
                    )
                {
                    pod_fault = self.forced.remove(0);
                } else {
                    let roll = pod_prng.below(1_000_000);
                    pod_fault = if roll < RATES.oom_killed {
                        Fault::OomKilled
                    } else if roll < RATES.oom_killed + RATES.evicted && kind == Kind::Deployment {
                        Fault::Evicted
                    } else if roll < RATES.oom_killed + RATES.evicted + RATES.memory_leak {
                        Fault::MemoryLeak
                    } else {
                        Fault::None
                    };
                }
            }
            let node = match (kind, pod_fault) {
                (_, Fault::Unschedulable) => None,
                (Kind::DaemonSet, _) => Some(replica as usize % self.plan.nodes.len()),
                _ => Some(pod_prng.below(self.plan.nodes.len() as u64) as usize),
            };
            let ip = match node {
                Some(index) => {
                    let node = &mut self.plan.nodes[index];
                    node.pods += 1;
                    if kind == Kind::DaemonSet {
                        node.internal_ip.clone()
                    } else {
                        format!("10.{}.{}.{}", node.cidr.0, node.cidr.1, 2 + node.pods % 250)
                    }
                }
                None => String::new(),
            };
            let resources = (!best_effort).then(|| {
                let memory_request_mi = *pod_prng.pick(&MEMORY_REQUESTS);
                Resources {
                    cpu_request_m: if pod_fault == Fault::Unschedulable {
                        64_000
                    } else {
                        *pod_prng.pick(&CPU_REQUESTS)
                    },
                    cpu_limit_m: pod_prng.chance(500_000).then(|| 2 * *pod_prng.pick(&CPU_REQUESTS)),
                    memory_request_mi,
                    memory_limit_mi: memory_request_mi * 2,
                }
            });
            let restarts = match pod_fault {
                Fault::CrashLoop => pod_prng.between(5, 60),
                Fault::OomKilled => pod_prng.between(1, 8),
                Fault::None | Fault::MemoryLeak if pod_prng.chance(50_000) => pod_prng.between(1, 3),
                _ => 0,
            };
            let container_name = if kind == Kind::Deployment || kind == Kind::Job {
                "app".to_owned()
            } else {
                name.to_owned()
            };
            let mut containers = vec![ContainerPlan {
                name: container_name,
                image: if pod_fault == Fault::ImagePull { format!("{image}-rc0") } else { image.to_owned() },
                style,
                init: false,
                sidecar: false,
                resources,
                restarts,
                port,
            }];
            if has_sidecar {
                containers.push(ContainerPlan {
                    name: "istio-proxy".to_owned(),
                    image: "docker.io/istio/proxyv2:1.24.2".to_owned(),
                    style: LogStyle::Envoy,
                    init: false,
                    sidecar: true,
                    resources: Some(Resources {
                        cpu_request_m: 100,
                        cpu_limit_m: Some(2000),
                        memory_request_mi: 128,
                        memory_limit_mi: 1024,
                    }),
                    restarts: 0,
                    port: 15090,
                });
            }
            if has_init {
                containers.push(ContainerPlan {
                    name: "wait-for-deps".to_owned(),
                    image: "docker.io/library/busybox:1.36.1".to_owned(),
                    style: LogStyle::App,
                    init: true,
                    sidecar: false,
                    resources: None,
                    restarts: 0,
                    port: 0,
                });
            }
            let created = (created + pod_prng.between(0, 3_600) as i64).min(BASE - 600);
            pods.push(PodPlan {
                name: pod_name,
                uid: pod_prng.uuid(),
                fault: pod_fault,
                node,
                ip,
                created,
                containers,
                seed: pod_seed,
            });
        }
        let service = matches!(kind, Kind::Deployment | Kind::StatefulSet).then(|| ServicePlan {
            name: name.to_owned(),
            uid: prng.uuid(),
            cluster_ip: self.service_ip(),
            port: if port == 8080 { 80 } else { port },
            target_port: port,
        });
        let claims = if kind == Kind::StatefulSet {
            (0..replicas)
                .map(|replica| ClaimPlan {
                    name: format!("data-{name}-{replica}"),
                    uid: prng.uuid(),
                    storage_class: "standard",
                    bound: true,
                    size_gi: *prng.pick(&[10, 20, 50, 100]),
                    used_per_mille: if prng.chance(RATES.volume_full) {
                        prng.between(880, 990)
                    } else {
                        prng.between(50, 700)
                    },
                    pod: Some(replica as usize),
                })
                .collect()
        } else {
            Vec::new()
        };
        WorkloadPlan {
            kind,
            name: name.to_owned(),
            uid: prng.uuid(),
            hash,
            rs_uid: prng.uuid(),
            fault,
            created,
            pods,
            service,
            claims,
        }
    }
}

/// The earliest instant a container's log reaches back to.
pub(crate) fn log_start(pod: &PodPlan) -> i64 {
    pod.created.max(BASE - LOG_WINDOW)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pods: u64, namespaces: u64, nodes: u64) -> Config {
        Config { pods, log_bytes: 0, seed: 11, namespaces, nodes, compression: 1 }
    }

    #[test]
    fn split_is_exact_and_proportional() {
        assert_eq!(split(10, &[1, 1, 3]), vec![2, 2, 6]);
        assert_eq!(split(11, &[1, 1, 1]), vec![4, 4, 3]);
        assert_eq!(split(7, &[0, 0]), vec![0, 0]);
        assert_eq!(split(1_000_003, &[2, 4, 4]).iter().sum::<u64>(), 1_000_003);
    }

    #[test]
    fn pod_count_is_exact_for_any_shape() {
        for (pods, namespaces, nodes) in [(1, 1, 1), (7, 3, 5), (60, 3, 3), (1_000, 10, 20), (2_500, 40, 7)] {
            let plan = plan(&config(pods, namespaces, nodes));
            assert_eq!(plan.n_pods() as u64, pods, "{pods} pods, {namespaces} namespaces, {nodes} nodes");
            let mut names: Vec<(&str, &str)> =
                plan.pods().map(|(ns, _, pod)| (ns.name.as_str(), pod.name.as_str())).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len() as u64, pods, "pod names must be unique per namespace");
        }
    }

    #[test]
    fn every_scenario_is_present_in_a_small_cluster() {
        let plan = plan(&config(80, 3, 4));
        let faults: Vec<Fault> = plan.pods().map(|(_, _, pod)| pod.fault).collect();
        for fault in FORCED {
            assert!(faults.contains(&fault), "{fault:?} missing from {faults:?}");
        }
        assert!(plan.nodes.iter().any(|node| !node.ready));
        assert!(plan.namespaces.iter().any(|ns| ns.orphan_service.is_some()));
        assert!(plan.namespaces.iter().any(|ns| ns.pending_claim.is_some()));
        let unscheduled = plan.pods().filter(|(_, _, pod)| pod.node.is_none()).count();
        let unschedulable = faults.iter().filter(|&&f| f == Fault::Unschedulable).count();
        assert_eq!(unscheduled, unschedulable);
    }

    #[test]
    fn fault_rates_stay_small_at_scale() {
        let plan = plan(&config(10_000, 100, 200));
        let failing = plan.pods().filter(|(_, _, pod)| pod.fault != Fault::None).count();
        // About 4-6% of pods: workload faults of ~3.3% of workloads plus ~1.1% pod faults.
        assert!((200..1_000).contains(&failing), "{failing} failing pods of 10,000");
        assert_eq!(plan.namespaces[0].name, "kube-system");
        assert_eq!(plan.namespaces[0].workloads.iter().map(|w| w.pods.len()).sum::<usize>(), 403);
    }
}
