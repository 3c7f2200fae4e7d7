//! Diagnostic: plaintext-credential-in-env.
//!
//! **What it checks.** Environment variables whose name says credential (`PASSWORD`, `SECRET`,
//! `TOKEN`, `API_KEY`, ...) and whose value is written in the spec (`value:`) instead of read
//! from a Secret (`valueFrom`) — the seed's own `POSTGRES_PASSWORD: dbpass123`. A kubesnap
//! bundle has already replaced such values by a `<redacted...>` marker, which still proves a
//! literal was in the spec; both are detected. Values are never shown.
//!
//! **Why it matters.** Anyone who can read the workload (`get deployment`, a GitOps repository,
//! `last-applied-configuration`) can read the credential.
//!
//! **Example.** `Deployment prod/database-service: POSTGRES_PASSWORD written in the spec`, with
//! the commands to move it into a Secret.

use std::sync::LazyLock;

use kubesnap_shared::json::Value;
use regex::Regex;

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::workload::containers;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "plaintext-credential-in-env",
    category: Category::Security,
    title: "Credentials written in plain text in env",
    severities: &[Severity::P1],
    what: "Environment variables named like credentials (PASSWORD, SECRET, TOKEN, API_KEY, ...) with a literal \
           value instead of valueFrom a Secret; a kubesnap bundle's redaction marker counts as a literal.",
    why: "Anyone who can read the workload, its GitOps source or its last-applied-configuration reads the \
          credential; it also lands in every support bundle and backup of the object.",
    fix: "Move the value into a Secret and reference it with valueFrom.secretKeyRef (or envFrom), then rotate \
          the credential: it has been exposed.",
    needs: &[],
    run,
};

/// Names that hold credentials.
static CREDENTIAL_NAME: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?|AUTH_?KEY|_PWD$|^PWD_)",
    )
    .ok()
});
/// Names that merely point at a credential (a file, a Secret's name, a URL) or configure it.
static NOT_A_VALUE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)_(FILE|PATH|DIR|URL|URI|ENDPOINT|HOST|PORT|NAME|REF|TTL|TIMEOUT|EXPIRY|EXPIRATION|LENGTH|ENABLED|TYPE|KEY_ID|ID)$")
        .ok()
});

/// Whether an env entry's literal value is a credential's; `Some(redacted)` when it is.
fn literal_credential(entry: &Value) -> Option<bool> {
    let name = entry.get("name")?.as_str()?;
    let value = entry.get("value")?.as_str()?;
    let named = CREDENTIAL_NAME.as_ref().is_some_and(|re| re.is_match(name))
        && !NOT_A_VALUE.as_ref().is_some_and(|re| re.is_match(name));
    // `$(OTHER_VAR)` only expands another variable: not a literal credential.
    let reference = value.starts_with("$(") && value.ends_with(')') && !value[2..].contains("$(");
    (named && !value.is_empty() && !reference).then(|| value.starts_with("<redacted"))
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for template in facts.templates() {
        let owner = template.owner.reference();
        let mut names = Vec::new();
        let mut evidence = Vec::new();
        let mut redacted_any = false;
        for (container, pointer) in containers(template.spec, template.pointer) {
            let container_name = container.get("name").and_then(Value::as_str).unwrap_or_default();
            let env = container.get("env").and_then(Value::as_array).unwrap_or_default();
            for (index, entry) in env.iter().enumerate() {
                let Some(redacted) = literal_credential(entry) else { continue };
                let name = entry.get("name").and_then(Value::as_str).unwrap_or_default();
                redacted_any |= redacted;
                names.push(format!("{name} ({container_name})"));
                let shown = if redacted {
                    "<literal value, redacted by the collector>"
                } else {
                    "<literal value, not shown>"
                };
                evidence.push(Evidence::field(
                    owner.clone(),
                    format!("{pointer}/env/{index}/value"),
                    &shown.into(),
                ));
            }
        }
        if names.is_empty() {
            continue;
        }
        let subject = match &owner.namespace {
            Some(namespace) => format!("{} {namespace}/{}", owner.kind, owner.name),
            None => format!("{} {}", owner.kind, owner.name),
        };
        let mut finding = DIAGNOSTIC
            .finding(Severity::P1, format!("{subject}: {} written in the spec", names.join(", ")))
            .object(owner.clone())
            .explanation(format!(
                "{subject} sets the credentials {} as literal env values instead of reading them from a Secret: \
                 anyone who can read the workload or its source can read them.{} Move them into a Secret and \
                 rotate them.",
                names.join(", "),
                if redacted_any { " The collector redacted the values in this bundle; the spec still holds them." } else { "" }
            ));
        for item in evidence {
            finding = finding.evidence(item);
        }
        let secret = format!("{}-credentials", owner.name);
        finding = finding.remediation(format!(
            "kubectl create secret generic {}{} --from-literal=<NAME>=<new value>",
            kubectl::word(&secret),
            kubectl::namespace_flag(&owner)
        ));
        if matches!(
            owner.kind.as_str(),
            "Deployment" | "StatefulSet" | "DaemonSet" | "CronJob" | "ReplicaSet"
        ) {
            finding = finding.remediation(kubectl::on(
                "set env",
                &owner,
                &format!("--from=secret/{}", kubectl::word(&secret)),
            ));
        }
        findings.push(finding);
    }
    findings
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::diagnostics::testing::check;

    #[test]
    fn credential_names_and_pointers_are_told_apart() {
        let entry = |name: &str, value: &str| Value::from(serde_json::json!({"name": name, "value": value}));
        assert_eq!(literal_credential(&entry("POSTGRES_PASSWORD", "dbpass123")), Some(false));
        assert_eq!(literal_credential(&entry("API_TOKEN", "<redacted: 12 bytes>")), Some(true));
        assert_eq!(literal_credential(&entry("PASSWORD_FILE", "/run/secrets/pw")), None);
        assert_eq!(literal_credential(&entry("DB_SECRET_NAME", "db")), None);
        assert_eq!(literal_credential(&entry("POSTGRES_USER", "dbuser")), None);
        assert_eq!(literal_credential(&entry("DB_PASSWORD", "$(FROM_SECRET)")), None);
        assert_eq!(
            literal_credential(&Value::from(serde_json::json!({"name": "DB_PASSWORD", "valueFrom": {}}))),
            None
        );
    }

    /// The seed's own database Deployment.
    #[test]
    fn the_seeds_database_password() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: database-service, namespace: prod-simulation}
spec:
  template:
    spec:
      containers:
      - name: database
        image: postgres:13-alpine
        env:
        - {name: POSTGRES_DB, value: proddb}
        - {name: POSTGRES_USER, value: dbuser}
        - {name: POSTGRES_PASSWORD, value: dbpass123}
      - name: connection-monitor
        image: alpine:latest
        env:
        - {name: MONITOR_TOKEN, value: "<redacted: 24 bytes>"}
"#,
            expect![[r#"
                P1 plaintext-credential-in-env Deployment prod-simulation/database-service: POSTGRES_PASSWORD (database), MONITOR_TOKEN (connection-monitor) written in the spec
                  objects: Deployment/prod-simulation/database-service
                  field Deployment/prod-simulation/database-service /spec/template/spec/containers/0/env/2/value = <literal value, not shown>
                  field Deployment/prod-simulation/database-service /spec/template/spec/containers/1/env/0/value = <literal value, redacted by the collector>
                  why: Deployment prod-simulation/database-service sets the credentials POSTGRES_PASSWORD (database), MONITOR_TOKEN (connection-monitor) as literal env values instead of reading them from a Secret: anyone who can read the workload or its source can read them. The collector redacted the values in this bundle; the spec still holds them. Move them into a Secret and rotate them.
                  $ kubectl create secret generic database-service-credentials -n prod-simulation --from-literal=<NAME>=<new value>
                  $ kubectl set env deployment/database-service -n prod-simulation --from=secret/database-service-credentials
            "#]],
        );
    }

    #[test]
    fn secret_references_are_fine() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: api
        image: api
        env:
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: db, key: password}}
"#,
            expect![[r#"
                no findings
            "#]],
        );
    }
}
