//! Extra redaction rules from a file (`kubesnap-collect --redact-rules FILE`): a YAML (or JSON)
//! list of `{name, pattern, keys}`.
//!
//! ```yaml
//! - name: acme-license            # lower-case letters, digits and dashes; shown in the report
//!   pattern: 'ACME-[0-9A-F]{24}'   # a regex (Rust syntax); replaced wherever it matches
//! - name: acme-session
//!   keys: [acme_session, x-acme-auth]  # key names containing one of these (any case)
//! - name: acme-pin
//!   keys: [pin]
//!   pattern: '^\d{4,8}$'           # with keys: only values under those keys that match
//! ```
//!
//! A pattern alone applies to all text; when it has a group named `secret` (or any group),
//! only that group is replaced. `keys` alone redacts every value under those keys that is not
//! a placeholder, a boolean or a number.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One user rule, as written in the rules file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraRule {
    pub name: String,
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub keys: Vec<String>,
}

/// Why a rules file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    #[error("failed to read redaction rules {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid redaction rules in {origin}: expected a list of {{name, pattern, keys}}")]
    Parse {
        origin: String,
        #[source]
        source: crate::yaml::Error,
    },
    #[error("redaction rule `{name}`: invalid pattern")]
    Pattern {
        name: String,
        #[source]
        source: regex::Error,
    },
    #[error("redaction rule `{name}`: a name is lower-case letters, digits and dashes")]
    Name { name: String },
    #[error("redaction rule `{name}`: give a `pattern`, `keys`, or both")]
    Empty { name: String },
    #[error("redaction rule `{name}` is defined twice or has the name of a built-in rule")]
    Duplicate { name: String },
}

/// Parses rules from text; `origin` names the text in errors.
pub fn parse_rules(text: &str, origin: &str) -> Result<Vec<ExtraRule>, RulesError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    crate::yaml::from_str(text).map_err(|source| RulesError::Parse { origin: origin.to_owned(), source })
}

/// Reads and parses a rules file.
pub fn load_rules(path: &Path) -> Result<Vec<ExtraRule>, RulesError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| RulesError::Read { path: path.to_owned(), source })?;
    parse_rules(&text, &path.display().to_string())
}

/// A validated user rule, ready to match.
#[derive(Debug)]
pub(crate) struct CustomRule {
    pub(crate) name: String,
    pub(crate) pattern: Option<regex::Regex>,
    /// Lower-case pieces of key names.
    pub(crate) keys: Vec<String>,
}

pub(crate) fn compile(rules: Vec<ExtraRule>, builtin_names: &[&str]) -> Result<Vec<CustomRule>, RulesError> {
    let mut compiled: Vec<CustomRule> = Vec::with_capacity(rules.len());
    for rule in rules {
        let name = rule.name;
        let valid = !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(RulesError::Name { name });
        }
        if builtin_names.contains(&name.as_str()) || compiled.iter().any(|other| other.name == name) {
            return Err(RulesError::Duplicate { name });
        }
        let keys: Vec<String> = rule
            .keys
            .iter()
            .map(|key| key.trim().to_ascii_lowercase())
            .filter(|key| !key.is_empty())
            .collect();
        if rule.pattern.is_none() && keys.is_empty() {
            return Err(RulesError::Empty { name });
        }
        let pattern = match rule.pattern {
            Some(pattern) => Some(
                regex::Regex::new(&pattern)
                    .map_err(|source| RulesError::Pattern { name: name.clone(), source })?,
            ),
            None => None,
        };
        compiled.push(CustomRule { name, pattern, keys });
    }
    Ok(compiled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_documented_rules_file_parses() -> Result<(), RulesError> {
        let text = "- name: acme-license\n  pattern: 'ACME-[0-9A-F]{24}'\n- name: acme-session\n  keys: [acme_session]\n";
        let rules = parse_rules(text, "rules.yaml")?;
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[1].keys, ["acme_session"]);
        let compiled = compile(rules, &["key-name"])?;
        assert_eq!(compiled[0].name, "acme-license");
        Ok(())
    }

    #[test]
    fn mistakes_are_refused_with_the_rule_named() {
        let unknown_field = parse_rules("- name: a\n  patern: x\n", "r.yaml");
        assert!(matches!(unknown_field, Err(RulesError::Parse { .. })));
        let rule = |name: &str, pattern: Option<&str>| ExtraRule {
            name: name.to_owned(),
            pattern: pattern.map(str::to_owned),
            keys: Vec::new(),
        };
        assert!(matches!(compile(vec![rule("Bad Name", Some("x"))], &[]), Err(RulesError::Name { .. })));
        assert!(matches!(compile(vec![rule("jwt", Some("x"))], &["jwt"]), Err(RulesError::Duplicate { .. })));
        assert!(matches!(compile(vec![rule("a", None)], &[]), Err(RulesError::Empty { .. })));
        let error = compile(vec![rule("a", Some("(unclosed"))], &[]).err().map(|e| e.to_string());
        assert_eq!(error.as_deref(), Some("redaction rule `a`: invalid pattern"));
    }
}
