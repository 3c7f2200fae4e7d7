//! Diagnostic `network-policy-isolation`: pods cut off by NetworkPolicies;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::network::{pod_health, selector};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "network-policy-isolation",
    category: Category::Network,
    title: "Pods cut off by NetworkPolicies",
    severities: &[Severity::P1, Severity::P2, Severity::P3],
    what: "Pods that NetworkPolicies isolate with no rule letting traffic through: all ingress cut (a \
           default-deny, or policies selecting the pods with an empty `ingress`), all egress cut, or egress \
           allowed but not to DNS (port 53). One finding per namespace and direction, naming the policies, \
           the pods and the Services whose traffic is cut.",
    why: "Traffic the policies cut fails silently: Services answer nothing although their pods are Ready, \
          and name lookups time out.",
    fix: "Add a NetworkPolicy that allows the traffic the pods need (from the Services' clients, to DNS on \
          port 53), or narrow the deny policy's podSelector.",
    example: "`Namespace shop: all ingress to 3 pods cut by NetworkPolicy default-deny (Services api, \
              web)`.",
    needs: &[],
    run,
};

/// How many affected pods a finding names as objects.
const LISTED_PODS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cut {
    /// Ingress-isolated with no ingress rule.
    Ingress,
    /// Egress-isolated with no egress rule.
    Egress,
    /// Egress rules exist, but none allows port 53.
    Dns,
}

fn policy_types(policy: &Object) -> Vec<&str> {
    let declared: Vec<&str> = policy.array_at("/spec/policyTypes").iter().filter_map(Value::as_str).collect();
    if !declared.is_empty() {
        return declared;
    }
    // The API's default: Ingress always, Egress when the policy has an egress section.
    if policy.at("/spec/egress").is_some() { vec!["Ingress", "Egress"] } else { vec!["Ingress"] }
}

/// Whether an egress rule lets DNS through: it names no port (all ports) or port 53.
fn allows_dns(rule: &Value) -> bool {
    let ports = rule.get("ports").and_then(Value::as_array).unwrap_or_default();
    ports.is_empty()
        || ports.iter().any(|port| match port.get("port") {
            None => true,
            Some(Value::Number(number)) => {
                let end = port.get("endPort").and_then(Value::as_i64).unwrap_or(number.as_i64().unwrap_or(0));
                (number.as_i64().unwrap_or(0)..=end).contains(&53)
            }
            Some(Value::String(name)) => name == "53" || name.starts_with("dns"),
            Some(_) => false,
        })
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut by_namespace: BTreeMap<&str, Vec<&Object>> = BTreeMap::new();
    for policy in facts.cluster().of_kind("NetworkPolicy") {
        by_namespace.entry(policy.namespace.as_deref().unwrap_or_default()).or_default().push(policy);
    }
    let mut findings = Vec::new();
    for (namespace, policies) in by_namespace {
        // (cut) → (pods, policies that isolate them)
        let mut cuts: BTreeMap<Cut, (Vec<&Object>, Vec<&Object>)> = BTreeMap::new();
        for pod in facts.cluster().of_kind_in("Pod", namespace).filter(|pod| !pod_health::is_gone(pod)) {
            let labels = pod.labels();
            let selecting: Vec<&Object> = policies
                .iter()
                .copied()
                .filter(|policy| selector::matches(policy.at("/spec/podSelector"), &labels))
                .collect();
            for (direction, section) in [("Ingress", "/spec/ingress"), ("Egress", "/spec/egress")] {
                let isolating: Vec<&Object> = selecting
                    .iter()
                    .copied()
                    .filter(|policy| policy_types(policy).contains(&direction))
                    .collect();
                if isolating.is_empty() {
                    continue;
                }
                let rules: Vec<&Value> =
                    isolating.iter().flat_map(|policy| policy.array_at(section)).collect();
                let cut = match (direction, rules.is_empty()) {
                    ("Ingress", true) => Cut::Ingress,
                    ("Egress", true) => Cut::Egress,
                    ("Egress", false) if !rules.iter().any(|rule| allows_dns(rule)) => Cut::Dns,
                    _ => continue,
                };
                let entry = cuts.entry(cut).or_default();
                entry.0.push(pod);
                for policy in isolating {
                    if !entry.1.iter().any(|p| p.name == policy.name) {
                        entry.1.push(policy);
                    }
                }
            }
        }
        for (cut, (pods, mut isolating)) in cuts {
            isolating.sort_by(|a, b| a.name.cmp(&b.name));
            findings.push(finding(facts.cluster(), namespace, cut, &pods, &isolating));
        }
    }
    findings
}

fn finding(
    model: &ClusterModel,
    namespace: &str,
    cut: Cut,
    pods: &[&Object],
    policies: &[&Object],
) -> Finding {
    let services: Vec<&Object> = model
        .of_kind_in("Service", namespace)
        .filter(|service| {
            let wanted = selector::service_selector(service);
            pods.iter().any(|pod| pod.matches_labels(&wanted))
        })
        .collect();
    let service_names: Vec<&str> = services.iter().map(|service| service.name.as_str()).collect();
    let policy_names: Vec<String> = policies
        .iter()
        .map(|policy| {
            let deny_all = selector::is_empty(policy.at("/spec/podSelector"));
            if deny_all { format!("{} (every pod)", policy.name) } else { policy.name.clone() }
        })
        .collect();
    let count = pods.len();
    let noun = if count == 1 { "pod" } else { "pods" };
    let (what, severity) = match cut {
        Cut::Ingress if services.is_empty() => ("all ingress", Severity::P3),
        Cut::Ingress => ("all ingress", Severity::P1),
        Cut::Egress => ("all egress (DNS included)", Severity::P2),
        Cut::Dns => ("DNS egress (port 53)", Severity::P2),
    };
    let behind = if service_names.is_empty() {
        String::new()
    } else {
        format!(" (Services {})", service_names.join(", "))
    };
    let plural = if policies.len() == 1 { "NetworkPolicy" } else { "NetworkPolicies" };
    let direction = if cut == Cut::Ingress { "to" } else { "from" };
    let mut finding = DIAGNOSTIC.finding(
        severity,
        format!(
            "Namespace {namespace}: {what} {direction} {count} {noun} cut by {plural} {}{behind}",
            policy_names.join(", ")
        ),
    );
    for policy in policies {
        finding = finding.object(policy.reference());
        let spec = policy.at("/spec").cloned().unwrap_or(Value::Null);
        finding = finding.evidence(Evidence::field(policy.reference(), "/spec", &spec));
    }
    for pod in pods.iter().take(LISTED_PODS) {
        finding = finding.object(pod.reference());
    }
    let names: Vec<&str> = pods.iter().map(|pod| pod.name.as_str()).collect();
    finding = finding.evidence(Evidence::note(format!("affected pods: {}", names.join(", "))));
    for service in &services {
        finding = finding.object(service.reference());
    }
    let s = if policies.len() == 1 { "s" } else { "" };
    let explanation = match cut {
        Cut::Ingress => format!(
            "{plural} {} select{s} these pods for ingress and none of them has an ingress rule, so \
             every incoming connection from other pods, other namespaces and the ingress controller is \
             dropped (the kubelet's probes from the node still pass with most CNIs).{}",
            policy_names.join(", "),
            if services.is_empty() {
                " No Service selects the pods, so this may be intended isolation.".to_owned()
            } else {
                let (noun, verb) =
                    if services.len() == 1 { ("Service", "answers") } else { ("Services", "answer") };
                format!(
                    " {noun} {} therefore {verb} nothing although the pods are Ready.",
                    service_names.join(", ")
                )
            }
        ),
        Cut::Egress => format!(
            "{plural} {} isolate{s} these pods for egress with no egress rule: every outgoing \
             connection is dropped, DNS lookups included, so the pods cannot reach their databases, APIs or \
             even resolve names.",
            policy_names.join(", ")
        ),
        Cut::Dns => format!(
            "{plural} {} allow{s} some egress from these pods, but no rule allows port 53: every name \
             lookup times out, so connections by name fail even to allowed destinations.",
            policy_names.join(", ")
        ),
    };
    let mut finding = finding.explanation(explanation);
    for policy in policies {
        finding = finding.remediation(kubectl::describe(&policy.reference()));
    }
    // A complete policy on one line, so the command can be pasted as it is; the reader narrows
    // its podSelector or sources before applying.
    let policy = match cut {
        Cut::Ingress => {
            r#"{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"allow-same-namespace"},"spec":{"podSelector":{},"policyTypes":["Ingress"],"ingress":[{"from":[{"podSelector":{}}]}]}}"#
        }
        Cut::Egress | Cut::Dns => {
            r#"{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"allow-dns-egress"},"spec":{"podSelector":{},"policyTypes":["Egress"],"egress":[{"ports":[{"port":53,"protocol":"UDP"},{"port":53,"protocol":"TCP"}]}]}}"#
        }
    };
    finding
        .remediation(Kubectl::new("get networkpolicies").namespace(namespace).arg("-o yaml"))
        .remediation(Kubectl::new("apply").namespace(namespace).arg("-f -").joined("<<<", policy))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    const PODS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop, labels: {app: api}}
status: {phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: worker-1, namespace: shop, labels: {app: worker}}
status: {phase: Running}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}}
"#;

    #[test]
    fn default_deny_ingress_and_egress_without_dns() {
        let fixture = format!(
            "{PODS}{}",
            r#"
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: worker-egress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: worker}}
  policyTypes: [Egress]
  egress: [{to: [{podSelector: {matchLabels: {app: db}}}], ports: [{port: 5432}]}]
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 network-policy-isolation Namespace shop: all ingress to 2 pods cut by NetworkPolicy default-deny (every pod) (Services api)
              objects: NetworkPolicy/shop/default-deny, Pod/shop/api-1, Pod/shop/worker-1, Service/shop/api
              field NetworkPolicy/shop/default-deny /spec = {"podSelector":{},"policyTypes":["Ingress"]}
              note: affected pods: api-1, worker-1
              why: NetworkPolicy default-deny (every pod) selects these pods for ingress and none of them has an ingress rule, so every incoming connection from other pods, other namespaces and the ingress controller is dropped (the kubelet's probes from the node still pass with most CNIs). Service api therefore answers nothing although the pods are Ready.
              $ kubectl describe networkpolicy default-deny -n shop
              $ kubectl get networkpolicies -n shop -o yaml
              $ kubectl apply -n shop -f - <<<'{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"allow-same-namespace"},"spec":{"podSelector":{},"policyTypes":["Ingress"],"ingress":[{"from":[{"podSelector":{}}]}]}}'
            P2 network-policy-isolation Namespace shop: DNS egress (port 53) from 1 pod cut by NetworkPolicy worker-egress
              objects: NetworkPolicy/shop/worker-egress, Pod/shop/worker-1
              field NetworkPolicy/shop/worker-egress /spec = {"egress":[{"ports":[{"port":5432}],"to":[{"podSelector":{"matchLabels":{"app":"db"}}}]}],"podSelector":{"matchLabels":{"app":"worker"}},"policyTypes":["Egress"]}
              note: affected pods: worker-1
              why: NetworkPolicy worker-egress allows some egress from these pods, but no rule allows port 53: every name lookup times out, so connections by name fail even to allowed destinations.
              $ kubectl describe networkpolicy worker-egress -n shop
              $ kubectl get networkpolicies -n shop -o yaml
              $ kubectl apply -n shop -f - <<<'{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"allow-dns-egress"},"spec":{"podSelector":{},"policyTypes":["Egress"],"egress":[{"ports":[{"port":53,"protocol":"UDP"},{"port":53,"protocol":"TCP"}]}]}}'
        "#]],
        );
    }

    #[test]
    fn allowing_rules_and_dns_egress_cut_nothing() {
        let fixture = format!(
            "{PODS}{}",
            r#"
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow, namespace: shop}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {}}]}]
  egress: [{ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]}, {ports: [{port: 5432}]}]
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
