//! Label and field selectors, as the API server parses and matches them.
//!
//! Labels: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`. Fields: `f=v`,
//! `f==v`, `f!=v`, where `f` is a dotted path into the object (`metadata.name`,
//! `status.phase`, `spec.nodeName`, `involvedObject.kind`); the API server accepts only a few
//! fields per kind, this server accepts any path, and a field the object lacks reads as "".

use std::collections::BTreeMap;

use serde_json::Value;

/// One label requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Label {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector: every requirement must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct LabelSelector(Vec<Label>);

/// A parsed field selector: every term must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct FieldSelector(Vec<(String, bool, String)>);

/// Splits on commas outside parentheses.
fn terms(text: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (at, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                terms.push(text[start..at].trim());
                start = at + 1;
            }
            _ => {}
        }
    }
    terms.push(text[start..].trim());
    terms.into_iter().filter(|term| !term.is_empty()).collect()
}

fn set(text: &str) -> Option<Vec<String>> {
    let inner = text.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(',').map(|value| value.trim().to_owned()).filter(|v| !v.is_empty()).collect())
}

impl LabelSelector {
    pub(super) fn parse(text: &str) -> Result<LabelSelector, String> {
        let mut requirements = Vec::new();
        for term in terms(text) {
            let requirement = if let Some(key) = term.strip_prefix('!') {
                Label::NotExists(key.trim().to_owned())
            } else if let Some((key, values)) = term.split_once(" notin ") {
                Label::NotIn(key.trim().to_owned(), set(values).ok_or_else(|| bad(term))?)
            } else if let Some((key, values)) = term.split_once(" in ") {
                Label::In(key.trim().to_owned(), set(values).ok_or_else(|| bad(term))?)
            } else if let Some((key, value)) = term.split_once("!=") {
                Label::NotEquals(key.trim().to_owned(), value.trim().to_owned())
            } else if let Some((key, value)) = term.split_once("==").or_else(|| term.split_once('=')) {
                Label::Equals(key.trim().to_owned(), value.trim().to_owned())
            } else if term.contains(' ') || term.contains('(') {
                return Err(bad(term));
            } else {
                Label::Exists(term.to_owned())
            };
            requirements.push(requirement);
        }
        Ok(LabelSelector(requirements))
    }

    pub(super) fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|requirement| match requirement {
            Label::Equals(key, value) => labels.get(key) == Some(value),
            Label::NotEquals(key, value) => labels.get(key) != Some(value),
            Label::In(key, values) => labels.get(key).is_some_and(|v| values.contains(v)),
            Label::NotIn(key, values) => labels.get(key).is_none_or(|v| !values.contains(v)),
            Label::Exists(key) => labels.contains_key(key),
            Label::NotExists(key) => !labels.contains_key(key),
        })
    }
}

fn bad(term: &str) -> String {
    format!("unable to parse requirement: {term:?}")
}

impl FieldSelector {
    pub(super) fn parse(text: &str) -> Result<FieldSelector, String> {
        let mut fields = Vec::new();
        for term in terms(text) {
            let (field, equal, value) = if let Some((field, value)) = term.split_once("!=") {
                (field, false, value)
            } else if let Some((field, value)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (field, true, value)
            } else {
                return Err(format!("invalid selector: '{term}'; can't understand '{term}'"));
            };
            fields.push((field.trim().to_owned(), equal, value.trim().to_owned()));
        }
        Ok(FieldSelector(fields))
    }

    pub(super) fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(field, equal, value)| (field_value(object, field) == *value) == *equal)
    }
}

/// A field by dotted path, as text ("" when absent).
fn field_value(object: &Value, field: &str) -> String {
    let mut target = object;
    for step in field.split('.') {
        match target.get(step) {
            Some(next) => target = next,
            None => return String::new(),
        }
    }
    match target {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn label_selectors_match_as_the_api_server_matches() {
        let web = labels(&[("app", "web"), ("tier", "front")]);
        let check = |text: &str| LabelSelector::parse(text).unwrap().matches(&web);
        assert!(check("app=web"));
        assert!(check("app==web,tier=front"));
        assert!(!check("app!=web"));
        assert!(check("app in (web, api)"));
        assert!(!check("app notin (web,api)"));
        assert!(check("tier,!canary"));
        assert!(!check("canary"));
        assert!(check(""));
        assert!(LabelSelector::parse("app in web").is_err());
    }

    #[test]
    fn field_selectors_read_dotted_paths() {
        let pod = json!({"metadata": {"name": "a", "namespace": "n"}, "status": {"phase": "Running"}, "spec": {"nodeName": "n1"}});
        let check = |text: &str| FieldSelector::parse(text).unwrap().matches(&pod);
        assert!(check("metadata.name=a,metadata.namespace==n"));
        assert!(check("spec.nodeName=n1,status.phase!=Failed,status.phase!=Succeeded"));
        assert!(!check("status.phase=Pending"));
        assert!(check("spec.missing="));
        assert!(FieldSelector::parse("nonsense").is_err());
    }
}
