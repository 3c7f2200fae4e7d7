//! Tests of the incident summary as a whole: the timeline, its bound, determinism, and the
//! real troubleshoot bundle of 2025-08-09.

use expect_test::expect;
use jiff::Timestamp;
use kubesnap_shared::model::ObjectRef;

use super::causes::tests::analyzed;
use super::timeline::{self, Entry, Kind, MAX_ENTRIES};
use super::*;

fn render_timeline(timeline: &Timeline) -> String {
    let mut out = String::new();
    for entry in &timeline.entries {
        let severity = entry.severity.map_or("-", |s| s.name());
        out.push_str(&format!(
            "{} {:?} {} [{severity}] {}\n",
            entry.at, entry.kind, entry.object, entry.text
        ));
    }
    out.push_str(&format!("omitted {}\n", timeline.omitted));
    out
}

const STORY: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, uid: d1}
spec: {replicas: 1}
status: {replicas: 1, availableReplicas: 0}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-7d
  namespace: shop
  uid: r1
  creationTimestamp: "2025-06-01T11:40:00Z"
  annotations: {deployment.kubernetes.io/revision: "2"}
  ownerReferences: [{kind: Deployment, name: api, uid: d1, controller: true}]
spec: {replicas: 1}
---
apiVersion: v1
kind: Pod
metadata:
  name: api-7d-a
  namespace: shop
  labels: {app: api}
  ownerReferences: [{kind: ReplicaSet, name: api-7d, uid: r1, controller: true}]
spec: {containers: [{name: api, image: api:2, resources: {limits: {memory: 100Mi, cpu: 500m}}}]}
status:
  phase: Running
  conditions: [{type: Ready, status: "False"}]
  containerStatuses:
  - {name: api, ready: false, restartCount: 3, state: {waiting: {reason: CrashLoopBackOff}},
     lastState: {terminated: {exitCode: 137, reason: OOMKilled, finishedAt: "2025-06-01T11:52:00Z"}}}
---
kind: Service
apiVersion: v1
metadata: {name: api, namespace: shop}
spec: {type: LoadBalancer, selector: {app: api}}
---
kind: Ingress
apiVersion: networking.k8s.io/v1
metadata: {name: web, namespace: shop}
spec: {rules: [{host: shop.example, http: {paths: [{path: /, backend: {service: {name: api, port: {number: 80}}}}]}}]}
---
apiVersion: v1
kind: Event
metadata: {name: api-7d-a.1, namespace: shop}
involvedObject: {kind: Pod, name: api-7d-a, namespace: shop}
type: Warning
reason: BackOff
message: Back-off restarting failed container api
count: 12
firstTimestamp: "2025-06-01T11:52:05Z"
lastTimestamp: "2025-06-01T11:59:00Z"
---
apiVersion: v1
kind: Event
metadata: {name: api-7d-a.2, namespace: shop}
involvedObject: {kind: Pod, name: api-7d-a, namespace: shop}
type: Normal
reason: Scheduled
message: Successfully assigned shop/api-7d-a to node-1
firstTimestamp: "2025-06-01T11:40:01Z"
lastTimestamp: "2025-06-01T11:40:01Z"
---
kind: MetricSeries
namespace: shop
pod: api-7d-a
container: api
samples:
- {at: "2025-06-01T11:45:00Z", cpu: 100m, memory: 60Mi}
- {at: "2025-06-01T11:50:00Z", cpu: 600m, memory: 95Mi}
- {at: "2025-06-01T11:51:00Z", cpu: 700m, memory: 98Mi}
---
kind: ContainerLog
namespace: shop
pod: api-7d-a
container: api
previous: true
lines:
- "2025-06-01T11:51:10Z ERROR upstream timed out"
- "2025-06-01T11:51:20Z ERROR upstream timed out"
- "2025-06-01T11:51:30Z ERROR dial tcp 10.0.0.3:80: connect: connection refused"
"#;

#[test]
fn the_timeline_merges_every_kind_in_time_order_with_severities() {
    let (model, findings) = analyzed(STORY);
    let incident = build(&Facts::new(&model), &findings);
    expect![[r#"
        2025-06-01T11:40:00Z Rollout Deployment/shop/api [P0] rollout revision 2: ReplicaSet api-7d created (now 0 of 1 replicas ready)
        2025-06-01T11:50:00Z Metric Pod/shop/api-7d-a [P0] CPU of container api over its 500m limit (600m)
        2025-06-01T11:50:00Z Metric Pod/shop/api-7d-a [P0] memory of container api at 95% of its 100 MiB limit (95 MiB)
        2025-06-01T11:51:10Z LogErrors Pod/shop/api-7d-a [P0] first log errors: timeout_error ×2, connection_refused ×1 in the 5-minute window from 2025-06-01T11:50:00Z
        2025-06-01T11:52:00Z Termination Pod/shop/api-7d-a [P0] container api terminated: OOMKilled, exit code 137, 3 restarts
        2025-06-01T11:52:05Z Event Pod/shop/api-7d-a [P0] Warning BackOff ×12: Back-off restarting failed container api (last at 2025-06-01T11:59:00Z)
        omitted 0
    "#]]
    .assert_eq(&render_timeline(&incident.timeline));
}

#[test]
fn impact_and_blast_radius_follow_services_to_ingresses() {
    let (model, findings) = analyzed(STORY);
    let view = view::view(&build(&Facts::new(&model), &findings), &findings);
    expect![[r#"
        P0 (critical): 1 workload down, 2 Services and Ingresses without a healthy backend, 2 user-facing entry points affected, 1 namespace affected. Most likely cause: Memory leak in Deployment shop/api (container api) ends in OOMKilled.
        Service shop/api (LoadBalancer, reachable from outside the cluster) has no healthy backend: the bundle holds no Endpoints or EndpointSlices; 0 of 1 matching pods are Ready; api-7d-a CrashLoopBackOff in container api, 3 restarts
        Ingress shop/web has no healthy backend: shop.example/ → Service api: the bundle holds no Endpoints or EndpointSlices; 0 of 1 matching pods are Ready; api-7d-a CrashLoopBackOff in container api, 3 restarts
        Deployment shop/api is down: 0 of 1 replicas available (pod api-7d-a CrashLoopBackOff in container api, 3 restarts)
        shop (P0, 4 findings)
        P0 Deployment shop/api Deployment shop/api: 1 of 1 pod: container api OOMKilled (limit 100Mi): 1 pod → Services shop/api (down) → Ingresses shop/web (2 user-facing)
        Ingress shop/web, Service shop/api
    "#]]
    .assert_eq(&format!(
        "{}\n{}\n{}\n{}\n{}\n",
        view.headline,
        view.impact.join("\n"),
        view.namespaces.join(", "),
        view.blast_radius
            .iter()
            .map(|b| format!("{} {} {}: {}", b.severity, b.source, b.cause, b.reach))
            .collect::<Vec<_>>()
            .join("\n"),
        view.entry_points.join(", ")
    ));
}

#[test]
fn the_timeline_keeps_the_most_relevant_and_the_earliest_of_each_kind() {
    let (model, _) = analyzed(STORY);
    let pod = ObjectRef { kind: "Pod".into(), namespace: Some("shop".into()), name: "api-7d-a".into() };
    let other = ObjectRef { kind: "Pod".into(), namespace: Some("shop".into()), name: "quiet".into() };
    // 150 routine events about a pod without findings, then the story's pod marked P0.
    let mut severities = std::collections::BTreeMap::new();
    severities.insert(pod.clone(), Severity::P0);
    let mut model = model;
    for minute in 0..150 {
        let at: Timestamp =
            "2025-06-01T09:00:00Z".parse::<Timestamp>().unwrap() + jiff::SignedDuration::from_mins(minute);
        model.events.push(kubesnap_shared::model::Event {
            namespace: Some("shop".into()),
            name: format!("quiet.{minute}"),
            involved: other.clone(),
            kind: "Warning".into(),
            reason: "Unhealthy".into(),
            message: format!("probe failed {minute}"),
            count: 1,
            first_seen: Some(at),
            last_seen: Some(at),
            source: "kubelet".into(),
            origin: "fixture".into(),
        });
    }
    let timeline = timeline::build(&model, &severities);
    assert_eq!(timeline.entries.len(), MAX_ENTRIES);
    assert!(timeline.omitted > 0);
    assert!(timeline.entries.is_sorted_by(|a, b| a.at <= b.at), "kept entries are in time order");
    let first_event = timeline.entries.iter().find(|e| e.kind == Kind::Event).unwrap();
    assert_eq!(first_event.text, "Warning Unhealthy: probe failed 0", "the earliest event is kept");
    for kind in [Kind::Rollout, Kind::Termination, Kind::LogErrors, Kind::Metric] {
        assert!(timeline.entries.iter().any(|e: &Entry| e.kind == kind), "{kind:?} kept");
    }
    assert!(
        timeline.entries.iter().filter(|e| e.object == pod).count() >= 5,
        "entries about the P0 pod outrank routine ones"
    );
}

#[test]
fn the_same_model_gives_the_same_incident() {
    let (model, findings) = analyzed(STORY);
    let first = build(&Facts::new(&model), &findings);
    assert_eq!(first, build(&Facts::new(&model), &findings));
    let json = |incident: &Incident| serde_json::to_string(incident).unwrap();
    assert_eq!(json(&first), json(&build(&Facts::new(&model), &findings)));
    assert!(!first.root_causes.is_empty());
}

#[test]
fn no_findings_is_no_incident() {
    let (model, findings) = analyzed("kind: Namespace\napiVersion: v1\nmetadata: {name: quiet}\n");
    let incident = build(&Facts::new(&model), &findings);
    assert_eq!(incident.severity, None);
    assert!(incident.root_causes.is_empty() && incident.mitigation.is_empty());
    assert_eq!(incident.headline, "No incident: no diagnostic found a problem in this bundle.");
}

#[test]
fn response_times_are_the_playbooks() {
    let p0 = Response::of(Severity::P0);
    assert_eq!((p0.acknowledge, p0.initial_response), ("15 minutes", "1 hour"));
    let p3 = Response::of(Severity::P3);
    assert_eq!((p3.acknowledge, p3.initial_response), ("1 business day", "5 business days"));
}

/// The real troubleshoot bundle: a crash-looping app whose log says `Database connection
/// failed`, an OOMKilled `memory-hog`, and an app logging `password authentication failed`.
#[test]
fn the_troubleshoot_bundle_of_2025_08_09() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../../shared/realdata/replicatedhq__troubleshoot/_history/6e08a811ef60f0ccdb92fa0762845ccbb1cc6141/support-bundle-2025-08-09T21_08_25",
    );
    let model = crate::load::load(&path, &crate::load::LoadOptions::default()).unwrap();
    let (findings, _) = crate::analyze(&model);
    let titles: Vec<&str> =
        findings.iter().filter(|f| f.code == "log-error-patterns").map(|f| f.title.as_str()).collect();
    assert!(
        titles.contains(&"Deployment test-crash/crash-loop-app: database errors in logs (4 lines, 2 pods)"),
        "{titles:#?}"
    );
    assert!(
        titles.iter().any(|t| t.starts_with(
            "Deployment test-connection/connection-test-app: database errors in logs (435 lines"
        )),
        "{titles:#?}"
    );
    let incident = build(&Facts::new(&model), &findings);
    assert_eq!(incident.severity, Some(Severity::P0));
    let down: Vec<String> = incident.impact.workloads_down.iter().map(|w| w.workload.to_string()).collect();
    assert!(down.contains(&"Deployment/test-crash/crash-loop-app".to_owned()), "{down:?}");
    assert!(down.contains(&"Deployment/test-oom/memory-hog".to_owned()), "{down:?}");
    let causes: Vec<(&str, &str)> = incident.root_causes.iter().map(|h| (h.rule, h.title.as_str())).collect();
    assert_eq!(causes.len(), 3, "{causes:#?}");
    assert!(
        causes.iter().any(|(rule, title)| *rule == "memory-oom" && title.contains("memory-hog")),
        "{causes:#?}"
    );
    assert!(
        causes.iter().any(|(rule, title)| *rule == "container-exits"
            && title.contains("crash-loop-app")
            && title.contains("ERROR: Database connection failed!")),
        "{causes:#?}"
    );
    assert!(
        causes
            .iter()
            .any(|(rule, title)| *rule == "dependency-down" && title.contains("connection-test-app")),
        "{causes:#?}"
    );
    let oom = incident
        .timeline
        .entries
        .iter()
        .find(|e| e.kind == Kind::Termination && e.text.contains("OOMKilled"));
    assert_eq!(oom.map(|e| e.object.name.as_str()), Some("memory-hog-746d6455bc-hd4sc"));
    assert_eq!(incident, build(&Facts::new(&model), &findings), "deterministic");
    expect![[r#"
        1. [memory-oom 95 P0] Deployment test-oom/memory-hog (container memory-consumer) exceeds its 50 MiB memory limit and is OOMKilled
           2025-08-09T22:57:59Z Pod/test-oom/memory-hog-746d6455bc-hd4sc: pod memory-hog-746d6455bc-hd4sc first fails
           2025-08-10T02:07:55Z Pod/test-oom/memory-hog-746d6455bc-hd4sc: container memory-consumer OOMKilled (exit code 137), 22 restarts
           finding oom-killed: Deployment test-oom/memory-hog: 1 of 1 pod: container memory-consumer OOMKilled (limit 50Mi)
           evidence: container memory-consumer has a memory limit of 50 MiB
           $ kubectl set resources deployment/memory-hog -n test-oom -c memory-consumer --limits=memory=100Mi
           $ kubectl rollout restart deployment/memory-hog -n test-oom
           $ kubectl top pod memory-hog-746d6455bc-hd4sc -n test-oom --containers
           $ kubectl logs memory-hog-746d6455bc-hd4sc -n test-oom -c memory-consumer --previous --tail=50
           disproved by: a memory limit above what container memory-consumer uses at its peak, and no OOMKilled since
        2. [dependency-down 80 P1] Deployment test-connection/connection-test-app depends on Service default/postgres-service, which does not exist
           2025-08-09T22:57:59Z Pod/test-connection/connection-test-app-59fdf994f9-tpsgv: 435 lines with connection refused errors in pod connection-test-app-59fdf994f9-tpsgv, container app (current run): `[Sat Aug  9 22:57:59 UTC 2025] ERROR: Connection refused - FATAL: password authentication failed for user 'wronguser'`
           2025-08-09T22:57:59Z Pod/test-connection/connection-test-app-59fdf994f9-tpsgv: 435 lines with database errors in pod connection-test-app-59fdf994f9-tpsgv, container app (current run): `[Sat Aug  9 22:57:59 UTC 2025] ERROR: Connection refused - FATAL: password authentication failed for user 'wronguser'`
           finding log-error-patterns: Deployment test-connection/connection-test-app: database errors in logs (435 lines, 1 pod)
           finding log-error-patterns: Deployment test-connection/connection-test-app: connection refused errors in logs (435 lines, 1 pod)
           evidence: Service default/postgres-service (named in ConfigMap test-connection/app-config key database.conf): no such Service is in the bundle
           evidence: database pods: default/postgres-postgresql-0 Ready, default/redis-master-0 Ready, default/redis-replicas-0 Ready, default/redis-replicas-1 Ready, default/redis-replicas-2 Ready
           evidence: the database answers, and refuses the credentials: `[Sat Aug  9 22:57:59 UTC 2025] ERROR: Connection refused - FATAL: password authentication failed for user 'wronguser'`
           $ kubectl get services -n default
           $ kubectl get configmap app-config -n test-connection -o yaml
           $ kubectl logs connection-test-app-59fdf994f9-tpsgv -n test-connection -c app --tail=50
           $ kubectl set env deployment/connection-test-app -n test-connection --list
           $ kubectl rollout restart deployment/connection-test-app -n test-connection
           disproved by: the connections of Deployment test-connection/connection-test-app succeeding in a newer log
        3. [container-exits 75 P1] Deployment test-crash/crash-loop-app (container failing-app) keeps exiting (Error, exit code 1): `ERROR: Database connection failed!`
           2025-08-10T02:08:10Z Pod/test-crash/crash-loop-app-67586446fc-2w49s: container failing-app exited: Error (exit code 1: application error); 22 restarts
           2025-08-10T02:08:11Z Pod/test-crash/crash-loop-app-67586446fc-6fgz5: container failing-app exited: Error (exit code 1: application error); 22 restarts
           finding crash-loop-backoff: Deployment test-crash/crash-loop-app: 2 of 2 pods crash-looping (Error, exit code 1)
           finding log-error-patterns: Deployment test-crash/crash-loop-app: database errors in logs (4 lines, 2 pods)
           evidence: container failing-app runs `/bin/sh -c echo 'Starting application...'; sleep 5; echo 'ERROR: Database connection failed!'; exit 1`
           evidence: its last words: `Starting application...` `ERROR: Database connection failed!`
           evidence: it exits: 2 of 2 pods of Deployment test-crash/crash-loop-app crash
           evidence: consequence: Deployment test-crash/crash-loop-app cannot connect to its database while the cluster's database pods are Ready: check its connection string
           $ kubectl logs crash-loop-app-67586446fc-2w49s -n test-crash -c failing-app --previous --tail=50
           $ kubectl describe pod crash-loop-app-67586446fc-2w49s -n test-crash
           $ kubectl get deployment crash-loop-app -n test-crash -o yaml
           disproved by: a run that lasts (Ready, restart count stable) in a newer capture
           disproved by: last words that blame a dependency outside the container
    "#]]
    .assert_eq(&super::causes::tests::render(&incident.root_causes, &findings));
}

/// A cause with only what the headline reads.
fn cause(rank: usize, severity: Severity, title: &str) -> Hypothesis {
    super::causes::tests::bare(rank, severity, title)
}

#[test]
fn the_headline_never_contradicts_its_severity() {
    use crate::finding::Category;
    let nothing_down = Impact {
        services: Vec::new(),
        ingresses: Vec::new(),
        workloads_down: Vec::new(),
        namespaces: Vec::new(),
    };
    let no_blast = BlastRadius { sources: Vec::new(), entry_points: Vec::new() };
    let findings = vec![
        Finding::new("dns", Category::Network, Severity::P0, "CoreDNS is degraded (0 of 2 pods Ready)"),
        Finding::new("node", Category::Nodes, Severity::P1, "Node a is NotReady"),
    ];
    let causes =
        [cause(1, Severity::P1, "Node a is NotReady"), cause(2, Severity::P0, "CoreDNS is degraded")];
    // No "0 workloads down" beside a P0: the worst finding says what the P0 is; the most
    // likely cause is less severe, so the most severe one is named too.
    assert_eq!(
        headline(Some(Severity::P0), &findings, &nothing_down, &no_blast, &causes),
        "P0 (critical): CoreDNS is degraded (0 of 2 pods Ready). Most likely cause: Node a is NotReady. \
         Most severe (P0): CoreDNS is degraded."
    );
    // Nothing down and two P2s: a credential in the clear (a risk, its code sorts first) and a
    // node logging disk errors (a failure): the failure leads.
    let p2 = vec![
        Finding::new(
            "credential-in-configmap",
            Category::Security,
            Severity::P2,
            "ConfigMap a/b: credential",
        ),
        Finding::new("node-log-problems", Category::Nodes, Severity::P2, "Node n1: ext4 errors"),
    ];
    assert_eq!(
        headline(Some(Severity::P2), &p2, &nothing_down, &no_blast, &[]),
        "P2 (medium): Node n1: ext4 errors."
    );
    // ... and when it is also the most likely cause, it is said once.
    assert_eq!(
        headline(
            Some(Severity::P2),
            &p2,
            &nothing_down,
            &no_blast,
            &[cause(1, Severity::P2, "Node n1: ext4 errors")]
        ),
        "P2 (medium): Node n1: ext4 errors. It is the most likely cause."
    );
    let advisories =
        vec![Finding::new("limits", Category::Performance, Severity::P3, "Containers without limits")];
    assert_eq!(
        headline(Some(Severity::P3), &advisories, &nothing_down, &no_blast, &[]),
        "P3 (low): nothing down, advisories only."
    );
}
