//! One Kubernetes object as raw JSON, with the accessors diagnostics need.

use std::collections::BTreeMap;

use crate::json::Value;

/// An object of the bundle: identity fields lifted out, everything else raw.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The whole object as the server returned it (`managedFields` dropped by the collector),
    /// in the compact representation of [`crate::json`].
    pub raw: Value,
    /// The bundle path it was read from, for evidence.
    pub source: String,
}

/// A reference to an object: what findings name, and what sorts them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{}/{}/{}", self.kind, namespace, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

impl Object {
    /// Builds an object from raw JSON (the loader's compact value, or a `serde_json::Value`
    /// for tests). `kind` and `api_version` fill in what list items of some formats lack;
    /// returns `None` when there is no name.
    pub fn from_value(
        raw: impl Into<Value>,
        kind_hint: Option<&str>,
        api_version_hint: Option<&str>,
        source: &str,
    ) -> Option<Object> {
        let raw = raw.into();
        let metadata = raw.get("metadata")?;
        let name = metadata.get("name").and_then(Value::as_str)?.to_owned();
        let namespace = metadata.get("namespace").and_then(Value::as_str).map(str::to_owned);
        let kind = raw.get("kind").and_then(Value::as_str).or(kind_hint)?.to_owned();
        let api_version =
            raw.get("apiVersion").and_then(Value::as_str).or(api_version_hint).unwrap_or_default().to_owned();
        Some(Object { api_version, kind, namespace, name, raw, source: source.to_owned() })
    }

    /// The kind the model indexes the object under: its kind, except for a custom resource
    /// whose kind is also a built-in one (longhorn's `Node`), indexed as `Node.longhorn.io`
    /// so that `of_kind("Node")` only yields nodes.
    pub fn index_kind(&self) -> std::borrow::Cow<'_, str> {
        let group = self.api_version.split_once('/').map_or("", |(group, _)| group);
        let custom = group.contains('.') && !group.ends_with(".k8s.io");
        if custom && crate::import::kinds::is_builtin_kind(&self.kind) {
            std::borrow::Cow::Owned(format!("{}.{group}", self.kind))
        } else {
            std::borrow::Cow::Borrowed(&self.kind)
        }
    }

    pub fn reference(&self) -> ObjectRef {
        ObjectRef { kind: self.kind.clone(), namespace: self.namespace.clone(), name: self.name.clone() }
    }

    pub(crate) fn sort_key(&self) -> (&str, Option<&str>, &str, &str) {
        (&self.kind, self.namespace.as_deref(), &self.name, &self.api_version)
    }

    /// Same kind, namespace and name: the same object seen twice (a list and a watch, two
    /// API versions of one resource).
    pub(crate) fn same_identity(&self, other: &Object) -> bool {
        self.kind == other.kind && self.namespace == other.namespace && self.name == other.name
    }

    /// A field by JSON pointer (`/status/phase`).
    pub fn at(&self, pointer: &str) -> Option<&Value> {
        self.raw.pointer(pointer)
    }

    /// A string field by JSON pointer.
    pub fn str_at(&self, pointer: &str) -> Option<&str> {
        self.raw.pointer(pointer).and_then(Value::as_str)
    }

    /// An integer field by JSON pointer.
    pub fn i64_at(&self, pointer: &str) -> Option<i64> {
        self.raw.pointer(pointer).and_then(Value::as_i64)
    }

    /// An array field by JSON pointer, empty when absent.
    pub fn array_at(&self, pointer: &str) -> &[Value] {
        self.raw.pointer(pointer).and_then(Value::as_array).unwrap_or_default()
    }

    pub fn uid(&self) -> Option<&str> {
        self.str_at("/metadata/uid")
    }

    pub fn labels(&self) -> BTreeMap<String, String> {
        string_map(self.at("/metadata/labels"))
    }

    /// One label's value, without building [`Object::labels`]' map.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.at("/metadata/labels").and_then(|labels| labels.get(key)).and_then(Value::as_str)
    }

    /// [`labels_match`] against this object's labels, without building their map: what
    /// matching every pod of a namespace against every Service's selector calls for.
    pub fn matches_labels(&self, selector: &BTreeMap<String, String>) -> bool {
        !selector.is_empty() && selector.iter().all(|(key, value)| self.label(key) == Some(value.as_str()))
    }

    pub fn annotations(&self) -> BTreeMap<String, String> {
        string_map(self.at("/metadata/annotations"))
    }

    /// `metadata.creationTimestamp`.
    pub fn created_at(&self) -> Option<jiff::Timestamp> {
        self.str_at("/metadata/creationTimestamp").and_then(|text| text.parse().ok())
    }

    /// `metadata.deletionTimestamp`.
    pub fn deleting_since(&self) -> Option<jiff::Timestamp> {
        self.str_at("/metadata/deletionTimestamp").and_then(|text| text.parse().ok())
    }

    /// `(kind, name, uid)` of each owner reference.
    pub fn owners(&self) -> Vec<(&str, &str, &str)> {
        self.array_at("/metadata/ownerReferences")
            .iter()
            .filter_map(|owner| {
                Some((
                    owner.get("kind")?.as_str()?,
                    owner.get("name")?.as_str()?,
                    owner.get("uid").and_then(Value::as_str).unwrap_or_default(),
                ))
            })
            .collect()
    }

    /// When the status condition of type `kind` last changed (its `lastTransitionTime`).
    pub fn condition_since(&self, kind: &str) -> Option<jiff::Timestamp> {
        self.array_at("/status/conditions")
            .iter()
            .find(|condition| condition.get("type").and_then(Value::as_str) == Some(kind))?
            .get("lastTransitionTime")?
            .as_str()?
            .parse()
            .ok()
    }

    /// A status condition by type: `(status, reason, message)`.
    pub fn condition(&self, kind: &str) -> Option<(&str, &str, &str)> {
        self.array_at("/status/conditions").iter().find_map(|condition| {
            (condition.get("type")?.as_str()? == kind).then(|| {
                let text = |key: &str| condition.get(key).and_then(Value::as_str).unwrap_or_default();
                (text("status"), text("reason"), text("message"))
            })
        })
    }
}

fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|map| {
            map.iter().filter_map(|(key, value)| Some((key.to_owned(), value.as_str()?.to_owned()))).collect()
        })
        .unwrap_or_default()
}

/// Equality-based selector match: every key of `selector` has the same value in `labels`.
/// An empty selector matches nothing, as a Service without a selector selects no pods.
pub fn labels_match(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !selector.is_empty() && selector.iter().all(|(key, value)| labels.get(key) == Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matching_labels_in_place_agrees_with_the_label_map() {
        let pod = Object::from_value(
            json!({"kind": "Pod", "metadata": {"name": "p", "labels": {"app": "web", "tier": "1", "n": 3}}}),
            None,
            None,
            "x",
        )
        .expect("an object");
        let selector = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        for wanted in [
            selector(&[]),
            selector(&[("app", "web")]),
            selector(&[("app", "web"), ("tier", "1")]),
            selector(&[("app", "api")]),
            selector(&[("missing", "x")]),
            // A label whose value is not a string is not a label.
            selector(&[("n", "3")]),
        ] {
            assert_eq!(pod.matches_labels(&wanted), labels_match(&wanted, &pod.labels()), "{wanted:?}");
        }
        assert_eq!(pod.label("app"), Some("web"));
        assert_eq!(pod.label("n"), None);
    }

    #[test]
    fn hints_fill_missing_kind() {
        let raw = json!({"metadata": {"name": "web", "namespace": "prod"}, "status": {"phase": "Running"}});
        let object = Object::from_value(raw, Some("Pod"), Some("v1"), "x.json");
        let object = object.as_ref();
        assert_eq!(object.map(|o| o.kind.as_str()), Some("Pod"));
        assert_eq!(object.and_then(|o| o.str_at("/status/phase")), Some("Running"));
    }

    #[test]
    fn custom_kinds_that_shadow_builtin_ones_are_qualified() {
        let node = |api_version: &str| {
            Object::from_value(
                serde_json::json!({"apiVersion": api_version, "kind": "Node", "metadata": {"name": "n"}}),
                None,
                None,
                "x",
            )
            .unwrap()
        };
        assert_eq!(node("v1").index_kind(), "Node");
        assert_eq!(node("longhorn.io/v1beta1").index_kind(), "Node.longhorn.io");
        assert_eq!(node("metrics.k8s.io/v1beta1").index_kind(), "Node");
    }

    #[test]
    fn empty_selector_matches_nothing() {
        let labels = BTreeMap::from([("app".to_owned(), "web".to_owned())]);
        assert!(!labels_match(&BTreeMap::new(), &labels));
        assert!(labels_match(&labels, &labels));
    }
}
