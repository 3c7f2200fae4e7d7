//! Label selectors as NetworkPolicies, webhooks and workloads write them (`matchLabels` and
//! `matchExpressions`), and the `-l` argument kubectl takes for a Service's selector.
//!
//! Services use plain equality maps, which the model's `labels_match` handles; a
//! `metav1.LabelSelector` also has set-based expressions, and an empty one selects everything
//! (where an empty Service selector selects nothing), so it gets its own matcher.

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;

/// Whether `labels` satisfy the `metav1.LabelSelector` in `selector` (`None`, `{}`: everything).
///
/// An expression with an operator this code does not know matches nothing, as the API server
/// would reject such a selector.
pub(crate) fn matches(selector: Option<&Value>, labels: &BTreeMap<String, String>) -> bool {
    let Some(selector) = selector else { return true };
    let match_labels = selector.get("matchLabels").and_then(Value::as_object);
    for (key, value) in match_labels.into_iter().flatten() {
        if labels.get(key).map(String::as_str) != value.as_str() {
            return false;
        }
    }
    let expressions = selector.get("matchExpressions").and_then(Value::as_array);
    expressions.into_iter().flatten().all(|expression| {
        let key = expression.get("key").and_then(Value::as_str).unwrap_or_default();
        let values: Vec<&str> = expression
            .get("values")
            .and_then(Value::as_array)
            .map(|values| values.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let label = labels.get(key).map(String::as_str);
        match expression.get("operator").and_then(Value::as_str) {
            Some("In") => label.is_some_and(|label| values.contains(&label)),
            Some("NotIn") => label.is_none_or(|label| !values.contains(&label)),
            Some("Exists") => label.is_some(),
            Some("DoesNotExist") => label.is_none(),
            _ => false,
        }
    })
}

/// Whether a `metav1.LabelSelector` is empty, i.e. selects every pod of its namespace.
pub(crate) fn is_empty(selector: Option<&Value>) -> bool {
    let Some(selector) = selector else { return true };
    let non_empty = |key: &str| {
        selector.get(key).is_some_and(|value| match value {
            Value::Object(map) => !map.is_empty(),
            Value::Array(items) => !items.is_empty(),
            _ => false,
        })
    };
    !non_empty("matchLabels") && !non_empty("matchExpressions")
}

/// A Service's equality selector (`spec.selector`) as a map.
pub(crate) fn service_selector(service: &kubesnap_shared::model::Object) -> BTreeMap<String, String> {
    service
        .at("/spec/selector")
        .and_then(Value::as_object)
        .map(|map| map.iter().filter_map(|(k, v)| Some((k.to_owned(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default()
}

/// `app=api,tier=web`: an equality selector as kubectl's `-l` takes it.
pub(crate) fn to_text(selector: &BTreeMap<String, String>) -> String {
    selector.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn empty_selects_all_and_expressions_are_set_based() {
        let web = labels(&[("app", "web"), ("tier", "front")]);
        assert!(matches(None, &web));
        assert!(matches(Some(&Value::from(json!({}))), &web));
        assert!(is_empty(Some(&Value::from(json!({"matchLabels": {}})))));
        assert!(!is_empty(Some(&Value::from(json!({"matchLabels": {"a": "b"}})))));
        let selector = Value::from(json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "edge"]},
                {"key": "canary", "operator": "DoesNotExist"}
            ]
        }));
        assert!(matches(Some(&selector), &web));
        assert!(!matches(Some(&selector), &labels(&[("app", "web"), ("tier", "back")])));
        assert!(!matches(Some(&selector), &labels(&[("app", "web"), ("tier", "front"), ("canary", "1")])));
        let unknown =
            Value::from(json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}));
        assert!(!matches(Some(&unknown), &web));
        assert_eq!(to_text(&web), "app=web,tier=front");
    }
}
