//! ConfigMaps and Secrets. Secrets have the shape the collector's redaction leaves: every value
//! replaced by `<redacted: N bytes>`, and the public facts of TLS certificates beside them.

use serde_json::{Value, json};

use crate::prng::Prng;

use super::super::clock::{BASE, rfc3339};
use super::super::plan::{Kind, NamespacePlan};

fn metadata(namespace: &str, name: &str, uid: &str, created: i64) -> Value {
    json!({ "creationTimestamp": rfc3339(created), "name": name, "namespace": namespace, "resourceVersion": "1187", "uid": uid })
}

/// The CA bundle every namespace gets, and one ConfigMap per Deployment.
pub(crate) fn config_maps(seed: u64, index: u64, namespace: &NamespacePlan) -> Vec<Value> {
    let mut prng = Prng::derive(seed, &[20, index]);
    // A public CA certificate's shape (not a real certificate: nothing parses ConfigMaps).
    let mut ca = String::from("-----BEGIN CERTIFICATE-----\n");
    for _ in 0..17 {
        prng.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 64, &mut ca);
        ca.push('\n');
    }
    ca.push_str("-----END CERTIFICATE-----\n");
    let mut items = vec![json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "data": { "ca.crt": ca },
        "metadata": {
            "annotations": { "kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters." },
            "creationTimestamp": rfc3339(namespace.created), "name": "kube-root-ca.crt", "namespace": namespace.name, "resourceVersion": "412", "uid": prng.uuid()
        }
    })];
    for workload in namespace.workloads.iter().filter(|w| w.kind == Kind::Deployment) {
        let app_yaml = format!(
            "server:\n  port: {}\n  shutdownTimeout: 20s\nlogging:\n  level: info\n  format: json\nupstreams:\n  postgres: postgres.{}.svc.cluster.local:5432\n  redis: redis.{}.svc.cluster.local:6379\nfeatures:\n  newCheckout: {}\n  cacheTtlSeconds: {}\n",
            workload.pods[0].containers[0].port,
            namespace.name,
            namespace.name,
            prng.chance(500_000),
            prng.between(30, 600)
        );
        items.push(json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "data": { "app.yaml": app_yaml, "LOG_FORMAT": "json", "FEATURE_FLAGS": "search-v2,async-invoices" },
            "metadata": metadata(&namespace.name, &format!("{}-config", workload.name), &prng.uuid(), workload.created),
        }));
    }
    items
}

/// One Opaque Secret per workload, and a TLS Secret per namespace (the first application
/// namespace's certificate expires in five days).
pub(crate) fn secrets(seed: u64, index: u64, namespace: &NamespacePlan) -> Vec<Value> {
    let mut prng = Prng::derive(seed, &[21, index]);
    let mut items = Vec::new();
    for workload in &namespace.workloads {
        if matches!(workload.kind, Kind::DaemonSet) {
            continue;
        }
        items.push(json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "data": { "password": "<redacted: 24 bytes>", "username": format!("<redacted: {} bytes>", 4 + workload.name.len()) },
            "metadata": metadata(&namespace.name, &format!("{}-secrets", workload.name), &prng.uuid(), workload.created),
        }));
    }
    if namespace.name != "kube-system" {
        let expires_in_days = if index == 1 { 5 } else { prng.between(30, 85) as i64 };
        let not_after = BASE + 86_400 * expires_in_days;
        let host = format!("{}.example.com", namespace.name);
        items.push(json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "data": { "tls.crt": "<redacted: 3721 bytes>", "tls.key": "<redacted: 1704 bytes>" },
            "kubesnapCertificates": [
                { "key": "tls.crt", "subject": format!("CN={host}"), "issuer": "CN=R11,O=Let's Encrypt,C=US", "dnsNames": [host.clone(), format!("www.{host}")], "ipAddresses": [], "notBefore": rfc3339(not_after - 86_400 * 90), "notAfter": rfc3339(not_after), "isCA": false, "serial": prng.hex(36) }
            ],
            "metadata": {
                "annotations": { "cert-manager.io/certificate-name": format!("{}-tls", namespace.name), "cert-manager.io/issuer-name": "letsencrypt-prod", "cert-manager.io/issuer-kind": "ClusterIssuer" },
                "creationTimestamp": rfc3339(not_after - 86_400 * 90),
                "name": format!("{}-tls", namespace.name),
                "namespace": namespace.name,
                "resourceVersion": "77120",
                "uid": prng.uuid(),
            },
        }));
    }
    items
}
