//! Redaction: secret values are replaced before anything is written, by key name and by the
//! shape of the value, in resources and in logs. The report counts per rule and never holds a
//! value.
//!
//! One [`Redactor`] is built per run ([`Redactor::builtin`] or [`Redactor::with_rules`]) and
//! shared by every task: it is immutable and `Sync`. It offers
//! - [`Redactor::redact_object`] for Kubernetes objects and Lists as JSON values (structure
//!   aware: env entries, ConfigMap files, annotations, Secrets, Helm releases);
//! - [`Redactor::redact_text`] for logs and any other text (line by line, with a prefilter so
//!   that a line without a candidate costs one automaton step per byte);
//! - [`Redactor::redact_bytes`] for text that may not be UTF-8.
//!
//! Redacted values become `<redacted:RULE>` (Secret values `<redacted: N bytes>`), a fixed
//! text never derived from the value; in token mode ([`Redactor::with_tokens`]) the marker also
//! carries the value's keyed token, `<redacted:RULE:tok-HEX>` (`tokens.rs`).
//! `docs/redaction.md` lists every rule.

mod keys;
mod object;
mod pairs;
mod rules_file;
mod secret;
mod shapes;
mod text;
mod tokens;
mod yaml_secret;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use base64::Engine as _;
use regex::Regex;

pub use rules_file::{ExtraRule, RulesError, load_rules, parse_rules};
pub use tokens::{TOKEN_PREFIX, Tokens};

use crate::writer::BundleWriter;
pub use keys::KeyClass;
use rules_file::CustomRule;
use shapes::{Check, SHAPE_RULES, ShapeRule};

/// Rules implemented in code rather than in the shape table, with what they redact.
const CODE_RULES: &[(&str, &str)] = &[
    (
        "key-name",
        "the value of a key whose name says it is a secret (`DB_PASSWORD=…`, `api_key: …`, `\"token\": \"…\"`, `--password …`, `requirepass …`, `Authorization: Bearer …`), in YAML, JSON, env, ini, properties, XML attributes, logfmt, query strings and command lines",
    ),
    (
        "name-value-pair",
        "the `value` of a `{name, value}` entry whose `name` is secret-ish: container, init-container and ephemeral-container env, and every other name/value list",
    ),
    (
        "secret-data",
        "every value of a Secret's `data` and `stringData` (in objects: `<redacted: N bytes>` with certificate facts kept)",
    ),
    (
        "helm-release",
        "Helm release payloads: the `release` key of `helm.sh/release.v1` Secrets and of ConfigMaps owned by Helm or Tiller",
    ),
    (
        "pem-private-key",
        "the body of PEM private keys (`-----BEGIN … PRIVATE KEY-----`: RSA, EC, PKCS#8, encrypted, OpenSSH, PGP), on one line (escaped newlines) or across lines",
    ),
    (
        "base64-encoded-secret",
        "base64 values that decode to text holding a secret: PEM private keys (`LS0tLS1CRUdJT…`), JSON such as docker configs and service-account keys (`eyJ…`, `ewog…`), and URLs with credentials",
    ),
    (
        "last-applied-configuration",
        "a `kubectl.kubernetes.io/last-applied-configuration` annotation that is not valid JSON and so cannot be redacted field by field",
    ),
];

/// How many values each rule replaced. Never holds a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    by_rule: BTreeMap<String, u64>,
}

impl Counts {
    pub fn add(&mut self, rule: &str, n: u64) {
        if n > 0 {
            *self.by_rule.entry(rule.to_owned()).or_default() += n;
        }
    }

    /// The count of one rule.
    pub fn get(&self, rule: &str) -> u64 {
        self.by_rule.get(rule).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.by_rule.values().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_rule.is_empty()
    }

    /// Counts by rule, in rule-name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.by_rule.iter().map(|(rule, n)| (rule.as_str(), *n))
    }

    pub fn merge(&mut self, other: &Counts) {
        for (rule, n) in other.iter() {
            self.add(rule, n);
        }
    }

    /// Adds these counts to a bundle's redaction report for `file`.
    pub fn record<W: Write>(&self, writer: &mut BundleWriter<W>, file: &str) {
        for (rule, n) in self.iter() {
            writer.record_redactions(rule, file, n);
        }
    }
}

/// A compiled built-in shape rule.
#[derive(Debug)]
struct Shape {
    rule: &'static ShapeRule,
    regex: Regex,
}

impl Shape {
    fn accepts(&self, secret: &str) -> bool {
        if keys::is_placeholder(secret) {
            return false;
        }
        match self.rule.check {
            Check::None => true,
            Check::Generated => keys::looks_generated(secret),
            Check::DigitsAndLetters => {
                secret.bytes().any(|b| b.is_ascii_digit()) && secret.bytes().any(|b| b.is_ascii_alphabetic())
            }
            Check::BasicCredentials => decode_base64_text(secret)
                .is_some_and(|text| text.find(':').is_some_and(|colon| colon > 0 && colon + 1 < text.len())),
        }
    }
}

/// The redactor: all rules compiled once; immutable and `Sync`.
#[derive(Debug)]
pub struct Redactor {
    /// Every trigger literal; `None` only if the automaton could not be built, and then every
    /// line is a candidate (slower, never less safe).
    prefilter: Option<AhoCorasick>,
    /// For each pattern of `prefilter`, the shape rule it triggers (`None`: keys, PEM, base64).
    trigger_shape: Vec<Option<usize>>,
    /// Every literal that a secret-ish key name contains (any case): classifying a key that
    /// holds none is skipped.
    key_prefilter: Option<AhoCorasick>,
    shapes: Vec<Shape>,
    /// Base64 values worth decoding (see [`BASE64_PREFIXES`]).
    base64: Option<Regex>,
    /// A `kind: Secret` line of YAML.
    secret_kind: Option<Regex>,
    custom: Vec<CustomRule>,
    /// Token mode: markers carry the value's keyed token.
    tokens: Option<Tokens>,
}

/// Base64 values whose decoded start says they may hold a secret: PEM (`-----BEGIN`), JSON
/// (`{"`, `{\n  `), URLs (`postgres://`, `mysql://`, `mongodb`, `redis://`, `amqp`, `http`).
const BASE64_PREFIXES: &[&str] = &[
    "LS0tLS1CRUdJT",
    "eyJ",
    "ewogI",
    "ew0KI",
    "cG9zdGdyZ",
    "bXlzcWw6",
    "bW9uZ29kYi",
    "cmVkaXM6",
    "cmVkaXNzOi",
    "YW1xcH",
    "aHR0cHM6Ly",
    "aHR0cDovL",
    "ZnRwOi",
    "c210cH",
];

impl Redactor {
    /// The built-in rules only.
    pub fn builtin() -> Redactor {
        Redactor::compile(Vec::new())
    }

    /// The built-in rules and `extra` (from [`load_rules`] or [`parse_rules`]).
    pub fn with_rules(extra: Vec<ExtraRule>) -> Result<Redactor, RulesError> {
        let names: Vec<&str> = Redactor::rules().map(|(name, _)| name).collect();
        Ok(Redactor::compile(rules_file::compile(extra, &names)?))
    }

    fn compile(custom: Vec<CustomRule>) -> Redactor {
        // The built-in patterns are constants that unit tests compile (`builtin_compiles_every_rule`);
        // the `Option`s keep the constructor free of `unwrap`, and where a fallback exists (no
        // prefilter) it is slower, never less safe.
        let shapes: Vec<Shape> = SHAPE_RULES
            .iter()
            .filter_map(|rule| Regex::new(rule.pattern).ok().map(|regex| Shape { rule, regex }))
            .collect();
        let mut key_triggers: Vec<String> = keys::key_triggers().into_iter().map(str::to_owned).collect();
        key_triggers.extend(custom.iter().flat_map(|rule| rule.keys.iter().cloned()));
        // One case-sensitive automaton over lower, UPPER and Capitalized forms of every trigger:
        // much faster than an ASCII case-insensitive one, and its pattern ids say which shape
        // rules a line can match, so only those run.
        let mut triggers: Vec<String> = Vec::new();
        let mut trigger_shape: Vec<Option<usize>> = Vec::new();
        let general = key_triggers
            .iter()
            .map(String::as_str)
            .chain(BASE64_PREFIXES.iter().copied())
            .chain(["-----BEGIN", "Secret"]);
        for trigger in general {
            for variant in case_variants(trigger) {
                triggers.push(variant);
                trigger_shape.push(None);
            }
        }
        for (index, shape) in shapes.iter().enumerate() {
            // A case-sensitive pattern (`SK…`, `-u`) needs its trigger only as written: the
            // other forms would only make more lines candidates.
            let any_case = shape.rule.pattern.starts_with("(?i)") || shape.rule.pattern.contains("(?i:");
            for trigger in shape.rule.triggers {
                let variants = if any_case { case_variants(trigger) } else { vec![(*trigger).to_owned()] };
                for variant in variants {
                    triggers.push(variant);
                    trigger_shape.push(Some(index));
                }
            }
        }
        let prefilter = AhoCorasick::builder().kind(Some(AhoCorasickKind::DFA)).build(&triggers).ok();
        let key_prefilter = AhoCorasick::builder().ascii_case_insensitive(true).build(&key_triggers).ok();
        let base64_pattern = format!(r"\b(?:{})[A-Za-z0-9+/_\-]{{12,}}={{0,2}}", BASE64_PREFIXES.join("|"));
        Redactor {
            prefilter,
            trigger_shape,
            key_prefilter,
            shapes,
            base64: Regex::new(&base64_pattern).ok(),
            secret_kind: Regex::new(yaml_secret::SECRET_KIND).ok(),
            custom,
            tokens: None,
        }
    }

    /// Token mode: every redacted value's marker carries its token under `tokens`' key (the
    /// same value, the same token, everywhere this redactor is used).
    pub fn with_tokens(mut self, tokens: Tokens) -> Redactor {
        self.tokens = Some(tokens);
        self
    }

    /// The token maker in token mode.
    pub fn tokens(&self) -> Option<&Tokens> {
        self.tokens.as_ref()
    }

    /// The marker that replaces `value` under `rule`: `<redacted:RULE>`, or in token mode
    /// `<redacted:RULE:tok-HEX>`.
    pub(crate) fn marker(&self, rule: &str, value: &[u8]) -> String {
        let mut marker = String::with_capacity(rule.len() + 32);
        marker.push_str("<redacted:");
        marker.push_str(rule);
        self.push_token(&mut marker, rule, value);
        marker.push('>');
        marker
    }

    /// Appends `:tok-HEX` in token mode (never for whole documents, see `tokens.rs`).
    pub(crate) fn push_token(&self, marker: &mut String, rule: &str, value: &[u8]) {
        if let Some(tokens) = &self.tokens
            && Tokens::applies_to(rule)
        {
            marker.push(':');
            marker.push_str(&tokens.token(value));
        }
    }

    /// The shape rules a line can match: those whose trigger it holds (all of them without a
    /// prefilter).
    fn shapes_for(&self, line: &str) -> Vec<usize> {
        let Some(prefilter) = &self.prefilter else { return (0..self.shapes.len()).collect() };
        let mut indexes: Vec<usize> = prefilter
            .find_overlapping_iter(line)
            .filter_map(|found| self.trigger_shape.get(found.pattern().as_usize()).copied().flatten())
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        indexes
    }

    /// Every built-in rule: its name and what it redacts.
    pub fn rules() -> impl Iterator<Item = (&'static str, &'static str)> {
        CODE_RULES.iter().copied().chain(SHAPE_RULES.iter().map(|rule| (rule.name, rule.what)))
    }

    /// Names of the user rules of this redactor.
    pub fn extra_rule_names(&self) -> impl Iterator<Item = &str> {
        self.custom.iter().map(|rule| rule.name.as_str())
    }

    /// Redacts any text: logs, YAML, env files, config files. A text that is one JSON document
    /// is redacted as an object (and re-serialized only if something was redacted).
    ///
    /// The result is a fixed point: redacting it again changes nothing. One redaction can make a
    /// text readable to a stricter rule (a YAML Secret that parses only once a mangled value is
    /// replaced by its marker; a credential right after an armor block cut short), so a changed
    /// text is redacted again until nothing changes. Markers are never redacted again, so each
    /// round only replaces more values; the bound is a guard, not a limit ever reached.
    pub fn redact_text<'t>(&self, text: &'t str, counts: &mut Counts) -> Cow<'t, str> {
        const MAX_ROUNDS: usize = 8;
        let Cow::Owned(mut redacted) = self.redact_text_once(text, counts) else {
            return Cow::Borrowed(text);
        };
        for _ in 1..MAX_ROUNDS {
            let again = match self.redact_text_once(&redacted, counts) {
                Cow::Borrowed(_) => break,
                Cow::Owned(again) => again,
            };
            redacted = again;
        }
        Cow::Owned(redacted)
    }

    /// One pass of [`Redactor::redact_text`].
    fn redact_text_once<'t>(&self, text: &'t str, counts: &mut Counts) -> Cow<'t, str> {
        if let Some(redacted) = self.redact_json_document(text, counts) {
            return redacted;
        }
        let spans = text::Scan::new(self, text, 0).run();
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        Cow::Owned(text::apply(self, text, spans, counts))
    }

    /// Redacts bytes that should be text; invalid UTF-8 is replaced (by U+FFFD) only when
    /// something was redacted, otherwise the bytes come back untouched.
    pub fn redact_bytes<'b>(&self, bytes: &'b [u8], counts: &mut Counts) -> Cow<'b, [u8]> {
        match std::str::from_utf8(bytes) {
            Ok(text) => match self.redact_text(text, counts) {
                Cow::Borrowed(_) => Cow::Borrowed(bytes),
                Cow::Owned(text) => Cow::Owned(text.into_bytes()),
            },
            Err(_) => {
                let lossy = String::from_utf8_lossy(bytes);
                match self.redact_text(&lossy, counts) {
                    Cow::Borrowed(_) => Cow::Borrowed(bytes),
                    Cow::Owned(text) => Cow::Owned(text.into_bytes()),
                }
            }
        }
    }

    /// Redacts a Kubernetes object, a List of them (item by item), or any JSON value, in place.
    pub fn redact_object(&self, object: &mut serde_json::Value, counts: &mut Counts) {
        object::redact_value(self, object, counts, 0);
    }

    /// A text that is a single JSON document: redacted as an object, written back pretty when
    /// it was on several lines, compact otherwise. `None` when the text is not JSON.
    fn redact_json_document<'t>(&self, text: &'t str, counts: &mut Counts) -> Option<Cow<'t, str>> {
        let trimmed = text.trim();
        let json_like = (trimmed.starts_with('{') && trimmed.ends_with('}'))
            || (trimmed.starts_with('[') && trimmed.ends_with(']'));
        if !json_like {
            return None;
        }
        let mut value: serde_json::Value = serde_json::from_str(trimmed).ok()?;
        let mut inner = Counts::default();
        self.redact_object(&mut value, &mut inner);
        if inner.is_empty() {
            return Some(Cow::Borrowed(text));
        }
        counts.merge(&inner);
        let body = if trimmed.contains('\n') {
            serde_json::to_string_pretty(&value)
        } else {
            serde_json::to_string(&value)
        };
        let mut out = body.unwrap_or_default();
        if text.ends_with('\n') {
            out.push('\n');
        }
        Some(Cow::Owned(out))
    }

    /// The rule a secret-ish key falls under, with its class and a user rule's value pattern.
    fn key_verdict(&self, key: &str) -> Option<(KeyClass, &str, Option<&Regex>)> {
        // A marker in a key is what an earlier pass wrote, not a word of the key:
        // `"<redacted:aws-access-key-id>{u:p"` names no key.
        if key.contains("<redacted") {
            return self.key_verdict(&without_markers(key));
        }
        if self.key_prefilter.as_ref().is_some_and(|prefilter| !prefilter.is_match(key)) {
            return None;
        }
        if self.custom.iter().any(|rule| !rule.keys.is_empty()) {
            let lower = key.to_ascii_lowercase();
            for rule in &self.custom {
                if rule.keys.iter().any(|piece| lower.contains(piece.as_str())) {
                    return Some((KeyClass::Strong, rule.name.as_str(), rule.pattern.as_ref()));
                }
            }
        }
        match keys::classify(key) {
            KeyClass::Plain => None,
            class => Some((class, "key-name", None)),
        }
    }
}

/// `key` with every `<redacted…>` marker taken out.
fn without_markers(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut rest = key;
    while let Some(start) = rest.find("<redacted") {
        out.push_str(&rest[..start]);
        rest = rest[start..].find('>').map_or("", |end| &rest[start + end + 1..]);
    }
    out.push_str(rest);
    out
}

/// `password`, `PASSWORD`, `Password`: the forms a trigger takes in keys and text (`dbPassword`,
/// `DB_PASSWORD`, `db_password`). A trigger that is not all lower case is kept as written too.
fn case_variants(trigger: &str) -> Vec<String> {
    let lower = trigger.to_ascii_lowercase();
    let mut capitalized = lower.clone();
    if let Some(first) = capitalized.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let mut variants = vec![trigger.to_owned(), lower.clone(), lower.to_ascii_uppercase(), capitalized];
    variants.sort();
    variants.dedup();
    variants
}

/// Decodes base64 (standard or URL-safe alphabet, padded or not, cut short or not).
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let config = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let standard = GeneralPurpose::new(&base64::alphabet::STANDARD, config);
    let url_safe = GeneralPurpose::new(&base64::alphabet::URL_SAFE, config);
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let engine = if compact.contains(['-', '_']) { &url_safe } else { &standard };
    engine.decode(&compact).ok().or_else(|| {
        let unpadded = compact.trim_end_matches('=');
        let usable = unpadded.len() - unpadded.len() % 4;
        engine.decode(&unpadded[..usable]).ok()
    })
}

/// How strongly `key` says its value is a secret: [`KeyClass::Strong`] for `DB_PASSWORD`,
/// `apiKey`, `tls.key`; [`KeyClass::Weak`] for names that are often a setting (`session`,
/// `signature`); [`KeyClass::Plain`] for settings about a secret (`PASSWORD_FILE`,
/// `existingSecret`, `ALLOW_EMPTY_PASSWORD`, `AUTH_PASS_CREDENTIALS`). The redaction rules' own
/// reading of a name, for the analyzer's credential checks.
pub fn classify_key(key: &str) -> KeyClass {
    keys::classify(key)
}

/// Whether `value`, written as the whole value of `key` (an env entry, a config line), is a
/// secret by the redaction rules: the name says secret and the value is not empty, a
/// placeholder, a reference (`$(VAR)`, `${X}`), a boolean, a number, a lower-case path or a key's
/// name; under a name that only may be a secret's (`STRIPE_KEY`), the value must also look
/// generated. The analyzer asks this of values that reached a bundle unredacted.
pub fn is_secret_assignment(key: &str, value: &str) -> bool {
    keys::should_redact(keys::classify(key), key, value, true)
}

/// Decodes base64 that holds text; `None` for binary content.
fn decode_base64_text(text: &str) -> Option<String> {
    let bytes = decode_base64(text)?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        // A value cut short may end inside a character.
        Err(error) if error.valid_up_to() + 4 >= bytes.len() => {
            std::str::from_utf8(&bytes[..error.valid_up_to()]).ok()?
        }
        Err(_) => return None,
    };
    let printable = text.chars().filter(|c| !c.is_control() || c.is_whitespace()).count();
    (printable * 10 >= text.chars().count() * 9).then(|| text.to_owned())
}

#[cfg(test)]
mod tests;
