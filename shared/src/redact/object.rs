//! Structure-aware redaction of Kubernetes objects as JSON values.
//!
//! The walk is generic, so CRDs and pod templates at any depth are covered the same way:
//! - a string under a secret-ish key is replaced (by key name);
//! - an object with a secret-ish `name` (or `key`) and a `value` has its `value` replaced: env
//!   entries of containers, init and ephemeral containers, and every other name/value list;
//! - in an array of strings, the word after a secret-ish flag (`["--password", "x"]`) is
//!   replaced;
//! - a string that holds JSON (`kubectl.kubernetes.io/last-applied-configuration` and other
//!   annotations) is parsed and redacted as an object, so a Secret's data applied with kubectl
//!   does not survive in its own annotation;
//! - every other string goes through the text scanner (shape rules, and the `key=value` lines
//!   of config files that ConfigMaps carry);
//! - `Secret` objects are sanitized (`secret.rs`), and a ConfigMap's Helm release payload
//!   (`owner: helm` or `OWNER: TILLER`) is replaced.

use serde_json::{Map, Value};

use super::keys::{self, KeyClass};
use super::text::{Scan, apply};
use super::{Counts, Redactor, secret};

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Redacts a Kubernetes object, a List of them, or any JSON value. `depth` counts how deep the
/// value sits inside strings of other values; 0 for a top-level object.
pub(crate) fn redact_value(redactor: &Redactor, value: &mut Value, counts: &mut Counts, depth: u8) {
    walk(redactor, value, counts, depth, true);
}

fn walk(redactor: &Redactor, value: &mut Value, counts: &mut Counts, depth: u8, top: bool) {
    match value {
        Value::Object(map) => object(redactor, map, counts, depth, top),
        Value::Array(items) => array(redactor, None, items, counts, depth, top),
        Value::String(text) => string(redactor, None, text, counts, depth),
        _ => {}
    }
}

fn object(redactor: &Redactor, map: &mut Map<String, Value>, counts: &mut Counts, depth: u8, top: bool) {
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or_default().to_owned();
    // Items of a List are top-level objects of their own (certificate facts and all).
    let items_top = top && kind.ends_with("List");
    let mut handled: &[&str] = &[];
    if kind == "Secret" && (map.contains_key("data") || map.contains_key("stringData")) {
        secret::sanitize(redactor, map, counts, top && depth == 0);
        handled = &["data", "stringData"];
    } else if kind == "ConfigMap" {
        config_map(redactor, map, counts, depth);
        handled = &["data", "binaryData"];
    }
    name_value_pair(redactor, map, counts);
    for (key, value) in map.iter_mut() {
        if handled.contains(&key.as_str()) {
            continue;
        }
        match value {
            Value::String(text) => string(redactor, Some(key), text, counts, depth),
            Value::Array(items) => {
                array(redactor, Some(key), items, counts, depth, items_top && key == "items")
            }
            Value::Object(_) => walk(redactor, value, counts, depth, false),
            _ => {}
        }
    }
}

/// `{"name": "DB_PASSWORD", "value": "…"}` and `{"key": "password", "value": "…"}`.
fn name_value_pair(redactor: &Redactor, map: &mut Map<String, Value>, counts: &mut Counts) {
    let name = ["name", "key"].iter().find_map(|field| map.get(*field).and_then(Value::as_str));
    let Some(name) = name.map(str::to_owned) else { return };
    let class = keys::classify(&name);
    if class == KeyClass::Plain {
        return;
    }
    if let Some(Value::String(value)) = map.get_mut("value")
        && keys::should_redact(class, &name, value, true)
    {
        *value = redactor.marker("name-value-pair", value.as_bytes());
        counts.add("name-value-pair", 1);
    }
}

fn array(
    redactor: &Redactor,
    key: Option<&str>,
    items: &mut [Value],
    counts: &mut Counts,
    depth: u8,
    top: bool,
) {
    // `args: ["--password", "x"]`: the flag and its value are separate items.
    for i in 1..items.len() {
        let Some(flag) = items[i - 1].as_str() else { continue };
        let name = flag.strip_prefix("--").or_else(|| flag.strip_prefix('-').filter(|name| name.len() >= 4));
        let Some(name) = name.filter(|name| !name.contains('=')).map(str::to_owned) else { continue };
        let Some((class, rule, pattern)) = redactor.key_verdict(&name) else { continue };
        if let Value::String(value) = &mut items[i]
            && !value.starts_with('-')
            && keys::redacts(class, pattern, &name, value, true)
        {
            *value = redactor.marker(rule, value.as_bytes());
            counts.add(rule, 1);
        }
    }
    for item in items.iter_mut() {
        match item {
            Value::String(text) => string(redactor, key, text, counts, depth),
            _ => walk(redactor, item, counts, depth, top),
        }
    }
}

fn string(redactor: &Redactor, key: Option<&str>, text: &mut String, counts: &mut Counts, depth: u8) {
    if text.is_empty() || text.starts_with("<redacted") {
        return;
    }
    if let Some((class, rule, pattern)) = key.and_then(|key| redactor.key_verdict(key)) {
        let key = key.unwrap_or_default();
        if keys::redacts(class, pattern, key, text, true) {
            *text = redactor.marker(rule, text.as_bytes());
            counts.add(rule, 1);
            return;
        }
    }
    if embedded_json(redactor, key, text, counts, depth) {
        return;
    }
    scan(redactor, text, counts, depth);
}

/// A string that is JSON on one line (annotations), or a multi-line JSON document holding a
/// Secret: redacted as an object and written back. Multi-line config files are left to the
/// text scanner, which keeps their layout.
fn embedded_json(
    redactor: &Redactor,
    key: Option<&str>,
    text: &mut String,
    counts: &mut Counts,
    depth: u8,
) -> bool {
    let trimmed = text.trim();
    let json_like = (trimmed.starts_with('{') && trimmed.ends_with('}'))
        || (trimmed.starts_with('[') && trimmed.ends_with(']'));
    let last_applied = key == Some(LAST_APPLIED);
    if !json_like {
        if last_applied {
            // Cut short or not JSON: it cannot be checked, and it may hold a whole Secret.
            *text = "<redacted:last-applied-configuration>".to_owned();
            counts.add("last-applied-configuration", 1);
            return true;
        }
        return false;
    }
    if depth >= 3 || (trimmed.contains('\n') && !trimmed.contains("Secret")) {
        return false;
    }
    let Ok(mut parsed) = serde_json::from_str::<Value>(trimmed) else {
        if last_applied {
            *text = "<redacted:last-applied-configuration>".to_owned();
            counts.add("last-applied-configuration", 1);
            return true;
        }
        return false;
    };
    let mut inner = Counts::default();
    walk(redactor, &mut parsed, &mut inner, depth + 1, true);
    if !inner.is_empty() {
        let newline = text.ends_with('\n');
        *text = serde_json::to_string(&parsed).unwrap_or_default();
        if newline {
            text.push('\n');
        }
        counts.merge(&inner);
    }
    true
}

fn scan(redactor: &Redactor, text: &mut String, counts: &mut Counts, depth: u8) {
    let spans = Scan::new(redactor, text, depth).run();
    if !spans.is_empty() {
        *text = apply(redactor, text, spans, counts);
    }
}

/// A ConfigMap's values are whole config files: redacted by key name, then line by line; a
/// Helm (v2, or the configmap storage driver) release payload is replaced.
fn config_map(redactor: &Redactor, map: &mut Map<String, Value>, counts: &mut Counts, depth: u8) {
    let labels = map.get("metadata").and_then(|metadata| metadata.get("labels"));
    let owner =
        labels.and_then(|labels| labels.get("owner").or_else(|| labels.get("OWNER"))).and_then(Value::as_str);
    let helm =
        owner.is_some_and(|owner| owner.eq_ignore_ascii_case("helm") || owner.eq_ignore_ascii_case("tiller"));
    if let Some(Value::Object(data)) = map.get_mut("data") {
        for (key, value) in data.iter_mut() {
            let Value::String(text) = value else { continue };
            if helm && key == "release" && !text.starts_with("<redacted") {
                *text = secret::marker(redactor, "helm-release", text.as_bytes());
                counts.add("helm-release", 1);
                continue;
            }
            string(redactor, Some(key), text, counts, depth);
        }
    }
    if let Some(Value::Object(data)) = map.get_mut("binaryData") {
        for (key, value) in data.iter_mut() {
            let Value::String(encoded) = value else { continue };
            if encoded.starts_with("<redacted") {
                continue;
            }
            let Some(bytes) = super::decode_base64(encoded) else { continue };
            if redactor.key_verdict(key).is_some_and(|(class, _, _)| class == KeyClass::Strong) {
                *encoded = secret::marker(redactor, "key-name", &bytes);
                counts.add("key-name", 1);
                continue;
            }
            let Ok(mut decoded) = String::from_utf8(bytes) else { continue };
            let before = counts.total();
            scan(redactor, &mut decoded, counts, depth);
            if counts.total() != before {
                use base64::Engine as _;
                *encoded = base64::engine::general_purpose::STANDARD.encode(decoded);
            }
        }
    }
}
