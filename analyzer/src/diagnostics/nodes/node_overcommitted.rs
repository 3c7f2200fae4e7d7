//! Diagnostic `node-overcommitted`: nodes whose pods request or may use more than they have;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::Object;
use kubesnap_shared::quantity;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl::Kubectl;
use crate::facts::storage::kubelet_stats::human_bytes;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "node-overcommitted",
    category: Category::Nodes,
    title: "Nodes whose pods request or may use more than they have",
    severities: &[Severity::P2, Severity::P3],
    what: "For each node, the CPU and memory requests and limits of the pods scheduled there (init \
           containers counted as the scheduler does: the larger of their maximum and the containers' sum, \
           plus the pod overhead) against the node's allocatable: requests above 100%, limits above 150%.",
    why: "Requests above allocatable break scheduling guarantees; limits far above it mean the node runs out \
          of memory (OOM kills, evictions) when pods use what they are allowed.",
    fix: "Lower the limits toward real use, spread the pods (anti-affinity, more nodes), or give the \
          node more capacity.",
    example: "`Node worker-1: memory limits 212% of allocatable (13.2 GiB of 6.2 GiB)`.",
    needs: &[],
    run,
};

const REQUESTS_PERCENT: f64 = 100.0;
const LIMITS_PERCENT: f64 = 150.0;

/// One resource's totals on a node.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    requests: f64,
    limits: f64,
}

/// A pod's effective value of `field` (`requests`/`limits`) for `resource`, as the scheduler
/// computes it.
fn pod_value(pod: &Object, field: &str, resource: &str) -> f64 {
    let parse =
        |text: &str| if resource == "cpu" { quantity::cpu_millicores(text) } else { quantity::bytes(text) };
    let value = |container: &Value| {
        container
            .pointer(&format!("/resources/{field}/{resource}"))
            .and_then(Value::as_str)
            .and_then(parse)
            .unwrap_or(0.0)
    };
    let sum: f64 = pod.array_at("/spec/containers").iter().map(value).sum();
    let init = pod.array_at("/spec/initContainers").iter().map(value).fold(0.0, f64::max);
    let overhead = pod.str_at(&format!("/spec/overhead/{resource}")).and_then(parse).unwrap_or(0.0);
    sum.max(init) + overhead
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for node in facts.cluster().of_kind("Node") {
        let pods: Vec<&Object> = facts
            .cluster()
            .pods_on_node(&node.name)
            .filter(|pod| !matches!(pod.str_at("/status/phase"), Some("Succeeded" | "Failed")))
            .collect();
        let mut over = Vec::new();
        for resource in ["cpu", "memory"] {
            let allocatable = node.str_at(&format!("/status/allocatable/{resource}")).and_then(|text| {
                if resource == "cpu" { quantity::cpu_millicores(text) } else { quantity::bytes(text) }
            });
            let Some(allocatable) = allocatable.filter(|value| *value > 0.0) else { continue };
            let totals = Totals {
                requests: pods.iter().map(|pod| pod_value(pod, "requests", resource)).sum(),
                limits: pods.iter().map(|pod| pod_value(pod, "limits", resource)).sum(),
            };
            let requests = totals.requests / allocatable * 100.0;
            let limits = totals.limits / allocatable * 100.0;
            if requests > REQUESTS_PERCENT {
                over.push((resource, "requests", requests, totals.requests, allocatable));
            }
            if limits > LIMITS_PERCENT {
                over.push((resource, "limits", limits, totals.limits, allocatable));
            }
        }
        if !over.is_empty() {
            findings.push(finding(node, &pods, &over));
        }
    }
    findings
}

fn amount(resource: &str, value: f64) -> String {
    if resource == "cpu" { format!("{:.2} cores", value / 1000.0) } else { human_bytes(value) }
}

fn finding(node: &Object, pods: &[&Object], over: &[(&str, &str, f64, f64, f64)]) -> Finding {
    let reference = node.reference();
    let parts: Vec<String> = over
        .iter()
        .map(|(resource, field, percent, total, allocatable)| {
            format!(
                "{resource} {field} {percent:.0}% of allocatable ({} of {})",
                amount(resource, *total),
                amount(resource, *allocatable)
            )
        })
        .collect();
    let requests_over = over.iter().any(|(_, field, ..)| *field == "requests");
    let severity = if requests_over || over.iter().any(|(resource, ..)| *resource == "memory") {
        Severity::P2
    } else {
        Severity::P3
    };
    let mut finding = DIAGNOSTIC
        .finding(severity, format!("Node {}: {}", node.name, parts.join("; ")))
        .object(reference.clone())
        .evidence(Evidence::field(
            reference.clone(),
            "/status/allocatable",
            node.at("/status/allocatable").unwrap_or(&Value::Null),
        ));
    for (resource, field, percent, total, _) in over {
        finding = finding.evidence(Evidence::Metric {
            series: format!("node {} {resource} {field}", node.name),
            statistic: "sum over pods".into(),
            value: if *resource == "cpu" { *total } else { total.round() },
            unit: if *resource == "cpu" { "millicores".into() } else { "bytes".into() },
        });
        finding = finding.evidence(Evidence::Metric {
            series: format!("node {} {resource} {field}", node.name),
            statistic: "percent of allocatable".into(),
            value: percent.round(),
            unit: "percent".into(),
        });
    }
    // The biggest consumers of the first overcommitted resource, so the reader knows where to cut.
    if let Some((resource, field, ..)) = over.first() {
        let mut ranked: Vec<(&Object, f64)> =
            pods.iter().map(|pod| (*pod, pod_value(pod, field, resource))).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.name.cmp(&b.0.name)));
        let top: Vec<String> = ranked
            .iter()
            .take(3)
            .filter(|(_, value)| *value > 0.0)
            .map(|(pod, value)| {
                format!(
                    "{}/{} {}",
                    pod.namespace.as_deref().unwrap_or_default(),
                    pod.name,
                    amount(resource, *value)
                )
            })
            .collect();
        if !top.is_empty() {
            finding =
                finding.evidence(Evidence::note(format!("largest {resource} {field}: {}", top.join(", "))));
        }
    }
    let mut explanation = String::new();
    if requests_over {
        explanation.push_str(&format!(
            "The pods on node {} request more than it can allocate: the scheduler never does that, so \
             the node shrank (allocatable changed) or static or directly bound pods bypassed it; their \
             guarantees do not hold.",
            node.name
        ));
    }
    if over.iter().any(|(_, field, ..)| *field == "limits") {
        if !explanation.is_empty() {
            explanation.push(' ');
        }
        explanation.push_str(&format!(
            "The pods' limits on node {} add up to well above what it has: if they use what they are \
             allowed, memory runs out (OOM kills, evictions) or CPU is throttled.",
            node.name
        ));
    }
    finding
        .explanation(explanation)
        .remediation(Kubectl::new("describe node").name(&node.name).arg("| grep -A 12 'Allocated resources'"))
        .remediation(Kubectl::new("top node").name(&node.name))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    fn pod(name: &str, resources: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: shop}}\n\
             spec: {{nodeName: worker-1, containers: [{{name: c, resources: {resources}}}]}}\n\
             status: {{phase: Running}}\n"
        )
    }

    const NODE: &str = "apiVersion: v1\nkind: Node\nmetadata: {name: worker-1}\n\
                        status: {allocatable: {cpu: '2', memory: 4Gi}}\n";

    #[test]
    fn memory_limits_far_above_allocatable() {
        let fixture = format!(
            "{NODE}{}{}{}",
            pod("a", "{requests: {cpu: 500m, memory: 1Gi}, limits: {memory: 4Gi}}"),
            pod("b", "{requests: {cpu: 500m, memory: 1Gi}, limits: {memory: 3Gi}}"),
            "---\napiVersion: v1\nkind: Pod\nmetadata: {name: done, namespace: shop}\n\
             spec: {nodeName: worker-1, containers: [{name: c, resources: {limits: {memory: 64Gi}}}]}\n\
             status: {phase: Succeeded}\n",
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 node-overcommitted Node worker-1: memory limits 175% of allocatable (7.0 GiB of 4.0 GiB)
              objects: Node/worker-1
              field Node/worker-1 /status/allocatable = {"cpu":"2","memory":"4Gi"}
              metric node worker-1 memory limits sum over pods = 7516192768 bytes
              metric node worker-1 memory limits percent of allocatable = 175 percent
              note: largest memory limits: shop/a 4.0 GiB, shop/b 3.0 GiB
              why: The pods' limits on node worker-1 add up to well above what it has: if they use what they are allowed, memory runs out (OOM kills, evictions) or CPU is throttled.
              $ kubectl describe node worker-1 | grep -A 12 'Allocated resources'
              $ kubectl top node worker-1
        "#]],
        );
    }

    #[test]
    fn init_containers_count_as_the_scheduler_counts_them() {
        // 3 cores of init request alone exceed 2 allocatable; the containers' 1 core does not.
        let fixture = format!(
            "{NODE}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: init, namespace: shop}}\n\
             spec: {{nodeName: worker-1, initContainers: [{{name: i, resources: {{requests: {{cpu: \
             '3'}}}}}}], containers: [{{name: c, resources: {{requests: {{cpu: '1'}}}}}}]}}\n\
             status: {{phase: Running}}\n"
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 node-overcommitted Node worker-1: cpu requests 150% of allocatable (3.00 cores of 2.00 cores)
              objects: Node/worker-1
              field Node/worker-1 /status/allocatable = {"cpu":"2","memory":"4Gi"}
              metric node worker-1 cpu requests sum over pods = 3000 millicores
              metric node worker-1 cpu requests percent of allocatable = 150 percent
              note: largest cpu requests: shop/init 3.00 cores
              why: The pods on node worker-1 request more than it can allocate: the scheduler never does that, so the node shrank (allocatable changed) or static or directly bound pods bypassed it; their guarantees do not hold.
              $ kubectl describe node worker-1 | grep -A 12 'Allocated resources'
              $ kubectl top node worker-1
        "#]],
        );
        let fine =
            format!("{NODE}{}", pod("a", "{requests: {cpu: 500m, memory: 1Gi}, limits: {memory: 2Gi}}"));
        check(
            &DIAGNOSTIC,
            &fine,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
