//! Rule `dependency-down`: pods log refused connections or database errors because what they
//! depend on is down, missing, or refuses them.
//!
//! Fires per workload (or lone pod) whose logs hold `connection_refused` or `database_error`
//! lines. The Services its configuration names decide the score: one without a ready backend is
//! likely (80), one missing from the bundle 70. Without such a Service, database errors point at
//! the database pods: one not Ready 75, the database refusing the client's credentials 60, all
//! Ready 40 (the client's connection string); refused connections to healthy Services 30 (ports,
//! network policies). A crash-looping client adds 10: the dependency takes it down. Log hits
//! that are history at the capture (an install or a start-up the pod has recovered from) are
//! left out.

use kubesnap_shared::model::{Object, ObjectRef};

use super::{Context, Hypothesis, Step, first_failure};
use crate::facts::logs::dependencies::{self, Dependency};
use crate::facts::logs::families::ERRORS;
use crate::facts::logs::patterns::{LogHits, hits_in};
use crate::facts::logs::{database, recency, sources};
use crate::facts::network::{backends, pod_health};
use crate::facts::{Facts, kubectl};
use crate::finding::Severity;
use crate::incident::links;

use crate::facts::kubectl::Kubectl;
use crate::facts::network::proxy::ServiceProxy;
use crate::facts::network::targets::{self as target, Resolved, Target, Verdict};

pub(super) fn rule(context: &Context<'_, '_>) -> Vec<Hypothesis> {
    let facts = context.facts;
    let families: Vec<_> = ERRORS
        .iter()
        .filter(|family| {
            matches!(
                family.code,
                "connection_refused" | "database_error" | "timeout_error" | "dns_resolution"
            )
        })
        .collect();
    let mut out = Vec::new();
    let installed = recency::install_completed(facts.cluster());
    // While the cluster DNS is down every lookup fails: `dns-down` explains those.
    let dns_down = {
        let dns = facts.dns_pods();
        !dns.is_empty() && !dns.iter().any(|pod| pod_health::is_ready(pod))
    };
    for (subject, sources) in sources::by_subject(sources::sources(facts.cluster())) {
        // Only what is still happening at the capture: errors of a start-up or an install that
        // has recovered since are history, never a root cause.
        let hits: Vec<LogHits<'_>> = families
            .iter()
            .flat_map(|family| sources.iter().filter_map(|source| hits_in(family, source)))
            // A timeout or a failed lookup is a dependency's only when the line names what it
            // dialled (`dial tcp 10.96.0.7:8080: i/o timeout`): "timeout=30s" is a setting.
            .filter(|hits| {
                matches!(hits.family.code, "connection_refused" | "database_error")
                    || (!(dns_down && hits.family.code == "dns_resolution")
                        && hits.samples.iter().any(|line| !target::in_text(&line.text, "").is_empty()))
            })
            .filter(|hits| {
                !recency::of_hits(facts.cluster(), &hits.source, hits.last, installed).is_history()
            })
            .collect();
        if hits.is_empty() || sources.iter().all(|source| source.is_node()) {
            continue;
        }
        let pods: Vec<&Object> = {
            let mut pods: Vec<&Object> = sources.iter().filter_map(|source| source.pod).collect();
            pods.dedup_by_key(|pod| pod.reference());
            pods
        };
        out.push(hypothesis(context, &subject, &pods, &hits));
    }
    out
}

fn hypothesis(
    context: &Context<'_, '_>,
    subject: &ObjectRef,
    pods: &[&Object],
    hits: &[LogHits<'_>],
) -> Hypothesis {
    let facts = context.facts;
    let name = links::label(subject);
    let deps: Vec<Dependency<'_>> =
        pods.first().map(|pod| dependencies::of_pod(facts.cluster(), pod)).unwrap_or_default();
    let unhealthy: Vec<&Dependency<'_>> =
        deps.iter().filter(|d| !dependencies::is_healthy(facts, d)).collect();
    let database_hits = hits.iter().any(|h| h.family.code == "database_error");
    let refused_credentials = hits
        .iter()
        .flat_map(|h| h.samples.iter())
        .find(|line| database::credentials_refused(&line.text))
        .map(|line| line.text.trim().to_owned());
    let database_pods = facts.database_pods();
    let failing_database = database_pods.iter().find(|pod| pod_health::trouble(pod).is_some());
    let crash_looping = pods
        .iter()
        .any(|pod| pod_health::trouble(pod).is_some_and(|trouble| trouble.contains("CrashLoopBackOff")));

    let mut objects: Vec<ObjectRef> = vec![subject.clone()];
    objects.extend(pods.iter().map(|pod| pod.reference()));
    // The targets the failing lines and the env name, resolved against the bundle, worst first.
    let namespace = subject.namespace.as_deref().unwrap_or_default();
    let mut targets: Vec<Target> = Vec::new();
    for h in hits {
        for line in &h.samples {
            for found in target::in_text(&line.text, &format!("the log of {}", h.source.describe())) {
                if !targets.iter().any(|t| t.host == found.host && t.port == found.port) {
                    targets.push(found);
                }
            }
        }
    }
    for found in pods.first().map(|pod| target::in_env(pod)).unwrap_or_default() {
        if !targets.iter().any(|t| t.host == found.host && t.port == found.port) {
            targets.push(found);
        }
    }
    let mut resolved: Vec<Resolved> =
        targets.iter().take(8).map(|t| target::resolve(facts, namespace, pods.first().copied(), t)).collect();
    resolved.sort_by(|a, b| (a.verdict, &a.target).cmp(&(b.verdict, &b.target)));
    let worst = resolved.first();
    let timed_out = hits.iter().any(|h| h.family.code == "timeout_error");
    let proxy = crate::facts::network::proxy::service_proxy(facts.cluster());
    // An IP the bundle knows nothing of (a pod's that changed, a log older than the Service) says
    // little; a name outside the cluster's forms is outside for sure.
    let unknown_ip =
        |r: &Resolved| r.verdict == Verdict::Outside && r.target.host.parse::<std::net::IpAddr>().is_ok();
    let only_up = resolved.iter().all(|r| r.verdict == Verdict::Ready || unknown_ip(r));
    // Timeouts to a Service whose endpoints are Ready, and nothing routes ClusterIPs.
    let unrouted = match &proxy {
        ServiceProxy::Missing(why) if timed_out && only_up => resolved
            .iter()
            .find(|r| r.verdict == Verdict::Ready && r.service.is_some())
            .map(|r| (r, why.clone())),
        _ => None,
    };
    let outside = resolved
        .iter()
        .find(|r| r.verdict == Verdict::Outside && !unknown_ip(r))
        .filter(|_| resolved.iter().all(|r| r.verdict >= Verdict::Outside));
    let (score, title) = if let Some((r, why)) = &unrouted {
        (
            75,
            format!(
                "{name}'s connections to {} time out although the Service has ready endpoints: no \
                 kube-proxy runs in the cluster ({why})",
                r.target.host
            ),
        )
    } else if let Some(dependency) = unhealthy.first() {
        let target = links::short(&dependency.reference);
        match dependency.service {
            Some(_) => (
                80,
                format!("{name} fails because Service {target}, which it depends on, has no ready backend"),
            ),
            None => (70, format!("{name} depends on Service {target}, which does not exist")),
        }
    } else if let Some(r) = worst.filter(|r| r.verdict < Verdict::Itself) {
        let score = match r.verdict {
            Verdict::NoReadyEndpoint => 80,
            _ => 75,
        };
        (score, format!("{name} cannot reach {} (from {}): {}", r.target.host, r.target.origin, r.sentence))
    } else if let (true, Some(pod)) = (database_hits, failing_database) {
        let trouble = pod_health::trouble(pod).unwrap_or_default();
        (75, format!("{name} fails on its database: pod {} {trouble}", links::short(&pod.reference())))
    } else if let (true, Some(line)) = (database_hits, &refused_credentials) {
        (60, format!("The database refuses the credentials of {name} (`{}`)", clip(line)))
    } else if let Some(r) = outside {
        (
            65,
            format!(
                "{name} cannot reach {}, outside the cluster (from {}): {}",
                r.target.host, r.target.origin, r.sentence
            ),
        )
    } else if let Some(r) = worst {
        let score = match r.verdict {
            Verdict::Ready => 45,
            _ => 50,
        };
        (
            score,
            format!(
                "{name} fails to connect to {} (from {}): {}",
                r.target.host, r.target.origin, r.sentence
            ),
        )
    } else if database_hits && database_pods.is_empty() {
        (
            35,
            format!(
                "{name} cannot connect to its database, and no database runs in this cluster: its \
                 address is outside the cluster or wrong"
            ),
        )
    } else if database_hits {
        (
            40,
            format!(
                "{name} cannot connect to its database while the cluster's database pods are Ready: \
                 check its connection string"
            ),
        )
    } else if deps.is_empty() {
        (
            30,
            format!(
                "{name}'s connections are refused, and its configuration names no Service of the cluster"
            ),
        )
    } else {
        (
            30,
            format!(
                "{name}'s connections are refused while the Services it names are up: check ports and \
                 network policies"
            ),
        )
    };
    let score = score + if crash_looping { 10 } else { 0 };
    let mut hypothesis = context.hypothesis("dependency-down", title, score, Severity::P1);

    for h in hits {
        let family = h.family.title;
        let at = h.first.or_else(|| h.source.pod.and_then(|pod| first_failure(facts.cluster(), pod)));
        let quote =
            h.samples.first().map(|line| format!(": `{}`", clip(line.text.trim()))).unwrap_or_default();
        hypothesis.chain.push(Step::new(
            at,
            h.source.member.clone(),
            format!(
                "{} {} with {family} errors in {}{quote}",
                h.count,
                if h.count == 1 { "line" } else { "lines" },
                h.source.describe()
            ),
        ));
    }
    for r in &resolved {
        hypothesis
            .evidence
            .push(format!("target {} (from {}): {}", r.target.host, r.target.origin, r.sentence));
        if let Some(service) = &r.service {
            objects.push(service.clone());
        }
    }
    hypothesis.disproved_by.push(format!("the connections of {name} succeeding in a newer log"));
    if let Some(r) = worst {
        hypothesis.disproved_by.push(match r.verdict {
            Verdict::NoSuchName | Verdict::NoSuchNamespace => {
                format!("{} resolving in the cluster (a Service the bundle did not capture)", r.target.host)
            }
            Verdict::Ready => "the client's credentials and the NetworkPolicies admitting it".to_owned(),
            _ => format!("{} answering on its port", r.target.host),
        });
    }
    for dependency in &deps {
        hypothesis.evidence.push(dependencies::describe(facts, dependency));
        objects.push(dependency.reference.clone());
        if let Some(service) = dependency.service {
            for pod in backends::of_service(facts, service).pods {
                if let Some(trouble) = pod_health::trouble(pod) {
                    hypothesis.chain.push(Step::new(
                        first_failure(facts.cluster(), pod),
                        pod.reference(),
                        format!("backend pod {trouble}"),
                    ));
                }
                objects.push(pod.reference());
            }
        }
    }
    if database_hits {
        let statuses: Vec<String> = database_pods
            .iter()
            .take(5)
            .map(|pod| {
                let state = pod_health::trouble(pod).unwrap_or_else(|| "Ready".to_owned());
                format!("{} {state}", links::short(&pod.reference()))
            })
            .collect();
        hypothesis.evidence.push(match statuses.len() {
            0 => "no pod of the bundle runs a known database image".to_owned(),
            _ => format!("database pods: {}", statuses.join(", ")),
        });
        if let Some(pod) = failing_database {
            objects.push(pod.reference());
            hypothesis.chain.push(Step::new(
                first_failure(facts.cluster(), pod),
                pod.reference(),
                "database pod not Ready",
            ));
        }
    }
    if let Some(line) = &refused_credentials {
        hypothesis
            .evidence
            .push(format!("the database answers, and refuses the credentials: `{}`", clip(line)));
    }
    if crash_looping {
        hypothesis.evidence.push(format!("{name} is crash-looping: the failed dependency takes it down"));
    }
    hypothesis.findings = context.linked(
        &[
            "log-error-patterns",
            "cascading-failures",
            "crash-loop-backoff",
            "service-without-endpoints",
            "service-selector-matches-nothing",
            "deployment-replicas-unavailable",
            "application-down",
        ],
        &objects,
    );
    hypothesis.findings.retain(|index| {
        let finding = &context.findings[*index];
        finding.code != "log-error-patterns"
            || finding.title.contains("connection refused")
            || finding.title.contains("database")
    });
    hypothesis.mitigation = mitigation(facts, subject, pods, &unhealthy, failing_database.copied());
    hypothesis.objects = objects;
    hypothesis
}

fn clip(text: &str) -> String {
    const CHARS: usize = 120;
    let mut clipped: String = text.chars().take(CHARS).collect();
    if text.chars().count() > CHARS {
        clipped.push('…');
    }
    clipped
}

fn mitigation(
    facts: &Facts<'_>,
    subject: &ObjectRef,
    pods: &[&Object],
    unhealthy: &[&Dependency<'_>],
    failing_database: Option<&Object>,
) -> Vec<String> {
    let mut commands = Vec::new();
    for dependency in unhealthy.iter().take(2) {
        let reference = &dependency.reference;
        match dependency.service {
            Some(service) => {
                commands.push(
                    kubectl::on("get", &ObjectRef { kind: "Endpoints".to_owned(), ..reference.clone() })
                        .into(),
                );
                commands.push(kubectl::describe(reference).into());
                let workload =
                    backends::of_service(facts, service).pods.first().and_then(|pod| facts.workload_of(pod));
                if let Some(workload) =
                    workload.filter(|w| matches!(w.kind.as_str(), "Deployment" | "StatefulSet"))
                {
                    commands.push(kubectl::rollout("restart", &workload).into());
                }
            }
            None => {
                commands.push(Kubectl::new("get services").namespace_of(reference).into());
                let map =
                    dependency.origin.strip_prefix("ConfigMap ").and_then(|rest| rest.split(' ').next());
                if let Some((namespace, name)) = map.and_then(|map| map.split_once('/')) {
                    commands.push(
                        Kubectl::new("get configmap").name(name).namespace(namespace).arg("-o yaml").into(),
                    );
                }
            }
        }
    }
    if let Some(pod) = failing_database {
        commands.push(kubectl::describe(&pod.reference()).into());
        commands.push(
            Kubectl::new("logs").name(&pod.name).namespace_of(&pod.reference()).arg("--tail=50").into(),
        );
    }
    if let Some(pod) = pods.first() {
        let container = pod
            .array_at("/spec/containers")
            .first()
            .and_then(|c| c.get("name"))
            .and_then(kubesnap_shared::json::Value::as_str)
            .unwrap_or_default();
        commands.push(kubectl::logs(&pod.reference(), container, false).into());
    }
    if matches!(subject.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet") {
        commands.push(kubectl::on("set env", subject).arg("--list").into());
        commands.push(kubectl::rollout("restart", subject).into());
    }
    commands
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::incident::causes::tests::of_rule;

    const CLIENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, uid: d1}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-7d
  namespace: shop
  uid: r1
  ownerReferences: [{kind: Deployment, name: api, uid: d1, controller: true}]
---
apiVersion: v1
kind: Pod
metadata:
  name: api-7d-a
  namespace: shop
  ownerReferences: [{kind: ReplicaSet, name: api-7d, uid: r1, controller: true}]
spec:
  containers:
  - name: api
    image: api:1
    env: [{name: DB_HOST, value: "pg.data.svc.cluster.local"}]
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
---
kind: ContainerLog
namespace: shop
pod: api-7d-a
container: api
lines:
- "2025-06-01T11:50:00Z ERROR dial tcp 10.0.0.9:5432: connect: connection refused"
- "2025-06-01T11:50:10Z ERROR dial tcp 10.0.0.9:5432: connect: connection refused"
"#;

    const DATABASE: &str = r#"
---
kind: Namespace
apiVersion: v1
metadata: {name: data}
---
kind: Service
apiVersion: v1
metadata: {name: pg, namespace: data}
spec: {selector: {app: pg}}
---
apiVersion: v1
kind: Pod
metadata: {name: pg-0, namespace: data, labels: {app: pg}}
spec: {containers: [{name: pg, image: "postgres:16"}]}
status:
  phase: Running
  conditions: [{type: Ready, status: "False"}]
  containerStatuses:
  - {name: pg, ready: false, restartCount: 3, state: {waiting: {reason: CrashLoopBackOff}},
     lastState: {terminated: {exitCode: 1, reason: Error, finishedAt: "2025-06-01T11:49:30Z"}}}
"#;

    #[test]
    fn refused_connections_to_a_service_without_backends_blame_the_service() {
        expect![[r#"
            1. [dependency-down 95 P0] Deployment shop/api fails because Service data/pg, which it depends on, has no ready backend
               2025-06-01T11:49:30Z Pod/data/pg-0: backend pod CrashLoopBackOff in container pg, 3 restarts
               2025-06-01T11:50:00Z Pod/shop/api-7d-a: 2 lines with connection refused errors in pod api-7d-a, container api (current run): `2025-06-01T11:50:00Z ERROR dial tcp 10.0.0.9:5432: connect: connection refused`
               finding deployment-replicas-unavailable: Deployment shop/api: 0 of 1 replicas available
               finding crash-loop-backoff: Pod data/pg-0: container pg crash-looping (Error, exit code 1)
               finding log-error-patterns: Deployment shop/api: connection refused errors in logs (2 lines, 1 pod)
               evidence: target pg.data.svc.cluster.local (from env DB_HOST of container api): pg.data.svc.cluster.local: Service data/pg has no ready endpoint: the bundle holds no Endpoints or EndpointSlices; 0 of 1 matching pods are Ready; pg-0 CrashLoopBackOff in container pg, 3 restarts
               evidence: target 10.0.0.9 (from the log of pod api-7d-a, container api (current run)): 10.0.0.9:5432 is the IP of no Service or pod in the bundle: outside the cluster, or an address that changed
               evidence: Service data/pg (named in env DB_HOST of container api): the bundle holds no Endpoints or EndpointSlices; 0 of 1 matching pods are Ready; pg-0 CrashLoopBackOff in container pg, 3 restarts
               evidence: consequence: Pod data/pg-0 (container pg) keeps exiting (Error, exit code 1) and left no log
               $ kubectl get endpoints/pg -n data
               $ kubectl describe service pg -n data
               $ kubectl describe pod pg-0 -n data
               $ kubectl logs pg-0 -n data --tail=50
               $ kubectl logs api-7d-a -n shop -c api --tail=50
               $ kubectl set env deployment/api -n shop --list
               $ kubectl rollout restart deployment/api -n shop
               disproved by: the connections of Deployment shop/api succeeding in a newer log
               disproved by: pg.data.svc.cluster.local answering on its port
        "#]]
        .assert_eq(&of_rule(&[CLIENT, DATABASE].concat(), "dependency-down"));
    }

    #[test]
    fn refused_connections_to_a_healthy_service_are_a_weak_hypothesis() {
        let healthy = DATABASE
            .replace(
                r#"conditions: [{type: Ready, status: "False"}]"#,
                r#"conditions: [{type: Ready, status: "True"}]"#,
            )
            .replace(
                "ready: false, restartCount: 3, state: {waiting: {reason: CrashLoopBackOff}}",
                "ready: true, restartCount: 3, state: {running: {}}",
            );
        expect![[r#"
            1. [dependency-down 65 P0] Deployment shop/api fails to connect to 10.0.0.9 (from the log of pod api-7d-a, container api (current run)): 10.0.0.9:5432 is the IP of no Service or pod in the bundle: outside the cluster, or an address that changed
               2025-06-01T11:50:00Z Pod/shop/api-7d-a: 2 lines with connection refused errors in pod api-7d-a, container api (current run): `2025-06-01T11:50:00Z ERROR dial tcp 10.0.0.9:5432: connect: connection refused`
               finding deployment-replicas-unavailable: Deployment shop/api: 0 of 1 replicas available
               finding log-error-patterns: Deployment shop/api: connection refused errors in logs (2 lines, 1 pod)
               evidence: target 10.0.0.9 (from the log of pod api-7d-a, container api (current run)): 10.0.0.9:5432 is the IP of no Service or pod in the bundle: outside the cluster, or an address that changed
               evidence: target pg.data.svc.cluster.local (from env DB_HOST of container api): pg.data.svc.cluster.local: Service data/pg is up with 1 ready endpoints: suspect credentials, policy or the application
               evidence: Service data/pg (named in env DB_HOST of container api): the bundle holds no Endpoints or EndpointSlices; 1 of 1 matching pods are Ready
               $ kubectl logs api-7d-a -n shop -c api --tail=50
               $ kubectl set env deployment/api -n shop --list
               $ kubectl rollout restart deployment/api -n shop
               disproved by: the connections of Deployment shop/api succeeding in a newer log
               disproved by: 10.0.0.9 answering on its port
        "#]]
        .assert_eq(&of_rule(&[CLIENT, &healthy].concat(), "dependency-down"));
    }

    #[test]
    fn timeouts_to_a_named_host_outside_the_cluster_say_so() {
        let fixture = CLIENT
            .replace(
                "DB_HOST, value: \"pg.data.svc.cluster.local\"",
                "SMTP_HOST, value: \"smtp.relay.example.net\"",
            )
            .replace(
                "dial tcp 10.0.0.9:5432: connect: connection refused",
                "smtp dial tcp 203.0.113.9:587: i/o timeout",
            );
        let out = of_rule(&fixture, "dependency-down");
        assert!(
            out.contains(
                "Deployment shop/api cannot reach smtp.relay.example.net, outside the cluster \
                          (from env SMTP_HOST of container api)"
            ),
            "{out}"
        );
    }

    #[test]
    fn timeouts_to_a_ready_service_without_kube_proxy_name_the_missing_proxy() {
        let ready = DATABASE
            .replace(
                r#"conditions: [{type: Ready, status: "False"}]"#,
                r#"conditions: [{type: Ready, status: "True"}]"#,
            )
            .replace("state: {waiting: {reason: CrashLoopBackOff}}", "state: {running: {}}")
            .replace("ready: false", "ready: true");
        let system =
            "\n---\nkind: Pod\napiVersion: v1\nmetadata: {name: coredns-1, namespace: kube-system}\n";
        let fixture = [
            CLIENT.replace(
                "dial tcp 10.0.0.9:5432: connect: connection refused",
                "dial tcp pg.data.svc.cluster.local:5432: i/o timeout",
            ),
            ready,
            system.to_owned(),
        ]
        .concat();
        let out = of_rule(&fixture, "dependency-down");
        assert!(
            out.contains(
                "time out although the Service has ready endpoints: no kube-proxy runs in the cluster"
            ),
            "{out}"
        );
        let with_proxy = fixture.replace("name: coredns-1", "name: kube-proxy-n1");
        assert!(
            !of_rule(&with_proxy, "dependency-down").contains("kube-proxy runs"),
            "a kube-proxy pod routes ClusterIPs"
        );
    }
}
