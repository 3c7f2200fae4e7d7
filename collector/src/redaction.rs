//! The collector's use of `kubesnap_shared::redact`: one call per object and per log, before
//! anything reaches the writer; the guard that keeps Secret values out of the bundle even
//! under `--no-redact`; and the token-mode flags shared by a collection and `redact`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use kubesnap_shared::redact::{Counts, Redactor, Tokens, load_rules};
use serde_json::Value;

use crate::redaction_map::{self, MapTarget};

/// How a redacted value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RedactMode {
    /// `<redacted:RULE>`: nothing of the value is left.
    Mask,
    /// `<redacted:RULE:tok-…>`: a keyed token of the value, the same for the same value.
    Tokens,
}

impl RedactMode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            RedactMode::Mask => "mask",
            RedactMode::Tokens => "tokens",
        }
    }
}

/// `--redact-mode`, `--redaction-map` and `--redaction-map-key`, for a collection and for `redact`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct TokenArgs {
    /// How a redacted value is written: mask (<redacted:RULE>) or tokens (<redacted:RULE:tok-…>).
    ///
    /// In token mode each distinct secret value becomes the same opaque token everywhere in the
    /// bundle (HMAC-SHA256 under a random key made for this bundle and never written), so a
    /// reader sees that three workloads share one password without seeing it. Another bundle
    /// gets other tokens.
    #[arg(long, value_name = "MODE", default_value = "mask")]
    pub(crate) redact_mode: RedactMode,

    /// Token mode: also write the map token → value, encrypted, to this new file.
    ///
    /// Keep it (and its key) with you; never send it with the bundle. Read it with
    /// `kubesnap-collect redaction-map show FILE --key KEYFILE`.
    #[arg(long, value_name = "FILE", requires = "redaction_map_key")]
    pub(crate) redaction_map: Option<PathBuf>,

    /// The key file that encrypts --redaction-map (ChaCha20-Poly1305, 256-bit key).
    ///
    /// Created with a new random key, readable by you only, when it does not exist; an existing
    /// one is reused, so one key can serve many maps.
    #[arg(long, value_name = "FILE", requires = "redaction_map")]
    pub(crate) redaction_map_key: Option<PathBuf>,
}

impl TokenArgs {
    /// The token maker (token mode) and where its map goes (`--redaction-map`): prepared before
    /// any work, so a bad key file or an existing map stops the run at once.
    pub(crate) fn prepare(&self) -> anyhow::Result<(Option<Tokens>, Option<MapTarget>)> {
        if self.redact_mode != RedactMode::Tokens {
            if self.redaction_map.is_some() {
                bail!("--redaction-map needs --redact-mode tokens (a masked value has no token to map)");
            }
            return Ok((None, None));
        }
        let target = match (&self.redaction_map, &self.redaction_map_key) {
            (Some(map), Some(key)) => Some(MapTarget::prepare(map, key)?),
            _ => None,
        };
        let tokens = Tokens::new(redaction_map::random_key()?, target.is_some());
        Ok((Some(tokens), target))
    }
}

/// The built-in rules plus `rules`, in token mode when `tokens` is given.
pub(crate) fn redactor(rules: Option<&Path>, tokens: Option<Tokens>) -> anyhow::Result<Redactor> {
    let redactor = match rules {
        Some(path) => {
            let extra = load_rules(path)
                .with_context(|| format!("failed to load redaction rules from {}", path.display()))?;
            Redactor::with_rules(extra)
                .with_context(|| format!("failed to compile the redaction rules of {}", path.display()))?
        }
        None => Redactor::builtin(),
    };
    Ok(match tokens {
        Some(tokens) => redactor.with_tokens(tokens),
        None => redactor,
    })
}

/// Redaction as the options ask: the built-in rules plus `--redact-rules`, or none at all.
#[derive(Debug)]
pub(crate) struct Redaction {
    redactor: Option<Redactor>,
}

impl Redaction {
    pub(crate) fn new(no_redact: bool, rules: Option<&Path>, tokens: Option<Tokens>) -> anyhow::Result<Self> {
        if no_redact {
            if tokens.is_some() {
                bail!(
                    "--no-redact redacts nothing, so there is nothing to tokenize: drop --redact-mode tokens"
                );
            }
            return Ok(Redaction { redactor: None });
        }
        Ok(Redaction { redactor: Some(redactor(rules, tokens)?) })
    }

    /// Token mode's map so far (token → value), emptied; empty when no map is kept.
    pub(crate) fn take_map(&self) -> BTreeMap<String, Vec<u8>> {
        self.redactor.as_ref().and_then(Redactor::tokens).map(Tokens::take_map).unwrap_or_default()
    }

    /// Redacts one object in place (a Secret is sanitized whatever the options).
    pub(crate) fn object(&self, object: &mut Value, counts: &mut Counts) {
        if let Some(redactor) = &self.redactor {
            redactor.redact_object(object, counts);
        }
        guard_secret(object, counts);
    }

    /// Redacts one text (a Helm release's description).
    pub(crate) fn text<'t>(&self, text: &'t str, counts: &mut Counts) -> Cow<'t, str> {
        match &self.redactor {
            Some(redactor) => redactor.redact_text(text, counts),
            None => Cow::Borrowed(text),
        }
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
        let redaction = Redaction::new(true, None, None)?;
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
        let redaction = Redaction::new(false, None, None)?;
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

    #[test]
    fn token_mode_gives_the_same_token_to_the_same_value_and_maps_it_back() -> anyhow::Result<()> {
        let redaction = Redaction::new(false, None, Some(Tokens::new(redaction_map::random_key()?, true)))?;
        let mut counts = Counts::default();
        let mut pod = json!({
            "kind": "Pod", "apiVersion": "v1", "metadata": {"name": "db"},
            "spec": {"containers": [{"name": "db", "env": [{"name": "DB_PASSWORD", "value": "dbpass123"}]}]}
        });
        redaction.object(&mut pod, &mut counts);
        let log = redaction.bytes(b"connecting to postgres://app:dbpass123@db:5432/app\n", &mut counts);
        let log = String::from_utf8_lossy(&log).into_owned();
        let marker = pod["spec"]["containers"][0]["env"][0]["value"].as_str().unwrap_or_default().to_owned();
        let token = marker.trim_start_matches("<redacted:name-value-pair:").trim_end_matches('>');
        assert!(token.starts_with("tok-") && token.len() == 20, "{marker}");
        assert!(log.contains(token) && !log.contains("dbpass123"), "{log}");
        let map = redaction.take_map();
        assert_eq!(map.get(token).map(Vec::as_slice), Some(&b"dbpass123"[..]));
        Ok(())
    }

    #[test]
    fn two_runs_give_two_sets_of_tokens() -> anyhow::Result<()> {
        let args =
            TokenArgs { redact_mode: RedactMode::Tokens, redaction_map: None, redaction_map_key: None };
        let run = || -> anyhow::Result<String> {
            let (tokens, _) = args.prepare()?;
            let redaction = Redaction::new(false, None, tokens)?;
            let out = redaction.bytes(b"DB_PASSWORD=dbpass123\n", &mut Counts::default());
            Ok(String::from_utf8_lossy(&out).into_owned())
        };
        let (first, second) = (run()?, run()?);
        assert!(first.starts_with("DB_PASSWORD=<redacted:key-name:tok-"), "{first}");
        assert_ne!(first, second);
        Ok(())
    }

    #[test]
    fn a_map_needs_token_mode_and_no_redact_refuses_tokens() -> anyhow::Result<()> {
        let args = TokenArgs {
            redact_mode: RedactMode::Mask,
            redaction_map: Some(PathBuf::from("m")),
            redaction_map_key: Some(PathBuf::from("k")),
        };
        assert!(args.prepare().is_err());
        assert!(Redaction::new(true, None, Some(Tokens::new([0; 32], false))).is_err());
        Ok(())
    }
}
