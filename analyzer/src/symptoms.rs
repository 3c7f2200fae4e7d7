//! One finding per problem across codes: a workload or Service that is unavailable only because
//! of what its pods' findings already say (a crash loop, an image that cannot be pulled, an
//! OOM kill, a pod that cannot be scheduled, a missing ConfigMap key, a failing probe, a refused
//! mount, a NotReady node) is that problem seen from above. Its finding is folded into the
//! pods' most severe finding as the impact (`impact: Deployment shop/api: 0 of 2 replicas
//! available`), which takes the severity of that impact, so the report shows one problem once,
//! with what it takes down; the folded finding is kept whole in the host's `folded` (a diff of
//! two bundles still matches it). A crash loop whose every pod was OOMKilled is folded the same
//! way into the `oom-killed` finding: the kill is why it loops.
//!
//! A workload finding stays a finding of its own when something about it is unexplained: a pod
//! that is not Ready with no finding saying why, or fewer pods than the replicas it lacks (a
//! ReplicaSet refused by admission has no pod to explain it). The impact view of the incident
//! summary reads the cluster, not these findings, so the workload still shows as down.

use std::collections::BTreeSet;

use kubesnap_shared::model::ObjectRef;

use crate::diagnostics::network::service_without_endpoints;
use crate::diagnostics::nodes::node_not_ready;
use crate::diagnostics::pods::{
    crash_loop_backoff, create_container_config_error, image_pull_backoff, oom_killed, pod_not_ready,
    pod_pending_unschedulable,
};
use crate::diagnostics::storage::volume_mount_failures;
use crate::diagnostics::workloads::{
    daemonset_pods_unavailable, deployment_replicas_unavailable, deployment_rollout_stuck,
    statefulset_replicas_unavailable,
};
use crate::facts::Facts;
use crate::facts::network::pod_health;
use crate::finding::{Evidence, Finding, Status};

/// Findings that say a workload or Service is unavailable without saying why.
const UNAVAILABLE: [&str; 5] = [
    deployment_replicas_unavailable::DIAGNOSTIC.code,
    statefulset_replicas_unavailable::DIAGNOSTIC.code,
    daemonset_pods_unavailable::DIAGNOSTIC.code,
    deployment_rollout_stuck::DIAGNOSTIC.code,
    service_without_endpoints::DIAGNOSTIC.code,
];

/// Findings that say why a pod is not available.
const WHY_UNAVAILABLE: [&str; 8] = [
    crash_loop_backoff::DIAGNOSTIC.code,
    image_pull_backoff::DIAGNOSTIC.code,
    oom_killed::DIAGNOSTIC.code,
    create_container_config_error::DIAGNOSTIC.code,
    pod_pending_unschedulable::DIAGNOSTIC.code,
    pod_not_ready::DIAGNOSTIC.code,
    volume_mount_failures::DIAGNOSTIC.code,
    node_not_ready::DIAGNOSTIC.code,
];

/// Symptoms and what explains them, folded in this order: a workload down because its pods
/// crash-loop, then a crash loop whose every pod is OOMKilled (the kill is why it loops).
const LAYERS: [(&[&str], &[&str]); 2] = [
    (&UNAVAILABLE, &WHY_UNAVAILABLE),
    (&[crash_loop_backoff::DIAGNOSTIC.code], &[oom_killed::DIAGNOSTIC.code]),
];

/// Folds every symptom finding its pods' findings explain into the most severe of them.
pub(crate) fn fold(facts: &Facts<'_>, findings: Vec<Finding>) -> Vec<Finding> {
    LAYERS.iter().fold(findings, |findings, (symptoms, explanations)| {
        fold_layer(facts, findings, symptoms, explanations)
    })
}

fn fold_layer(
    facts: &Facts<'_>,
    findings: Vec<Finding>,
    symptoms: &[&str],
    explanations: &[&str],
) -> Vec<Finding> {
    let ongoing = |finding: &Finding| finding.status == Status::Ongoing;
    let explains = |finding: &Finding| ongoing(finding) && explanations.contains(&finding.code);
    let explained: BTreeSet<ObjectRef> = findings
        .iter()
        .filter(|finding| explains(finding))
        .flat_map(|finding| finding.objects.iter().filter(|object| object.kind == "Pod").cloned())
        .collect();
    let mut hosts: Vec<(usize, usize)> = Vec::new();
    for (index, symptom) in findings.iter().enumerate() {
        if !ongoing(symptom) || !symptoms.contains(&symptom.code) {
            continue;
        }
        let Some(pods) = unavailable_pods(facts, symptom) else { continue };
        if pods.is_empty() || !pods.iter().all(|pod| explained.contains(pod)) {
            continue;
        }
        let host = findings
            .iter()
            .enumerate()
            .filter(|(_, finding)| explains(finding))
            .filter(|(_, finding)| finding.objects.iter().any(|object| pods.contains(object)))
            .min_by(|(_, a), (_, b)| a.sort_key().cmp(&b.sort_key()));
        if let Some((host, _)) = host {
            hosts.push((index, host));
        }
    }
    let mut findings: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    for (symptom, host) in hosts {
        let Some(mut symptom) = findings[symptom].take() else { continue };
        let Some(host) = findings[host].as_mut() else { continue };
        host.severity = host.severity.min(symptom.severity);
        host.evidence.push(Evidence::note(format!("impact: {} ({})", symptom.title, symptom.code)));
        host.evidence.extend(symptom.evidence.iter().filter(|e| matches!(e, Evidence::Note { .. })).cloned());
        for command in &symptom.remediation {
            if !host.remediation.contains(command) {
                host.remediation.push(command.clone());
            }
        }
        // The host's objects stay its own: a finding's identity (code and objects) must not
        // change with what was folded into it.
        host.folded.extend(std::mem::take(&mut symptom.folded));
        host.folded.push(symptom);
    }
    findings.into_iter().flatten().collect()
}

/// The pods whose unavailability the symptom reports: the not-Ready pods of its workload (or
/// the pods a Service or crash-loop finding names). `None` when the pods cannot account for it: a workload
/// that lacks more replicas than it has pods failing.
fn unavailable_pods(facts: &Facts<'_>, symptom: &Finding) -> Option<Vec<ObjectRef>> {
    let subject = symptom.objects.first()?;
    let model = facts.cluster();
    let named = || symptom.objects.iter().filter(|object| object.kind == "Pod").cloned().collect();
    if subject.kind == "Service" || symptom.code == crash_loop_backoff::DIAGNOSTIC.code {
        return Some(named());
    }
    let workload = model.get(&subject.kind, subject.namespace.as_deref(), &subject.name)?;
    let pods: Vec<ObjectRef> = facts
        .pods_of_workload(subject)
        .iter()
        .filter(|pod| !pod_health::is_gone(pod) && !pod_health::is_ready(pod))
        .map(|pod| pod.reference())
        .collect();
    let (desired, available) = crate::facts::workload::replicas(workload)?;
    let lacking = usize::try_from(desired - available).unwrap_or(0);
    (pods.len() >= lacking).then_some(pods)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    /// Deployment `api` (2 replicas) with `pods` of its ReplicaSet, each `ready` or not.
    fn deployment(available: u32, pods: &[(&str, bool)]) -> String {
        let mut yaml = format!(
            "kind: Deployment\napiVersion: apps/v1\nmetadata: {{name: api, namespace: shop, uid: d1}}\n\
             spec: {{replicas: 2}}\nstatus: {{availableReplicas: {available}}}\n---\n\
             kind: ReplicaSet\napiVersion: apps/v1\nmetadata:\n  name: api-1\n  namespace: shop\n  uid: r1\n  \
             ownerReferences: [{{kind: Deployment, name: api, uid: d1, controller: true}}]\n"
        );
        for (name, ready) in pods {
            let status = if *ready { "True" } else { "False" };
            yaml.push_str(&format!(
                "---\nkind: Pod\napiVersion: v1\nmetadata:\n  name: {name}\n  namespace: shop\n  \
                 ownerReferences: [{{kind: ReplicaSet, name: api-1, uid: r1, controller: true}}]\n\
                 status:\n  phase: Running\n  conditions: [{{type: Ready, status: '{status}'}}]\n"
            ));
        }
        yaml
    }

    fn object(kind: &str, name: &str) -> ObjectRef {
        ObjectRef { kind: kind.into(), namespace: Some("shop".into()), name: name.into() }
    }

    fn unavailable(severity: crate::finding::Severity) -> Finding {
        deployment_replicas_unavailable::DIAGNOSTIC
            .finding(severity, "Deployment shop/api: 0 of 2 replicas available")
            .object(object("Deployment", "api"))
            .evidence(Evidence::note("Available=False MinimumReplicasUnavailable"))
    }

    fn crash_loop(pods: &[&str]) -> Finding {
        let mut finding = crash_loop_backoff::DIAGNOSTIC
            .finding(crate::finding::Severity::P1, "Deployment shop/api: pods crash-looping")
            .object(object("Deployment", "api"));
        for pod in pods {
            finding = finding.object(object("Pod", pod));
        }
        finding
    }

    fn folded(yaml: &str, findings: Vec<Finding>) -> Vec<(&'static str, String, Vec<String>)> {
        let model = model_from_yaml(yaml);
        fold(&Facts::new(&model), findings)
            .into_iter()
            .map(|finding| {
                let notes = finding
                    .evidence
                    .iter()
                    .filter_map(|e| match e {
                        Evidence::Note { text } => Some(text.clone()),
                        _ => None,
                    })
                    .collect();
                (finding.code, finding.severity.to_string(), notes)
            })
            .collect()
    }

    #[test]
    fn a_deployment_down_because_its_pods_crash_loop_is_the_crash_loop_with_its_impact() {
        let yaml = deployment(0, &[("api-a", false), ("api-b", false)]);
        let findings = vec![crash_loop(&["api-a", "api-b"]), unavailable(crate::finding::Severity::P0)];
        assert_eq!(
            folded(&yaml, findings),
            [(
                "crash-loop-backoff",
                "P0".to_owned(),
                vec![
                    "impact: Deployment shop/api: 0 of 2 replicas available (deployment-replicas-unavailable)"
                        .to_owned(),
                    "Available=False MinimumReplicasUnavailable".to_owned()
                ]
            )]
        );
    }

    #[test]
    fn a_crash_loop_of_oom_killed_pods_is_the_oom_kill_with_both_impacts() {
        let yaml = deployment(0, &[("api-a", false), ("api-b", false)]);
        let oom = oom_killed::DIAGNOSTIC
            .finding(
                crate::finding::Severity::P1,
                "Deployment shop/api: container api OOMKilled (limit 50Mi)",
            )
            .object(object("Deployment", "api"))
            .object(object("Pod", "api-a"))
            .object(object("Pod", "api-b"));
        let findings = vec![crash_loop(&["api-a", "api-b"]), oom, unavailable(crate::finding::Severity::P0)];
        assert_eq!(
            folded(&yaml, findings),
            [(
                "oom-killed",
                "P0".to_owned(),
                vec![
                    "impact: Deployment shop/api: pods crash-looping (crash-loop-backoff)".to_owned(),
                    "impact: Deployment shop/api: 0 of 2 replicas available (deployment-replicas-unavailable)"
                        .to_owned(),
                    "Available=False MinimumReplicasUnavailable".to_owned()
                ]
            )]
        );
    }

    #[test]
    fn a_pod_nothing_explains_keeps_the_workload_finding() {
        // api-b is not Ready and no finding says why: the Deployment's finding says more.
        let yaml = deployment(0, &[("api-a", false), ("api-b", false)]);
        let findings = vec![crash_loop(&["api-a"]), unavailable(crate::finding::Severity::P0)];
        let codes: Vec<&str> = folded(&yaml, findings).into_iter().map(|(code, _, _)| code).collect();
        assert_eq!(codes, ["crash-loop-backoff", "deployment-replicas-unavailable"]);
    }

    #[test]
    fn replicas_without_a_pod_keep_the_workload_finding() {
        // Two replicas lacking, one pod: the other was never created (admission refused it).
        let yaml = deployment(0, &[("api-a", false)]);
        let findings = vec![crash_loop(&["api-a"]), unavailable(crate::finding::Severity::P0)];
        let codes: Vec<&str> = folded(&yaml, findings).into_iter().map(|(code, _, _)| code).collect();
        assert_eq!(codes, ["crash-loop-backoff", "deployment-replicas-unavailable"]);
    }

    #[test]
    fn a_resolved_explanation_explains_nothing() {
        let yaml = deployment(0, &[("api-a", false), ("api-b", false)]);
        let findings =
            vec![crash_loop(&["api-a", "api-b"]).resolved(), unavailable(crate::finding::Severity::P0)];
        let codes: Vec<&str> = folded(&yaml, findings).into_iter().map(|(code, _, _)| code).collect();
        assert_eq!(codes, ["crash-loop-backoff", "deployment-replicas-unavailable"]);
    }
}
