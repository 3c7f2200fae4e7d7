//! Keeps `docs/bundle-format.md` in step with the code: every path of `layout.rs`, every field
//! of `format.json` and `manifest.json`, every failure kind, the reader's limits and the
//! format version must be in the document.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use kubesnap_shared::layout;
use kubesnap_shared::manifest::{
    ClusterInfo, FORMAT_NAME, FORMAT_VERSION, Failure, FailureKind, FileRecord, FormatHeader, Manifest,
    RedactionCount, Tool,
};
use kubesnap_shared::reader::Limits;
use kubesnap_shared::writer::DROPPED_REASON;

use crate::support::TestResult;

fn repository_file(path: &str) -> TestResult<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    Ok(std::fs::read_to_string(path)?)
}

/// Every key of every object in `value`, except inside `options` (flag names, not fields).
fn keys(value: &serde_json::Value, found: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                found.insert(key.clone());
                if key != "options" {
                    keys(value, found);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| keys(item, found)),
        _ => {}
    }
}

fn missing_from_doc(doc: &str, names: impl IntoIterator<Item = String>) -> Vec<String> {
    names.into_iter().filter(|name| !doc.contains(&format!("`{name}`"))).collect()
}

/// Every failure kind. The match has no wildcard, so a new kind fails to compile here until
/// it is added, and then fails the test until it is documented.
fn all_failure_kinds() -> Vec<FailureKind> {
    let kinds = vec![
        FailureKind::Unauthorized,
        FailureKind::Forbidden,
        FailureKind::NotFound,
        FailureKind::MethodNotAllowed,
        FailureKind::Gone,
        FailureKind::TooManyRequests,
        FailureKind::ServerError,
        FailureKind::Unavailable,
        FailureKind::Timeout,
        FailureKind::Connection,
        FailureKind::Decode,
        FailureKind::Cancelled,
        FailureKind::Other,
    ];
    for kind in &kinds {
        match kind {
            FailureKind::Unauthorized
            | FailureKind::Forbidden
            | FailureKind::NotFound
            | FailureKind::MethodNotAllowed
            | FailureKind::Gone
            | FailureKind::TooManyRequests
            | FailureKind::ServerError
            | FailureKind::Unavailable
            | FailureKind::Timeout
            | FailureKind::Connection
            | FailureKind::Decode
            | FailureKind::Cancelled
            | FailureKind::Other => {}
        }
    }
    kinds
}

#[test]
fn every_layout_path_is_in_the_format_doc() -> TestResult {
    let doc = repository_file("docs/bundle-format.md")?;
    let source = repository_file("shared/src/layout.rs")?;
    // Read the constants from the source, so that a new one cannot be forgotten here.
    let constant = regex::Regex::new(r#"(?m)^pub const ([A-Z_]+): &str = "([^"]+)";"#)?;
    let constants: BTreeMap<String, String> =
        constant.captures_iter(&source).map(|found| (found[1].to_owned(), found[2].to_owned())).collect();
    assert!(constants.len() >= 9, "the constants of layout.rs were not found: {constants:?}");
    let missing: Vec<_> = constants.iter().filter(|(_, value)| !doc.contains(value.as_str())).collect();
    assert!(missing.is_empty(), "layout.rs constants missing from docs/bundle-format.md: {missing:?}");

    // Path builders: every public function is known here, and each builder's pattern is in the doc.
    let function = regex::Regex::new(r"(?m)^pub fn ([a-z_]+)\(")?;
    let functions: BTreeSet<&str> =
        function.captures_iter(&source).filter_map(|found| found.get(1)).map(|m| m.as_str()).collect();
    assert_eq!(
        functions,
        BTreeSet::from(["classify", "container_log", "kubelet_stats", "resource_list"]),
        "a path builder was added to layout.rs: add its pattern below and to docs/bundle-format.md"
    );
    let patterns = [
        layout::resource_list("<group>", "<version>", "<resource>", Some("<namespace>")),
        layout::resource_list("<group>", "<version>", "<resource>", None),
        layout::resource_list("", "v1", "pods", Some("default")),
        layout::container_log("<namespace>", "<pod>", "<container>", false),
        layout::container_log("<namespace>", "<pod>", "<container>", true),
        layout::kubelet_stats("<node>"),
    ];
    let missing: Vec<_> = patterns.iter().filter(|pattern| !doc.contains(pattern.as_str())).collect();
    assert!(missing.is_empty(), "path patterns missing from docs/bundle-format.md: {missing:?}");
    Ok(())
}

#[test]
fn every_format_and_manifest_field_is_in_the_format_doc() -> TestResult {
    let doc = repository_file("docs/bundle-format.md")?;
    let tool = Tool { name: "kubesnap-collect".to_owned(), version: "0.1.0".to_owned() };
    // Struct literals: a new field fails to compile here until it is filled in (and then
    // fails the test until it is documented).
    let format = FormatHeader {
        format: FORMAT_NAME.to_owned(),
        format_version: FORMAT_VERSION,
        tool: tool.clone(),
        started_at: "2026-11-21T10:34:00Z".to_owned(),
    };
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        tool,
        cluster: ClusterInfo {
            context: Some("kind".to_owned()),
            server: Some("https://127.0.0.1:6443".to_owned()),
            version: Some("v1.33.1".to_owned()),
            platform: Some("linux/amd64".to_owned()),
        },
        options: BTreeMap::from([("namespaces".to_owned(), serde_json::json!(["default"]))]),
        started_at: "2026-11-21T10:34:00Z".to_owned(),
        finished_at: "2026-11-21T10:39:07Z".to_owned(),
        complete: false,
        incomplete_reasons: vec![DROPPED_REASON.to_owned()],
        files: vec![FileRecord {
            path: "logs/ns/pod/c.log".to_owned(),
            size: 1,
            sha256: "00".repeat(32),
            truncated: true,
            truncation: Some("log-max-bytes".to_owned()),
        }],
        failures: vec![Failure {
            what: "list".to_owned(),
            scope: "apps/v1/deployments".to_owned(),
            namespace: Some("default".to_owned()),
            kind: FailureKind::Forbidden,
            status: Some(403),
            message: "forbidden".to_owned(),
        }],
        redactions: vec![RedactionCount { rule: "secret-data".to_owned(), file: "x".to_owned(), count: 1 }],
    };
    let mut fields = BTreeSet::new();
    keys(&serde_json::to_value(&format)?, &mut fields);
    keys(&serde_json::to_value(&manifest)?, &mut fields);
    assert!(fields.contains("truncation") && fields.contains("status") && fields.contains("platform"));
    let missing = missing_from_doc(&doc, fields);
    assert!(missing.is_empty(), "fields missing from docs/bundle-format.md: {missing:?}");

    let kinds: Vec<String> = all_failure_kinds()
        .into_iter()
        .map(|kind| serde_json::to_value(kind).map(|value| value.as_str().unwrap_or_default().to_owned()))
        .collect::<Result<_, _>>()?;
    let missing = missing_from_doc(&doc, kinds);
    assert!(missing.is_empty(), "failure kinds missing from docs/bundle-format.md: {missing:?}");
    Ok(())
}

#[test]
fn the_format_doc_states_the_version_the_limits_and_the_fixed_strings() -> TestResult {
    let doc = repository_file("docs/bundle-format.md")?;
    assert!(doc.starts_with(&format!("# The kubesnap bundle format, version {FORMAT_VERSION}\n")));
    assert!(doc.contains(&format!("`{FORMAT_NAME}`")));
    assert!(doc.contains(DROPPED_REASON));
    let limits = Limits::default();
    for (flag, default) in [
        ("--max-entry-size", limits.max_entry_size),
        ("--max-total-size", limits.max_total_size),
        ("--max-entries", limits.max_entries),
    ] {
        let row = doc.lines().find(|line| line.starts_with(&format!("| `{flag}` |"))).ok_or(flag)?;
        assert!(
            row.contains(&default.to_string()),
            "{flag}: the doc's default differs from Limits::default(): {row}"
        );
    }
    assert!(doc.contains("<redacted: N bytes>") && doc.contains("`kubesnapCertificates`"));
    Ok(())
}
