//! Rule `service-selector` (routing): a Service selects no pod because its selector names labels
//! the workload it was written for does not carry (`app=store-front` against pods labelled
//! `app=storefront`), so it has no endpoint and every client of it fails.
//!
//! Fires per Service with a selector that matches no pod of its namespace, when a Deployment,
//! StatefulSet or DaemonSet there has pod-template labels with the same keys and values that
//! differ only in case and separators: the workload it was meant for. A Service that selects
//! nothing and resembles no workload is left alone (services left over on purpose are common).
//! The selector and the labels are quoted side by side. Score 80. Severity P2.
//!
//! Disproved by: pods with the Service's labels (a workload scaled to 0 or not yet rolled out),
//! or the Service being meant for another workload.

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{Object, labels_match};

use super::{Context, Hypothesis, Step};
use crate::facts::kubectl::Kubectl;
use crate::facts::network::backends;
use crate::facts::network::selector::service_selector;
use crate::finding::Severity;

fn template_labels(workload: &Object) -> BTreeMap<String, String> {
    workload
        .at("/spec/template/metadata/labels")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter().map(|(k, v)| (k.to_string(), v.as_str().unwrap_or_default().to_owned())).collect()
        })
        .unwrap_or_default()
}

/// Whether two label values differ only in case and separators (`store-front`/`storefront`,
/// `My_App`/`myapp`): the same name written twice. Values a letter or two apart are not taken
/// for one: a Service left over from a renamed workload (`kotsadm-nfs-minio` beside
/// `kotsadm-fs-minio`) or written for another (`controller` beside `operator`) is common and is
/// no outage.
fn near(a: &str, b: &str) -> bool {
    let squash = |text: &str| -> String {
        text.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
    };
    squash(a) == squash(b)
}

fn shown(labels: &BTreeMap<String, String>) -> String {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

pub(super) fn rule(context: &Context<'_, '_>) -> Vec<Hypothesis> {
    let facts = context.facts;
    let model = facts.cluster();
    let mut out = Vec::new();
    for service in model.of_kind("Service") {
        let selector = service_selector(service);
        if selector.is_empty() || !backends::of_service(facts, service).pods.is_empty() {
            continue;
        }
        let namespace = service.namespace.as_deref().unwrap_or_default();
        let workloads: Vec<(&Object, BTreeMap<String, String>)> = ["Deployment", "StatefulSet", "DaemonSet"]
            .into_iter()
            .flat_map(|kind| model.of_kind_in(kind, namespace))
            .map(|workload| (workload, template_labels(workload)))
            .collect();
        // A workload the selector does select (scaled to 0, not rolled out) is no mismatch.
        if workloads.iter().any(|(_, labels)| labels_match(&selector, labels)) {
            continue;
        }
        let meant = workloads.iter().find(|(_, labels)| {
            selector
                .iter()
                .all(|(key, value)| labels.get(key).is_some_and(|have| have == value || near(have, value)))
                && selector.iter().any(|(key, value)| labels.get(key) != Some(value))
        });
        let Some((workload, labels)) = meant else { continue };
        let differing: Vec<String> = selector
            .iter()
            .filter(|(key, value)| labels.get(*key) != Some(*value))
            .map(|(key, value)| {
                format!(
                    "{key}={value} (its pods have {key}={})",
                    labels.get(key).map(String::as_str).unwrap_or_default()
                )
            })
            .collect();
        let title = format!(
            "Service {namespace}/{} selects no pod: its selector {} does not match the labels of {} {} ({})",
            service.name,
            shown(&selector),
            workload.kind,
            workload.name,
            differing.join("; ")
        );
        let mut hypothesis = context.hypothesis("service-selector", title, 80, Severity::P2);
        hypothesis.own_severity = Some(Severity::P2);
        let ready = workload.i64_at("/status/readyReplicas").unwrap_or(0);
        hypothesis.evidence.push(format!(
            "Service {namespace}/{} selector: {}; no pod in namespace {namespace} carries it, so it has \
             no endpoints",
            service.name,
            shown(&selector)
        ));
        hypothesis.evidence.push(format!(
            "{} {}'s pod template labels: {} ({ready} ready replicas the Service would serve)",
            workload.kind,
            workload.name,
            shown(labels)
        ));
        hypothesis.chain.push(Step::new(
            service.created_at(),
            service.reference(),
            format!("selector {} matches no pod", shown(&selector)),
        ));
        hypothesis.disproved_by.push(format!(
            "pods labelled {} in namespace {namespace} (a workload scaled to 0 or not yet rolled out)",
            shown(&selector)
        ));
        hypothesis
            .disproved_by
            .push(format!("Service {} meant for another workload than {}", service.name, workload.name));
        let objects = vec![service.reference(), workload.reference()];
        hypothesis.findings =
            context.linked(&["service-without-endpoints", "service-selector-mismatch"], &objects);
        hypothesis.objects = objects;
        hypothesis
            .mitigation
            .push(Kubectl::new("get endpoints").name(&service.name).namespace(namespace).into());
        hypothesis.mitigation.push(Kubectl::new("get pods").namespace(namespace).arg("--show-labels").into());
        out.push(hypothesis);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::incident::causes::tests::of_rule;

    const STORY: &str = r#"
kind: Service
apiVersion: v1
metadata: {name: storefront, namespace: shop}
spec: {selector: {app: store-front}, ports: [{port: 80, targetPort: 8080}]}
---
kind: Deployment
apiVersion: apps/v1
metadata: {name: storefront, namespace: shop}
spec: {replicas: 2, template: {metadata: {labels: {app: storefront}}}}
status: {readyReplicas: 2}
---
kind: Pod
apiVersion: v1
metadata: {name: storefront-1, namespace: shop, labels: {app: storefront}}
status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
"#;

    #[test]
    fn a_selector_that_misses_its_workload_names_both_label_sets() {
        let out = of_rule(STORY, "service-selector");
        assert!(
            out.contains(
                "Service shop/storefront selects no pod: its selector app=store-front does not \
                          match the labels of Deployment storefront (app=store-front (its pods have \
                          app=storefront))"
            ),
            "{out}"
        );
    }

    #[test]
    fn a_service_for_another_workload_is_no_mismatch() {
        let out = of_rule(&STORY.replace("app: store-front", "app: controller"), "service-selector");
        assert_eq!(out, "");
    }

    #[test]
    fn a_workload_scaled_to_zero_is_no_mismatch() {
        let out =
            of_rule(&STORY.replace("{app: storefront}}}}", "{app: store-front}}}}"), "service-selector");
        assert_eq!(out, "");
    }
}
