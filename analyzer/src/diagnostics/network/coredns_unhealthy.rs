//! Diagnostic `coredns-unhealthy`: cluster DNS (CoreDNS) unhealthy;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::Object;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::containers;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::facts::network::pod_health;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "coredns-unhealthy",
    category: Category::Network,
    title: "Cluster DNS (CoreDNS) unhealthy",
    severities: &[Severity::P0, Severity::P1],
    what: "The cluster DNS: CoreDNS / kube-dns pods (`k8s-app=kube-dns` in kube-system, OpenShift's \
           `dns-default`) that are not Ready, and its Deployment short of ready replicas. The evidence \
           holds each pod's trouble, the last lines of a failing pod's log and the Corefile of the \
           `coredns` ConfigMap.",
    why: "Every name lookup of the cluster goes through it: without DNS, pods cannot reach Services by name.",
    fix: "Read the DNS pods' logs and events; fix the Corefile (loops, bad upstreams) or what keeps the pods \
          from running, then restart the Deployment.",
    example: "`Cluster DNS down: 0 of 2 CoreDNS pods Ready`, with `plugin/loop: Loop (127.0.0.1:55953 -> \
              :53) detected for zone \".\"` from the log and the Corefile forwarding to `/etc/resolv.conf`.",
    needs: &[],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let pods = facts.dns_pods();
    let deployment = ["coredns", "kube-dns"]
        .iter()
        .find_map(|name| facts.cluster().get("Deployment", Some("kube-system"), name));
    let unhealthy: Vec<(&Object, String)> =
        pods.iter().filter_map(|pod| pod_health::trouble(pod).map(|why| (*pod, why))).collect();
    let ready_pods = pods.len() - unhealthy.len();
    let short = deployment.and_then(|deployment| {
        let wanted = deployment.i64_at("/spec/replicas").unwrap_or(1);
        let ready = deployment.i64_at("/status/readyReplicas").unwrap_or(0);
        (ready < wanted).then_some((ready, wanted))
    });
    if unhealthy.is_empty() && short.is_none() {
        return Vec::new();
    }
    let none_ready = ready_pods == 0 && short.is_none_or(|(ready, _)| ready == 0);
    let severity = if none_ready { Severity::P0 } else { Severity::P1 };
    let title = match (short, pods.len()) {
        (Some((ready, wanted)), _) if none_ready => {
            format!("Cluster DNS down: {ready} of {wanted} CoreDNS replicas Ready")
        }
        (Some((ready, wanted)), _) => {
            format!("Cluster DNS degraded: {ready} of {wanted} CoreDNS replicas Ready")
        }
        (None, total) if none_ready => format!("Cluster DNS down: 0 of {total} DNS pods Ready"),
        (None, total) => format!("Cluster DNS degraded: {ready_pods} of {total} DNS pods Ready"),
    };
    let mut finding = DIAGNOSTIC.finding(severity, title);
    if let Some(deployment) = deployment {
        let reference = deployment.reference();
        finding = finding.object(reference.clone());
        for pointer in ["/spec/replicas", "/status/readyReplicas", "/status/unavailableReplicas"] {
            if let Some(value) = deployment.at(pointer) {
                finding = finding.evidence(Evidence::field(reference.clone(), pointer, value));
            }
        }
    }
    for (pod, why) in &unhealthy {
        let node = pod.str_at("/spec/nodeName").map(|node| format!(" on {node}")).unwrap_or_default();
        finding = finding
            .object(pod.reference())
            .evidence(Evidence::note(format!("pod {}{node}: {why}", pod.name)));
    }
    if let Some((pod, _)) = unhealthy.first() {
        let namespace = pod.namespace.as_deref().unwrap_or_default();
        let restarted = containers::statuses(pod).iter().any(|status| status.restart_count() > 0);
        let container = containers::statuses(pod).first().map(|status| status.name).unwrap_or("coredns");
        let words = containers::last_words(facts.cluster(), namespace, &pod.name, container, restarted)
            .or_else(|| containers::last_words(facts.cluster(), namespace, &pod.name, container, false));
        if let Some(words) = words {
            for line in &words.lines {
                finding = finding.evidence(Evidence::log_line(&words.log.path, line));
            }
        }
    }
    let corefile = facts.cluster().get("ConfigMap", Some("kube-system"), "coredns");
    if let Some(configmap) = corefile
        && let Some(text) = configmap.at("/data/Corefile").and_then(Value::as_str)
    {
        finding = finding.object(configmap.reference()).evidence(Evidence::field(
            configmap.reference(),
            "/data/Corefile",
            &text.into(),
        ));
    }
    let mut explanation = if none_ready {
        "No DNS pod of the cluster is Ready: every lookup of a Service or external name from any pod \
         fails, so applications everywhere fail to connect at once. Fix this before chasing the errors \
         it causes."
            .to_owned()
    } else {
        "Part of the cluster DNS is not Ready: lookups are slower and some time out, which shows up as \
         intermittent connection errors in many applications."
            .to_owned()
    };
    if let Some((_, why)) = unhealthy.first() {
        explanation.push_str(&format!(" The first failing pod: {why}."));
    }
    if corefile.is_some() {
        explanation.push_str(
            " Check the Corefile for a forward loop (`forward . /etc/resolv.conf` on nodes whose resolver is \
             127.0.0.x) or an unreachable upstream.",
        );
    }
    let finding = finding
        .explanation(explanation)
        .remediation(Kubectl::new("get pods -n kube-system -l k8s-app=kube-dns -o wide"))
        .remediation(Kubectl::new("logs -n kube-system -l k8s-app=kube-dns --tail=50"))
        .remediation(Kubectl::new("get configmap coredns -n kube-system -o yaml"))
        .remediation(match deployment {
            Some(deployment) => kubectl::rollout("restart", &deployment.reference()),
            None => Kubectl::new("rollout restart deployment/coredns -n kube-system"),
        });
    vec![finding]
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system}
spec: {replicas: 2}
status: {readyReplicas: 0, unavailableReplicas: 2}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  Corefile: |
    .:53 {
        forward . /etc/resolv.conf
        loop
    }
"#;

    fn pod(name: &str, status: &str) -> String {
        format!(
            r#"
---
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: kube-system, labels: {{k8s-app: kube-dns}}}}
spec: {{nodeName: n1, containers: [{{name: coredns}}]}}
status: {status}
"#
        )
    }

    #[test]
    fn no_dns_pod_ready_is_p0_with_the_log_and_corefile() {
        let looping = r#"{phase: Running, conditions: [{type: Ready, status: "False"}], containerStatuses: [{name: coredns, ready: false, restartCount: 8, state: {waiting: {reason: CrashLoopBackOff}}}]}"#;
        let fixture = format!(
            "{DEPLOYMENT}{}{}{}",
            pod("coredns-5d78c-a", looping),
            pod("coredns-5d78c-b", looping),
            r#"
---
kind: ContainerLog
namespace: kube-system
pod: coredns-5d78c-a
container: coredns
previous: true
lines:
- "[INFO] plugin/reload: Running configuration SHA512 = 591cf328"
- "[FATAL] plugin/loop: Loop (127.0.0.1:55953 -> :53) detected for zone \".\""
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P0 coredns-unhealthy Cluster DNS down: 0 of 2 CoreDNS replicas Ready
              objects: Deployment/kube-system/coredns, Pod/kube-system/coredns-5d78c-a, Pod/kube-system/coredns-5d78c-b, ConfigMap/kube-system/coredns
              field Deployment/kube-system/coredns /spec/replicas = 2
              field Deployment/kube-system/coredns /status/readyReplicas = 0
              field Deployment/kube-system/coredns /status/unavailableReplicas = 2
              note: pod coredns-5d78c-a on n1: CrashLoopBackOff in container coredns, 8 restarts
              note: pod coredns-5d78c-b on n1: CrashLoopBackOff in container coredns, 8 restarts
              log logs/kube-system/coredns-5d78c-a/coredns.previous.log:1: [INFO] plugin/reload: Running configuration SHA512 = 591cf328
              log logs/kube-system/coredns-5d78c-a/coredns.previous.log:2: [FATAL] plugin/loop: Loop (127.0.0.1:55953 -> :53) detected for zone "."
              field ConfigMap/kube-system/coredns /data/Corefile = .:53 {
                forward . /etc/resolv.conf
                loop
            }

              why: No DNS pod of the cluster is Ready: every lookup of a Service or external name from any pod fails, so applications everywhere fail to connect at once. Fix this before chasing the errors it causes. The first failing pod: CrashLoopBackOff in container coredns, 8 restarts. Check the Corefile for a forward loop (`forward . /etc/resolv.conf` on nodes whose resolver is 127.0.0.x) or an unreachable upstream.
              $ kubectl get pods -n kube-system -l k8s-app=kube-dns -o wide
              $ kubectl logs -n kube-system -l k8s-app=kube-dns --tail=50
              $ kubectl get configmap coredns -n kube-system -o yaml
              $ kubectl rollout restart deployment/coredns -n kube-system
        "#]],
        );
    }

    #[test]
    fn ready_dns_is_fine() {
        let ready = r#"{phase: Running, conditions: [{type: Ready, status: "True"}]}"#;
        let fixture = format!(
            "{}{}",
            DEPLOYMENT.replace("readyReplicas: 0, unavailableReplicas: 2", "readyReplicas: 2"),
            pod("coredns-5d78c-a", ready)
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
