//! What a literal value written under a name is, as evidence of a credential: the shared
//! judgement of `plaintext-credential-in-env` and `credential-in-configmap`.
//!
//! A name alone proves nothing (`ALLOW_EMPTY_PASSWORD=yes` is a switch,
//! `GOOGLE_APPLICATION_CREDENTIALS=/credentials/cloud` a path): a value is a credential only when
//! its name says secret *and* the value looks like one, by the same rules the collector redacts
//! with ([`kubesnap_shared::redact::is_secret_assignment`]): not empty, not a placeholder or a
//! reference (`$(VAR)`), not a boolean, a number, a path or a key's name. A PEM private key is one
//! whatever its name. A value another collector already replaced (`***HIDDEN***`) shows only that
//! a literal was there, not what it was; kubesnap's own marker (`<redacted:RULE>`) says its rules
//! judged the value a secret.

use kubesnap_shared::redact::{KeyClass, classify_key, is_secret_assignment};

/// What a literal value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Literal {
    /// A PEM private key (`-----BEGIN RSA PRIVATE KEY-----`).
    PrivateKey,
    /// A credential, readable in the bundle.
    Credential,
    /// A credential kubesnap's collector redacted: its rules judged the value a secret.
    RedactedCredential,
    /// A value under a credential's name that another tool redacted: the bundle cannot show
    /// whether it was a credential or a setting.
    Hidden,
}

impl Literal {
    /// The text shown in place of the value in evidence: never the value.
    pub(crate) fn shown(self) -> &'static str {
        match self {
            Literal::PrivateKey => "<PEM private key, not shown>",
            Literal::Credential => "<literal value, not shown>",
            Literal::RedactedCredential => "<literal value, redacted by the collector>",
            Literal::Hidden => "<literal value, redacted in this bundle>",
        }
    }
}

/// Markers other tools put in place of values (troubleshoot's `***HIDDEN***`).
fn is_foreign_redaction(value: &str) -> bool {
    let upper = value.trim().to_ascii_uppercase();
    upper.contains("***HIDDEN***")
        || matches!(upper.as_str(), "REDACTED" | "[REDACTED]" | "<REDACTED>" | "(REDACTED)" | "HIDDEN")
        || (upper.len() >= 3 && upper.chars().all(|c| c == '*'))
}

/// Whether the name's last word ends like a reference glued to it
/// (`REGISTRY_STORAGE_S3_CREDENTIALSCONFIGPATH`, `SECRETFILE`): a path or a name, not a value.
fn names_a_reference(name: &str) -> bool {
    let last = name.rsplit(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or(name).to_ascii_lowercase();
    ["path", "file", "filename", "dir", "name", "url", "ref"].iter().any(|suffix| last.ends_with(suffix))
}

/// A file path in any case (`/etc/kubernetes/secrets/etcd-peer-${NODE_NAME}.key`): segments of
/// path characters, one of them a plain lower-case word. Base64 secrets have `+`, `=` and no words.
fn is_path(value: &str) -> bool {
    let Some(rest) =
        value.strip_prefix('/').or_else(|| value.strip_prefix("~/")).or_else(|| value.strip_prefix("./"))
    else {
        return false;
    };
    let segments: Vec<&str> = rest.split('/').filter(|segment| !segment.is_empty()).collect();
    segments.len() >= 2
        && segments.iter().all(|segment| {
            segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '$' | '{' | '}'))
        })
        && segments
            .iter()
            .any(|segment| segment.len() >= 3 && segment.chars().all(|c| c.is_ascii_lowercase()))
}

/// What the literal `value` written under `name` is, or `None` when it is not a credential.
/// Names that only may be a secret's (`signature`, `STRIPE_KEY`) count when `weak_names` is
/// set and the value looks generated.
pub(crate) fn judge_with(name: &str, value: &str, weak_names: bool) -> Option<Literal> {
    let class = classify_key(name);
    if class == KeyClass::Weak && !weak_names {
        return None;
    }
    judge(name, value)
}

/// What the literal `value` written under `name` is, or `None` when it is not a credential.
pub(crate) fn judge(name: &str, value: &str) -> Option<Literal> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return None;
    }
    if trimmed.contains("-----BEGIN") && trimmed.contains("PRIVATE KEY") {
        return Some(Literal::PrivateKey);
    }
    if names_a_reference(name) || is_path(trimmed) {
        return None;
    }
    let secret_name = classify_key(name) != KeyClass::Plain;
    if trimmed.starts_with("<redacted") {
        return secret_name.then_some(Literal::RedactedCredential);
    }
    if is_foreign_redaction(trimmed) {
        return secret_name.then_some(Literal::Hidden);
    }
    is_secret_assignment(name, trimmed).then_some(Literal::Credential)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_need_a_value_that_looks_like_one() {
        assert_eq!(judge("POSTGRES_PASSWORD", "dbpass123"), Some(Literal::Credential));
        assert_eq!(
            judge("API_ENCRYPTION_KEY", "IvWItkB8+ezMisPjSMBknT1PdKjBx7Xc"),
            Some(Literal::Credential)
        );
        assert_eq!(
            judge("LICENSE_SIGNING_KEY", "-----BEGIN RSA PRIVATE KEY-----\nMIIJJwIBAAKCAgEA"),
            Some(Literal::PrivateKey)
        );
        assert_eq!(judge("CERT", "-----BEGIN PRIVATE KEY-----\\nMIIE"), Some(Literal::PrivateKey));
        assert_eq!(judge("API_TOKEN", "<redacted:name-value-pair>"), Some(Literal::RedactedCredential));
        assert_eq!(judge("MYSQL_PASSWORD", "***HIDDEN***"), Some(Literal::Hidden));
        // A base64 secret that starts with a slash is not a path.
        assert_eq!(judge("API_KEY", "/txZqOP8Y2Oe7+Jy/IvWItkB8+ezMisPjSM=="), Some(Literal::Credential));
        // Names that may be a setting count only where asked.
        assert_eq!(judge_with("signature", "wsBcBAABCAAQBQJgmdbPCRBJ1A3Kw", false), None);
        assert_eq!(judge_with("STRIPE_KEY", "aZ3kd93KdmQ9xv2L", true), Some(Literal::Credential));
    }

    #[test]
    fn switches_paths_references_and_redactions_are_not_credentials() {
        for (name, value) in [
            ("ALLOW_EMPTY_PASSWORD", "yes"),
            ("ALLOW_EMPTY_PASSWORD", "***HIDDEN***"),
            ("AUTH_PASS_CREDENTIALS", "false"),
            ("GOOGLE_APPLICATION_CREDENTIALS", "/credentials/cloud"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/credentials/cloud"),
            ("GITHUB_PRIVATE_KEY_FILENAME", "/replicated-mounts/github-app-private-key--dev-only.pem"),
            ("REGISTRY_STORAGE_S3_CREDENTIALSCONFIGPATH", "/var/run/secrets/cloud/Credentials"),
            ("PASSWORD_FILE", "/run/secrets/pw"),
            ("DB_SECRET_NAME", "db"),
            ("POSTGRES_USER", "dbuser"),
            ("DB_PASSWORD", "$(FROM_SECRET)"),
            ("DB_PASSWORD", ""),
            ("DB_PASSWORD", "   "),
            ("JWT_SIGNING_KEY", "jwt-signing-key"),
            ("TLS_SECRET_NAME", "kotsadm-tls"),
            ("REGISTRY_HTTP_TLS_KEY", "/etc/secrets/tls.key"),
            ("SESSION_KEY", "this-is-not-too-secret"),
            (
                "ETCDCTL_KEY",
                "/etc/kubernetes/static-pod-certs/secrets/etcd-all-certs/etcd-peer-${NODE_NAME}.key",
            ),
            ("ADMIN_PASSWORD", "/run/Secrets/Admin/pw"),
        ] {
            assert_eq!(judge(name, value), None, "{name}={value}");
        }
    }
}
