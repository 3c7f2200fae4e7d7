//! Secret objects: every value of `data` and `stringData` becomes `"<redacted: N bytes>"` (keys
//! kept, so the analyzer can still tell a missing key from a present one), and the public facts
//! of every PEM certificate found in them are kept in a top-level `kubesnapCertificates` list,
//! so that expiring certificates can be reported without the key.

use serde_json::{Map, Value, json};
use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;

use super::{Counts, Redactor};

/// The marker of a redacted Secret value, `<redacted: N bytes>` (in token mode
/// `<redacted: N bytes:tok-HEX>`, the token of the decoded value); its shape is part of the
/// bundle format.
pub(crate) fn marker(redactor: &Redactor, rule: &str, value: &[u8]) -> String {
    let mut marker = format!("<redacted: {} bytes", value.len());
    redactor.push_token(&mut marker, rule, value);
    marker.push('>');
    marker
}

fn is_marker(value: &str) -> bool {
    value.starts_with("<redacted")
}

/// Sanitizes one Secret object in place. `with_certificates` adds `kubesnapCertificates`
/// (top-level objects only: a Secret nested in an annotation keeps its shape).
pub(crate) fn sanitize(
    redactor: &Redactor,
    secret: &mut Map<String, Value>,
    counts: &mut Counts,
    with_certificates: bool,
) {
    let helm = secret.get("type").and_then(Value::as_str) == Some("helm.sh/release.v1");
    let mut certificates = Vec::new();
    for field in ["data", "stringData"] {
        let Some(Value::Object(values)) = secret.get_mut(field) else { continue };
        for (key, value) in values.iter_mut() {
            let Value::String(text) = value else { continue };
            if is_marker(text) {
                continue;
            }
            let bytes = if field == "data" {
                super::decode_base64(text).unwrap_or_else(|| text.as_bytes().to_vec())
            } else {
                text.as_bytes().to_vec()
            };
            if with_certificates {
                certificates.extend(certificate_facts(key, &bytes));
            }
            let rule = if helm && key == "release" { "helm-release" } else { "secret-data" };
            *text = marker(redactor, rule, &bytes);
            counts.add(rule, 1);
        }
    }
    if !certificates.is_empty() {
        secret.insert("kubesnapCertificates".to_owned(), Value::Array(certificates));
    }
}

/// Facts of every certificate in a PEM bundle; anything else (keys, garbage) is skipped.
pub(crate) fn certificate_facts(key: &str, bytes: &[u8]) -> Vec<Value> {
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    if !bytes.windows(BEGIN.len()).any(|window| window == BEGIN) {
        return Vec::new();
    }
    let mut facts = Vec::new();
    // A bounded number of blocks: a hostile bundle cannot make this loop long.
    for pem in Pem::iter_from_buffer(bytes).take(256).flatten() {
        if pem.label != "CERTIFICATE" {
            continue;
        }
        let Ok(certificate) = pem.parse_x509() else { continue };
        let mut dns_names = Vec::new();
        let mut ip_addresses = Vec::new();
        if let Ok(Some(names)) = certificate.subject_alternative_name() {
            for name in &names.value.general_names {
                match name {
                    GeneralName::DNSName(dns) => dns_names.push(Value::from(*dns)),
                    GeneralName::IPAddress(bytes) => {
                        if let Some(ip) = ip_address(bytes) {
                            ip_addresses.push(Value::from(ip));
                        }
                    }
                    _ => {}
                }
            }
        }
        let validity = certificate.validity();
        facts.push(json!({
            "key": key,
            "subject": certificate.subject().to_string(),
            "issuer": certificate.issuer().to_string(),
            "dnsNames": dns_names,
            "ipAddresses": ip_addresses,
            "notBefore": rfc3339(validity.not_before.timestamp()),
            "notAfter": rfc3339(validity.not_after.timestamp()),
            "isCA": certificate.is_ca(),
            "serial": certificate.raw_serial().iter().map(|b| format!("{b:02x}")).collect::<String>(),
        }));
    }
    facts
}

fn ip_address(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(|b| std::net::Ipv4Addr::from(b).to_string()),
        16 => <[u8; 16]>::try_from(bytes).ok().map(|b| std::net::Ipv6Addr::from(b).to_string()),
        _ => None,
    }
}

fn rfc3339(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).map(|t| t.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed test certificate made for these tests with
    /// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650
    /// -subj /CN=web.example.test -addext subjectAltName=DNS:web.example.test,IP:10.0.0.7`.
    pub(crate) const TEST_CERT: &str = "-----BEGIN CERTIFICATE-----\n\
MIIBrTCCAVSgAwIBAgIUAU3Ij+Q7nf1Zw6NTHd42qBywcPEwCgYIKoZIzj0EAwIw\n\
GzEZMBcGA1UEAwwQd2ViLmV4YW1wbGUudGVzdDAeFw0yNjExMjExMDU4MjNaFw0z\n\
NjExMTgxMDU4MjNaMBsxGTAXBgNVBAMMEHdlYi5leGFtcGxlLnRlc3QwWTATBgcq\n\
hkjOPQIBBggqhkjOPQMBBwNCAARzJGWdpWVAVly/xBfe1ToIPpMoGXcfWbhO0uhs\n\
p6q4vJ0563+Kma3fH003fdQg7M4MmD9bFHBJhHd5GY9YzDVEo3YwdDAdBgNVHQ4E\n\
FgQUWu4dYczt4nntsTSx80S82dkBZ04wHwYDVR0jBBgwFoAUWu4dYczt4nntsTSx\n\
80S82dkBZ04wDwYDVR0TAQH/BAUwAwEB/zAhBgNVHREEGjAYghB3ZWIuZXhhbXBs\n\
ZS50ZXN0hwQKAAAHMAoGCCqGSM49BAMCA0cAMEQCIDl0Z+Lx/XFpd/mbNt4KG80e\n\
aeUzgrsQh+VNKT+trLqZAiBHSu5UBcRkxxna4+1OjwPJjkb4pkKe4I6+ISOhwl3I\n\
tA==\n\
-----END CERTIFICATE-----\n\
";

    #[test]
    fn values_become_sizes_and_certificates_become_facts() {
        use base64::Engine as _;
        let crt = base64::engine::general_purpose::STANDARD.encode(TEST_CERT);
        let mut secret = json!({
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "data": {"tls.crt": crt, "tls.key": "c2VjcmV0"},
            "stringData": {"note": "hello"}
        });
        let mut counts = Counts::default();
        if let Value::Object(map) = &mut secret {
            sanitize(&Redactor::builtin(), map, &mut counts, true);
        }
        assert_eq!(secret["data"]["tls.key"], "<redacted: 6 bytes>");
        assert_eq!(secret["data"]["tls.crt"], format!("<redacted: {} bytes>", TEST_CERT.len()));
        assert_eq!(secret["stringData"]["note"], "<redacted: 5 bytes>");
        assert_eq!(counts.get("secret-data"), 3);
        let facts = &secret["kubesnapCertificates"][0];
        assert_eq!(facts["key"], "tls.crt");
        assert_eq!(facts["subject"], "CN=web.example.test");
        assert_eq!(facts["dnsNames"], json!(["web.example.test"]));
        assert_eq!(facts["ipAddresses"], json!(["10.0.0.7"]));
        // `openssl req -x509` marks its self-signed certificates `CA:TRUE`.
        assert_eq!(facts["isCA"], true);
        assert!(facts["notAfter"].as_str().is_some_and(|t| t.ends_with('Z') && t.len() == 20));
    }

    #[test]
    fn sanitizing_twice_changes_nothing() {
        let mut secret = json!({"kind": "Secret", "data": {"a": "<redacted: 3 bytes>"}});
        let before = secret.clone();
        let mut counts = Counts::default();
        if let Value::Object(map) = &mut secret {
            sanitize(&Redactor::builtin(), map, &mut counts, true);
        }
        assert_eq!(secret, before);
        assert!(counts.is_empty());
    }

    #[test]
    fn helm_release_payloads_are_counted_as_such() {
        let mut secret =
            json!({"kind": "Secret", "type": "helm.sh/release.v1", "data": {"release": "SDRzSUFBQUFBQUFB"}});
        let mut counts = Counts::default();
        if let Value::Object(map) = &mut secret {
            sanitize(&Redactor::builtin(), map, &mut counts, true);
        }
        assert_eq!(counts.get("helm-release"), 1);
        assert_eq!(secret["data"]["release"], "<redacted: 12 bytes>");
    }
}
