//! Rule `admission-refused` (admission): a controller cannot create its pods because the API
//! server refuses them: a ResourceQuota would be exceeded, a LimitRange forbids the requests or
//! limits, the ServiceAccount does not exist, or a policy denies them.
//!
//! Fires per ReplicaSet, StatefulSet, DaemonSet or Job with a `FailedCreate` warning or a
//! `ReplicaFailure=True` condition, while it has fewer pods than it wants. The controller's
//! message is quoted; for a quota the ResourceQuota's own `status.hard`/`status.used` are added
//! ("requests.cpu used 1800m of 2"), for a ServiceAccount its absence from the bundle is
//! checked. A ReplicaSet speaks for its Deployment. Score 85 when the bundle confirms the
//! message (the quota's numbers, the missing ServiceAccount), 80 otherwise. Severity P1 when the
//! workload has no ready pod, P2 otherwise.
//!
//! Disproved by: the controller's pods created after the last refusal (the quota freed), or the
//! ServiceAccount present.

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{Event, Object, ObjectRef};

use super::{Context, Hypothesis, Step, clip};
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::finding::Severity;

const KINDS: [&str; 4] = ["ReplicaSet", "StatefulSet", "DaemonSet", "Job"];

/// `exceeded quota: compute, requested: ...` → `compute`.
fn quota_name(message: &str) -> Option<&str> {
    let at = message.find("exceeded quota: ")? + "exceeded quota: ".len();
    message[at..].split([',', ' ']).next().filter(|name| !name.is_empty())
}

/// `serviceaccount "builder" not found` → `builder`.
fn service_account(message: &str) -> Option<&str> {
    let lower = message.to_lowercase();
    let at = lower.find("serviceaccount \"")? + "serviceaccount \"".len();
    message[at..].split('"').next().filter(|_| lower.contains("not found"))
}

/// A LimitRange's refusal, from the API server's words: `maximum memory usage per Container is
/// 512Mi, but limit is 1Gi` → (`max`, `memory`, `Container`, `512Mi`, `limit`, `1Gi`).
struct LimitRefusal<'a> {
    bound: &'static str,
    resource: &'a str,
    scope: &'a str,
    allowed: &'a str,
    field: &'a str,
    asked: &'a str,
}

fn limit_refusal(message: &str) -> Option<LimitRefusal<'_>> {
    for (word, bound) in [("maximum ", "max"), ("minimum ", "min")] {
        let Some(at) = message.find(word) else { continue };
        let words: Vec<&str> = message[at + word.len()..].split_whitespace().collect();
        // memory usage per Container is 512Mi, but limit is 1Gi
        if let [resource, "usage", "per", scope, "is", allowed, "but", field, "is", asked, ..] =
            words.as_slice()
        {
            return Some(LimitRefusal {
                bound,
                resource,
                scope,
                allowed: allowed.trim_end_matches(','),
                field,
                asked: asked.trim_end_matches([',', '.', ';']),
            });
        }
    }
    None
}

/// The LimitRanges of `namespace` whose `bound` for `resource` per `scope` is what the refusal
/// quotes: the bundle names the object the message does not.
fn limit_ranges<'m>(
    model: &'m kubesnap_shared::model::ClusterModel,
    namespace: &str,
    refusal: &LimitRefusal<'_>,
) -> Vec<&'m Object> {
    let allowed = kubesnap_shared::quantity::parse(refusal.allowed);
    model
        .of_kind("LimitRange")
        .filter(|range| range.namespace.as_deref() == Some(namespace))
        .filter(|range| {
            range.array_at("/spec/limits").iter().any(|limit| {
                limit.get("type").and_then(Value::as_str) == Some(refusal.scope)
                    && limit
                        .get(refusal.bound)
                        .and_then(|bounds| bounds.get(refusal.resource))
                        .and_then(Value::as_str)
                        .is_some_and(|value| {
                            value == refusal.allowed
                                || (allowed.is_some() && kubesnap_shared::quantity::parse(value) == allowed)
                        })
            })
        })
        .collect()
}

fn class(message: &str) -> &'static str {
    let lower = message.to_lowercase();
    if lower.contains("exceeded quota") {
        "a ResourceQuota would be exceeded"
    } else if lower.contains("maximum") || lower.contains("minimum") || lower.contains("limitrange") {
        "a LimitRange forbids its resources"
    } else if lower.contains("serviceaccount") {
        "its ServiceAccount does not exist"
    } else if lower.contains("podsecurity")
        || lower.contains("violates")
        || lower.contains("securitycontextconstraints")
    {
        "a pod security policy denies it"
    } else if lower.contains("admission webhook") {
        "an admission webhook denies it"
    } else {
        "the API server refuses its pods"
    }
}

pub(super) fn rule(context: &Context<'_, '_>) -> Vec<Hypothesis> {
    let facts = context.facts;
    let model = facts.cluster();
    let mut out = Vec::new();
    for kind in KINDS {
        for controller in model.of_kind(kind) {
            let refusals: Vec<&Event> = model
                .events_for(kind, controller.namespace.as_deref(), &controller.name)
                .filter(|event| event.is_warning() && event.reason == "FailedCreate")
                .collect();
            let condition = controller.condition("ReplicaFailure").filter(|(status, _, _)| *status == "True");
            let message = match (refusals.last(), condition) {
                (_, Some((_, _, message))) if !message.is_empty() => message.to_owned(),
                (Some(event), _) => event.message.clone(),
                _ => continue,
            };
            let wanted = controller
                .i64_at("/spec/replicas")
                .or_else(|| controller.i64_at("/status/desiredNumberScheduled"))
                .unwrap_or(1);
            let have = controller
                .i64_at("/status/replicas")
                .or_else(|| controller.i64_at("/status/currentNumberScheduled"))
                .or_else(|| controller.i64_at("/status/active"))
                .unwrap_or(0);
            if kind != "Job" && have >= wanted {
                continue;
            }
            let ready = controller
                .i64_at("/status/readyReplicas")
                .or_else(|| controller.i64_at("/status/numberReady"))
                .unwrap_or(0);
            out.push(hypothesis(context, controller, &message, &refusals, wanted, have, ready));
        }
    }
    out
}

fn hypothesis(
    context: &Context<'_, '_>,
    controller: &Object,
    message: &str,
    refusals: &[&Event],
    wanted: i64,
    have: i64,
    ready: i64,
) -> Hypothesis {
    let facts = context.facts;
    let model = facts.cluster();
    let namespace = controller.namespace.as_deref().unwrap_or_default();
    let subject = match controller.kind.as_str() {
        "ReplicaSet" => controller
            .owners()
            .into_iter()
            .find(|(kind, _, _)| *kind == "Deployment")
            .map(|(kind, name, _)| ObjectRef {
                kind: kind.to_owned(),
                namespace: Some(namespace.to_owned()),
                name: name.to_owned(),
            })
            .unwrap_or_else(|| controller.reference()),
        _ => controller.reference(),
    };
    let name = crate::incident::links::label(&subject);
    let why = class(message);
    let mut confirmations = Vec::new();
    let mut objects = vec![subject.clone(), controller.reference()];
    if let Some(quota) =
        quota_name(message).and_then(|quota| model.get("ResourceQuota", Some(namespace), quota))
    {
        objects.push(quota.reference());
        let hard = quota.at("/status/hard").or_else(|| quota.at("/spec/hard")).and_then(Value::as_object);
        let used = quota.at("/status/used").and_then(Value::as_object);
        let mut parts = Vec::new();
        for (resource, limit) in hard.into_iter().flat_map(|map| map.iter()) {
            let used = used.and_then(|used| used.get(resource)).and_then(Value::as_str).unwrap_or("?");
            parts.push(format!("{resource} used {used} of {}", limit.as_str().unwrap_or("?")));
        }
        if !parts.is_empty() {
            confirmations.push(format!("ResourceQuota {namespace}/{}: {}", quota.name, parts.join(", ")));
        }
    }
    if let Some(account) = service_account(message)
        && model.has_kind("ServiceAccount")
        && model.get("ServiceAccount", Some(namespace), account).is_none()
    {
        confirmations.push(format!("the bundle holds no ServiceAccount {account} in namespace {namespace}"));
        objects.push(ObjectRef {
            kind: "ServiceAccount".to_owned(),
            namespace: Some(namespace.to_owned()),
            name: account.to_owned(),
        });
    }
    if let Some(refusal) = limit_refusal(message) {
        let ranges = limit_ranges(model, namespace, &refusal);
        let containers: Vec<String> = controller
            .array_at("/spec/template/spec/containers")
            .iter()
            .filter(|container| {
                container
                    .pointer(&format!("/resources/{}s/{}", refusal.field, refusal.resource))
                    .and_then(Value::as_str)
                    == Some(refusal.asked)
            })
            .filter_map(|container| container.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let asker = match containers.as_slice() {
            [] => "the pod template".to_owned(),
            [one] => format!("container {one}"),
            many => format!("containers {}", many.join(", ")),
        };
        let bound = if refusal.bound == "max" { "at most" } else { "at least" };
        for range in &ranges {
            objects.push(range.reference());
            confirmations.push(format!(
                "LimitRange {namespace}/{} allows {bound} {} {} per {}; {asker} asks a {} of {}",
                range.name, refusal.allowed, refusal.resource, refusal.scope, refusal.field, refusal.asked
            ));
        }
    }
    let ranges: Vec<&str> = objects
        .iter()
        .filter(|object| object.kind == "LimitRange")
        .map(|object| object.name.as_str())
        .collect();
    let why = match ranges.as_slice() {
        [one] => format!("LimitRange {one} forbids its resources"),
        _ => why.to_owned(),
    };
    let title = format!("{name} cannot create its pods ({have} of {wanted}): {why} (`{}`)", clip(message));
    let score = 80 + if confirmations.is_empty() { 0 } else { 5 };
    let mut hypothesis = context.hypothesis("admission-refused", title, score, Severity::P1);
    hypothesis.own_severity = Some(if ready > 0 { Severity::P2 } else { Severity::P1 });
    hypothesis.evidence.push(format!("{} {} says: `{}`", controller.kind, controller.name, clip(message)));
    hypothesis.evidence.extend(confirmations);
    if let Some(event) = refusals.last() {
        hypothesis.chain.push(Step::new(
            event.first_seen,
            controller.reference(),
            format!("FailedCreate x{}: {}", event.count, clip(&event.message)),
        ));
    }
    hypothesis.disproved_by.push(format!("pods of {} created after the last refusal", controller.name));
    hypothesis.findings = context.linked(
        &[
            "deployment-replicas-unavailable",
            "statefulset-replicas-unavailable",
            "daemonset-pods-unavailable",
            "resource-quota-near-limit",
            "application-down",
            "job-failed",
        ],
        &objects,
    );
    hypothesis.objects = objects;
    hypothesis.mitigation.push(kubectl::events(&controller.reference()).into());
    hypothesis.mitigation.push(Kubectl::new("describe resourcequota").namespace(namespace).into());
    hypothesis.mitigation.push(Kubectl::new("describe limitrange").namespace(namespace).into());
    hypothesis
}

#[cfg(test)]
mod tests {
    use crate::incident::causes::tests::of_rule;

    const STORY: &str = r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-7d
  namespace: shop
  ownerReferences: [{kind: Deployment, name: api, uid: d1, controller: true}]
spec: {replicas: 2}
status:
  replicas: 0
  conditions: [{type: ReplicaFailure, status: "True", reason: FailedCreate,
    message: 'pods "api-7d-x" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=1800m, limited: requests.cpu=2'}]
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: compute, namespace: shop}
spec: {hard: {requests.cpu: "2"}}
status: {hard: {requests.cpu: "2"}, used: {requests.cpu: 1800m}}
"#;

    #[test]
    fn a_quota_refusal_quotes_the_controller_and_the_quota_s_numbers() {
        let out = of_rule(STORY, "admission-refused");
        assert!(
            out.contains(
                "Deployment shop/api cannot create its pods (0 of 2): a ResourceQuota would be exceeded"
            ),
            "{out}"
        );
        assert!(out.contains("evidence: ResourceQuota shop/compute: requests.cpu used 1800m of 2"), "{out}");
    }

    #[test]
    fn a_controller_with_all_its_pods_is_no_cause() {
        let out = of_rule(
            &STORY.replace("replicas: 0\n", "replicas: 2\n").replace(
                r#"status: "True", reason: FailedCreate"#,
                r#"status: "False", reason: FailedCreate"#,
            ),
            "admission-refused",
        );
        assert_eq!(out, "");
    }

    #[test]
    fn a_limit_range_refusal_names_the_limit_range_and_the_container() {
        let story = r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: importer-55
  namespace: data
  ownerReferences: [{kind: Deployment, name: importer, uid: d1, controller: true}]
spec:
  replicas: 1
  template:
    spec:
      containers: [{name: importer, image: importer, resources: {limits: {memory: 1Gi}}}]
status:
  replicas: 0
  conditions: [{type: ReplicaFailure, status: "True", reason: FailedCreate,
    message: 'pods "importer-55-x" is forbidden: maximum memory usage per Container is 512Mi, but limit is 1Gi'}]
---
apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: data}
spec: {limits: [{type: Container, default: {memory: 256Mi}}]}
---
apiVersion: v1
kind: LimitRange
metadata: {name: container-caps, namespace: data}
spec: {limits: [{type: Container, max: {memory: 512Mi}}]}
"#;
        let out = of_rule(story, "admission-refused");
        assert!(
            out.contains(
                "Deployment data/importer cannot create its pods (0 of 1): LimitRange \
                          container-caps forbids its resources"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "evidence: LimitRange data/container-caps allows at most 512Mi memory per \
                          Container; container importer asks a limit of 1Gi"
            ),
            "{out}"
        );
        assert!(!out.contains("data/defaults"), "{out}");
    }
}
