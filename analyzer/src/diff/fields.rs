//! The semantic field diff of one object seen in two bundles: both are flattened into
//! `path → value` leaves, churn is dropped, and the leaves that differ are the changes.
//!
//! Lists of named things are keyed by their name, not their position (`containers[name=app]`,
//! `conditions[type=Ready]`, `taints[key=...]`), so a container added in front of another is one
//! added container, not every container changed. Lists of plain values (`args`, `finalizers`)
//! are one leaf. Secret data is compared by a short hash of what the bundle holds and never
//! shown; long ConfigMap values likewise.

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Longest value shown as it is; a longer one is shown by its hash and size.
const SHOWN_CHARS: usize = 120;

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FieldChange {
    /// The field, JSON-pointer-like with list items by key: `/spec/template/spec/containers[name=app]/image`.
    pub path: String,
    /// Its value in OLD, `None` when OLD does not have it.
    pub old: Option<String>,
    /// Its value in NEW, `None` when NEW does not have it.
    pub new: Option<String>,
}

impl FieldChange {
    /// Whether the field is status the cluster reports rather than what someone asked for.
    pub fn is_status(&self) -> bool {
        self.path.starts_with("/status")
    }

    pub(crate) fn mirror(&self) -> FieldChange {
        FieldChange { path: self.path.clone(), old: self.new.clone(), new: self.old.clone() }
    }
}

/// Identity (matched already; list items of some formats lack it) and metadata and annotations
/// that are bookkeeping: they change without anyone changing the object.
const IGNORED_METADATA: &[&str] = &[
    "/apiVersion",
    "/kind",
    "/metadata/resourceVersion",
    "/metadata/managedFields",
    "/metadata/generation",
    "/metadata/uid",
    "/metadata/creationTimestamp",
    "/metadata/selfLink",
    "/metadata/ownerReferences",
    "/metadata/annotations/deployment.kubernetes.io/revision",
    "/metadata/annotations/deployment.kubernetes.io/desired-replicas",
    "/metadata/annotations/deployment.kubernetes.io/max-replicas",
    "/metadata/annotations/deprecated.daemonset.template.generation",
    "/metadata/annotations/kubectl.kubernetes.io/last-applied-configuration",
    "/metadata/annotations/endpoints.kubernetes.io/last-change-trigger-time",
    "/metadata/annotations/control-plane.alpha.kubernetes.io/leader",
    "/metadata/annotations/node.alpha.kubernetes.io/ttl",
    "/metadata/annotations/volumes.kubernetes.io/controller-managed-attach-detach",
    "/metadata/labels/pod-template-hash",
];

/// Field names that are heartbeats or bookkeeping wherever they appear.
const IGNORED_NAMES: &[&str] = &[
    "lastHeartbeatTime",
    "lastProbeTime",
    "lastUpdateTime",
    "lastTransitionTime",
    "observedGeneration",
    "renewTime",
    "acquireTime",
    "containerID",
    "startedAt",
    "finishedAt",
    "startTime",
    "collisionCount",
];

/// Status fields of a node that move on their own (image cache, attached volumes, ports).
const IGNORED_STATUS: &[&str] = &[
    "/status/images",
    "/status/volumesInUse",
    "/status/volumesAttached",
    "/status/daemonEndpoints",
    "/status/nodeInfo/bootID",
];

/// Whether a flattened path is churn.
fn ignored(path: &str) -> bool {
    let prefixed = |prefix: &&str| {
        path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '[']))
    };
    if IGNORED_METADATA.iter().any(prefixed) || IGNORED_STATUS.iter().any(prefixed) {
        return true;
    }
    let mut segments =
        path.split('/').map(|segment| segment.split_once('[').map_or(segment, |(name, _)| name));
    if segments.any(|name| IGNORED_NAMES.contains(&name)) {
        return true;
    }
    // A waiting or terminated container's message repeats its back-off timer; its reason is kept.
    path.contains("Statuses[")
        && path.ends_with("/message")
        && (path.contains("/state/") || path.contains("/lastState/"))
}

/// The fields of two versions of one object that differ, churn left out, in path order.
/// `secret` hides every value of `data` and `stringData` behind its hash.
pub(crate) fn diff(old: &Value, new: &Value, secret: bool) -> Vec<FieldChange> {
    let (mut before, mut after) = (BTreeMap::new(), BTreeMap::new());
    flatten(old, &mut String::new(), &mut before);
    flatten(new, &mut String::new(), &mut after);
    let mut paths: Vec<&String> = before.keys().chain(after.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter(|path| !ignored(path))
        .filter_map(|path| {
            let (old, new) = (before.get(path), after.get(path));
            (old != new).then(|| FieldChange {
                path: path.clone(),
                old: old.map(|value| shown(path, value, secret)),
                new: new.map(|value| shown(path, value, secret)),
            })
        })
        .collect()
}

/// The leaves of a value: scalars, plain lists and empty containers, by path.
fn flatten(value: &Value, path: &mut String, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map.iter() {
                let length = path.len();
                path.push('/');
                path.push_str(key);
                flatten(child, path, out);
                path.truncate(length);
            }
        }
        Value::Array(items) if !items.is_empty() => match list_key(items) {
            Some(key) => {
                for item in items.iter() {
                    let length = path.len();
                    let id = item.get(key).map(text).unwrap_or_default();
                    path.push_str(&format!("[{key}={id}]"));
                    flatten(item, path, out);
                    path.truncate(length);
                }
            }
            None if items.iter().all(|item| !matches!(item, Value::Object(_) | Value::Array(_))) => {
                out.insert(path.clone(), value.to_string());
            }
            None => {
                for (index, item) in items.iter().enumerate() {
                    let length = path.len();
                    path.push_str(&format!("[{index}]"));
                    flatten(item, path, out);
                    path.truncate(length);
                }
            }
        },
        // An empty map or list says no more than an absent one (`spec: {}` after a cordon's
        // `spec.unschedulable` is removed again).
        Value::Object(_) | Value::Array(_) => {}
        other => {
            out.insert(path.clone(), text(other));
        }
    }
}

/// The field that names the items of a list of objects, when every item has a distinct one.
fn list_key(items: &[Value]) -> Option<&'static str> {
    ["name", "type", "key", "containerPort", "port", "ip", "address", "devicePath"].into_iter().find(|key| {
        let mut ids: Vec<String> = Vec::with_capacity(items.len());
        for item in items {
            match item.get(*key) {
                Some(id @ (Value::String(_) | Value::Number(_))) => ids.push(text(id)),
                _ => return false,
            }
        }
        ids.sort();
        ids.windows(2).all(|pair| pair[0] != pair[1])
    })
}

/// A scalar as text: strings as they are, anything else as compact JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.to_string(),
        other => other.to_string(),
    }
}

/// What a report may show of a value: a Secret's data only by hash, a long value by hash and size.
fn shown(path: &str, value: &str, secret: bool) -> String {
    let data =
        path.starts_with("/data/") || path.starts_with("/stringData/") || path.starts_with("/binaryData/");
    if (secret && data) || value.chars().count() > SHOWN_CHARS || (data && value.contains('\n')) {
        let digest = Sha256::digest(value.as_bytes());
        let hash: String = digest.iter().take(4).map(|byte| format!("{byte:02x}")).collect();
        format!("sha256:{hash}… ({} bytes)", value.len())
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn changes(
        old: serde_json::Value,
        new: serde_json::Value,
        secret: bool,
    ) -> Vec<(String, Option<String>, Option<String>)> {
        diff(&old.into(), &new.into(), secret).into_iter().map(|c| (c.path, c.old, c.new)).collect()
    }

    #[test]
    fn containers_are_matched_by_name_and_churn_is_ignored() {
        let old = json!({
            "metadata": {"resourceVersion": "1", "generation": 1, "labels": {"app": "cart"}},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "cart:1.4.2"}]}}},
            "status": {"observedGeneration": 1, "conditions": [{"type": "Available", "status": "True", "lastUpdateTime": "a"}]}
        });
        let new = json!({
            "metadata": {"resourceVersion": "9", "generation": 2, "labels": {"app": "cart"}},
            "spec": {"template": {"spec": {"containers": [
                {"name": "sidecar", "image": "envoy:1"}, {"name": "app", "image": "cart:1.5.0"}]}}},
            "status": {"observedGeneration": 2, "conditions": [{"type": "Available", "status": "False", "lastUpdateTime": "b"}]}
        });
        assert_eq!(
            changes(old, new, false),
            vec![
                (
                    "/spec/template/spec/containers[name=app]/image".into(),
                    Some("cart:1.4.2".into()),
                    Some("cart:1.5.0".into())
                ),
                ("/spec/template/spec/containers[name=sidecar]/image".into(), None, Some("envoy:1".into())),
                ("/spec/template/spec/containers[name=sidecar]/name".into(), None, Some("sidecar".into())),
                (
                    "/status/conditions[type=Available]/status".into(),
                    Some("True".into()),
                    Some("False".into())
                ),
            ]
        );
    }

    #[test]
    fn secret_data_is_compared_by_hash_and_never_shown() {
        let old = json!({"data": {"password": "aHVudGVyMg=="}});
        let new = json!({"data": {"password": "c3dvcmRmaXNo", "user": "YWRtaW4="}});
        let found = changes(old, new, true);
        assert_eq!(found.len(), 2);
        for (_, old, new) in &found {
            for value in [old, new].into_iter().flatten() {
                assert!(value.starts_with("sha256:"), "{value}");
                assert!(!value.contains("aHVudGVyMg") && !value.contains("YWRtaW4"));
            }
        }
        assert_ne!(found[0].1, found[0].2, "a changed value has another hash");
    }

    #[test]
    fn waiting_messages_and_timestamps_of_containers_are_churn_but_restarts_are_not() {
        let old = json!({"status": {"containerStatuses": [{"name": "app", "restartCount": 3,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}}}]}});
        let new = json!({"status": {"containerStatuses": [{"name": "app", "restartCount": 4,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 80s"}}}]}});
        assert_eq!(
            changes(old, new, false),
            vec![(
                "/status/containerStatuses[name=app]/restartCount".into(),
                Some("3".into()),
                Some("4".into())
            )]
        );
    }

    #[test]
    fn plain_lists_are_one_field() {
        let found =
            changes(json!({"spec": {"args": ["a", "b"]}}), json!({"spec": {"args": ["a", "c"]}}), false);
        assert_eq!(
            found,
            vec![("/spec/args".into(), Some(r#"["a","b"]"#.into()), Some(r#"["a","c"]"#.into()))]
        );
    }
}
