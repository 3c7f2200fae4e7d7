//! Rule `dns-down`: CoreDNS is down and pods fail to resolve names.
//!
//! Fires when pods log the core `dns_resolution` errors or CoreDNS pods are not all Ready.
//! Both together are likely (60, plus 8 per pod with DNS errors up to 4, plus 10 when no CoreDNS
//! pod is Ready); CoreDNS failing alone is a risk (35); DNS errors in two or more pods while
//! CoreDNS is Ready point past it, at upstream DNS or a network policy (30). DNS errors that are
//! history at the capture (an install window the pods have recovered from) do not count.

use kubesnap_shared::model::ObjectRef;

use super::{Context, Hypothesis, Step, first_failure};
use crate::facts::kubectl::Kubectl;
use crate::facts::logs::families::ERRORS;
use crate::facts::logs::patterns::hits_in;
use crate::facts::logs::{recency, sources};
use crate::facts::network::pod_health;
use crate::finding::Severity;

pub(super) fn rule(context: &Context<'_, '_>) -> Vec<Hypothesis> {
    let facts = context.facts;
    let Some(family) = ERRORS.iter().find(|family| family.code == "dns_resolution") else {
        return Vec::new();
    };
    let dns = facts.dns_pods();
    let ready = dns.iter().filter(|pod| pod_health::is_ready(pod)).count();
    let mut clients: Vec<(ObjectRef, u64, Option<jiff::Timestamp>)> = Vec::new();
    let installed = recency::install_completed(facts.cluster());
    for source in sources::sources(facts.cluster()) {
        let current = hits_in(family, &source)
            .filter(|hits| !recency::of_hits(facts.cluster(), &source, hits.last, installed).is_history());
        if let Some(hits) = current {
            match clients.iter_mut().find(|(member, _, _)| *member == source.member) {
                Some(client) => {
                    client.1 += hits.count;
                    client.2 = client.2.min(hits.first).or(client.2).or(hits.first);
                }
                None => clients.push((source.member.clone(), hits.count, hits.first)),
            }
        }
    }
    let down = !dns.is_empty() && ready < dns.len();
    let (score, title) = match (down, clients.len()) {
        (false, 0 | 1) => return Vec::new(),
        (false, count) => (
            30,
            format!(
                "DNS resolution fails in {count} pods while CoreDNS is Ready: upstream DNS or a network \
                 policy"
            ),
        ),
        (true, 0) => (35, format!("CoreDNS is degraded ({ready} of {} pods Ready)", dns.len())),
        (true, count) => (
            60 + 8 * count.min(4) as u32 + if ready == 0 { 10 } else { 0 },
            format!(
                "CoreDNS is down ({ready} of {} pods Ready) and DNS resolution fails in {count} pods",
                dns.len()
            ),
        ),
    };
    let mut hypothesis = context.hypothesis("dns-down", title, score, Severity::P1);
    let mut objects: Vec<ObjectRef> = Vec::new();
    for pod in dns {
        objects.push(pod.reference());
        if let Some(trouble) = pod_health::trouble(pod) {
            hypothesis.chain.push(Step::new(
                first_failure(facts.cluster(), pod),
                pod.reference(),
                format!("CoreDNS pod {trouble}"),
            ));
        }
    }
    for (member, count, first) in &clients {
        objects.push(member.clone());
        hypothesis.chain.push(Step::new(
            *first,
            member.clone(),
            format!("first of {count} DNS resolution errors"),
        ));
    }
    hypothesis.evidence.push(format!("cluster DNS pods: {ready} of {} Ready", dns.len()));
    if !clients.is_empty() {
        let names: Vec<String> =
            clients.iter().map(|(member, count, _)| format!("{} ({count})", member.name)).collect();
        hypothesis.evidence.push(format!("pods logging DNS resolution errors: {}", names.join(", ")));
    }
    if let Some(deployment) = ["coredns", "kube-dns"]
        .iter()
        .find_map(|name| facts.cluster().get("Deployment", Some("kube-system"), name))
    {
        objects.push(deployment.reference());
    }
    hypothesis.findings =
        context.linked(&["coredns-unhealthy", "log-error-patterns", "cascading-failures"], &objects);
    hypothesis.findings.retain(|index| {
        let finding = &context.findings[*index];
        finding.code != "log-error-patterns" || finding.title.contains(family.title)
    });
    hypothesis.objects = objects;
    hypothesis.mitigation = vec![
        Kubectl::new("get pods -n kube-system -l k8s-app=kube-dns -o wide").into(),
        Kubectl::new("logs -n kube-system -l k8s-app=kube-dns --tail=50").into(),
        Kubectl::new("rollout restart deployment/coredns -n kube-system").into(),
        Kubectl::new("get networkpolicy -A").into(),
    ];
    vec![hypothesis]
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::incident::causes::tests::of_rule;

    fn coredns(name: &str, ready: bool) -> String {
        let state = if ready {
            r#"conditions: [{type: Ready, status: "True"}], containerStatuses: [{name: coredns, ready: true, restartCount: 0, state: {running: {}}}]"#
        } else {
            r#"conditions: [{type: Ready, status: "False"}], containerStatuses: [{name: coredns, ready: false, restartCount: 7, state: {waiting: {reason: CrashLoopBackOff}}, lastState: {terminated: {exitCode: 1, reason: Error, finishedAt: "2025-06-01T11:30:00Z"}}}]"#
        };
        format!(
            "\n---\nkind: Pod\napiVersion: v1\nmetadata: {{name: {name}, namespace: kube-system, labels: \
             {{k8s-app: kube-dns}}}}\nspec: {{containers: [{{name: coredns, image: coredns:1.11}}]}}\n\
             status: {{phase: Running, {state}}}\n"
        )
    }

    fn client(pod: &str) -> String {
        format!(
            "\n---\nkind: ContainerLog\nnamespace: shop\npod: {pod}\ncontainer: app\n\
             lines: [\"2025-06-01T11:31:00Z ERROR dial tcp: lookup db.shop: no such host\"]\n"
        )
    }

    #[test]
    fn coredns_down_and_dns_errors_in_several_pods() {
        let fixture =
            [coredns("coredns-a", false), coredns("coredns-b", false), client("api-1"), client("web-1")]
                .concat();
        expect![[r#"
            1. [dns-down 100 P0] CoreDNS is down (0 of 2 pods Ready) and DNS resolution fails in 2 pods
               2025-06-01T11:30:00Z Pod/kube-system/coredns-a: CoreDNS pod CrashLoopBackOff in container coredns, 7 restarts
               2025-06-01T11:30:00Z Pod/kube-system/coredns-b: CoreDNS pod CrashLoopBackOff in container coredns, 7 restarts
               2025-06-01T11:31:00Z Pod/shop/api-1: first of 1 DNS resolution errors
               2025-06-01T11:31:00Z Pod/shop/web-1: first of 1 DNS resolution errors
               finding coredns-unhealthy: Cluster DNS down: 0 of 2 DNS pods Ready
               finding crash-loop-backoff: Pod kube-system/coredns-a: container coredns crash-looping (Error, exit code 1)
               finding crash-loop-backoff: Pod kube-system/coredns-b: container coredns crash-looping (Error, exit code 1)
               finding log-error-patterns: Pod shop/api-1: DNS resolution errors in logs (1 line, 1 pod)
               finding log-error-patterns: Pod shop/web-1: DNS resolution errors in logs (1 line, 1 pod)
               evidence: cluster DNS pods: 0 of 2 Ready
               evidence: pods logging DNS resolution errors: api-1 (1), web-1 (1)
               evidence: consequence: Pod kube-system/coredns-a (container coredns) keeps exiting (Error, exit code 1) and left no log
               evidence: consequence: Pod kube-system/coredns-b (container coredns) keeps exiting (Error, exit code 1) and left no log
               $ kubectl get pods -n kube-system -l k8s-app=kube-dns -o wide
               $ kubectl logs -n kube-system -l k8s-app=kube-dns --tail=50
               $ kubectl rollout restart deployment/coredns -n kube-system
               $ kubectl get networkpolicy -A
        "#]]
        .assert_eq(&of_rule(&fixture, "dns-down"));
    }

    #[test]
    fn dns_errors_in_one_pod_with_coredns_ready_are_no_cause() {
        let fixture = [coredns("coredns-a", true), client("api-1")].concat();
        expect![[r#""#]].assert_eq(&of_rule(&fixture, "dns-down"));
    }
}
