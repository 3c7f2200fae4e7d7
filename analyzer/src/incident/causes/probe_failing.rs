//! Rule `probe-failing` (run time): a liveness, readiness or startup probe fails because it asks
//! a port or protocol the container does not serve, or gives it less time than it needs.
//!
//! Fires per workload (or lone pod) not Ready or restarting now, with `Unhealthy` warnings. The
//! kubelet's message is quoted and the probe is compared with the spec: an `httpGet`/`tcpSocket`
//! port that no `containerPort` of the container declares (when it declares some) → a probe on a
//! port it does not serve (80); an HTTP probe answered `connection refused` or `malformed HTTP
//! response`/`server gave HTTP response to HTTPS client` → protocol or port mismatch (75); a
//! liveness probe that restarts the container sooner than its previous run lasted to start
//! (initialDelaySeconds + periodSeconds × failureThreshold shorter than the run) → timing (70);
//! else the kubelet's word (60). Severity from the impact.
//!
//! Disproved by: the probe's port declared and answering (the container Ready in a newer
//! capture), or the container failing before any probe ran.

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{Event, Object, ObjectRef};

use super::{Context, Hypothesis, Step, clip, impact, subject_of};
use crate::facts::network::pod_health;
use crate::facts::{containers, kubectl};
use crate::finding::Severity;

/// `(probe kind, port as written, scheme)` of a container's probes.
fn probes(container: &Value) -> Vec<(&'static str, String, &Value)> {
    let mut out = Vec::new();
    for (key, kind) in
        [("livenessProbe", "liveness"), ("readinessProbe", "readiness"), ("startupProbe", "startup")]
    {
        let Some(probe) = container.get(key) else { continue };
        let port = probe
            .pointer("/httpGet/port")
            .or_else(|| probe.pointer("/tcpSocket/port"))
            .or_else(|| probe.pointer("/grpc/port"))
            .map(|port| {
                port.as_str()
                    .map(str::to_owned)
                    .or_else(|| port.as_i64().map(|n| n.to_string()))
                    .unwrap_or_default()
            });
        if let Some(port) = port {
            out.push((kind, port, probe));
        }
    }
    out
}

/// Whether the container declares `port` (a number or a port name), when it declares any.
fn declares(container: &Value, port: &str) -> Option<bool> {
    let ports = container.get("ports").and_then(Value::as_array).filter(|ports| !ports.is_empty())?;
    Some(ports.iter().any(|p| {
        p.get("containerPort").and_then(Value::as_i64).is_some_and(|n| n.to_string() == port)
            || p.get("name").and_then(Value::as_str) == Some(port)
    }))
}

fn declared(container: &Value) -> Vec<String> {
    container
        .get("ports")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.get("containerPort").and_then(Value::as_i64).map(|n| n.to_string()))
        .collect()
}

/// Lines by which a server says it has started (Spring's `Started X in 12.3 seconds`, `listening
/// on`, `ready to accept connections`...).
static STARTED: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)\b(started \S+ in \d|tomcat started on|netty started on|listening on|listening at|server started|started server|ready to accept|application started|startup complete|started in \d)",
    )
    .ok()
});

/// The seconds the container's previous run spent starting, when its log shows it was still
/// starting up as the liveness probe's `window` ran out: the whole log is held, spans at least
/// the window (less a period's slack), and never says it started.
fn slow_start(
    model: &kubesnap_shared::model::ClusterModel,
    pod: &Object,
    container: &str,
    window: i64,
) -> Option<i64> {
    let namespace = pod.namespace.as_deref()?;
    let log = model.log(namespace, &pod.name, container, true)?;
    if log.truncated || log.tail.is_empty() || (log.tail.len() as u64) < log.lines {
        return None;
    }
    let span = log.last_timestamp?.duration_since(log.first_timestamp?).as_secs();
    let started = STARTED.as_ref().is_some_and(|re| log.tail.iter().any(|line| re.is_match(&line.text)));
    (!started && span + 5 >= window && window > 0).then_some(span)
}

pub(super) fn rule(context: &Context<'_, '_>) -> Vec<Hypothesis> {
    let facts = context.facts;
    let model = facts.cluster();
    let mut groups: BTreeMap<ObjectRef, Vec<(&Object, &Event)>> = BTreeMap::new();
    for pod in model.of_kind("Pod") {
        if pod_health::is_gone(pod) || pod_health::is_ready(pod) {
            continue;
        }
        if let Some(event) = super::warnings(model, pod, &["Unhealthy"]).last().copied() {
            groups.entry(subject_of(facts, pod)).or_default().push((pod, event));
        }
    }
    groups.into_iter().filter_map(|(subject, pods)| hypothesis(context, &subject, &pods)).collect()
}

fn hypothesis(
    context: &Context<'_, '_>,
    subject: &ObjectRef,
    pods: &[(&Object, &Event)],
) -> Option<Hypothesis> {
    let facts = context.facts;
    let (pod, event) = pods[0];
    let message = event.message.as_str();
    let lower = message.to_lowercase();
    let kind = ["liveness", "readiness", "startup"]
        .into_iter()
        .find(|kind| lower.starts_with(kind))
        .unwrap_or("liveness");
    // The container whose probe of that kind fails (the only one with such a probe, usually).
    let specs = pod.array_at("/spec/containers");
    let (container, port, probe) = specs.iter().find_map(|container| {
        probes(container)
            .into_iter()
            .find(|(k, _, _)| *k == kind)
            .map(|(_, port, probe)| (container, port, probe))
    })?;
    let container_name = container.get("name").and_then(Value::as_str).unwrap_or_default();
    let name = crate::incident::links::label(subject);
    let seconds = |key: &str, default: i64| probe.get(key).and_then(Value::as_i64).unwrap_or(default);
    let window =
        seconds("initialDelaySeconds", 0) + seconds("periodSeconds", 10) * seconds("failureThreshold", 3);
    let last_run =
        containers::statuses(pod).into_iter().find(|s| s.name == container_name).and_then(|status| {
            let termination = status.last_termination()?;
            let finished: jiff::Timestamp = termination.finished_at?.parse().ok()?;
            let started: jiff::Timestamp = pod
                .array_at("/status/containerStatuses")
                .iter()
                .find(|s| s.get("name").and_then(Value::as_str) == Some(container_name))
                .and_then(|s| s.pointer("/lastState/terminated/startedAt"))
                .and_then(Value::as_str)?
                .parse()
                .ok()?;
            Some(finished.duration_since(started).as_secs())
        });
    let start_up = if kind == "liveness" && container.get("startupProbe").is_none() {
        slow_start(facts.cluster(), pod, container_name, window)
    } else {
        None
    };
    let (why, score) = if declares(container, &port) == Some(false) {
        (
            format!(
                "its {kind} probe asks port {port}, which container {container_name} does not declare \
                 (it declares {})",
                declared(container).join(", ")
            ),
            80,
        )
    } else if lower.contains("server gave http response to https client")
        || lower.contains("malformed http response")
        || lower.contains("http: server gave")
    {
        (format!("its {kind} probe speaks the wrong protocol to port {port}"), 75)
    } else if let Some(span) = start_up {
        (
            format!(
                "its liveness probe gives it {window}s (initialDelaySeconds {} + {} failures × {}s) and \
                 it has no startupProbe, while its start-up takes longer: its previous run logged \
                 start-up for {span}s and never reported that it started",
                seconds("initialDelaySeconds", 0),
                seconds("failureThreshold", 3),
                seconds("periodSeconds", 10)
            ),
            75,
        )
    } else if lower.contains("connection refused") {
        (format!("nothing listens on port {port} when its {kind} probe asks"), 70)
    } else if kind == "liveness" && last_run.is_some_and(|run| run <= window + 5) {
        (
            format!(
                "its liveness probe restarts it after {window}s (initialDelaySeconds + periodSeconds × \
                 failureThreshold), before it is up"
            ),
            70,
        )
    } else {
        (format!("its {kind} probe fails"), 60)
    };
    let title = format!("{name} (container {container_name}): {why} (`{}`)", clip(message));
    let mut hypothesis = context.hypothesis("probe-failing", title, score, Severity::P1);
    let failing: Vec<&Object> = pods.iter().map(|(pod, _)| *pod).collect();
    hypothesis.own_severity = Some(impact(facts, &failing));
    let mut objects = vec![subject.clone()];
    for (pod, event) in pods {
        objects.push(pod.reference());
        hypothesis.chain.push(Step::new(
            event.first_seen,
            pod.reference(),
            format!("Unhealthy x{}: {}", event.count, clip(&event.message)),
        ));
    }
    hypothesis.evidence.push(format!("the kubelet says: `{}`", clip(message)));
    hypothesis.evidence.push(format!("{kind} probe on port {port}, gives up after {window}s"));
    // A run of 0 s is a status without real times, no duration.
    if let Some(run) = last_run.filter(|run| *run > 0) {
        hypothesis.evidence.push(format!("the container's previous run lasted {run}s"));
    }
    hypothesis.disproved_by.push(format!("the {kind} probe answering on port {port} in a newer capture"));
    hypothesis.findings = context.linked(
        &[
            "pod-not-ready",
            "crash-loop-backoff",
            "pod-restarts",
            "application-down",
            "deployment-replicas-unavailable",
        ],
        &objects,
    );
    hypothesis.objects = objects;
    hypothesis.mitigation.push(kubectl::describe(&pod.reference()).into());
    if subject.kind != "Pod" {
        hypothesis.mitigation.push(kubectl::get_yaml(subject).into());
    }
    Some(hypothesis)
}

#[cfg(test)]
mod tests {
    use crate::incident::causes::tests::of_rule;

    fn pod(probe_port: &str) -> String {
        format!(
            r#"
kind: Pod
apiVersion: v1
metadata: {{name: web-1, namespace: shop}}
spec:
  containers:
  - name: web
    image: web:1
    ports: [{{containerPort: 8080, name: http}}]
    readinessProbe: {{httpGet: {{path: /healthz, port: {probe_port}}}}}
status:
  phase: Running
  conditions: [{{type: Ready, status: "False"}}]
  containerStatuses: [{{name: web, ready: false, restartCount: 0, state: {{running: {{}}}}}}]
---
kind: Event
apiVersion: v1
metadata: {{name: web-1.1, namespace: shop}}
involvedObject: {{kind: Pod, name: web-1, namespace: shop}}
type: Warning
reason: Unhealthy
count: 40
message: 'Readiness probe failed: Get "http://10.0.0.5:9090/healthz": dial tcp 10.0.0.5:9090: connect: connection refused'
"#
        )
    }

    #[test]
    fn a_probe_on_a_port_the_container_does_not_declare() {
        let out = of_rule(&pod("9090"), "probe-failing");
        assert!(
            out.contains(
                "Pod shop/web-1 (container web): its readiness probe asks port 9090, which \
                              container web does not declare (it declares 8080)"
            ),
            "{out}"
        );
    }

    #[test]
    fn a_probe_on_the_declared_port_is_only_the_kubelet_s_word() {
        let out = of_rule(&pod("http"), "probe-failing");
        assert!(out.contains("nothing listens on port http when its readiness probe asks"), "{out}");
        assert!(!out.contains("does not declare"), "{out}");
    }

    /// A Spring app killed by its liveness probe (20 s + 2 × 5 s) while its start-up still logs.
    fn slow(last_line: &str) -> String {
        format!(
            r#"
kind: Pod
apiVersion: v1
metadata: {{name: orders-1, namespace: shop}}
spec:
  containers:
  - name: orders
    image: orders:2
    ports: [{{containerPort: 8080}}]
    livenessProbe: {{httpGet: {{path: /health, port: 8080}}, initialDelaySeconds: 20, periodSeconds: 5, failureThreshold: 2}}
status:
  phase: Running
  conditions: [{{type: Ready, status: "False"}}]
  containerStatuses: [{{name: orders, ready: false, restartCount: 7, state: {{waiting: {{reason: CrashLoopBackOff}}}},
    lastState: {{terminated: {{exitCode: 143, reason: Error}}}}}}]
---
kind: Event
apiVersion: v1
metadata: {{name: orders-1.1, namespace: shop}}
involvedObject: {{kind: Pod, name: orders-1, namespace: shop}}
type: Warning
reason: Unhealthy
count: 14
message: 'Liveness probe failed: Get "http://10.0.0.5:8080/health": dial tcp 10.0.0.5:8080: connect: connection refused'
---
kind: ContainerLog
namespace: shop
pod: orders-1
container: orders
previous: true
lines:
- "2025-06-01T11:50:00Z INFO Starting OrdersApplication v2 using Java 17"
- "2025-06-01T11:50:15Z INFO Root WebApplicationContext: initialization completed in 14820 ms"
- "{last_line}"
"#
        )
    }

    #[test]
    fn a_liveness_probe_shorter_than_the_start_up_its_log_shows() {
        let out = of_rule(&slow("2025-06-01T11:50:33Z INFO Commencing graceful shutdown"), "probe-failing");
        assert!(
            out.contains(
                "its liveness probe gives it 30s (initialDelaySeconds 20 + 2 failures × 5s) \
                              and it has no startupProbe, while its start-up takes longer: its previous \
                              run logged start-up for 33s and never reported that it started"
            ),
            "{out}"
        );
        let started = of_rule(
            &slow("2025-06-01T11:50:33Z INFO Started OrdersApplication in 32.1 seconds"),
            "probe-failing",
        );
        assert!(!started.contains("start-up takes longer"), "{started}");
        assert!(started.contains("nothing listens on port 8080"), "{started}");
    }
}
