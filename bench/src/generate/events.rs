//! core/v1 Events: the warnings each fault leaves (BackOff, Failed, FailedScheduling, Evicted,
//! ProvisioningFailed, NodeNotReady, ...), some routine Normal events, and the watch events the
//! collector would receive while it runs.

use serde_json::{Value, json};

use crate::prng::Prng;

use super::clock::{BASE, COLLECTION, rfc3339};
use super::plan::{Fault, Kind, NamespacePlan, NodePlan, Plan};

struct Involved<'a> {
    kind: &'a str,
    api_version: &'a str,
    name: &'a str,
    uid: &'a str,
    field_path: Option<String>,
}

#[expect(clippy::too_many_arguments, reason = "mirrors the fields of an Event; a builder would be longer")]
fn event(
    prng: &mut Prng,
    namespace: &str,
    involved: &Involved<'_>,
    kind: &str,
    reason: &str,
    message: &str,
    source: (&str, Option<&str>),
    count: u64,
    first: i64,
    last: i64,
) -> Value {
    let mut involved_object = json!({ "apiVersion": involved.api_version, "kind": involved.kind, "name": involved.name, "namespace": namespace, "resourceVersion": "98122", "uid": involved.uid });
    if let Some(field_path) = &involved.field_path {
        involved_object["fieldPath"] = json!(field_path);
    }
    let mut source_object = json!({ "component": source.0 });
    if let Some(host) = source.1 {
        source_object["host"] = json!(host);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "count": count,
        "eventTime": null,
        "firstTimestamp": rfc3339(first),
        "involvedObject": involved_object,
        "lastTimestamp": rfc3339(last),
        "message": message,
        "metadata": {
            "creationTimestamp": rfc3339(first),
            "name": format!("{}.{}", involved.name, prng.hex(16)),
            "namespace": namespace,
            "resourceVersion": (3_000_000 + prng.below(60_000_000)).to_string(),
            "uid": prng.uuid(),
        },
        "reason": reason,
        "reportingComponent": source.0,
        "reportingInstance": source.1.unwrap_or_default(),
        "source": source_object,
        "type": kind,
    })
}

/// Events of one namespace, oldest first.
pub(crate) fn namespace_events(plan: &Plan, index: u64, namespace: &NamespacePlan) -> Vec<Value> {
    let mut prng = Prng::derive(plan.seed, &[30, index]);
    let nodes = &plan.nodes;
    let ns = namespace.name.as_str();
    let mut events = Vec::new();
    for workload in &namespace.workloads {
        for pod in &workload.pods {
            let node = pod.node.map(|n| nodes[n].name.as_str());
            let main = &pod.containers[0];
            let pod_ref = |field: bool| Involved {
                kind: "Pod",
                api_version: "v1",
                name: &pod.name,
                uid: &pod.uid,
                field_path: field.then(|| format!("spec.containers{{{}}}", main.name)),
            };
            let kubelet = ("kubelet", node);
            let first = BASE - 3_300;
            match pod.fault {
                Fault::CrashLoop => {
                    events.push(event(
                        &mut prng,
                        ns,
                        &pod_ref(true),
                        "Normal",
                        "Pulled",
                        &format!("Container image \"{}\" already present on machine", main.image),
                        kubelet,
                        main.restarts,
                        first,
                        BASE - 200,
                    ));
                    events.push(event(
                        &mut prng,
                        ns,
                        &pod_ref(true),
                        "Warning",
                        "BackOff",
                        &format!(
                            "Back-off restarting failed container {} in pod {}_{}({})",
                            main.name, pod.name, ns, pod.uid
                        ),
                        kubelet,
                        main.restarts * 6,
                        first,
                        BASE - 20,
                    ));
                }
                Fault::ImagePull => {
                    let image = &main.image;
                    let not_found = format!(
                        "Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found"
                    );
                    events.push(event(
                        &mut prng,
                        ns,
                        &pod_ref(true),
                        "Normal",
                        "Pulling",
                        &format!("Pulling image \"{image}\""),
                        kubelet,
                        12,
                        first,
                        BASE - 310,
                    ));
                    events.push(event(
                        &mut prng,
                        ns,
                        &pod_ref(true),
                        "Warning",
                        "Failed",
                        &not_found,
                        kubelet,
                        12,
                        first,
                        BASE - 310,
                    ));
                    events.push(event(
                        &mut prng,
                        ns,
                        &pod_ref(true),
                        "Warning",
                        "Failed",
                        "Error: ErrImagePull",
                        kubelet,
                        12,
                        first,
                        BASE - 310,
                    ));
                    events.push(event(
                        &mut prng,
                        ns,
                        &pod_ref(true),
                        "Normal",
                        "BackOff",
                        &format!("Back-off pulling image \"{image}\""),
                        kubelet,
                        240,
                        first,
                        BASE - 15,
                    ));
                    events.push(event(
                        &mut prng,
                        ns,
                        &pod_ref(true),
                        "Warning",
                        "Failed",
                        "Error: ImagePullBackOff",
                        kubelet,
                        240,
                        first,
                        BASE - 15,
                    ));
                }
                Fault::ConfigError => {
                    let message = format!(
                        "Error: couldn't find key DB_PASSWORD in Secret {ns}/{}-secrets",
                        workload.name
                    );
                    events.push(event(
                        &mut prng,
                        ns,
                        &pod_ref(true),
                        "Warning",
                        "Failed",
                        &message,
                        kubelet,
                        250,
                        first,
                        BASE - 8,
                    ));
                }
                Fault::Unschedulable => {
                    let n = nodes.len();
                    let message = format!(
                        "0/{n} nodes are available: {n} Insufficient cpu. preemption: 0/{n} nodes are available: {n} No preemption victims found for incoming pod."
                    );
                    events.push(event(
                        &mut prng,
                        ns,
                        &pod_ref(false),
                        "Warning",
                        "FailedScheduling",
                        &message,
                        ("default-scheduler", None),
                        55,
                        first,
                        BASE - 60,
                    ));
                }
                Fault::Evicted => {
                    let message = format!(
                        "The node was low on resource: memory. Threshold quantity: 100Mi, available: 87432Ki. Container {} was using 1893204Ki, request is 256Mi, has larger consumption of memory. ",
                        main.name
                    );
                    events.push(event(
                        &mut prng,
                        ns,
                        &pod_ref(false),
                        "Warning",
                        "Evicted",
                        &message,
                        kubelet,
                        1,
                        BASE - 2_400,
                        BASE - 2_400,
                    ));
                    events.push(event(
                        &mut prng,
                        ns,
                        &pod_ref(true),
                        "Normal",
                        "Killing",
                        &format!("Stopping container {}", main.name),
                        kubelet,
                        1,
                        BASE - 2_399,
                        BASE - 2_399,
                    ));
                }
                Fault::OomKilled => {
                    events.push(event(
                        &mut prng,
                        ns,
                        &pod_ref(true),
                        "Normal",
                        "Pulled",
                        &format!("Container image \"{}\" already present on machine", main.image),
                        kubelet,
                        main.restarts,
                        first,
                        BASE - 900,
                    ));
                    events.push(event(
                        &mut prng,
                        ns,
                        &pod_ref(true),
                        "Normal",
                        "Started",
                        &format!("Started container {}", main.name),
                        kubelet,
                        main.restarts + 1,
                        first,
                        BASE - 900,
                    ));
                }
                Fault::JobFailed => {
                    events.push(event(
                        &mut prng,
                        ns,
                        &pod_ref(false),
                        "Normal",
                        "Scheduled",
                        &format!("Successfully assigned {ns}/{} to {}", pod.name, node.unwrap_or_default()),
                        ("default-scheduler", None),
                        1,
                        pod.created,
                        pod.created,
                    ));
                }
                Fault::None | Fault::MemoryLeak => {
                    if pod.node.is_some_and(|n| !nodes[n].ready) {
                        events.push(event(
                            &mut prng,
                            ns,
                            &pod_ref(false),
                            "Warning",
                            "NodeNotReady",
                            "Node is not ready",
                            ("node-controller", None),
                            1,
                            BASE - 1_195,
                            BASE - 1_195,
                        ));
                    } else if workload.kind != Kind::Job && prng.chance(20_000) {
                        let count = prng.between(2, 40);
                        events.push(event(
                            &mut prng,
                            ns,
                            &pod_ref(true),
                            "Warning",
                            "Unhealthy",
                            "Readiness probe failed: HTTP probe failed with statuscode: 503",
                            kubelet,
                            count,
                            first,
                            BASE - 100,
                        ));
                    } else if BASE - pod.created < 3_600 {
                        // Events expire after an hour: only recent pods still have these.
                        let at = pod.created;
                        events.push(event(
                            &mut prng,
                            ns,
                            &pod_ref(false),
                            "Normal",
                            "Scheduled",
                            &format!(
                                "Successfully assigned {ns}/{} to {}",
                                pod.name,
                                node.unwrap_or_default()
                            ),
                            ("default-scheduler", None),
                            1,
                            at,
                            at,
                        ));
                        events.push(event(
                            &mut prng,
                            ns,
                            &pod_ref(true),
                            "Normal",
                            "Pulled",
                            &format!("Container image \"{}\" already present on machine", main.image),
                            kubelet,
                            1,
                            at + 1,
                            at + 1,
                        ));
                        events.push(event(
                            &mut prng,
                            ns,
                            &pod_ref(true),
                            "Normal",
                            "Created",
                            &format!("Created container: {}", main.name),
                            kubelet,
                            1,
                            at + 1,
                            at + 1,
                        ));
                        events.push(event(
                            &mut prng,
                            ns,
                            &pod_ref(true),
                            "Normal",
                            "Started",
                            &format!("Started container {}", main.name),
                            kubelet,
                            1,
                            at + 2,
                            at + 2,
                        ));
                    }
                }
            }
        }
        if workload.fault == Fault::JobFailed {
            let job = Involved {
                kind: "Job",
                api_version: "batch/v1",
                name: &workload.name,
                uid: &workload.uid,
                field_path: None,
            };
            events.push(event(
                &mut prng,
                ns,
                &job,
                "Warning",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                ("job-controller", None),
                1,
                workload.pods[0].created + 90,
                workload.pods[0].created + 90,
            ));
        }
    }
    if let Some(claim) = &namespace.pending_claim {
        let involved = Involved {
            kind: "PersistentVolumeClaim",
            api_version: "v1",
            name: &claim.name,
            uid: &claim.uid,
            field_path: None,
        };
        let message = format!("storageclass.storage.k8s.io \"{}\" not found", claim.storage_class);
        events.push(event(
            &mut prng,
            ns,
            &involved,
            "Warning",
            "ProvisioningFailed",
            &message,
            ("persistentvolume-controller", None),
            180,
            BASE - 3_000,
            BASE - 10,
        ));
    }
    events.sort_by(|a, b| a["lastTimestamp"].as_str().cmp(&b["lastTimestamp"].as_str()));
    events
}

/// Events about nodes (namespace `default`): NotReady, and the OOM kills the kernel reported.
pub(crate) fn node_events(plan: &Plan) -> Vec<Value> {
    let mut prng = Prng::derive(plan.seed, &[31]);
    let mut events = Vec::new();
    for node in plan.nodes.iter().filter(|node| !node.ready) {
        let involved = node_ref(node);
        events.push(event(
            &mut prng,
            "default",
            &involved,
            "Normal",
            "NodeNotReady",
            &format!("Node {} status is now: NodeNotReady", node.name),
            ("node-controller", None),
            1,
            BASE - 1_200,
            BASE - 1_200,
        ));
    }
    for (_, _, pod) in plan.pods().filter(|(_, _, pod)| pod.fault == Fault::OomKilled) {
        let Some(node) = pod.node.map(|n| &plan.nodes[n]) else { continue };
        let involved = node_ref(node);
        let message = format!(
            "Memory cgroup out of memory: Killed process {} (app) total-vm:{}kB, anon-rss:{}kB, file-rss:0kB, shmem-rss:0kB, UID:10001 pgtables:{}kB oom_score_adj:{}",
            prng.between(1_000, 60_000),
            prng.between(2_000_000, 9_000_000),
            prng.between(200_000, 2_000_000),
            prng.between(1_000, 5_000),
            999
        );
        events.push(event(
            &mut prng,
            "default",
            &involved,
            "Warning",
            "OOMKilling",
            &message,
            ("kernel-monitor", Some(&node.name)),
            1,
            BASE - 1_000,
            BASE - 1_000,
        ));
    }
    events.sort_by(|a, b| a["lastTimestamp"].as_str().cmp(&b["lastTimestamp"].as_str()));
    events
}

fn node_ref(node: &NodePlan) -> Involved<'_> {
    Involved { kind: "Node", api_version: "v1", name: &node.name, uid: &node.uid, field_path: None }
}

/// `events/watched.jsonl`: what the watch saw during the collection — the BackOff events of
/// crash-looping and image-pulling pods counting up, and a new FailedScheduling.
pub(crate) fn watched(plan: &Plan) -> Vec<u8> {
    let mut prng = Prng::derive(plan.seed, &[32]);
    let mut lines = Vec::new();
    for (index, namespace) in plan.namespaces.iter().enumerate() {
        for event in namespace_events(plan, index as u64, namespace) {
            let reason = event["reason"].as_str().unwrap_or_default();
            if !matches!(reason, "BackOff" | "FailedScheduling") {
                continue;
            }
            let mut updated = event.clone();
            let count = event["count"].as_u64().unwrap_or(1) + 1;
            updated["count"] = json!(count);
            updated["lastTimestamp"] = json!(rfc3339(BASE + prng.between(5, COLLECTION as u64 - 5) as i64));
            let line = json!({ "type": "MODIFIED", "object": updated });
            lines.extend(serde_json::to_vec(&line).unwrap_or_default());
            lines.push(b'\n');
        }
    }
    lines
}
