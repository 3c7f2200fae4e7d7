//! Controllers that own the pods: Deployments and their ReplicaSets, StatefulSets, DaemonSets
//! and Jobs, with a status that agrees with their pods.

use serde_json::{Value, json};

use super::super::clock::{BASE, rfc3339};
use super::super::plan::{Fault, Kind, NamespacePlan, WorkloadPlan};
use super::pod::{pod_labels, pod_spec, selector};

/// Counts over a workload's pods.
struct Counts {
    replicas: u64,
    ready: u64,
}

fn counts(workload: &WorkloadPlan, not_ready_nodes: &[bool]) -> Counts {
    let live = workload.pods.iter().filter(|pod| pod.fault != Fault::Evicted);
    let replicas = live.clone().count() as u64;
    let ready = live
        .filter(|pod| {
            !matches!(
                pod.fault,
                Fault::CrashLoop | Fault::ImagePull | Fault::ConfigError | Fault::Unschedulable
            ) && pod.node.is_some_and(|node| !not_ready_nodes[node])
        })
        .count() as u64;
    Counts { replicas, ready }
}

fn template(namespace: &NamespacePlan, workload: &WorkloadPlan) -> Value {
    let mut labels = pod_labels(namespace, workload);
    if workload.kind != Kind::Deployment
        && let Some(map) = labels.as_object_mut()
    {
        map.remove("controller-revision-hash");
        map.remove("batch.kubernetes.io/controller-uid");
    }
    json!({
        "metadata": { "creationTimestamp": null, "labels": labels },
        "spec": pod_spec(namespace, workload, &workload.pods[0], None, None),
    })
}

fn metadata(
    namespace: &NamespacePlan,
    workload: &WorkloadPlan,
    name: &str,
    uid: &str,
    extra: Value,
) -> Value {
    let mut metadata = json!({
        "annotations": {},
        "creationTimestamp": rfc3339(workload.created),
        "generation": 3,
        "labels": { "app.kubernetes.io/name": workload.name, "app.kubernetes.io/part-of": namespace.name, "app.kubernetes.io/managed-by": "Helm" },
        "name": name,
        "namespace": namespace.name,
        "resourceVersion": (2_000_000 + workload.created % 1_000_000).to_string(),
        "uid": uid,
    });
    if let (Some(map), Some(extra)) = (metadata.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            map.insert(key.clone(), value.clone());
        }
    }
    metadata
}

fn condition(kind: &str, status: bool, reason: &str, message: &str, at: i64) -> Value {
    json!({ "lastTransitionTime": rfc3339(at), "lastUpdateTime": rfc3339(at), "message": message, "reason": reason, "status": if status { "True" } else { "False" }, "type": kind })
}

/// The objects of one workload: a Deployment yields the Deployment and its ReplicaSet.
pub(crate) fn workload_objects(
    namespace: &NamespacePlan,
    workload: &WorkloadPlan,
    not_ready_nodes: &[bool],
) -> Vec<(Kind, Value)> {
    let Counts { replicas, ready } = counts(workload, not_ready_nodes);
    let unavailable = replicas - ready;
    let selector = json!({ "matchLabels": selector(workload) });
    match workload.kind {
        Kind::Deployment => {
            let rs_name = format!("{}-{}", workload.name, workload.hash);
            let available = ready * 4 >= replicas * 3;
            let progressing = if workload.fault == Fault::None {
                condition(
                    "Progressing",
                    true,
                    "NewReplicaSetAvailable",
                    &format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
                    workload.created,
                )
            } else {
                condition(
                    "Progressing",
                    false,
                    "ProgressDeadlineExceeded",
                    &format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
                    BASE - 1_800,
                )
            };
            let available_condition = if available {
                condition(
                    "Available",
                    true,
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                    workload.created + 60,
                )
            } else {
                condition(
                    "Available",
                    false,
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                    BASE - 2_400,
                )
            };
            let mut status = json!({ "availableReplicas": ready, "conditions": [available_condition, progressing], "observedGeneration": 3, "readyReplicas": ready, "replicas": replicas, "updatedReplicas": replicas });
            if unavailable > 0 {
                status["unavailableReplicas"] = json!(unavailable);
            }
            let deployment = json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": metadata(namespace, workload, &workload.name, &workload.uid, json!({ "annotations": { "deployment.kubernetes.io/revision": "3", "meta.helm.sh/release-name": workload.name, "meta.helm.sh/release-namespace": namespace.name } })),
                "spec": {
                    "progressDeadlineSeconds": 600,
                    "replicas": replicas,
                    "revisionHistoryLimit": 10,
                    "selector": selector,
                    "strategy": { "rollingUpdate": { "maxSurge": "25%", "maxUnavailable": "25%" }, "type": "RollingUpdate" },
                    "template": template(namespace, workload),
                },
                "status": status,
            });
            let replica_set = json!({
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": metadata(namespace, workload, &rs_name, &workload.rs_uid, json!({
                    "annotations": { "deployment.kubernetes.io/desired-replicas": replicas.to_string(), "deployment.kubernetes.io/max-replicas": (replicas + replicas.div_ceil(4)).to_string(), "deployment.kubernetes.io/revision": "3" },
                    "labels": { "app.kubernetes.io/name": workload.name, "app.kubernetes.io/part-of": namespace.name, "pod-template-hash": workload.hash },
                    "ownerReferences": [{ "apiVersion": "apps/v1", "blockOwnerDeletion": true, "controller": true, "kind": "Deployment", "name": workload.name, "uid": workload.uid }],
                })),
                "spec": { "replicas": replicas, "selector": { "matchLabels": { "app.kubernetes.io/name": workload.name, "pod-template-hash": workload.hash } }, "template": template(namespace, workload) },
                "status": { "availableReplicas": ready, "fullyLabeledReplicas": replicas, "observedGeneration": 3, "readyReplicas": ready, "replicas": replicas },
            });
            vec![(Kind::Deployment, deployment), (Kind::Deployment, replica_set)]
        }
        Kind::StatefulSet => {
            let revision = format!("{}-{}", workload.name, &workload.hash[..8]);
            let claims: Vec<Value> = if workload.claims.is_empty() {
                Vec::new()
            } else {
                vec![json!({
                    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": { "creationTimestamp": null, "name": "data" },
                    "spec": { "accessModes": ["ReadWriteOnce"], "resources": { "requests": { "storage": format!("{}Gi", workload.claims[0].size_gi) } }, "storageClassName": "standard", "volumeMode": "Filesystem" },
                    "status": { "phase": "Pending" }
                })]
            };
            let object = json!({
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": metadata(namespace, workload, &workload.name, &workload.uid, json!({})),
                "spec": {
                    "persistentVolumeClaimRetentionPolicy": { "whenDeleted": "Retain", "whenScaled": "Retain" },
                    "podManagementPolicy": "OrderedReady",
                    "replicas": replicas,
                    "revisionHistoryLimit": 10,
                    "selector": selector,
                    "serviceName": workload.name,
                    "template": template(namespace, workload),
                    "updateStrategy": { "rollingUpdate": { "partition": 0 }, "type": "RollingUpdate" },
                    "volumeClaimTemplates": claims,
                },
                "status": { "availableReplicas": ready, "collisionCount": 0, "currentReplicas": replicas, "currentRevision": revision, "observedGeneration": 3, "readyReplicas": ready, "replicas": replicas, "updateRevision": revision, "updatedReplicas": replicas },
            });
            vec![(Kind::StatefulSet, object)]
        }
        Kind::DaemonSet => {
            let object = json!({
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": metadata(namespace, workload, &workload.name, &workload.uid, json!({ "annotations": { "deprecated.daemonset.template.generation": "1" } })),
                "spec": {
                    "revisionHistoryLimit": 10,
                    "selector": selector,
                    "template": template(namespace, workload),
                    "updateStrategy": { "rollingUpdate": { "maxSurge": 0, "maxUnavailable": 1 }, "type": "RollingUpdate" },
                },
                "status": { "currentNumberScheduled": replicas, "desiredNumberScheduled": replicas, "numberAvailable": ready, "numberMisscheduled": 0, "numberReady": ready, "numberUnavailable": unavailable, "observedGeneration": 1, "updatedNumberScheduled": replicas },
            });
            vec![(Kind::DaemonSet, object)]
        }
        Kind::Job => {
            let failed = workload.fault == Fault::JobFailed;
            let start = workload.pods[0].created;
            let end = start + 90;
            let status = if failed {
                json!({ "conditions": [
                    { "lastProbeTime": rfc3339(end), "lastTransitionTime": rfc3339(end), "message": "Job has reached the specified backoff limit", "reason": "BackoffLimitExceeded", "status": "True", "type": "FailureTarget" },
                    { "lastProbeTime": rfc3339(end), "lastTransitionTime": rfc3339(end), "message": "Job has reached the specified backoff limit", "reason": "BackoffLimitExceeded", "status": "True", "type": "Failed" }
                ], "failed": workload.pods.len(), "ready": 0, "startTime": rfc3339(start), "terminating": 0, "uncountedTerminatedPods": {} })
            } else {
                json!({ "completionTime": rfc3339(end), "conditions": [
                    { "lastProbeTime": rfc3339(end), "lastTransitionTime": rfc3339(end), "message": "Reached expected number of succeeded pods", "reason": "CompletionsReached", "status": "True", "type": "SuccessCriteriaMet" },
                    { "lastProbeTime": rfc3339(end), "lastTransitionTime": rfc3339(end), "message": "Reached expected number of succeeded pods", "reason": "CompletionsReached", "status": "True", "type": "Complete" }
                ], "ready": 0, "startTime": rfc3339(start), "succeeded": 1, "terminating": 0, "uncountedTerminatedPods": {} })
            };
            let object = json!({
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": metadata(namespace, workload, &workload.name, &workload.uid, json!({ "labels": { "batch.kubernetes.io/controller-uid": workload.uid, "batch.kubernetes.io/job-name": workload.name, "controller-uid": workload.uid, "job-name": workload.name } })),
                "spec": {
                    "backoffLimit": 2,
                    "completionMode": "NonIndexed",
                    "completions": 1,
                    "manualSelector": false,
                    "parallelism": 1,
                    "podReplacementPolicy": "TerminatingOrFailed",
                    "selector": { "matchLabels": { "batch.kubernetes.io/controller-uid": workload.uid } },
                    "suspend": false,
                    "template": template(namespace, workload),
                    "ttlSecondsAfterFinished": 86_400,
                },
                "status": status,
            });
            vec![(Kind::Job, object)]
        }
    }
}
