//! Diagnostic `ingress-tls-secret-missing`: ingress TLS Secrets missing or not TLS;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object};

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::kubectl::Kubectl;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "ingress-tls-secret-missing",
    category: Category::Network,
    title: "Ingress TLS Secrets missing or not TLS",
    severities: &[Severity::P1, Severity::P2],
    what: "`spec.tls[].secretName` of Ingresses naming a Secret that does not exist in the Ingress's \
           namespace, or one that is not a TLS Secret (`kubernetes.io/tls` with `tls.crt` and `tls.key`).",
    why: "The controller serves its default self-signed certificate for those hosts: clients refuse the \
          connection.",
    fix: "Create the TLS Secret (`kubectl create secret tls`), or fix what should create it (a cert-manager \
          Certificate and its issuer).",
    example: "`Ingress shop/web: TLS Secret shop-tls for shop.example.com does not exist`, with a pointer \
              to the cert-manager Certificate when one is expected to create it.",
    // Without Secrets in the bundle (many foreign formats skip them) every one would look missing.
    needs: &[Need::Kind("Secret")],
    run,
};

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for ingress in facts.cluster().of_kind("Ingress") {
        for (index, tls) in ingress.array_at("/spec/tls").iter().enumerate() {
            let Some(secret_name) = tls.get("secretName").and_then(Value::as_str) else { continue };
            let hosts: Vec<&str> = tls
                .get("hosts")
                .and_then(Value::as_array)
                .map(|hosts| hosts.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let secret = facts.cluster().get("Secret", ingress.namespace.as_deref(), secret_name);
            let problem = match secret {
                None => Some(Problem::Missing),
                Some(secret) => not_tls(secret).map(Problem::NotTls),
            };
            if let Some(problem) = problem {
                findings.push(finding(facts.cluster(), ingress, index, secret_name, &hosts, secret, problem));
            }
        }
    }
    findings
}

enum Problem {
    Missing,
    NotTls(String),
}

/// What makes `secret` unusable as a TLS certificate, or `None`.
fn not_tls(secret: &Object) -> Option<String> {
    let kind = secret.str_at("/type").unwrap_or("Opaque");
    let data = secret.at("/data").and_then(Value::as_object);
    let has = |key: &str| data.is_some_and(|data| data.contains_key(key));
    let missing: Vec<&str> = ["tls.crt", "tls.key"].into_iter().filter(|key| !has(key)).collect();
    match (kind, missing.as_slice()) {
        ("kubernetes.io/tls", []) => None,
        ("kubernetes.io/tls", missing) => Some(format!("it lacks {}", missing.join(" and "))),
        (kind, []) => Some(format!("it is of type {kind}, not kubernetes.io/tls")),
        (kind, missing) => Some(format!("it is of type {kind} and lacks {}", missing.join(" and "))),
    }
}

fn finding(
    model: &ClusterModel,
    ingress: &Object,
    index: usize,
    secret_name: &str,
    hosts: &[&str],
    secret: Option<&Object>,
    problem: Problem,
) -> Finding {
    let namespace = ingress.namespace.as_deref().unwrap_or_default();
    let ingress_ref = ingress.reference();
    let for_hosts = if hosts.is_empty() { String::new() } else { format!(" for {}", hosts.join(", ")) };
    let (severity, what) = match &problem {
        Problem::Missing => (Severity::P1, "does not exist".to_owned()),
        Problem::NotTls(why) => (Severity::P2, format!("is not usable: {why}")),
    };
    let mut finding = DIAGNOSTIC
        .finding(
            severity,
            format!("Ingress {namespace}/{}: TLS Secret {secret_name}{for_hosts} {what}", ingress.name),
        )
        .object(ingress_ref.clone())
        .evidence(Evidence::field(
            ingress_ref.clone(),
            format!("/spec/tls/{index}"),
            ingress.at(&format!("/spec/tls/{index}")).unwrap_or(&Value::Null),
        ));
    if let Some(secret) = secret {
        finding = finding.object(secret.reference()).evidence(Evidence::field(
            secret.reference(),
            "/type",
            secret.at("/type").unwrap_or(&Value::Null),
        ));
    }
    // cert-manager writes the Secret of a Certificate: when one names it, that is what failed.
    let certificate = model
        .of_kind_in("Certificate", namespace)
        .find(|certificate| certificate.str_at("/spec/secretName") == Some(secret_name));
    if let Some(certificate) = certificate {
        finding = finding.object(certificate.reference());
        if let Some((status, reason, message)) = certificate.condition("Ready") {
            finding = finding.evidence(Evidence::note(format!(
                "Certificate {} Ready={status} {reason}: {message}",
                certificate.name
            )));
        }
    }
    let mut explanation = match &problem {
        Problem::Missing => format!(
            "Ingress {} terminates TLS{for_hosts} with Secret {secret_name}, which namespace {namespace} \
             does not hold. The ingress controller serves its default self-signed certificate instead, which \
             clients reject.",
            ingress.name
        ),
        Problem::NotTls(why) => format!(
            "Ingress {} uses Secret {secret_name} as its certificate{for_hosts}, but {why}. The ingress \
             controller cannot load it and serves its default certificate.",
            ingress.name
        ),
    };
    if certificate.is_some() {
        explanation.push_str(
            " A cert-manager Certificate is meant to write this Secret: its status says why it has not.",
        );
    }
    let mut finding = finding.explanation(explanation).remediation(kubectl::describe(&ingress_ref));
    if let Some(certificate) = certificate {
        finding = finding
            .remediation(Kubectl::new("describe certificate").name(&certificate.name).namespace(namespace));
    }
    finding.remediation(Kubectl::new("get secret").name(secret_name).namespace(namespace)).remediation(
        Kubectl::new("create secret tls")
            .name(secret_name)
            .namespace(namespace)
            .arg("--cert=tls.crt --key=tls.key"),
    )
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    const INGRESS: &str = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  tls:
  - {hosts: [shop.example.com], secretName: shop-tls}
  - {hosts: [api.example.com], secretName: api-tls}
"#;

    #[test]
    fn a_missing_secret_and_an_opaque_one() {
        let fixture = format!(
            "{INGRESS}{}",
            r#"
---
apiVersion: v1
kind: Secret
metadata: {name: api-tls, namespace: shop}
type: Opaque
data: {tls.crt: "<redacted: 1200 bytes>"}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: shop, namespace: shop}
spec: {secretName: shop-tls}
status: {conditions: [{type: Ready, status: "False", reason: Pending, message: "Issuing certificate as Secret does not exist"}]}
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P1 ingress-tls-secret-missing Ingress shop/web: TLS Secret shop-tls for shop.example.com does not exist
              objects: Ingress/shop/web, Certificate/shop/shop
              field Ingress/shop/web /spec/tls/0 = {"hosts":["shop.example.com"],"secretName":"shop-tls"}
              note: Certificate shop Ready=False Pending: Issuing certificate as Secret does not exist
              why: Ingress web terminates TLS for shop.example.com with Secret shop-tls, which namespace shop does not hold. The ingress controller serves its default self-signed certificate instead, which clients reject. A cert-manager Certificate is meant to write this Secret: its status says why it has not.
              $ kubectl describe ingress web -n shop
              $ kubectl describe certificate shop -n shop
              $ kubectl get secret shop-tls -n shop
              $ kubectl create secret tls shop-tls -n shop --cert=tls.crt --key=tls.key
            P2 ingress-tls-secret-missing Ingress shop/web: TLS Secret api-tls for api.example.com is not usable: it is of type Opaque and lacks tls.key
              objects: Ingress/shop/web, Secret/shop/api-tls
              field Ingress/shop/web /spec/tls/1 = {"hosts":["api.example.com"],"secretName":"api-tls"}
              field Secret/shop/api-tls /type = Opaque
              why: Ingress web uses Secret api-tls as its certificate for api.example.com, but it is of type Opaque and lacks tls.key. The ingress controller cannot load it and serves its default certificate.
              $ kubectl describe ingress web -n shop
              $ kubectl get secret api-tls -n shop
              $ kubectl create secret tls api-tls -n shop --cert=tls.crt --key=tls.key
        "#]],
        );
    }

    #[test]
    fn tls_secrets_with_both_keys_are_fine() {
        let fixture = format!(
            "{INGRESS}{}",
            r#"
---
apiVersion: v1
kind: Secret
metadata: {name: shop-tls, namespace: shop}
type: kubernetes.io/tls
data: {tls.crt: "<redacted: 1200 bytes>", tls.key: "<redacted: 1700 bytes>"}
---
apiVersion: v1
kind: Secret
metadata: {name: api-tls, namespace: shop}
type: kubernetes.io/tls
data: {tls.crt: "<redacted: 1200 bytes>", tls.key: "<redacted: 1700 bytes>"}
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            no findings
        "#]],
        );
    }
}
