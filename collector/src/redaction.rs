//! The collector's use of `kubesnap_shared::redact`: one call per object and per log, before
//! anything reaches the writer; and the guard that keeps Secret values out of the bundle even
//! under `--no-redact`.

use std::borrow::Cow;
use std::path::Path;

use anyhow::Context as _;
use kubesnap_shared::redact::{Counts, Redactor, load_rules};
use serde_json::Value;

/// Redaction as the options ask: the built-in rules plus `--redact-rules`, or none at all.
#[derive(Debug)]
pub(crate) struct Redaction {
    redactor: Option<Redactor>,
}

impl Redaction {
    pub(crate) fn new(no_redact: bool, rules: Option<&Path>) -> anyhow::Result<Self> {
        if no_redact {
            return Ok(Redaction { redactor: None });
        }
        let redactor = match rules {
            Some(path) => {
                let extra = load_rules(path)
                    .with_context(|| format!("failed to load redaction rules from {}", path.display()))?;
                Redactor::with_rules(extra)
                    .with_context(|| format!("failed to compile the redaction rules of {}", path.display()))?
            }
            None => Redactor::builtin(),
        };
        Ok(Redaction { redactor: Some(redactor) })
    }

    /// Redacts one object in place (a Secret is sanitized whatever the options).
    pub(crate) fn object(&self, object: &mut Value, counts: &mut Counts) {
        if let Some(redactor) = &self.redactor {
            redactor.redact_object(object, counts);
        }
        guard_secret(object, counts);
    }

    /// Redacts one log or other text that may not be UTF-8.
    pub(crate) fn bytes<'b>(&self, bytes: &'b [u8], counts: &mut Counts) -> Cow<'b, [u8]> {
        match &self.redactor {
            Some(redactor) => redactor.redact_bytes(bytes, counts),
            None => Cow::Borrowed(bytes),
        }
    }
}

/// The counts as `(rule, count)` pairs for the writer.
pub(crate) fn pairs(counts: &Counts) -> Vec<(String, u64)> {
    counts.iter().map(|(rule, count)| (rule.to_owned(), count)).collect()
}

/// Whatever the redactor did, a Secret leaves with no value: any `data` or `stringData` value
/// that is not already a `<redacted…>` marker becomes one. This is the collector's own promise
/// ("metadata and key names only"), so it holds under `--no-redact` too.
fn guard_secret(object: &mut Value, counts: &mut Counts) {
    if object.get("kind").and_then(Value::as_str) != Some("Secret") {
        return;
    }
    for field in ["data", "stringData"] {
        let Some(Value::Object(values)) = object.get_mut(field) else { continue };
        for value in values.values_mut() {
            let n_bytes = match value {
                Value::String(text) if text.starts_with("<redacted") => continue,
                // `data` is base64: 4 characters carry 3 bytes.
                Value::String(text) if field == "data" => text.trim_end_matches('=').len() * 3 / 4,
                Value::String(text) => text.len(),
                _ => 0,
            };
            *value = Value::String(format!("<redacted: {n_bytes} bytes>"));
            counts.add("secret-data", 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secret_values_never_survive_even_without_redaction() -> anyhow::Result<()> {
        let redaction = Redaction::new(true, None)?;
        let mut secret = json!({
            "kind": "Secret", "apiVersion": "v1", "metadata": {"name": "db"},
            "data": {"password": "ZGJwYXNzMTIz"}, "stringData": {"user": "admin"}
        });
        let mut counts = Counts::default();
        redaction.object(&mut secret, &mut counts);
        assert_eq!(secret["data"]["password"], "<redacted: 9 bytes>");
        assert_eq!(secret["stringData"]["user"], "<redacted: 5 bytes>");
        assert_eq!(counts.get("secret-data"), 2);
        Ok(())
    }

    #[test]
    fn builtin_rules_redact_env_and_logs() -> anyhow::Result<()> {
        let redaction = Redaction::new(false, None)?;
        let mut pod = json!({
            "kind": "Pod", "apiVersion": "v1", "metadata": {"name": "db"},
            "spec": {"containers": [{"name": "db", "env": [{"name": "DB_PASSWORD", "value": "dbpass123"}]}]}
        });
        let mut counts = Counts::default();
        redaction.object(&mut pod, &mut counts);
        assert!(!pod.to_string().contains("dbpass123"), "{pod}");
        assert!(counts.total() >= 1);
        let log = b"2026-01-01T00:00:00Z connecting to postgres://app:dbpass123@db:5432/app\n";
        let redacted = redaction.bytes(log, &mut counts);
        assert!(!String::from_utf8_lossy(&redacted).contains("dbpass123"));
        Ok(())
    }
}
