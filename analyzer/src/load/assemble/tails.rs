//! Which logs keep their last lines.
//!
//! A log's tail is read as a container's last words (`facts::containers::last_words`):
//! the previous run's log of a container that restarted, and the current log of a container
//! that ended, crashed or is not ready, in a pod that is not Ready or failed. The current log
//! of a container that its pod reports running, ready and never restarted, in a Running pod
//! whose `Ready` condition is True and that is not being deleted, is quoted by no diagnostic,
//! and on a large cluster such logs are nearly all of them: 50 lines of each weigh about
//! 150 MB on 10,000 pods, most of the analyzer's peak that nothing reads. Those tails are
//! emptied once the model's pods are known; every count of the log is over every line and stays.
//!
//! When in doubt a tail stays: a log whose pod the bundle lacks, a pod without conditions or
//! container statuses, a node's log, a previous log.

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ContainerLog, Object};

/// Empties the tails no diagnostic reads (see the module doc). `objects` are the model's.
pub(super) fn drop_unread(logs: &mut [ContainerLog], objects: &[Object]) {
    let mut pods: BTreeMap<(&str, &str), Vec<&Object>> = BTreeMap::new();
    for pod in objects.iter().filter(|object| object.kind == "Pod") {
        pods.entry((pod.namespace.as_deref().unwrap_or_default(), pod.name.as_str())).or_default().push(pod);
    }
    for log in logs.iter_mut().filter(|log| !log.key.previous && !log.tail.is_empty()) {
        let Some(found) = pods.get(&(log.key.namespace.as_str(), log.key.pod.as_str())) else { continue };
        // A pod listed twice is healthy only if every copy says so.
        if found.iter().all(|pod| runs_healthy(pod, &log.key.container)) {
            log.tail = Vec::new();
        }
    }
}

/// Whether `container` runs, is ready and never restarted, in a Running, Ready pod that is not
/// being deleted: nothing about it asks for its last words.
fn runs_healthy(pod: &Object, container: &str) -> bool {
    let pod_serves = pod.str_at("/status/phase") == Some("Running")
        && pod.at("/metadata/deletionTimestamp").is_none()
        && matches!(pod.condition("Ready"), Some(("True", _, _)));
    pod_serves
        && pod
            .array_at("/status/containerStatuses")
            .iter()
            .find(|status| status.get("name").and_then(Value::as_str) == Some(container))
            .is_some_and(|status| {
                status.get("ready").and_then(Value::as_bool) == Some(true)
                    && status.get("restartCount").and_then(Value::as_i64) == Some(0)
                    && status.pointer("/state/running").is_some()
                    && status.pointer("/lastState/terminated").is_none()
            })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fs::File;
    use std::path::Path;

    use kubesnap_shared::layout;
    use kubesnap_shared::manifest::{ClusterInfo, Tool};
    use kubesnap_shared::model::ClusterModel;
    use kubesnap_shared::writer::{BundleHeader, BundleWriter};
    use serde_json::{Value, json};

    use crate::diagnostics::registry;
    use crate::facts::Facts;
    use crate::load::{LoadOptions, load};

    /// A container status: `ready`, `restarts`, the current state and the last one.
    fn status(name: &str, ready: bool, restarts: i64, state: Value, last: Value) -> Value {
        json!({"name": name, "ready": ready, "restartCount": restarts, "state": state, "lastState": last,
               "image": "registry.example/app:1"})
    }

    fn running() -> Value {
        json!({"running": {"startedAt": "2025-06-01T10:00:00Z"}})
    }

    fn pod(namespace: &str, name: &str, phase: &str, ready: bool, statuses: Vec<Value>) -> Value {
        let ready = if ready { "True" } else { "False" };
        let containers: Vec<Value> =
            statuses.iter().map(|status| json!({"name": status["name"], "image": status["image"]})).collect();
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "uid": format!("uid-{name}"),
                         "creationTimestamp": "2025-06-01T09:00:00Z"},
            "spec": {"nodeName": "node-1", "containers": containers},
            "status": {"phase": phase,
                       "conditions": [{"type": "Ready", "status": ready}],
                       "containerStatuses": statuses}
        })
    }

    /// Pods in every state a diagnostic quotes last words for, one healthy pod, and a Job.
    fn objects() -> BTreeMap<(&'static str, &'static str), Vec<Value>> {
        let crashed = json!({"terminated": {"exitCode": 1, "reason": "Error",
                              "finishedAt": "2025-06-01T11:59:00Z"}});
        let mut failed_job_pod = pod(
            "shop",
            "migrate-abc",
            "Failed",
            false,
            vec![status(
                "migrate",
                false,
                0,
                json!({"terminated": {"exitCode": 2, "reason": "Error"}}),
                json!({}),
            )],
        );
        failed_job_pod["metadata"]["ownerReferences"] =
            json!([{"kind": "Job", "name": "migrate", "uid": "uid-job-migrate", "controller": true}]);
        let mut dns = pod(
            "kube-system",
            "coredns-5d78c9869d-a",
            "Running",
            false,
            vec![status("coredns", false, 0, running(), json!({}))],
        );
        dns["metadata"]["labels"] = json!({"k8s-app": "kube-dns"});
        let job = json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "migrate", "namespace": "shop", "uid": "uid-job-migrate"},
            "spec": {"backoffLimit": 0},
            "status": {"failed": 1, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}
        });
        BTreeMap::from([
            (
                ("shop", "pods"),
                vec![
                    pod(
                        "shop",
                        "web-ok",
                        "Running",
                        true,
                        vec![status("app", true, 0, running(), json!({}))],
                    ),
                    pod(
                        "shop",
                        "api-crash",
                        "Running",
                        false,
                        vec![status(
                            "app",
                            false,
                            4,
                            json!({"waiting": {"reason": "CrashLoopBackOff"}}),
                            crashed.clone(),
                        )],
                    ),
                    // Ready again after a crash: its previous run's log is read (pod-restarts).
                    pod(
                        "shop",
                        "api-restarted",
                        "Running",
                        true,
                        vec![status("app", true, 7, running(), crashed)],
                    ),
                    failed_job_pod,
                ],
            ),
            (("kube-system", "pods"), vec![dns]),
            (("shop", "jobs"), vec![job]),
        ])
    }

    /// (namespace, pod, container, previous, lines): the last line of each says why it died.
    const LOGS: &[(&str, &str, &str, bool, &[&str])] = &[
        (
            "shop",
            "web-ok",
            "app",
            false,
            &["2025-06-01T11:00:00Z INFO serving", "2025-06-01T11:01:00Z INFO GET / 200"],
        ),
        (
            "shop",
            "api-crash",
            "app",
            true,
            &[
                "2025-06-01T11:58:00Z INFO starting",
                "2025-06-01T11:58:59Z FATAL config file /etc/app.yaml not found",
            ],
        ),
        ("shop", "api-crash", "app", false, &["2025-06-01T11:59:30Z INFO starting"]),
        ("shop", "api-restarted", "app", true, &["2025-06-01T11:30:00Z panic: nil map write in handler"]),
        ("shop", "api-restarted", "app", false, &["2025-06-01T11:31:00Z INFO serving again"]),
        (
            "shop",
            "migrate-abc",
            "migrate",
            false,
            &["2025-06-01T11:10:00Z ERROR relation users does not exist"],
        ),
        (
            "kube-system",
            "coredns-5d78c9869d-a",
            "coredns",
            false,
            &[
                "2025-06-01T11:40:00Z [ERROR] plugin/errors: 2 example.org. A: read udp 10.0.0.5:53: i/o timeout",
            ],
        ),
        // A pod the bundle lacks.
        ("shop", "gone", "app", false, &["2025-06-01T11:20:00Z INFO bye"]),
    ];

    /// Writes a native bundle of `LOGS`, with `objects()` when `with_objects`, and loads it.
    fn loaded(dir: &Path, with_objects: bool) -> ClusterModel {
        let path = dir.join(format!("bundle-{with_objects}.tar.gz"));
        let header = BundleHeader {
            root: "kubesnap-tails".to_owned(),
            tool: Tool { name: "kubesnap-collect".to_owned(), version: "0.1.0".to_owned() },
            cluster: ClusterInfo::default(),
            options: BTreeMap::new(),
            started_at: "2025-06-01T12:00:00Z".parse().unwrap(),
            compression: 1,
        };
        let mut writer = BundleWriter::new(File::create(&path).unwrap(), header).unwrap();
        if with_objects {
            for ((namespace, resource), items) in objects() {
                let (group, api_version, kind) =
                    if resource == "jobs" { ("batch", "batch/v1", "JobList") } else { ("", "v1", "PodList") };
                let list = json!({"apiVersion": api_version, "kind": kind, "items": items});
                let entry = layout::resource_list(group, "v1", resource, Some(namespace));
                writer.add(&entry, list.to_string().as_bytes()).unwrap();
            }
        }
        for (namespace, pod, container, previous, lines) in LOGS {
            let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
            writer
                .add(&layout::container_log(namespace, pod, container, *previous), text.as_bytes())
                .unwrap();
        }
        writer.finish().unwrap();
        load(&path, &LoadOptions::default()).unwrap()
    }

    fn tail_of<'a>(model: &'a ClusterModel, pod: &str, previous: bool) -> Vec<&'a str> {
        let log = model.logs.iter().find(|log| log.key.pod == pod && log.key.previous == previous).unwrap();
        log.tail.iter().map(|line| line.text.as_str()).collect()
    }

    /// Only the healthy container's current tail goes; the others are whole, and its counts stay.
    #[test]
    fn only_a_healthy_containers_current_tail_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let model = loaded(dir.path(), true);
        assert!(tail_of(&model, "web-ok", false).is_empty());
        let web = model.logs.iter().find(|log| log.key.pod == "web-ok").unwrap();
        assert_eq!(
            (web.lines, web.last_timestamp.map(|at| at.to_string())),
            (2, Some("2025-06-01T11:01:00Z".into()))
        );
        for (_, pod, _, previous, lines) in LOGS.iter().filter(|(_, pod, ..)| *pod != "web-ok") {
            assert_eq!(tail_of(&model, pod, *previous), *lines, "{pod} previous={previous}");
        }
    }

    /// Every diagnostic says the same with the dropped tails as with every tail kept, and the
    /// last words of each pod that needs them are quoted: a tail a diagnostic reads is never
    /// dropped.
    #[test]
    fn findings_are_the_same_as_with_every_tail_and_quote_each_crash() {
        let dir = tempfile::tempdir().unwrap();
        let dropped = loaded(dir.path(), true);
        // The same logs without pods keep every tail; put them back into the model with pods.
        let whole = loaded(dir.path(), false);
        let mut kept = loaded(dir.path(), true);
        for log in &mut kept.logs {
            log.tail = whole.logs.iter().find(|other| other.key == log.key).unwrap().tail.clone();
        }
        assert_ne!(kept.logs, dropped.logs, "the fixture drops a tail");
        let diagnostics: Vec<_> = registry().collect();
        let run = |model: &ClusterModel| {
            let analysis = crate::engine::run(&Facts::new(model), &diagnostics);
            serde_json::to_string_pretty(&analysis.findings).unwrap()
        };
        let (with_dropped, with_kept) = (run(&dropped), run(&kept));
        assert_eq!(with_dropped, with_kept);
        for crash in [
            "FATAL config file /etc/app.yaml not found",
            "panic: nil map write in handler",
            "ERROR relation users does not exist",
            "plugin/errors: 2 example.org. A: read udp 10.0.0.5:53: i/o timeout",
        ] {
            assert!(with_dropped.contains(crash), "no finding quotes {crash:?}");
        }
    }
}
