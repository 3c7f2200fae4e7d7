//! Diagnostic `plaintext-credential-in-env`: credentials written in plain text in env;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use std::collections::BTreeMap;

use kubesnap_shared::json::Value;
use kubesnap_shared::model::ObjectRef;

use crate::diagnostics::Diagnostic;
use crate::diagnostics::security::credentials::{Literal, judge};
use crate::facts::kubectl::Kubectl;
use crate::facts::workload::{Template, containers};
use crate::facts::{Facts, kubectl, platform};
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "plaintext-credential-in-env",
    category: Category::Security,
    title: "Credentials written in plain text in env",
    severities: &[Severity::P2, Severity::P3],
    what: "Environment variables whose literal `value:` is a credential: a name that says secret *and* a \
           value that looks like one (`security::credentials`), or a PEM private key under any name. \
           Switches (`ALLOW_EMPTY_PASSWORD=yes`, `AUTH_PASS_CREDENTIALS=false`), paths \
           (`GOOGLE_APPLICATION_CREDENTIALS=/credentials/cloud`), references (`valueFrom`, `$(VAR)`) and \
           empty values are not. Values are never shown. Severity follows the evidence. In an application \
           workload a readable credential or private key, or one kubesnap's collector redacted (its rules \
           judged the value a secret), is P2, one finding per workload. Values another tool redacted \
           (`***HIDDEN***`) only show that a literal was there, and a platform component's values are \
           written by its operator, not by the user: both are rolled up into one P3 advisory per namespace.",
    why: "Anyone who can read the workload, its GitOps source or its last-applied-configuration reads the \
          credential; it also lands in every support bundle and backup of the object.",
    fix: "Move the value into a Secret and reference it with valueFrom.secretKeyRef (or envFrom), then \
          rotate the credential: it has been exposed.",
    example: "``Deployment prod/database-service: credential `POSTGRES_PASSWORD` (`database`) written in \
              the spec``, with the commands to move it into a Secret.",
    needs: &[],
    run,
};

/// One env entry judged a credential.
struct Entry {
    /// The variable's name: `MYSQL_PASSWORD`.
    name: String,
    /// `` `MYSQL_PASSWORD` (`api`) ``: the variable and its container, quoted as the other
    /// diagnostics quote a container, so a name from a crafted bundle cannot read as two.
    label: String,
    literal: Literal,
    evidence: Evidence,
}

fn entries(template: &Template<'_>) -> Vec<Entry> {
    let owner = template.owner.reference();
    let mut found = Vec::new();
    for (container, pointer) in containers(template.spec, template.pointer) {
        let container_name = container.get("name").and_then(Value::as_str).unwrap_or_default();
        let env = container.get("env").and_then(Value::as_array).unwrap_or_default();
        for (index, entry) in env.iter().enumerate() {
            let name = entry.get("name").and_then(Value::as_str).unwrap_or_default();
            let Some(value) = entry.get("value").and_then(Value::as_str) else { continue };
            let Some(literal) = judge(name, value) else { continue };
            found.push(Entry {
                name: name.to_owned(),
                label: format!("`{name}` (`{container_name}`)"),
                literal,
                evidence: Evidence::field(
                    owner.clone(),
                    format!("{pointer}/env/{index}/value"),
                    &literal.shown().into(),
                ),
            });
        }
    }
    found
}

fn subject(owner: &ObjectRef) -> String {
    match &owner.namespace {
        Some(namespace) => format!("{} {namespace}/{}", owner.kind, owner.name),
        None => format!("{} {}", owner.kind, owner.name),
    }
}

fn labels(entries: &[Entry]) -> String {
    entries.iter().map(|entry| entry.label.as_str()).collect::<Vec<_>>().join(", ")
}

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    // By namespace: the workloads whose entries are only advisory, with why.
    let mut advisories: BTreeMap<String, Vec<(ObjectRef, Vec<Entry>, bool)>> = BTreeMap::new();
    for template in facts.templates() {
        let found = entries(template);
        if found.is_empty() {
            continue;
        }
        let owner = template.owner.reference();
        let platform = platform::of_template(facts, template).is_some();
        if platform || found.iter().all(|entry| entry.literal == Literal::Hidden) {
            advisories
                .entry(owner.namespace.clone().unwrap_or_default())
                .or_default()
                .push((owner, found, platform));
        } else {
            findings.push(workload_finding(&owner, &found));
        }
    }
    findings.extend(advisories.into_iter().map(|(namespace, workloads)| advisory(&namespace, &workloads)));
    findings
}

/// P2: an application workload whose spec holds credentials (and maybe hidden values too).
fn workload_finding(owner: &ObjectRef, found: &[Entry]) -> Finding {
    let subject = subject(owner);
    let of = |wanted: &[Literal]| -> Vec<&str> {
        found
            .iter()
            .filter(|entry| wanted.contains(&entry.literal))
            .map(|entry| entry.label.as_str())
            .collect()
    };
    let keys = of(&[Literal::PrivateKey]);
    let credentials = of(&[Literal::Credential, Literal::RedactedCredential]);
    let hidden = of(&[Literal::Hidden]);
    let mut what = Vec::new();
    if !keys.is_empty() {
        let noun = if keys.len() == 1 { "private key" } else { "private keys" };
        what.push(format!("{noun} {}", keys.join(", ")));
    }
    if !credentials.is_empty() {
        let noun = if credentials.len() == 1 { "credential" } else { "credentials" };
        what.push(format!("{noun} {}", credentials.join(", ")));
    }
    let more = match hidden.len() {
        0 => String::new(),
        1 => ", and 1 more value the bundle shows redacted".to_owned(),
        n => format!(", and {n} more values the bundle shows redacted"),
    };
    let mut notes = Vec::new();
    if !keys.is_empty() {
        notes.push(
            "A PEM private key in a pod spec is readable by everyone who can read the workload.".to_owned(),
        );
    }
    if found.iter().any(|entry| matches!(entry.literal, Literal::PrivateKey | Literal::Credential)) {
        notes.push("The values are readable in this bundle too.".to_owned());
    }
    if found.iter().any(|entry| entry.literal == Literal::RedactedCredential) {
        notes
            .push("The collector redacted some values in this bundle; the spec still holds them.".to_owned());
    }
    if !hidden.is_empty() {
        notes.push(format!(
            "The bundle shows {} redacted: check whether they are credentials too.",
            hidden.join(", ")
        ));
    }
    let mut finding = DIAGNOSTIC
        .finding(Severity::P2, format!("{subject}: {} written in the spec{more}", what.join("; ")))
        .object(owner.clone())
        .explanation(format!(
            "{subject} writes {} literally in its env instead of reading them from a Secret: anyone who \
             can read the workload or its source can read them. {} Move them into a Secret and rotate them.",
            what.join(" and "),
            notes.join(" ")
        ));
    for entry in found {
        finding = finding.evidence(entry.evidence.clone());
    }
    let secret = format!("{}-credentials", owner.name);
    finding = finding.remediation(
        Kubectl::new("create secret generic")
            .name(&secret)
            .namespace_of(owner)
            .arg("--from-literal=<NAME>=<new value>"),
    );
    if matches!(owner.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet" | "CronJob" | "ReplicaSet") {
        finding = finding.remediation(kubectl::on("set env", owner).joined("--from=secret/", &secret));
    }
    finding
}

/// P3: the workloads of one namespace whose credential-named values are platform components'
/// or were redacted by another tool.
fn advisory(namespace: &str, workloads: &[(ObjectRef, Vec<Entry>, bool)]) -> Finding {
    let all_platform = workloads.iter().all(|(_, _, platform)| *platform);
    let mut names: Vec<&str> =
        workloads.iter().flat_map(|(_, found, _)| found.iter().map(|entry| entry.name.as_str())).collect();
    names.sort_unstable();
    names.dedup();
    let names: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    let shown = match names.len() {
        0..=3 => names.join(", "),
        n => format!("{} and {} more", names[..3].join(", "), n - 3),
    };
    let noun = if workloads.len() == 1 { "workload" } else { "workloads" };
    let place =
        if namespace.is_empty() { "Cluster scope".to_owned() } else { format!("Namespace {namespace}") };
    let title = match (all_platform, workloads.len()) {
        (true, 1) => format!("{place}: a platform workload sets {shown} literally in its env"),
        (true, n) => format!("{place}: {n} platform workloads set {shown} literally in their env"),
        (false, 1) => format!("{place}: 1 workload sets credential-named env values literally ({shown})"),
        (false, n) => format!("{place}: {n} workloads set credential-named env values literally ({shown})"),
    };
    let mut finding = DIAGNOSTIC.finding(Severity::P3, title).explanation(format!(
        "Advice: {} {noun} {} values under credential names directly in the spec. {}Reading them from \
         Secrets keeps them out of every copy of the spec.",
        workloads.len(),
        if workloads.len() == 1 { "writes" } else { "write" },
        if all_platform {
            "The platform's operators write these values themselves; change them through the operator, \
             not the workload. "
                .to_owned()
        } else {
            "The bundle shows them redacted, so it cannot tell whether each is a real credential or a \
             setting; check them in the cluster. "
                .to_owned()
        }
    ));
    for (owner, found, _) in workloads {
        finding = finding.object(owner.clone()).evidence(Evidence::note(format!(
            "{}: {}",
            subject(owner),
            labels(found)
        )));
    }
    for (owner, found, _) in workloads {
        for entry in found {
            finding = finding.evidence(entry.evidence.clone());
        }
        finding = finding.remediation(kubectl::get_yaml(owner));
    }
    finding
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::testing::check;

    #[test]
    fn readable_credentials_and_private_keys_of_applications() {
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
        - {name: MONITOR_TOKEN, value: "<redacted:name-value-pair>"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: license-api, namespace: default}
spec:
  template:
    spec:
      containers:
      - name: license-api
        image: license-api
        env:
        - {name: LICENSE_SIGNING_KEY, value: "-----BEGIN RSA PRIVATE KEY-----\nMIIEogIBAAKCAQEAugyKfZV2gIDaY1Rz\n-----END RSA PRIVATE KEY-----"}
        - {name: GITHUB_PRIVATE_KEY_FILENAME, value: /mounts/github-app-private-key.pem}
"#,
            expect![[r#"
                P2 plaintext-credential-in-env Deployment default/license-api: private key `LICENSE_SIGNING_KEY` (`license-api`) written in the spec
                  objects: Deployment/default/license-api
                  field Deployment/default/license-api /spec/template/spec/containers/0/env/0/value = <PEM private key, not shown>
                  why: Deployment default/license-api writes private key `LICENSE_SIGNING_KEY` (`license-api`) literally in its env instead of reading them from a Secret: anyone who can read the workload or its source can read them. A PEM private key in a pod spec is readable by everyone who can read the workload. The values are readable in this bundle too. Move them into a Secret and rotate them.
                  $ kubectl create secret generic license-api-credentials -n default --from-literal=<NAME>=<new value>
                  $ kubectl set env deployment/license-api -n default --from=secret/license-api-credentials
                P2 plaintext-credential-in-env Deployment prod-simulation/database-service: credentials `POSTGRES_PASSWORD` (`database`), `MONITOR_TOKEN` (`connection-monitor`) written in the spec
                  objects: Deployment/prod-simulation/database-service
                  field Deployment/prod-simulation/database-service /spec/template/spec/containers/0/env/2/value = <literal value, not shown>
                  field Deployment/prod-simulation/database-service /spec/template/spec/containers/1/env/0/value = <literal value, redacted by the collector>
                  why: Deployment prod-simulation/database-service writes credentials `POSTGRES_PASSWORD` (`database`), `MONITOR_TOKEN` (`connection-monitor`) literally in its env instead of reading them from a Secret: anyone who can read the workload or its source can read them. The values are readable in this bundle too. The collector redacted some values in this bundle; the spec still holds them. Move them into a Secret and rotate them.
                  $ kubectl create secret generic database-service-credentials -n prod-simulation --from-literal=<NAME>=<new value>
                  $ kubectl set env deployment/database-service -n prod-simulation --from=secret/database-service-credentials
            "#]],
        );
    }

    #[test]
    fn hidden_values_and_platform_components_are_one_advisory_per_namespace() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: graphql-api, namespace: default}
spec:
  template:
    spec:
      containers:
      - name: graphql-api
        image: graphql-api
        env:
        - {name: MYSQL_PASSWORD, value: "***HIDDEN***"}
        - {name: ALLOW_EMPTY_PASSWORD, value: "***HIDDEN***"}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: worker, namespace: default}
spec:
  template:
    spec:
      containers:
      - name: worker
        image: worker
        env:
        - {name: AWS_SECRET_ACCESS_KEY, value: "***HIDDEN***"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: image-registry, namespace: openshift-image-registry}
spec:
  template:
    spec:
      containers:
      - name: registry
        image: registry
        env:
        - {name: REGISTRY_HTTP_SECRET, value: 6ad6abc73e85b72ba434e9c13317945a5b172d96377f6288ad712d03d19e736a}
"#,
            expect![[r#"
                P3 plaintext-credential-in-env Namespace default: 2 workloads set credential-named env values literally (`AWS_SECRET_ACCESS_KEY`, `MYSQL_PASSWORD`)
                  objects: Deployment/default/graphql-api, StatefulSet/default/worker
                  note: Deployment default/graphql-api: `MYSQL_PASSWORD` (`graphql-api`)
                  note: StatefulSet default/worker: `AWS_SECRET_ACCESS_KEY` (`worker`)
                  field Deployment/default/graphql-api /spec/template/spec/containers/0/env/0/value = <literal value, redacted in this bundle>
                  field StatefulSet/default/worker /spec/template/spec/containers/0/env/0/value = <literal value, redacted in this bundle>
                  why: Advice: 2 workloads write values under credential names directly in the spec. The bundle shows them redacted, so it cannot tell whether each is a real credential or a setting; check them in the cluster. Reading them from Secrets keeps them out of every copy of the spec.
                  $ kubectl get deployment graphql-api -n default -o yaml
                  $ kubectl get statefulset worker -n default -o yaml
                P3 plaintext-credential-in-env Namespace openshift-image-registry: a platform workload sets `REGISTRY_HTTP_SECRET` literally in its env
                  objects: Deployment/openshift-image-registry/image-registry
                  note: Deployment openshift-image-registry/image-registry: `REGISTRY_HTTP_SECRET` (`registry`)
                  field Deployment/openshift-image-registry/image-registry /spec/template/spec/containers/0/env/0/value = <literal value, not shown>
                  why: Advice: 1 workload writes values under credential names directly in the spec. The platform's operators write these values themselves; change them through the operator, not the workload. Reading them from Secrets keeps them out of every copy of the spec.
                  $ kubectl get deployment image-registry -n openshift-image-registry -o yaml
            "#]],
        );
    }

    #[test]
    fn switches_paths_references_and_secret_references_are_fine() {
        check(
            &DIAGNOSTIC,
            r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: redis-master, namespace: default}
spec:
  template:
    spec:
      containers:
      - name: redis
        image: bitnami/redis
        env:
        - {name: ALLOW_EMPTY_PASSWORD, value: "yes"}
        - {name: REDIS_PASSWORD_FILE, value: /opt/bitnami/redis/secrets/redis-password}
        - name: REDIS_PASSWORD
          valueFrom: {secretKeyRef: {name: redis, key: redis-password}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: helm-install-traefik, namespace: apps}
spec:
  template:
    spec:
      containers:
      - name: helm
        image: rancher/klipper-helm
        env:
        - {name: AUTH_PASS_CREDENTIALS, value: "false"}
        - {name: PASSWORD, value: "$(FROM_SECRET)"}
        - {name: API_TOKEN, value: ""}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: velero, namespace: velero}
spec:
  template:
    spec:
      containers:
      - name: velero
        image: velero/velero
        env:
        - {name: GOOGLE_APPLICATION_CREDENTIALS, value: /credentials/cloud}
        - {name: AWS_SHARED_CREDENTIALS_FILE, value: /credentials/cloud}
        - {name: REGISTRY_STORAGE_S3_CREDENTIALSCONFIGPATH, value: /var/run/secrets/cloud/Credentials}
"#,
            expect![[r#"
                no findings
            "#]],
        );
    }

    #[test]
    fn names_holding_separators_stay_whole_and_quoted() {
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
      - name: "api, worker"
        image: api
        env:
        - {name: DB_PASSWORD, value: "Xk9#qL2v!pR7zT4w"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cache, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: cache
        image: cache
        env:
        - {name: "REDIS_PASSWORD (old), X", value: "***HIDDEN***"}
"#,
            expect![[r#"
                P2 plaintext-credential-in-env Deployment shop/api: credential `DB_PASSWORD` (`api, worker`) written in the spec
                  objects: Deployment/shop/api
                  field Deployment/shop/api /spec/template/spec/containers/0/env/0/value = <literal value, not shown>
                  why: Deployment shop/api writes credential `DB_PASSWORD` (`api, worker`) literally in its env instead of reading them from a Secret: anyone who can read the workload or its source can read them. The values are readable in this bundle too. Move them into a Secret and rotate them.
                  $ kubectl create secret generic api-credentials -n shop --from-literal=<NAME>=<new value>
                  $ kubectl set env deployment/api -n shop --from=secret/api-credentials
                P3 plaintext-credential-in-env Namespace shop: 1 workload sets credential-named env values literally (`REDIS_PASSWORD (old), X`)
                  objects: Deployment/shop/cache
                  note: Deployment shop/cache: `REDIS_PASSWORD (old), X` (`cache`)
                  field Deployment/shop/cache /spec/template/spec/containers/0/env/0/value = <literal value, redacted in this bundle>
                  why: Advice: 1 workload writes values under credential names directly in the spec. The bundle shows them redacted, so it cannot tell whether each is a real credential or a setting; check them in the cluster. Reading them from Secrets keeps them out of every copy of the spec.
                  $ kubectl get deployment cache -n shop -o yaml
            "#]],
        );
    }
}
