//! Diagnostic `node-resource-usage-high`: nodes near their allocatable CPU or memory;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::model::NodeSeries;

use crate::facts::Facts;

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::performance::{units, usage};
use crate::finding::{Category, Evidence, Finding, Severity};
use crate::stats::Summary;

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "node-resource-usage-high",
    category: Category::Performance,
    title: "Nodes near their allocatable CPU or memory",
    severities: &[Severity::P1, Severity::P2, Severity::P3],
    what: "The p95 of each node's CPU and memory samples (the metrics API's node usage) against the node's \
           `status.allocatable`: memory at 90% or more is P1, CPU at 90% or memory at 80% P2, CPU at 80% \
           P3. The pods using most on the node, from the pod samples, are named.",
    why: "Near its allocatable memory a node evicts pods and OOM-kills; near its CPU every pod on it runs \
          slower.",
    fix: "Move load off the node (requests that match use so the scheduler spreads pods, more nodes), or \
          limit the pods using most.",
    example: "`Node node-1: memory p95 14.2 GiB is 93% of allocatable 15.3 GiB`, with the top pods by \
              memory on it and `kubectl describe node node-1`.",
    needs: &[Need::NodeMetrics],
    run,
};

const HIGH: f64 = 0.9;
const NEAR: f64 = 0.8;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    facts.cluster().node_metrics.iter().filter_map(|series| finding(facts, series)).collect()
}

fn finding(facts: &Facts<'_>, series: &NodeSeries) -> Option<Finding> {
    let node = facts.cluster().get("Node", None, &series.node)?;
    let allocatable = |resource: &str, parse: fn(&str) -> Option<f64>| {
        node.str_at(&format!("/status/allocatable/{resource}")).and_then(parse).filter(|value| *value > 0.0)
    };
    let cpu_allocatable = allocatable("cpu", kubesnap_shared::quantity::cpu_millicores);
    let memory_allocatable = allocatable("memory", kubesnap_shared::quantity::bytes);
    let cpu = Summary::of(&series.samples.iter().map(|s| s.cpu_millicores).collect::<Vec<_>>())?;
    let memory = Summary::of(&series.samples.iter().map(|s| s.memory_bytes).collect::<Vec<_>>())?;
    let cpu_ratio = cpu_allocatable.map(|a| cpu.p95 / a).unwrap_or(0.0);
    let memory_ratio = memory_allocatable.map(|a| memory.p95 / a).unwrap_or(0.0);
    let severity = if memory_ratio >= HIGH {
        Severity::P1
    } else if cpu_ratio >= HIGH || memory_ratio >= NEAR {
        Severity::P2
    } else if cpu_ratio >= NEAR {
        Severity::P3
    } else {
        return None;
    };
    let mut parts = Vec::new();
    if let Some(allocatable) = memory_allocatable.filter(|_| memory_ratio >= NEAR) {
        parts.push(format!(
            "memory p95 {} is {} of allocatable {}",
            units::memory(memory.p95),
            units::percent(memory_ratio),
            units::memory(allocatable)
        ));
    }
    if let Some(allocatable) = cpu_allocatable.filter(|_| cpu_ratio >= NEAR) {
        parts.push(format!(
            "CPU p95 {} is {} of allocatable {}",
            units::cpu(cpu.p95),
            units::percent(cpu_ratio),
            units::cpu(allocatable)
        ));
    }
    let reference = node.reference();
    let mut finding = DIAGNOSTIC
        .finding(severity, format!("Node {}: {}", node.name, parts.join("; ")))
        .object(reference.clone())
        .evidence(units::cpu_metric(&format!("node {}", node.name), "p95", cpu.p95))
        .evidence(units::memory_metric(&format!("node {}", node.name), "p95", memory.p95));
    for resource in ["cpu", "memory"] {
        if let Some(value) = node.at(&format!("/status/allocatable/{resource}")) {
            finding = finding.evidence(Evidence::field(
                reference.clone(),
                format!("/status/allocatable/{resource}"),
                value,
            ));
        }
    }
    // The pods using most on this node, by mean memory when memory is the pressure, else CPU.
    let by_memory = memory_ratio >= cpu_ratio;
    let mut pods: Vec<(String, f64)> = Vec::new();
    for usage in facts.usages_on_node(&node.name) {
        let name = format!("{}/{}", usage.key().namespace, usage.key().pod);
        let value = if by_memory { usage.memory.mean } else { usage.cpu.mean };
        match pods.iter_mut().find(|(pod, _)| *pod == name) {
            Some((_, total)) => *total += value,
            None => pods.push((name, value)),
        }
    }
    pods.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if !pods.is_empty() {
        let top: Vec<String> = pods
            .iter()
            .take(3)
            .map(|(pod, value)| {
                format!("{pod} {}", if by_memory { units::memory(*value) } else { units::cpu(*value) })
            })
            .collect();
        finding = finding.evidence(Evidence::note(format!(
            "top pods on the node by mean {}: {}",
            if by_memory { "memory" } else { "CPU" },
            top.join(", ")
        )));
    }
    let consequence = if memory_ratio >= NEAR {
        "Near its allocatable memory the kubelet starts evicting pods (those using more than they request \
         first) and the kernel OOM-kills when it runs out."
    } else {
        "Near its allocatable CPU every pod on the node competes for it, and those without enough request \
         get less: latency rises across unrelated workloads."
    };
    Some(
        finding
            .explanation(format!(
                "Over {} samples ({}) node {} used {} CPU and {} memory at the 95th percentile. \
                 {consequence}",
                series.samples.len(),
                units::span(match (series.samples.first(), series.samples.last()) {
                    (Some(first), Some(last)) => usage::minutes_between(first.at, last.at),
                    _ => 0.0,
                }),
                node.name,
                units::cpu(cpu.p95),
                units::memory(memory.p95)
            ))
            .remediation(Kubectl::new("top node").name(&node.name))
            .remediation(kubectl::describe(&reference))
            .remediation(
                Kubectl::new(
                    "top pod \
                                       -A",
                )
                .arg(if by_memory { "--sort-by=memory" } else { "--sort-by=cpu" }),
            ),
    )
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::{check, deployment, series};

    const NODES: &str = r#"
apiVersion: v1
kind: Node
metadata: {name: node-1}
status: {allocatable: {cpu: "4", memory: 16Gi}}
---
apiVersion: v1
kind: Node
metadata: {name: node-2}
status: {allocatable: {cpu: "4", memory: 16Gi}}
---
kind: NodeSeries
node: node-1
samples:
- {at: "2025-06-01T11:55:00Z", cpu: 2500m, memory: 15Gi}
- {at: "2025-06-01T11:55:30Z", cpu: 2600m, memory: 15200Mi}
- {at: "2025-06-01T11:56:00Z", cpu: 2400m, memory: 15100Mi}
---
kind: NodeSeries
node: node-2
samples:
- {at: "2025-06-01T11:55:00Z", cpu: 1000m, memory: 4Gi}
- {at: "2025-06-01T11:55:30Z", cpu: 3000m, memory: 4Gi}
"#;

    #[test]
    fn a_node_near_its_memory_names_the_pods_using_most() {
        let mut fixture = NODES.to_owned();
        fixture +=
            &deployment("prod-simulation", "database-service", &["database-service-a"], "[{name: database}]");
        fixture += &series("prod-simulation", "database-service-a", "database", "11:55:00", 3, |_| {
            ("700m".into(), "3900Mi".into())
        });
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 node-resource-usage-high Node node-1: memory p95 14.98 GiB is 94% of allocatable 16 GiB
              objects: Node/node-1
              metric cpu node node-1 p95 = 2590 millicores
              metric memory node node-1 p95 = 15344 MiB
              field Node/node-1 /status/allocatable/cpu = 4
              field Node/node-1 /status/allocatable/memory = 16Gi
              note: top pods on the node by mean memory: prod-simulation/database-service-a 3.81 GiB
              why: Over 3 samples (1m) node node-1 used 2.59 cores CPU and 14.98 GiB memory at the 95th percentile. Near its allocatable memory the kubelet starts evicting pods (those using more than they request first) and the kernel OOM-kills when it runs out.
              $ kubectl top node node-1
              $ kubectl describe node node-1
              $ kubectl top pod -A --sort-by=memory
        "#]],
        );
    }

    #[test]
    fn nodes_with_room_are_fine() {
        let fixture =
            NODES.replace("memory: 15Gi", "memory: 6Gi").replace("15200Mi", "6Gi").replace("15100Mi", "6Gi");
        let fixture = fixture.replace("cpu: 3000m", "cpu: 1500m");
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
