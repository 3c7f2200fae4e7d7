//! Rule `memory-oom`: a container runs out of memory and is OOMKilled, after a leak when the
//! samples show its memory rising.
//!
//! Fires per workload (or lone pod) with an OOMKilled container. A `memory-leak` finding or a
//! rising memory series of the same container makes it a leak (85); repeated kills (3 restarts
//! or more) a limit that is too low for the work: established (80) when the killed container is
//! down at the capture (the kernel's verdict, written by the kubelet, repeated and still what
//! keeps it from running), else 60; a single kill 50.

use std::collections::BTreeMap;

use jiff::Timestamp;
use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object, ObjectRef};
use kubesnap_shared::quantity;

use super::{Context, Hypothesis, Step, first_failure};
use crate::facts::containers;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::performance::units;
use crate::finding::Severity;

/// One OOMKilled container.
struct Killed<'a> {
    pod: &'a Object,
    container: String,
    at: Option<Timestamp>,
    restarts: i64,
    /// The container is not running at the capture (waiting to restart after the kill).
    down: bool,
    limit: Option<f64>,
    /// The JVM's maximum heap (`-Xmx`) from the container's command, args or `JAVA_OPTS`-like env.
    heap: Option<f64>,
}

/// The `-Xmx` of a container spec, in bytes.
fn max_heap(container: &Value) -> Option<f64> {
    let mut texts: Vec<&str> = Vec::new();
    for key in ["command", "args"] {
        texts.extend(
            container.get(key).and_then(Value::as_array).unwrap_or_default().iter().filter_map(Value::as_str),
        );
    }
    for env in container.get("env").and_then(Value::as_array).unwrap_or_default() {
        texts.extend(env.get("value").and_then(Value::as_str));
    }
    texts.iter().flat_map(|text| text.split_whitespace()).find_map(|word| {
        let size = word.strip_prefix("-Xmx")?;
        let (number, unit) = size.split_at(size.find(|c: char| !c.is_ascii_digit()).unwrap_or(size.len()));
        let number: f64 = number.parse().ok()?;
        let factor = match unit.to_ascii_lowercase().as_str() {
            "" => 1.0,
            "k" => 1024.0,
            "m" => 1024.0 * 1024.0,
            "g" => 1024.0 * 1024.0 * 1024.0,
            _ => return None,
        };
        Some(number * factor)
    })
}

pub(super) fn rule(context: &Context<'_, '_>) -> Vec<Hypothesis> {
    let facts = context.facts;
    let mut groups: BTreeMap<ObjectRef, Vec<Killed<'_>>> = BTreeMap::new();
    for pod in facts.cluster().of_kind("Pod") {
        for status in containers::statuses(pod) {
            let killed = [status.last_termination(), status.current_termination()]
                .into_iter()
                .flatten()
                .find(|termination| termination.reason == "OOMKilled");
            let Some(termination) = killed else { continue };
            let spec = pod
                .array_at("/spec/containers")
                .iter()
                .find(|c| c.get("name").and_then(Value::as_str) == Some(status.name));
            let heap = spec.and_then(max_heap);
            let limit = spec
                .and_then(|c| c.pointer("/resources/limits/memory"))
                .and_then(Value::as_str)
                .and_then(quantity::bytes);
            let subject = facts.workload_of(pod).unwrap_or_else(|| pod.reference());
            groups.entry(subject).or_default().push(Killed {
                pod,
                container: status.name.to_owned(),
                at: termination.finished_at.and_then(|at| at.parse().ok()),
                restarts: status.restart_count(),
                down: !status.running(),
                limit,
                heap,
            });
        }
    }
    groups.into_iter().map(|(subject, killed)| hypothesis(context, &subject, &killed)).collect()
}

fn hypothesis(context: &Context<'_, '_>, subject: &ObjectRef, killed: &[Killed<'_>]) -> Hypothesis {
    let facts = context.facts;
    let mut objects = vec![subject.clone()];
    objects.extend(killed.iter().map(|k| k.pod.reference()));
    let leak_findings = context.linked(&["memory-leak"], &objects);
    let rising = killed.iter().find_map(|k| rising(facts.cluster(), k.pod, &k.container));
    let first = &killed[0];
    let restarts: i64 = killed.iter().map(|k| k.restarts).max().unwrap_or(0);
    let limit = first.limit.map(units::memory);
    let name = crate::incident::links::label(subject);
    let heap = first.heap.filter(|heap| first.limit.is_some_and(|limit| *heap >= limit * 0.9));
    let (score, title) = if let (Some(heap), Some(limit)) = (heap, &limit) {
        (
            85,
            format!(
                "{name} (container {}) is OOMKilled: its JVM heap (-Xmx {}) does not fit its {limit} \
                 memory limit",
                first.container,
                units::memory(heap)
            ),
        )
    } else if !leak_findings.is_empty() || rising.is_some() {
        (85, format!("Memory leak in {name} (container {}) ends in OOMKilled", first.container))
    } else {
        let limit = limit.as_deref().map(|l| format!(" {l}")).unwrap_or_default();
        // Killed again and again, and down now because of it: as established as a scheduler's
        // or a kubelet's own message.
        let down = killed.iter().any(|k| k.down && k.restarts >= 3);
        let score = match (restarts >= 3, down) {
            (true, true) => 80,
            (true, false) => 60,
            _ => 50,
        };
        (
            score,
            format!(
                "{name} (container {}) exceeds its{limit} memory limit and is OOMKilled",
                first.container
            ),
        )
    };
    let mut hypothesis = context.hypothesis("memory-oom", title, score, Severity::P1);
    if let Some((start, end, from, to)) = rising {
        hypothesis.chain.push(Step::new(
            Some(start),
            first.pod.reference(),
            format!("memory of {} at {}", first.container, units::memory(from)),
        ));
        hypothesis.chain.push(Step::new(
            Some(end),
            first.pod.reference(),
            format!("memory of {} up to {}", first.container, units::memory(to)),
        ));
    }
    for k in killed.iter().take(5) {
        if let Some(first) =
            first_failure(facts.cluster(), k.pod).filter(|first| k.at.is_none_or(|at| *first < at))
        {
            hypothesis.chain.push(Step::new(
                Some(first),
                k.pod.reference(),
                format!("pod {} first fails", k.pod.name),
            ));
        }
        hypothesis.chain.push(Step::new(
            k.at,
            k.pod.reference(),
            format!("container {} OOMKilled (exit code 137), {} restarts", k.container, k.restarts),
        ));
    }
    if let Some(heap) = first.heap {
        hypothesis.evidence.push(format!(
            "container {} starts a JVM with -Xmx {}: the heap alone {} the limit, before the JVM's own \
             memory",
            first.container,
            units::memory(heap),
            if heap >= first.limit.unwrap_or(f64::MAX) { "exceeds" } else { "nearly fills" }
        ));
    }
    hypothesis.disproved_by.push(format!(
        "a memory limit above what container {} uses at its peak, and no OOMKilled since",
        first.container
    ));
    hypothesis.evidence.push(match &limit {
        Some(limit) => format!("container {} has a memory limit of {limit}", first.container),
        None => format!("container {} has no memory limit: the node ran out of memory", first.container),
    });
    if killed.len() > 1 {
        hypothesis.evidence.push(format!("{} containers of {name} were OOMKilled", killed.len()));
    }
    hypothesis.findings = context.linked(
        &[
            "oom-killed",
            "memory-leak",
            "crash-loop-backoff",
            "memory-usage-high",
            "high-memory-usage",
            "pod-restarts",
        ],
        &objects,
    );
    hypothesis.findings.retain(|index| {
        let finding = &context.findings[*index];
        finding.code != "crash-loop-backoff" || finding.title.contains("OOMKilled")
    });
    hypothesis.objects = objects;
    let pod = first.pod.reference();
    if matches!(subject.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet") {
        let raised = first
            .limit
            .map(|limit| units::memory_quantity(limit * 2.0))
            .unwrap_or_else(|| "512Mi".to_owned());
        hypothesis.mitigation.push(
            kubectl::on("set resources", subject)
                .arg("-c")
                .name(&first.container)
                .joined("--limits=memory=", &raised)
                .into(),
        );
        hypothesis.mitigation.push(kubectl::rollout("restart", subject).into());
    }
    hypothesis
        .mitigation
        .push(Kubectl::new("top pod").name(&pod.name).namespace_of(&pod).arg("--containers").into());
    hypothesis.mitigation.push(kubectl::logs(&pod, &first.container, true).into());
    hypothesis
}

/// `(first time, last time, first memory, last memory)` when the container's memory rose by a
/// fifth or more over its samples, most steps going up.
fn rising(model: &ClusterModel, pod: &Object, container: &str) -> Option<(Timestamp, Timestamp, f64, f64)> {
    let namespace = pod.namespace.as_deref().unwrap_or_default();
    let series = model
        .pod_metrics
        .iter()
        .find(|s| s.key.namespace == namespace && s.key.pod == pod.name && s.key.container == container)?;
    let mut samples: Vec<_> = series.samples.iter().collect();
    samples.sort_by_key(|sample| sample.at);
    let (first, last) = (samples.first()?, samples.last()?);
    let ups = samples.windows(2).filter(|pair| pair[1].memory_bytes > pair[0].memory_bytes).count();
    let rising = samples.len() >= 3
        && last.memory_bytes >= first.memory_bytes * 1.2
        && ups * 10 >= (samples.len() - 1) * 7;
    rising.then_some((first.at, last.at, first.memory_bytes, last.memory_bytes))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::incident::causes::tests::of_rule;

    const APP: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: cache, namespace: shop, uid: d1}
spec: {replicas: 1}
status: {replicas: 1, availableReplicas: 0}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: cache-5c
  namespace: shop
  uid: r1
  ownerReferences: [{kind: Deployment, name: cache, uid: d1, controller: true}]
---
apiVersion: v1
kind: Pod
metadata:
  name: cache-5c-a
  namespace: shop
  ownerReferences: [{kind: ReplicaSet, name: cache-5c, uid: r1, controller: true}]
spec: {containers: [{name: cache, image: cache:1, resources: {limits: {memory: 256Mi}}}]}
status:
  phase: Running
  containerStatuses:
  - name: cache
    ready: false
    restartCount: 4
    state: {waiting: {reason: CrashLoopBackOff}}
    lastState: {terminated: {exitCode: 137, reason: OOMKilled, finishedAt: "2025-06-01T11:58:00Z"}}
"#;

    #[test]
    fn rising_memory_then_oomkilled_is_a_leak() {
        let fixture = format!(
            "{APP}{}",
            r#"
---
kind: MetricSeries
namespace: shop
pod: cache-5c-a
container: cache
samples:
- {at: "2025-06-01T11:40:00Z", cpu: 10m, memory: 120Mi}
- {at: "2025-06-01T11:45:00Z", cpu: 10m, memory: 160Mi}
- {at: "2025-06-01T11:50:00Z", cpu: 10m, memory: 200Mi}
- {at: "2025-06-01T11:55:00Z", cpu: 10m, memory: 240Mi}
"#
        );
        expect![[r#"
            1. [memory-oom 100 P0] Memory leak in Deployment shop/cache (container cache) ends in OOMKilled
               2025-06-01T11:40:00Z Pod/shop/cache-5c-a: memory of cache at 120 MiB
               2025-06-01T11:55:00Z Pod/shop/cache-5c-a: memory of cache up to 240 MiB
               2025-06-01T11:58:00Z Pod/shop/cache-5c-a: container cache OOMKilled (exit code 137), 4 restarts
               finding oom-killed: Deployment shop/cache: 1 of 1 pod: container cache OOMKilled (limit 256Mi)
               finding memory-leak: Deployment shop/cache container cache: memory grows +8.0 MiB/min, already at 94% of its 256 MiB limit
               finding memory-usage-high: Deployment shop/cache container cache: memory p95 234 MiB is 91% of its 256 MiB limit
               finding high-memory-usage: Pod shop/cache-5c-a: working set up to 94% of its memory limit for 0s (HighMemoryUsage pending)
               evidence: container cache has a memory limit of 256 MiB
               $ kubectl set resources deployment/cache -n shop -c cache --limits=memory=512Mi
               $ kubectl rollout restart deployment/cache -n shop
               $ kubectl top pod cache-5c-a -n shop --containers
               $ kubectl logs cache-5c-a -n shop -c cache --previous --tail=50
               disproved by: a memory limit above what container cache uses at its peak, and no OOMKilled since
        "#]]
        .assert_eq(&of_rule(&fixture, "memory-oom"));
    }

    #[test]
    fn oomkilled_without_samples_is_a_limit_too_low() {
        expect![[r#"
            1. [memory-oom 95 P0] Deployment shop/cache (container cache) exceeds its 256 MiB memory limit and is OOMKilled
               2025-06-01T11:58:00Z Pod/shop/cache-5c-a: container cache OOMKilled (exit code 137), 4 restarts
               finding oom-killed: Deployment shop/cache: 1 of 1 pod: container cache OOMKilled (limit 256Mi)
               evidence: container cache has a memory limit of 256 MiB
               $ kubectl set resources deployment/cache -n shop -c cache --limits=memory=512Mi
               $ kubectl rollout restart deployment/cache -n shop
               $ kubectl top pod cache-5c-a -n shop --containers
               $ kubectl logs cache-5c-a -n shop -c cache --previous --tail=50
               disproved by: a memory limit above what container cache uses at its peak, and no OOMKilled since
        "#]]
        .assert_eq(&of_rule(APP, "memory-oom"));
    }

    #[test]
    fn a_jvm_heap_above_the_limit_is_the_cause() {
        let jvm = APP.replace(
            "image: cache:1,",
            r#"image: cache:1, args: ["java", "-Xmx512m", "-jar", "cache.jar"],"#,
        );
        let out = of_rule(&jvm, "memory-oom");
        assert!(
            out.contains("is OOMKilled: its JVM heap (-Xmx 512 MiB) does not fit its 256 MiB memory limit"),
            "{out}"
        );
        assert!(!of_rule(APP, "memory-oom").contains("-Xmx"), "no JVM flag, no JVM claim");
    }
}
