//! Checks of pod specs, one finding per workload: the shared loop of the security diagnostics.
//!
//! A Deployment's 40 pods share one spec, so a risk in it is one finding naming the Deployment
//! and the containers concerned, with the JSON pointer of each field in the workload's own spec,
//! and a `kubectl patch` that fixes the template. Platform components ([`platform`]) are left
//! out: their host access is by design, and `platform-host-access` lists them.

use kubesnap_shared::json::Value;
use kubesnap_shared::model::ObjectRef;
use serde_json::json;

use super::workload::{Template, containers};
use super::{Facts, kubectl, platform};
use crate::finding::{Evidence, Finding};

/// One container whose spec a check flagged.
#[derive(Debug, Clone)]
pub(crate) struct Flagged {
    pub(crate) container: String,
    /// The JSON pointer of the field in the workload (`/spec/template/spec/containers/0/...`).
    pub(crate) pointer: String,
    /// The value found there, or `null` when the field is absent.
    pub(crate) value: Value,
}

/// The containers of `template` that `check` flags. `check` gets the pod spec and the
/// container, and returns the flagged field (relative to the container,
/// `securityContext/privileged`) and its value.
pub(crate) fn flagged(
    template: &Template<'_>,
    check: impl Fn(&Value, &Value) -> Option<(String, Value)>,
) -> Vec<Flagged> {
    containers(template.spec, template.pointer)
        .into_iter()
        .filter_map(|(container, pointer)| {
            let (field, value) = check(template.spec, container)?;
            Some(Flagged {
                container: container.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
                pointer: format!("{pointer}/{field}"),
                value,
            })
        })
        .collect()
}

/// The workloads that are not platform components, in template order.
pub(crate) fn applications<'a, 'm>(facts: &'a Facts<'m>) -> impl Iterator<Item = &'a Template<'m>> + 'a {
    facts.templates().iter().filter(|template| platform::of_template(facts, template).is_none())
}

/// Runs `check` on every container of every application workload's pod spec and builds one
/// finding per workload with flagged containers, with the field of each as evidence.
pub(crate) fn per_workload(
    facts: &Facts<'_>,
    check: impl Fn(&Value, &Value) -> Option<(String, Value)>,
    build: impl Fn(&Template<'_>, &[Flagged]) -> Finding,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for template in applications(facts) {
        let flagged = flagged(template, &check);
        if flagged.is_empty() {
            continue;
        }
        let mut finding = build(template, &flagged).object(template.owner.reference());
        for item in &flagged {
            finding =
                finding.evidence(Evidence::field(template.owner.reference(), &item.pointer, &item.value));
        }
        findings.push(finding);
    }
    findings
}

/// `Deployment shop/api`.
pub(crate) fn name(template: &Template<'_>) -> String {
    let owner = template.owner;
    match &owner.namespace {
        Some(namespace) => format!("{} {namespace}/{}", owner.kind, owner.name),
        None => format!("{} {}", owner.kind, owner.name),
    }
}

/// The flagged containers' names, each once, in spec order.
fn distinct_names(flagged: &[Flagged]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for item in flagged {
        if !names.contains(&item.container.as_str()) {
            names.push(&item.container);
        }
    }
    names
}

/// `` `api`, `sidecar` ``: each name quoted as the other diagnostics quote a container's, so a
/// name from a crafted bundle (`a, b`, `x) (y`) cannot read as two names or as the sentence.
pub(crate) fn container_names(flagged: &[Flagged]) -> String {
    distinct_names(flagged).iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
}

/// `` container `api` `` or `` containers `api`, `sidecar` ``, for sentences.
pub(crate) fn container_phrase(flagged: &[Flagged]) -> String {
    let noun = agree(flagged, "container", "containers");
    format!("{noun} {}", container_names(flagged))
}

/// `singular` for one flagged container, `plural` for several: the verb that agrees with
/// [`container_phrase`] (`runs` / `run`). Counted, never read back from the joined names.
pub(crate) fn agree<'a>(flagged: &[Flagged], singular: &'a str, plural: &'a str) -> &'a str {
    if distinct_names(flagged).len() > 1 { plural } else { singular }
}

/// A strategic-merge `kubectl patch` that sets `securityContext.<field>` of each flagged
/// container of a workload's template; `None` for a bare pod (its spec cannot change: fix
/// whatever creates it).
pub(crate) fn security_patch(
    template: &Template<'_>,
    flagged: &[Flagged],
    field: &str,
    value: bool,
) -> Option<String> {
    let mut pod_spec = serde_json::Map::new();
    for list in ["initContainers", "containers"] {
        let items: Vec<serde_json::Value> = flagged
            .iter()
            .filter(|item| item.pointer.contains(&format!("/{list}/")))
            .map(|item| json!({"name": item.container, "securityContext": {field: value}}))
            .collect();
        if !items.is_empty() {
            pod_spec.insert(list.to_owned(), serde_json::Value::Array(items));
        }
    }
    let pod_spec = serde_json::Value::Object(pod_spec);
    let patch = match template.owner.kind.as_str() {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => {
            json!({"spec": {"template": {"spec": pod_spec}}})
        }
        "CronJob" => json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}}),
        _ => return None,
    };
    let owner: ObjectRef = template.owner.reference();
    Some(kubectl::on("patch", &owner).arg("-p").name(&patch.to_string()).into())
}
