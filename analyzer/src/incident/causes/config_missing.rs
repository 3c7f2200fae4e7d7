//! Rule `config-missing` (start-up): containers wait in `CreateContainerConfigError` because a
//! ConfigMap, a Secret or one of their keys that the spec references is missing.
//!
//! Fires per workload (or lone pod). The kubelet's message is quoted (`configmap "app" not
//! found`, `couldn't find key url in ConfigMap shop/app`) and checked against the bundle: the
//! object absent from a namespace whose objects of that kind were captured, or present without
//! the key (its keys are listed). Score 80, 85 when the bundle confirms it. Severity from the
//! impact.
//!
//! Disproved by: the object and key present in the namespace (then the pod has not retried), or
//! the container running in a newer capture.

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object, ObjectRef};

use super::{Context, Hypothesis, Step, clip, impact, subject_of};
use crate::facts::kubectl::Kubectl;
use crate::facts::{containers, kubectl};
use crate::finding::Severity;

/// `(kind, name, key)` the message says is missing.
fn missing(message: &str) -> Option<(&'static str, String, Option<String>)> {
    let lower = message.to_lowercase();
    if let Some(at) = lower.find("couldn't find key ") {
        let rest = &message[at + "couldn't find key ".len()..];
        let mut words = rest.split_whitespace();
        let key = words.next()?.to_owned();
        let _in = words.next();
        let kind = words.next()?;
        let object = words.next()?.trim_end_matches(['.', ',']);
        let name = object.rsplit('/').next().unwrap_or(object).to_owned();
        let kind = if kind.eq_ignore_ascii_case("secret") { "Secret" } else { "ConfigMap" };
        return Some((kind, name, Some(key)));
    }
    for (word, kind) in [("configmap \"", "ConfigMap"), ("secret \"", "Secret")] {
        if let Some(at) = lower.find(word).filter(|_| lower.contains("not found")) {
            let rest = &message[at + word.len()..];
            return Some((kind, rest.split('"').next()?.to_owned(), None));
        }
    }
    None
}

/// Whether the bundle confirms it: the object absent, or present without the key.
fn confirmed(
    model: &ClusterModel,
    namespace: &str,
    (kind, name, key): &(&str, String, Option<String>),
) -> Option<String> {
    if !model.has_kind(kind) {
        return None;
    }
    match (model.get(kind, Some(namespace), name), key) {
        (None, _) => Some(format!("the bundle holds no {kind} {name} in namespace {namespace}")),
        (Some(object), Some(key)) => {
            let keys: Vec<String> = ["/data", "/binaryData", "/stringData"]
                .iter()
                .filter_map(|pointer| object.at(pointer).and_then(Value::as_object))
                .flat_map(|map| map.iter().map(|(k, _)| k.to_string()))
                .collect();
            (!keys.contains(key))
                .then(|| format!("{kind} {namespace}/{name} has keys {} but not {key}", keys.join(", ")))
        }
        (Some(_), None) => None,
    }
}

pub(super) fn rule(context: &Context<'_, '_>) -> Vec<Hypothesis> {
    let facts = context.facts;
    let model = facts.cluster();
    let mut groups: BTreeMap<ObjectRef, Vec<(&Object, String, String)>> = BTreeMap::new();
    for pod in model.of_kind("Pod") {
        for status in containers::statuses(pod) {
            if status.waiting_reason() != Some("CreateContainerConfigError") {
                continue;
            }
            let message = status.waiting_message().unwrap_or_default().to_owned();
            groups.entry(subject_of(facts, pod)).or_default().push((pod, status.name.to_owned(), message));
        }
    }
    let mut out = Vec::new();
    for (subject, stuck) in groups {
        let (pod, container, message) = &stuck[0];
        let namespace = pod.namespace.as_deref().unwrap_or_default();
        let what = missing(message);
        let confirmation = what.as_ref().and_then(|what| confirmed(model, namespace, what));
        let name = crate::incident::links::label(&subject);
        let title = match &what {
            Some((kind, object, Some(key))) => {
                format!("{name} cannot start: key {key} of {kind} {object} is missing (`{}`)", clip(message))
            }
            Some((kind, object, None)) => {
                format!("{name} cannot start: {kind} {object} is missing (`{}`)", clip(message))
            }
            None => {
                format!("{name} cannot start: its container configuration is refused (`{}`)", clip(message))
            }
        };
        let score = 80 + if confirmation.is_some() { 5 } else { 0 };
        let mut hypothesis = context.hypothesis("config-missing", title, score, Severity::P1);
        let pods: Vec<&Object> = stuck.iter().map(|(pod, _, _)| *pod).collect();
        hypothesis.own_severity = Some(impact(facts, &pods));
        let mut objects = vec![subject.clone()];
        for (pod, container, message) in &stuck {
            objects.push(pod.reference());
            hypothesis.chain.push(Step::new(
                pod.created_at(),
                pod.reference(),
                format!("container {container}: CreateContainerConfigError: {}", clip(message)),
            ));
        }
        if let Some((kind, object, _)) = &what {
            objects.push(ObjectRef {
                kind: (*kind).to_owned(),
                namespace: Some(namespace.to_owned()),
                name: object.clone(),
            });
        }
        hypothesis.evidence.push(format!("the kubelet says: `{}`", clip(message)));
        if let Some(confirmation) = confirmation {
            hypothesis.evidence.push(confirmation);
        }
        hypothesis.disproved_by.push("the object and key present in the namespace".to_owned());
        hypothesis.findings = context.linked(
            &[
                "create-container-config-error",
                "application-down",
                "deployment-replicas-unavailable",
                "statefulset-replicas-unavailable",
            ],
            &objects,
        );
        hypothesis.objects = objects;
        hypothesis.mitigation.push(kubectl::describe(&pod.reference()).into());
        if let Some((kind, object, _)) = &what {
            hypothesis.mitigation.push(
                Kubectl::new("get").resource(kind).name(object).namespace(namespace).arg("-o yaml").into(),
            );
        }
        let _ = container;
        out.push(hypothesis);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::incident::causes::tests::of_rule;

    const POD: &str = r#"
kind: Pod
apiVersion: v1
metadata: {name: api-1, namespace: shop}
spec: {containers: [{name: api, image: "api:1"}]}
status:
  phase: Pending
  containerStatuses:
  - {name: api, ready: false, restartCount: 0, state: {waiting: {reason: CreateContainerConfigError, message: "couldn't find key url in ConfigMap shop/settings"}}}
---
kind: ConfigMap
apiVersion: v1
metadata: {name: settings, namespace: shop}
data: {host: db}
"#;

    #[test]
    fn a_missing_key_is_confirmed_against_the_config_map() {
        let out = of_rule(POD, "config-missing");
        assert!(
            out.contains("Pod shop/api-1 cannot start: key url of ConfigMap settings is missing"),
            "{out}"
        );
        assert!(out.contains("evidence: ConfigMap shop/settings has keys host but not url"), "{out}");
    }

    #[test]
    fn a_started_container_is_no_cause() {
        let running = POD.replace(
            r#"state: {waiting: {reason: CreateContainerConfigError, message: "couldn't find key url in ConfigMap shop/settings"}}"#,
            "state: {running: {}}",
        );
        assert_eq!(of_rule(&running, "config-missing"), "");
    }
}
