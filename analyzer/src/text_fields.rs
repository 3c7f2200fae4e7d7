//! Which diagnostics can run when some kinds were read from kubectl text: a `get` row gives a
//! pod's name, phase, node and IP, not its containers, so a diagnostic reading containers would
//! see none and call the pod fine. Only the diagnostics listed here, with the fields they read,
//! run on such a model; every other one is skipped with the reason.

use kubesnap_shared::model::ClusterModel;

/// Diagnostics that read only these (kind, field) pairs of the objects, or none at all
/// (logs, events, host checks).
const READS: &[(&str, &[(&str, &str)])] = &[
    ("log-error-patterns", &[]),
    ("log-warning-patterns", &[]),
    ("cascading-failures", &[]),
    ("etcd-unhealthy", &[]),
    ("node-log-problems", &[]),
    ("node-not-ready", &[("Node", "/status/conditions[Ready]"), ("Pod", "/spec/nodeName")]),
    ("kubelet-version-skew", &[("Node", "/status/nodeInfo/kubeletVersion")]),
    // What `kubectl describe` shows: containers' states, conditions, claims, replicas.
    ("crash-loop-backoff", &[("Pod", "/status/containerStatuses")]),
    ("oom-killed", &[("Pod", "/status/containerStatuses"), ("Pod", "/spec/containers")]),
    // Its advice names the pod's pull secrets, which `describe` does not print.
    ("image-pull-backoff", &[("Pod", "/status/containerStatuses"), ("Pod", "/spec/imagePullSecrets")]),
    ("create-container-config-error", &[("Pod", "/status/containerStatuses"), ("Pod", "/spec/containers")]),
    ("pod-pending-unschedulable", &[("Pod", "/status/phase")]),
    ("node-pressure", &[("Node", "/status/conditions"), ("Node", "/spec/taints")]),
    (
        "deployment-replicas-unavailable",
        &[
            ("Deployment", "/spec/replicas"),
            ("Deployment", "/status/availableReplicas"),
            ("Deployment", "/status/conditions"),
            ("Deployment", "/spec/selector/matchLabels"),
            ("Pod", "/metadata/labels"),
        ],
    ),
    (
        "pvc-pending",
        &[
            ("PersistentVolumeClaim", "/status/phase"),
            ("PersistentVolumeClaim", "/spec/storageClassName"),
            ("Pod", "/spec/volumes"),
        ],
    ),
];

/// Whether `shown` covers `field`: the field itself, or a field holding it
/// (`/status/conditions` holds `/status/conditions[Ready]`, the Ready condition alone).
fn covers(shown: &str, field: &str) -> bool {
    field.strip_prefix(shown).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '[']))
}

/// Why `code` cannot run on `model`, or `None` when it can (always, for a model of objects).
pub(crate) fn unmet(model: &ClusterModel, code: &str) -> Option<String> {
    if model.text_fields.is_empty() {
        return None;
    }
    let kinds: Vec<&str> = model.text_fields.keys().map(String::as_str).collect();
    let Some((_, reads)) = READS.iter().find(|(listed, _)| *listed == code) else {
        return Some(format!(
            "objects: {} come from kubectl text, which does not show the fields this diagnostic reads",
            kinds.join(", ")
        ));
    };
    let missing: Vec<String> = reads
        .iter()
        .filter(|(kind, field)| {
            model
                .text_fields
                .get(*kind)
                .is_some_and(|fields| !fields.iter().any(|shown| covers(shown, field)))
        })
        .map(|(kind, field)| format!("{kind} {field}"))
        .collect();
    (!missing.is_empty()).then(|| format!("fields kubectl text did not show: {}", missing.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_diagnostics_run_on_text_and_only_with_their_fields() {
        let objects = ClusterModel::default();
        assert_eq!(unmet(&objects, "crash-loop-backoff"), None);
        let mut text = ClusterModel::default();
        text.text_fields.entry("Pod".into()).or_default().insert("/status/phase".into());
        assert!(unmet(&text, "pod-restarts").is_some_and(|why| why.contains("Pod come from kubectl text")));
        // A `get pods` row shows no containers; `describe pod` does.
        assert_eq!(
            unmet(&text, "crash-loop-backoff").as_deref(),
            Some("fields kubectl text did not show: Pod /status/containerStatuses")
        );
        assert_eq!(unmet(&text, "log-error-patterns"), None);
        assert_eq!(
            unmet(&text, "node-not-ready").as_deref(),
            Some("fields kubectl text did not show: Pod /spec/nodeName")
        );
        text.text_fields.entry("Pod".into()).or_default().insert("/spec/nodeName".into());
        assert_eq!(unmet(&text, "node-not-ready"), None, "Nodes not from text are whole objects");
        // A `get nodes` row shows the Ready condition only; `describe node` shows them all.
        text.text_fields.entry("Node".into()).or_default().insert("/status/conditions[Ready]".into());
        assert_eq!(unmet(&text, "node-not-ready"), None);
        assert!(unmet(&text, "node-pressure").is_some_and(|why| why.contains("Node /status/conditions,")));
        text.text_fields.entry("Node".into()).or_default().insert("/status/conditions".into());
        text.text_fields.entry("Node".into()).or_default().insert("/spec/taints".into());
        assert_eq!(unmet(&text, "node-pressure"), None);
        assert!(!covers("/status/condition", "/status/conditions"));
    }
}
