//! Diagnostic `certificate-expiring`: TLS certificates expired or expiring;
//! its prose (what, why, fix, example) is in [`DIAGNOSTIC`].

use kubesnap_shared::json::Value;
use kubesnap_shared::model::{ClusterModel, Object, ObjectRef};

use crate::diagnostics::{Diagnostic, Need};
use crate::facts::Facts;
use crate::facts::kubectl::Kubectl;
use crate::facts::nodes::age;
use crate::finding::{Category, Evidence, Finding, Severity};

pub(crate) const DIAGNOSTIC: Diagnostic = Diagnostic {
    code: "certificate-expiring",
    category: Category::Cluster,
    title: "TLS certificates expired or expiring",
    severities: &[Severity::P0, Severity::P1, Severity::P2],
    what: "The certificates the collector found in Secrets (the `kubesnapCertificates` facts a native \
           bundle adds: subject, issuer, DNS names, notAfter) against the capture time: expired (P1, P0 \
           when an Ingress serves it), expiring within 7 days (P1) or 30 days (P2). One finding per Secret, \
           about its certificate that expires first. Foreign bundles carry no such facts (their Secrets \
           hold raw data or nothing); parsing certificates is the collector's job.",
    why: "TLS clients refuse an expired certificate: HTTPS, webhooks and mTLS fail at once, and renewal \
          usually failed silently long before.",
    fix: "Renew the certificate (fix the cert-manager issuer or renew by hand) and replace the Secret's \
          data.",
    example: "`Secret shop/shop-tls: certificate CN=shop.example.com expired 2d ago (served by Ingress \
              shop/web)`, with the cert-manager Certificate that should have renewed it.",
    needs: &[Need::CaptureTime],
    run,
};

const DAY: i64 = 86_400;
const WARNING_DAYS: i64 = 30;
const CRITICAL_DAYS: i64 = 7;

fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let Some(now) = facts.cluster().captured_at else { return Vec::new() };
    let mut findings = Vec::new();
    for secret in facts.cluster().of_kind("Secret") {
        // The certificate of the Secret that expires first decides.
        let first = secret
            .array_at("/kubesnapCertificates")
            .iter()
            .enumerate()
            .filter_map(|(index, certificate)| {
                let not_after = certificate.get("notAfter")?.as_str()?.parse::<jiff::Timestamp>().ok()?;
                Some((index, certificate, not_after.as_second() - now.as_second()))
            })
            .min_by_key(|(index, _, left)| (*left, *index));
        if let Some((index, certificate, left)) = first
            && left < WARNING_DAYS * DAY
        {
            findings.push(finding(facts.cluster(), secret, index, certificate, left));
        }
    }
    findings
}

fn finding(model: &ClusterModel, secret: &Object, index: usize, certificate: &Value, left: i64) -> Finding {
    let namespace = secret.namespace.as_deref().unwrap_or_default();
    let reference = secret.reference();
    let text = |key: &str| certificate.get(key).and_then(Value::as_str).unwrap_or_default();
    let subject = if text("subject").is_empty() { "(no subject)" } else { text("subject") };
    let ingresses: Vec<ObjectRef> = model
        .of_kind_in("Ingress", namespace)
        .filter(|ingress| {
            ingress
                .array_at("/spec/tls")
                .iter()
                .any(|tls| tls.get("secretName").and_then(Value::as_str) == Some(secret.name.as_str()))
        })
        .map(Object::reference)
        .collect();
    let expired = left <= 0;
    let severity = match (expired, ingresses.is_empty()) {
        (true, false) => Severity::P0,
        (true, true) => Severity::P1,
        _ if left < CRITICAL_DAYS * DAY => Severity::P1,
        _ => Severity::P2,
    };
    let when = if expired {
        format!("expired {} ago", age::human(-left))
    } else {
        format!("expires in {}", age::human(left))
    };
    let served = if ingresses.is_empty() {
        String::new()
    } else {
        let names: Vec<String> =
            ingresses.iter().map(|ingress| format!("{namespace}/{}", ingress.name)).collect();
        format!(" (served by Ingress {})", names.join(", "))
    };
    let ca = certificate.get("isCA").and_then(Value::as_bool) == Some(true);
    let kind = if ca { "CA certificate" } else { "certificate" };
    let mut finding = DIAGNOSTIC
        .finding(severity, format!("Secret {namespace}/{}: {kind} {subject} {when}{served}", secret.name))
        .object(reference.clone());
    for ingress in &ingresses {
        finding = finding.object(ingress.clone());
    }
    for key in ["key", "subject", "issuer", "dnsNames", "notAfter"] {
        if let Some(value) = certificate.get(key) {
            finding = finding.evidence(Evidence::field(
                reference.clone(),
                format!("/kubesnapCertificates/{index}/{key}"),
                value,
            ));
        }
    }
    let issuer = model
        .of_kind_in("Certificate", namespace)
        .find(|resource| resource.str_at("/spec/secretName") == Some(secret.name.as_str()));
    if let Some(resource) = issuer {
        finding = finding.object(resource.reference());
        if let Some((status, reason, message)) = resource.condition("Ready") {
            finding = finding.evidence(Evidence::note(format!(
                "cert-manager Certificate {} Ready={status} {reason}: {message}",
                resource.name
            )));
        }
    }
    let mut explanation = if expired {
        format!(
            "The {kind} {subject} in Secret {} {when}: every TLS client that checks it refuses the \
             connection.",
            secret.name
        )
    } else {
        format!("The {kind} {subject} in Secret {} {when}; clients will refuse it from then on.", secret.name)
    };
    if ca {
        explanation.push_str(" It is a CA: every certificate it signed stops being trusted with it.");
    }
    if !ingresses.is_empty() {
        explanation.push_str(" Ingresses serve it to outside users.");
    }
    if issuer.is_some() {
        explanation.push_str(
            " cert-manager manages it and renews at two thirds of the lifetime by default, so being this \
             close to expiry means renewal is failing: its Certificate's status says why.",
        );
    }
    let mut finding = finding.explanation(explanation);
    if let Some(resource) = issuer {
        finding = finding
            .remediation(Kubectl::new("describe certificate").name(&resource.name).namespace(namespace));
    }
    let key = text("key").replace('.', "\\.");
    finding
        .remediation(
            Kubectl::new("get secret")
                .name(&secret.name)
                .namespace(namespace)
                .arg("-o")
                .joined("jsonpath=", &format!("{{.data.{key}}}"))
                .arg("| base64 -d | openssl x509 -noout -subject -enddate"),
        )
        .remediation(
            Kubectl::new("create secret tls")
                .name(&secret.name)
                .namespace(namespace)
                .arg("--cert=tls.crt --key=tls.key --dry-run=client -o yaml | kubectl apply -f -"),
        )
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::DIAGNOSTIC;
    use crate::testing::check;

    fn secret(name: &str, not_after: &str) -> String {
        format!(
            r#"
---
apiVersion: v1
kind: Secret
metadata: {{name: {name}, namespace: shop}}
type: kubernetes.io/tls
data: {{tls.crt: "<redacted: 1200 bytes>", tls.key: "<redacted: 1700 bytes>"}}
kubesnapCertificates:
- {{key: tls.crt, subject: "CN={name}.example.com", issuer: "CN=R11,O=Let's Encrypt", dnsNames: ["{name}.example.com"], notBefore: "2025-03-01T00:00:00Z", notAfter: "{not_after}", isCA: false, serial: "0a"}}
"#
        )
    }

    #[test]
    fn expired_behind_an_ingress_is_p0_and_soon_expiring_ones_p1_p2() {
        let fixture = format!(
            "{}{}{}{}",
            secret("shop", "2025-05-30T12:00:00Z"),
            secret("api", "2025-06-05T12:00:00Z"),
            secret("admin", "2025-06-21T12:00:00Z"),
            r#"
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec: {tls: [{hosts: [shop.example.com], secretName: shop}]}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: shop, namespace: shop}
spec: {secretName: shop}
status: {conditions: [{type: Ready, status: "False", reason: Failed, message: "ACME challenge failed: 403"}]}
"#
        );
        check(
            &DIAGNOSTIC,
            &fixture,
            expect![[r#"
            P2 certificate-expiring Secret shop/admin: certificate CN=admin.example.com expires in 20d
              objects: Secret/shop/admin
              field Secret/shop/admin /kubesnapCertificates/0/key = tls.crt
              field Secret/shop/admin /kubesnapCertificates/0/subject = CN=admin.example.com
              field Secret/shop/admin /kubesnapCertificates/0/issuer = CN=R11,O=Let's Encrypt
              field Secret/shop/admin /kubesnapCertificates/0/dnsNames = ["admin.example.com"]
              field Secret/shop/admin /kubesnapCertificates/0/notAfter = 2025-06-21T12:00:00Z
              why: The certificate CN=admin.example.com in Secret admin expires in 20d; clients will refuse it from then on.
              $ kubectl get secret admin -n shop -o jsonpath='{.data.tls\.crt}' | base64 -d | openssl x509 -noout -subject -enddate
              $ kubectl create secret tls admin -n shop --cert=tls.crt --key=tls.key --dry-run=client -o yaml | kubectl apply -f -
            P1 certificate-expiring Secret shop/api: certificate CN=api.example.com expires in 4d
              objects: Secret/shop/api
              field Secret/shop/api /kubesnapCertificates/0/key = tls.crt
              field Secret/shop/api /kubesnapCertificates/0/subject = CN=api.example.com
              field Secret/shop/api /kubesnapCertificates/0/issuer = CN=R11,O=Let's Encrypt
              field Secret/shop/api /kubesnapCertificates/0/dnsNames = ["api.example.com"]
              field Secret/shop/api /kubesnapCertificates/0/notAfter = 2025-06-05T12:00:00Z
              why: The certificate CN=api.example.com in Secret api expires in 4d; clients will refuse it from then on.
              $ kubectl get secret api -n shop -o jsonpath='{.data.tls\.crt}' | base64 -d | openssl x509 -noout -subject -enddate
              $ kubectl create secret tls api -n shop --cert=tls.crt --key=tls.key --dry-run=client -o yaml | kubectl apply -f -
            P0 certificate-expiring Secret shop/shop: certificate CN=shop.example.com expired 2d ago (served by Ingress shop/web)
              objects: Secret/shop/shop, Ingress/shop/web, Certificate/shop/shop
              field Secret/shop/shop /kubesnapCertificates/0/key = tls.crt
              field Secret/shop/shop /kubesnapCertificates/0/subject = CN=shop.example.com
              field Secret/shop/shop /kubesnapCertificates/0/issuer = CN=R11,O=Let's Encrypt
              field Secret/shop/shop /kubesnapCertificates/0/dnsNames = ["shop.example.com"]
              field Secret/shop/shop /kubesnapCertificates/0/notAfter = 2025-05-30T12:00:00Z
              note: cert-manager Certificate shop Ready=False Failed: ACME challenge failed: 403
              why: The certificate CN=shop.example.com in Secret shop expired 2d ago: every TLS client that checks it refuses the connection. Ingresses serve it to outside users. cert-manager manages it and renews at two thirds of the lifetime by default, so being this close to expiry means renewal is failing: its Certificate's status says why.
              $ kubectl describe certificate shop -n shop
              $ kubectl get secret shop -n shop -o jsonpath='{.data.tls\.crt}' | base64 -d | openssl x509 -noout -subject -enddate
              $ kubectl create secret tls shop -n shop --cert=tls.crt --key=tls.key --dry-run=client -o yaml | kubectl apply -f -
        "#]],
        );
    }

    #[test]
    fn certificates_valid_beyond_30_days_and_secrets_without_facts_are_fine() {
        let fixture = format!(
            "{}{}",
            secret("far", "2025-09-01T00:00:00Z"),
            "---\napiVersion: v1\nkind: Secret\nmetadata: {name: raw, namespace: shop}\n\
             type: kubernetes.io/tls\n"
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
