//! Kubernetes objects as the API server returns them, built from the plan.

pub(crate) mod cluster;
pub(crate) mod config;
pub(crate) mod network;
pub(crate) mod pod;
pub(crate) mod workloads;

use serde_json::{Value, json};

/// A List as `kubectl get --raw` returns it: `kind` is the item kind plus `List`.
pub(crate) fn list(api_version: &str, kind: &str, items: Vec<Value>) -> Value {
    json!({
        "apiVersion": api_version,
        "items": items,
        "kind": format!("{kind}List"),
        "metadata": { "resourceVersion": "48213377" },
    })
}
