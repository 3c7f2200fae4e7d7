//! The golden archive of format version 1, kept as bytes in `testdata/golden/v1/`: every later
//! kubesnap must still read it, entry for entry, with a verified manifest.
//!
//! `KUBESNAP_BLESS=1 cargo test -p kubesnap-shared --test bundle golden` rewrites it from
//! [`golden_v1`]; do that only when creating the golden of a new format version, never to
//! make a failing read pass.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kubesnap_shared::layout;
use kubesnap_shared::manifest::{ClusterInfo, FORMAT_VERSION, Failure, FailureKind, Tool};
use kubesnap_shared::reader::Limits;
use kubesnap_shared::writer::{BundleHeader, BundleWriter};

use crate::support::{TestResult, gunzip, read_all};

const ROOT: &str = "kubesnap-golden-20261121T103400Z";

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/golden/v1/bundle.tar.gz")
}

/// A PEM-free, value-free Secret as the redaction module leaves it.
const SECRET_LIST: &str = r#"{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"812"},"items":[{"metadata":{"name":"web-tls","namespace":"default"},"type":"kubernetes.io/tls","data":{"tls.crt":"<redacted: 1164 bytes>","tls.key":"<redacted: 1704 bytes>"},"kubesnapCertificates":[{"key":"tls.crt","subject":"CN=web.example.com","issuer":"CN=golden-ca","dnsNames":["web.example.com"],"ipAddresses":[],"notBefore":"2026-01-01T00:00:00Z","notAfter":"2026-12-01T00:00:00Z","isCA":false,"serial":"1f"}]}]}
"#;

/// The collection the golden archive holds: one file of every kind the layout defines.
fn golden_v1() -> TestResult<Vec<u8>> {
    let mut options = BTreeMap::new();
    options.insert("namespaces".to_owned(), serde_json::json!(["default"]));
    options.insert("log-max-bytes".to_owned(), serde_json::json!(1_048_576));
    options.insert("metrics-interval".to_owned(), serde_json::json!("30s"));
    let header = BundleHeader {
        root: ROOT.to_owned(),
        tool: Tool { name: "kubesnap-collect".to_owned(), version: "0.1.0".to_owned() },
        cluster: ClusterInfo {
            context: Some("kind-golden".to_owned()),
            server: Some("https://127.0.0.1:6443".to_owned()),
            version: None,
            platform: None,
        },
        options,
        started_at: "2026-11-21T10:34:00Z".parse()?,
        compression: 6,
    };
    let mut writer = BundleWriter::new(Vec::new(), header)?;
    writer.set_finished_at("2026-11-21T10:39:07Z".parse()?);
    writer.add(
        layout::CLUSTER_VERSION,
        br#"{"major":"1","minor":"33","gitVersion":"v1.33.1","platform":"linux/amd64"}
"#,
    )?;
    writer.set_cluster(ClusterInfo {
        context: Some("kind-golden".to_owned()),
        server: Some("https://127.0.0.1:6443".to_owned()),
        version: Some("v1.33.1".to_owned()),
        platform: Some("linux/amd64".to_owned()),
    });
    writer.add(layout::API_RESOURCES, br#"{"groups":[{"group":"","version":"v1","resources":[{"name":"pods","namespaced":true,"kind":"Pod","verbs":["get","list","watch"]}]}]}
"#)?;
    writer.add(
        &layout::resource_list("", "v1", "pods", Some("default")),
        br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"812"},"items":[{"metadata":{"name":"web-0","namespace":"default"},"status":{"phase":"Running"}}]}
"#,
    )?;
    writer.add(
        &layout::resource_list("", "v1", "nodes", None),
        br#"{"kind":"NodeList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"node-1"}}]}
"#,
    )?;
    writer.add(&layout::resource_list("", "v1", "secrets", Some("default")), SECRET_LIST.as_bytes())?;
    // A group, resource and namespace long enough for the path to need a GNU long name.
    writer.add(
        &layout::resource_list("monitoring.coreos.example.com", "v1alpha1", "alertmanagerconfigurations", Some("observability-production")),
        br#"{"kind":"AlertmanagerConfigurationList","apiVersion":"monitoring.coreos.example.com/v1alpha1","metadata":{},"items":[]}
"#,
    )?;
    writer.add(layout::WATCHED_EVENTS, br#"{"type":"ADDED","object":{"kind":"Event","apiVersion":"v1","metadata":{"name":"web-0.1","namespace":"default"},"reason":"BackOff","message":"Back-off restarting failed container","type":"Warning","count":3}}
"#)?;
    let log = b"2026-11-21T10:34:01.000000000Z starting\n2026-11-21T10:34:02.000000000Z ready\n";
    writer.add_reader(
        &layout::container_log("default", "web-0", "nginx", false),
        log.len() as u64,
        &log[..],
    )?;
    writer.add_truncated(
        &layout::container_log("default", "web-0", "nginx", true),
        b"2026-11-21T10:20:00.000000000Z panic: out of memory\n",
        "log-max-bytes: kept the last 1048576 bytes",
    )?;
    writer.add(layout::POD_METRICS, br#"{"timestamp":"2026-11-21T10:34:30Z","items":[{"metadata":{"name":"web-0","namespace":"default"},"timestamp":"2026-11-21T10:34:25Z","window":"15s","containers":[{"name":"nginx","usage":{"cpu":"12m","memory":"24Mi"}}]}]}
{"timestamp":"2026-11-21T10:35:00Z","error":"the server is currently unable to handle the request (get pods.metrics.k8s.io)"}
"#)?;
    writer.add(layout::NODE_METRICS, br#"{"timestamp":"2026-11-21T10:34:30Z","items":[{"metadata":{"name":"node-1"},"timestamp":"2026-11-21T10:34:25Z","window":"15s","usage":{"cpu":"250m","memory":"1Gi"}}]}
"#)?;
    writer.add(
        &layout::kubelet_stats("node-1"),
        br#"{"node":{"nodeName":"node-1","fs":{"capacityBytes":100,"usedBytes":40}},"pods":[]}
"#,
    )?;
    writer.record_failure(Failure {
        what: "list".to_owned(),
        scope: "rbac.authorization.k8s.io/v1/clusterroles".to_owned(),
        namespace: None,
        kind: FailureKind::Forbidden,
        status: Some(403),
        message: "clusterroles.rbac.authorization.k8s.io is forbidden".to_owned(),
    });
    writer.record_failure(Failure {
        what: "logs".to_owned(),
        scope: "default/web-1/nginx".to_owned(),
        namespace: Some("default".to_owned()),
        kind: FailureKind::NotFound,
        status: Some(404),
        message: "pods \"web-1\" not found".to_owned(),
    });
    writer.record_redactions("secret-data", &layout::resource_list("", "v1", "secrets", Some("default")), 2);
    writer.record_redactions("bearer-token", &layout::container_log("default", "web-0", "nginx", true), 1);
    Ok(writer.finish()?)
}

#[test]
fn golden_v1_reads_entry_for_entry_with_a_verified_manifest() -> TestResult {
    let path = golden_path();
    if std::env::var_os("KUBESNAP_BLESS").is_some_and(|value| value == "1") {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, golden_v1()?)?;
    }
    let read = read_all(&path, Limits::default())?;
    assert!(read.outcome.verified(), "{:?}", read.outcome);
    let sizes: Vec<(String, usize)> =
        read.contents().into_iter().map(|(path, data)| (path, data.len())).collect();
    let expected: Vec<(String, usize)> = [
        ("cluster/api-resources.json", 133),
        ("cluster/version.json", 75),
        ("events/watched.jsonl", 208),
        ("format.json", 169),
        ("kubelet/node-1/stats-summary.json", 83),
        ("logs/default/web-0/nginx.log", 77),
        ("logs/default/web-0/nginx.previous.log", 52),
        ("manifest.json", 3748),
        ("metrics/nodes.jsonl", 166),
        ("metrics/pods.jsonl", 345),
        ("resources/core/v1/nodes/_cluster.json", 93),
        ("resources/core/v1/pods/default.json", 165),
        ("resources/core/v1/secrets/default.json", 489),
        (
            "resources/monitoring.coreos.example.com/v1alpha1/alertmanagerconfigurations/observability-production.json",
            120,
        ),
    ]
    .into_iter()
    .map(|(path, size)| (format!("{ROOT}/{path}"), size))
    .collect();
    assert_eq!(sizes, expected);
    assert_eq!(read.paths().first().copied(), Some(format!("{ROOT}/format.json").as_str()));
    assert_eq!(read.paths().last().copied(), Some(format!("{ROOT}/manifest.json").as_str()));

    let format = read.outcome.format.as_ref().ok_or("no format.json")?;
    assert_eq!((format.format.as_str(), format.format_version), ("kubesnap-bundle", 1));
    let manifest = read.outcome.manifest.as_ref().ok_or("no manifest")?;
    assert_eq!(manifest.format_version, 1);
    assert!(manifest.complete);
    assert_eq!(manifest.cluster.version.as_deref(), Some("v1.33.1"));
    assert_eq!(
        (manifest.started_at.as_str(), manifest.finished_at.as_str()),
        ("2026-11-21T10:34:00Z", "2026-11-21T10:39:07Z")
    );
    assert_eq!(manifest.files.len(), 13);
    let previous = manifest.file("logs/default/web-0/nginx.previous.log").ok_or("no previous log")?;
    assert!(previous.truncated);
    assert_eq!(previous.truncation.as_deref(), Some("log-max-bytes: kept the last 1048576 bytes"));
    assert_eq!(
        manifest.failures.iter().map(|f| (f.what.as_str(), f.kind, f.status)).collect::<Vec<_>>(),
        vec![("list", FailureKind::Forbidden, Some(403)), ("logs", FailureKind::NotFound, Some(404))]
    );
    assert_eq!(
        manifest.redactions.iter().map(|r| (r.rule.as_str(), r.count)).collect::<Vec<_>>(),
        vec![("bearer-token", 1), ("secret-data", 2)]
    );
    let secret = read
        .contents()
        .remove(&format!("{ROOT}/resources/core/v1/secrets/default.json"))
        .ok_or("no secrets")?;
    let secret: serde_json::Value = serde_json::from_slice(&secret)?;
    assert_eq!(secret.pointer("/items/0/data/tls.key"), Some(&serde_json::json!("<redacted: 1704 bytes>")));
    assert_eq!(
        secret.pointer("/items/0/kubesnapCertificates/0/notAfter"),
        Some(&serde_json::json!("2026-12-01T00:00:00Z"))
    );
    Ok(())
}

#[test]
fn the_writer_still_writes_the_golden_v1_tar_stream() -> TestResult {
    // When the format version moves on, this test moves to the new version's golden, and the
    // v1 golden stays only for the read test above.
    assert_eq!(
        FORMAT_VERSION, 1,
        "bless a golden archive for the new format version and point this test at it"
    );
    let golden = std::fs::read(golden_path())?;
    // Compared decompressed: the gzip bytes may change with the deflate implementation, the
    // tar stream may not without a new format version.
    assert!(gunzip(&golden)? == gunzip(&golden_v1()?)?, "the writer's output changed: bump FORMAT_VERSION");
    Ok(())
}
