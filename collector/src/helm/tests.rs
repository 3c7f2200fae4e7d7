//! The decoder on records Helm writes and on hostile ones.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;

use super::*;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// A Secret as Helm's secrets driver stores `payload` (already gzip or plain JSON).
fn secret(payload: &[u8]) -> Value {
    let helm = STANDARD.encode(payload);
    json!({
        "kind": "Secret", "apiVersion": "v1", "type": "helm.sh/release.v1",
        "metadata": {"name": "sh.helm.release.v1.shop.v3", "namespace": "web",
            "labels": {"name": "shop", "owner": "helm", "status": "failed", "version": "3"}},
        "data": {"release": STANDARD.encode(helm)}
    })
}

fn release_json() -> Value {
    json!({
        "name": "shop", "namespace": "web", "version": 3,
        "info": {"first_deployed": "2026-12-01T10:00:00.123Z", "last_deployed": "2026-12-05T09:12:00Z",
            "deleted": "", "status": "failed",
            "description": "Upgrade \"shop\" failed: dial postgres://app:s3cr3t-pw@db:5432/app",
            "notes": "NOTES-MARKER"},
        "chart": {"metadata": {"name": "shop", "version": "0.1.0", "appVersion": "1.0.0"},
            "templates": [{"name": "templates/secret.yaml", "data": "VEVNUExBVEUtTUFSS0VS"}],
            "values": {"apiToken": "VALUES-MARKER"}},
        "config": {"apiToken": "CONFIG-MARKER"},
        "manifest": "kind: Secret\nstringData: {token: MANIFEST-MARKER}",
        "hooks": [{"name": "HOOK-MARKER"}]
    })
}

fn capture(items: &[Value]) -> anyhow::Result<HelmCapture> {
    let redaction = Redaction::new(false, None, None)?;
    let mut capture = HelmCapture::default();
    for item in items {
        capture.observe(item, &redaction);
    }
    Ok(capture)
}

#[test]
fn a_record_helm_wrote_gives_its_metadata_and_nothing_else() -> anyhow::Result<()> {
    let payload = gzip(release_json().to_string().as_bytes());
    let capture = capture(&[secret(&payload)])?;
    assert!(capture.failures.is_empty(), "{:?}", capture.failures);
    let [release] = capture.releases.as_slice() else { panic!("{:?}", capture.releases) };
    assert_eq!(
        (release.name.as_str(), release.namespace.as_str(), release.revision, release.status.as_str()),
        ("shop", "web", 3, "failed")
    );
    assert_eq!(release.chart.as_deref(), Some("shop"));
    assert_eq!(release.chart_version.as_deref(), Some("0.1.0"));
    assert_eq!(release.app_version.as_deref(), Some("1.0.0"));
    assert_eq!(release.first_deployed.as_deref(), Some("2026-12-01T10:00:00.123Z"));
    assert_eq!(release.last_deployed.as_deref(), Some("2026-12-05T09:12:00Z"));
    assert_eq!(release.deleted, None);
    assert_eq!(release.storage, HelmStorage::Secret);
    assert_eq!(release.object, "sh.helm.release.v1.shop.v3");
    let description = release.description.as_deref().unwrap_or_default();
    assert!(description.starts_with("Upgrade \"shop\" failed"), "{description}");
    assert!(!description.contains("s3cr3t-pw"), "the description is redacted: {description}");
    assert!(capture.counts.total() >= 1);
    let text = serde_json::to_string(&capture.releases)?;
    for marker in ["NOTES", "VALUES", "CONFIG", "MANIFEST", "HOOK", "VEVNUExBVEUt"] {
        assert!(!text.contains(marker), "{marker} in {text}");
    }
    Ok(())
}

#[test]
fn configmap_records_and_uncompressed_records_are_read_too() -> anyhow::Result<()> {
    let mut release = release_json();
    release["info"]["status"] = json!("deployed");
    let configmap = json!({
        "kind": "ConfigMap", "apiVersion": "v1",
        "metadata": {"name": "sh.helm.release.v1.shop.v3", "namespace": "web", "labels": {"owner": "helm"}},
        "data": {"release": STANDARD.encode(release.to_string())}
    });
    let capture = capture(&[configmap])?;
    assert_eq!(capture.releases.len(), 1, "{:?}", capture.failures);
    assert_eq!(capture.releases[0].storage, HelmStorage::Configmap);
    assert_eq!(capture.releases[0].status, "deployed");
    // Anything else is not a record.
    let other = json!({"kind": "Secret", "type": "Opaque", "data": {"release": "eA=="}});
    let plain =
        json!({"kind": "ConfigMap", "metadata": {"labels": {"owner": "me"}}, "data": {"release": "x"}});
    let capture = self::capture(&[other, plain])?;
    assert!(capture.releases.is_empty() && capture.failures.is_empty());
    Ok(())
}

#[test]
fn metadata_missing_from_the_json_comes_from_the_labels() -> anyhow::Result<()> {
    let payload = gzip(br#"{"info": {}}"#);
    let capture = capture(&[secret(&payload)])?;
    let [release] = capture.releases.as_slice() else { panic!("{:?}", capture.failures) };
    assert_eq!((release.name.as_str(), release.revision, release.status.as_str()), ("shop", 3, "failed"));
    assert_eq!(release.namespace, "web");
    Ok(())
}

/// The typed reason of each hostile record, from its message.
fn reasons(items: &[Value]) -> anyhow::Result<Vec<String>> {
    let capture = capture(items)?;
    assert!(capture.releases.is_empty(), "{:?}", capture.releases);
    assert!(capture.failures.iter().all(|failure| failure.kind == FailureKind::Decode
        && failure.what == "helm-release"
        && failure.scope == "web/sh.helm.release.v1.shop.v3"));
    Ok(capture.failures.into_iter().map(|failure| failure.message).collect())
}

#[test]
fn hostile_records_are_failures_with_their_reason() -> anyhow::Result<()> {
    let mut not_base64 = secret(b"");
    not_base64["data"]["release"] = json!(STANDARD.encode("%%% not base64 %%%"));
    let mut missing = secret(b"");
    missing["data"] = json!({"release": 7});
    let mut huge = secret(b"");
    huge["data"]["release"] = json!("A".repeat(MAX_ENCODED + 4));
    let mut corrupt = gzip(release_json().to_string().as_bytes());
    let middle = corrupt.len() / 2;
    corrupt[middle..].iter_mut().for_each(|byte| *byte ^= 0x5a);
    let truncated = gzip(release_json().to_string().as_bytes());
    let truncated = &truncated[..truncated.len() / 2];
    // Deep nesting inside a field the decoder skips.
    let deep = format!("{{\"config\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let messages = reasons(&[
        not_base64,
        missing,
        huge,
        secret(&corrupt),
        secret(truncated),
        secret(&gzip(b"{\"name\": \"shop\", \"version\": ")),
        secret(&gzip(b"not json at all")),
        secret(&gzip(br#"{"name": "shop", "version": -3}"#)),
        secret(b"[1, 2]"),
    ])?;
    let starts = [
        "the record is not valid base64",
        "the record has no `release` value",
        "the record is 8388612 bytes encoded, more than the 8388608 bytes read",
        "the record's gzip stream is corrupt",
        "the record",
        "the record is not a Helm release JSON document",
        "the record is not a Helm release JSON document",
        "the record is not a Helm release JSON document",
        "the record is not a Helm release JSON document",
    ];
    assert_eq!(messages.len(), starts.len(), "{messages:#?}");
    for (message, start) in messages.iter().zip(starts) {
        assert!(message.starts_with(start), "{message:?} does not start with {start:?}");
    }
    // Deep nesting where serde skips costs no stack; the labels still name the revision.
    let capture = capture(&[secret(&gzip(deep.as_bytes()))])?;
    assert_eq!(capture.releases.len(), 1, "{:?}", capture.failures);
    Ok(())
}

#[test]
fn a_gzip_bomb_stops_at_the_inflated_limit() -> anyhow::Result<()> {
    // JSON whitespace never ends a document: only the limit stops the read.
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    let block = vec![b' '; 1 << 20];
    for _ in 0..(MAX_INFLATED >> 20) + 2 {
        encoder.write_all(&block)?;
    }
    let bomb = encoder.finish()?;
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let messages = reasons(&[secret(&bomb)])?;
    assert_eq!(messages, [format!("the record decompresses to more than {MAX_INFLATED} bytes")]);
    Ok(())
}

#[test]
fn a_long_description_is_cut_at_a_character_boundary() {
    let long = "é".repeat(MAX_DESCRIPTION);
    let cut = cut(&long, MAX_DESCRIPTION + 1);
    assert!(cut.starts_with("éé") && cut.ends_with(&format!("(cut at {} bytes)", MAX_DESCRIPTION + 1)));
    assert_eq!(self::cut("short", 10), "short");
}
