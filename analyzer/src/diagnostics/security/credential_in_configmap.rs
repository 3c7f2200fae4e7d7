//! Diagnostic `credential-in-configmap`: credentials written in plain text in ConfigMaps;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::sync::LazyLock;

use kubesnap_shared::model::Object;
use kubesnap_shared::redact::is_secret_assignment;
use regex::Regex;

use crate::diagnostics::Diagnostic;
use crate::diagnostics::security::credentials::{Literal, judge_with};
use crate::facts::{Facts, kubectl, platform};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "credential-in-configmap",
    category: Category::Security,
    title: "Credentials written in plain text in ConfigMaps",
    severities: &[Severity::P2, Severity::P3],
    what: "ConfigMaps whose data holds a credential in plain text: a data key named like a secret with a \
           value shaped like one, a `key=value` / `key: value` / `\"key\": \"value\"` line of a \
           configuration file whose key says secret and whose value looks like one \
           (`security::credentials`), a password in a URL (`postgres://app:s3cret@db`), or a PEM private \
           key. Switches, paths, references, empty values and redacted values are not credentials. One \
           finding per ConfigMap; values are never shown. P2 in an application's namespace when the value \
           is readable; P3 when the bundle shows it redacted (a literal was there, the bundle cannot say \
           what) or when a platform component's namespace holds it (its operator writes it).",
    why: "ConfigMaps are not Secrets: more people and controllers can read them, they are not encrypted \
          at rest, and kubectl describe prints them.",
    fix: "Move the credential into a Secret (mounted as a file or read with secretKeyRef), then rotate \
          it: it has been exposed.",
    example: "``ConfigMap shop/app-config: credential written in plain text: `password` at \
              `database.conf` line 5``.",
    needs: &[],
    run,
};

/// `key = value`, `key: value`, `"key": "value",`, `export KEY=value` on one line.
static ASSIGNMENT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"^\s*(?:export\s+)?["']?([A-Za-z_][A-Za-z0-9_.\-]*)["']?\s*[:=]\s*(.*?)\s*,?\s*$"#).ok()
});
/// The armour line of a PEM private key (RSA, EC, PKCS#8, encrypted, OpenSSH).
static PEM_PRIVATE_KEY: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----").ok());
/// The password of a URL's user info: `scheme://user:password@host`.
static URL_PASSWORD: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]+:([^@/\s]+)@").ok());

/// One credential found in a ConfigMap's data.
struct Hit {
    /// `` `password` at `database.conf` line 5 ``: the names quoted, as a key from a crafted bundle
    /// (`a, b`) must not read as two.
    label: String,
    literal: Literal,
}

fn unquote(value: &str) -> &str {
    let value = value.trim();
    for quote in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(quote).and_then(|rest| rest.strip_suffix(quote)) {
            return inner;
        }
    }
    value
}

/// The credentials in one data entry.
fn hits(key: &str, value: &str) -> Vec<Hit> {
    if PEM_PRIVATE_KEY.as_ref().is_some_and(|re| re.is_match(value)) {
        return vec![Hit { label: format!("private key in `{key}`"), literal: Literal::PrivateKey }];
    }
    if !value.contains('\n')
        && let Some(literal) = judge_with(key, value, false)
    {
        return vec![Hit { label: format!("`{key}`"), literal }];
    }
    let mut found = Vec::new();
    for (index, line) in value.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') || trimmed.starts_with(';') || trimmed.starts_with("//") {
            continue;
        }
        let at = format!("`{key}` line {}", index + 1);
        if let Some(captures) = ASSIGNMENT.as_ref().and_then(|re| re.captures(line))
            && let (Some(name), Some(raw)) = (captures.get(1), captures.get(2))
            && let Some(literal) = judge_with(name.as_str(), unquote(raw.as_str()), false)
        {
            found.push(Hit { label: format!("`{}` at {at}", name.as_str()), literal });
            continue;
        }
        if let Some(password) = URL_PASSWORD.as_ref().and_then(|re| re.captures(line)).and_then(|c| c.get(1))
            && is_secret_assignment("password", password.as_str())
        {
            found.push(Hit { label: format!("password in a URL at {at}"), literal: Literal::Credential });
        }
    }
    found
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    facts.cluster().of_kind("ConfigMap").filter_map(finding).collect()
}

fn finding(configmap: &Object) -> Option<Finding> {
    let data = configmap.at("/data")?.as_object()?;
    let mut found: Vec<(String, Hit)> = Vec::new();
    for (key, value) in data.iter() {
        let Some(value) = value.as_str() else { continue };
        for hit in hits(key, value) {
            found.push((key.to_string(), hit));
        }
    }
    if found.is_empty() {
        return None;
    }
    let reference = configmap.reference();
    let namespace = configmap.namespace.as_deref().unwrap_or_default();
    let platform = platform::is_platform_namespace(namespace);
    let readable =
        found.iter().any(|(_, hit)| matches!(hit.literal, Literal::PrivateKey | Literal::Credential));
    let severity = if readable && !platform { Severity::P2 } else { Severity::P3 };
    let labels: Vec<&str> = found.iter().map(|(_, hit)| hit.label.as_str()).collect();
    let noun = if found.len() == 1 { "credential" } else { "credentials" };
    let shown = match labels.len() {
        0..=3 => labels.join(", "),
        n => format!("{} and {} more", labels[..3].join(", "), n - 3),
    };
    let mut finding = DIAGNOSTIC
        .finding(
            severity,
            format!(
                "ConfigMap {namespace}/{}: {noun} written in plain text: \
                                    {shown}",
                configmap.name
            ),
        )
        .object(reference.clone())
        .explanation(format!(
            "ConfigMap {namespace}/{} holds credentials in its data ({}). ConfigMaps are not Secrets: \
             whoever can read ConfigMaps in the namespace, every backup and every `kubectl describe` \
             shows them.{}{} Move them into a Secret and rotate them.",
            configmap.name,
            labels.join(", "),
            if readable {
                " The values are readable in this bundle too."
            } else {
                " The bundle shows \
                                                                                   them redacted."
            },
            if platform {
                " The namespace belongs to the platform: its operator may write this \
                           ConfigMap."
            } else {
                ""
            },
        ));
    for (key, hit) in &found {
        finding = finding.evidence(Evidence::field(
            reference.clone(),
            format!("/data/{}", key.replace('~', "~0").replace('/', "~1")),
            &hit.literal.shown().into(),
        ));
    }
    Some(finding.remediation(kubectl::get_yaml(&reference)))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    #[test]
    fn passwords_in_configuration_files_keys_and_urls() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config, namespace: test-connection}
data:
  database.conf: "host=postgres-service.default.svc.cluster.local\nport=5432\nuser=wronguser\npassword=wrongpass\n"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data:
  API_TOKEN: "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
  app.yaml: "db:\n  url: postgres://app:Sup3rS3cret@db:5432/app\n"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: legacy, namespace: shop}
data:
  config.json: "{\n  \"client_secret\": \"***HIDDEN***\"\n}"
"#,
            expect![[r#"
                P3 credential-in-configmap ConfigMap shop/legacy: credential written in plain text: `client_secret` at `config.json` line 2
                  objects: ConfigMap/shop/legacy
                  field ConfigMap/shop/legacy /data/config.json = <literal value, redacted in this bundle>
                  why: ConfigMap shop/legacy holds credentials in its data (`client_secret` at `config.json` line 2). ConfigMaps are not Secrets: whoever can read ConfigMaps in the namespace, every backup and every `kubectl describe` shows them. The bundle shows them redacted. Move them into a Secret and rotate them.
                  $ kubectl get configmap legacy -n shop -o yaml
                P2 credential-in-configmap ConfigMap shop/settings: credentials written in plain text: `API_TOKEN`, password in a URL at `app.yaml` line 2
                  objects: ConfigMap/shop/settings
                  field ConfigMap/shop/settings /data/API_TOKEN = <literal value, not shown>
                  field ConfigMap/shop/settings /data/app.yaml = <literal value, not shown>
                  why: ConfigMap shop/settings holds credentials in its data (`API_TOKEN`, password in a URL at `app.yaml` line 2). ConfigMaps are not Secrets: whoever can read ConfigMaps in the namespace, every backup and every `kubectl describe` shows them. The values are readable in this bundle too. Move them into a Secret and rotate them.
                  $ kubectl get configmap settings -n shop -o yaml
                P2 credential-in-configmap ConfigMap test-connection/app-config: credential written in plain text: `password` at `database.conf` line 4
                  objects: ConfigMap/test-connection/app-config
                  field ConfigMap/test-connection/app-config /data/database.conf = <literal value, not shown>
                  why: ConfigMap test-connection/app-config holds credentials in its data (`password` at `database.conf` line 4). ConfigMaps are not Secrets: whoever can read ConfigMaps in the namespace, every backup and every `kubectl describe` shows them. The values are readable in this bundle too. Move them into a Secret and rotate them.
                  $ kubectl get configmap app-config -n test-connection -o yaml
            "#]],
        );
    }

    #[test]
    fn switches_paths_references_and_certificates_are_fine() {
        check(
            &DIAGNOSTIC,
            r##"
apiVersion: v1
kind: ConfigMap
metadata: {name: redis, namespace: shop}
data:
  ALLOW_EMPTY_PASSWORD: "yes"
  AUTH_PASS_CREDENTIALS: "false"
  GOOGLE_APPLICATION_CREDENTIALS: /credentials/cloud
  app.properties: "# password=example\npassword.file=/run/secrets/pw\ntoken=${TOKEN}\nsecretName: app-tls\nurl: https://db.example.com/app\n"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: kube-root-ca.crt, namespace: shop}
data:
  ca.crt: "-----BEGIN CERTIFICATE-----\nMIIDBTCCAe2gAwIBAgIIGyXN8PNVaAUwDQYJKoZIhvcNAQELBQAwFTETMBEGA1UE\n-----END CERTIFICATE-----\n"
"##,
            expect![[r#"
                no findings
            "#]],
        );
    }

    #[test]
    fn a_key_holding_separators_is_quoted_and_its_pointer_escaped() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: keys, namespace: shop}
data:
  "tls/key, pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIEogIBAAKCAQEAugyKfZV2gIDaY1Rz\n-----END RSA PRIVATE KEY-----"
"#,
            expect![[r#"
                P2 credential-in-configmap ConfigMap shop/keys: credential written in plain text: private key in `tls/key, pem`
                  objects: ConfigMap/shop/keys
                  field ConfigMap/shop/keys /data/tls~1key, pem = <PEM private key, not shown>
                  why: ConfigMap shop/keys holds credentials in its data (private key in `tls/key, pem`). ConfigMaps are not Secrets: whoever can read ConfigMaps in the namespace, every backup and every `kubectl describe` shows them. The values are readable in this bundle too. Move them into a Secret and rotate them.
                  $ kubectl get configmap keys -n shop -o yaml
            "#]],
        );
    }
}
