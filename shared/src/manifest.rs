//! `format.json` and `manifest.json`: what a bundle is, what it holds, and what it lacks.
//!
//! These are on-disk types: every field is documented in `docs/bundle-format.md`, and a new
//! field means a new format version (readers accept older versions and refuse newer ones).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The format version this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
/// The value of [`FormatHeader::format`] in every native bundle.
pub const FORMAT_NAME: &str = "kubesnap-bundle";

/// `format.json`, the first entry: lets a reader refuse a newer format before reading further.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatHeader {
    pub format: String,
    pub format_version: u32,
    pub tool: Tool,
    pub started_at: String,
}

/// The program that wrote the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// Which cluster was captured.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// The kubeconfig context used, or `in-cluster`.
    pub context: Option<String>,
    /// The API server URL.
    pub server: Option<String>,
    /// `gitVersion` of the API server's `/version`.
    pub version: Option<String>,
    /// `platform` of the API server's `/version`.
    pub platform: Option<String>,
}

/// One file of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Path relative to the bundle root.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    /// Whether the content was cut short by a cap (log bytes, time window).
    pub truncated: bool,
    /// What cut it short, when `truncated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncation: Option<String>,
}

/// What kind of failure kept something out of the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// 401: the credentials were refused.
    Unauthorized,
    /// 403: RBAC denied the request.
    Forbidden,
    /// 404: the object or API is gone.
    NotFound,
    /// 405: the resource does not support the verb.
    MethodNotAllowed,
    /// 410: a continue token expired.
    Gone,
    /// 429: the server throttled the request and retries ran out.
    TooManyRequests,
    /// 5xx: the server (or an aggregated API behind it) failed.
    ServerError,
    /// 503 from an aggregated API whose backend is down.
    Unavailable,
    /// The request did not answer in time.
    Timeout,
    /// The connection failed.
    Connection,
    /// The answer could not be decoded.
    Decode,
    /// The collection was cut short (deadline, Ctrl-C) before this was done.
    Cancelled,
    /// Anything else.
    Other,
}

/// One thing that could not be collected, and why.
///
/// The derived order (what, scope, namespace, kind, status, message) is the order of
/// `manifest.json`, so the manifest does not depend on which request failed first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Failure {
    /// What was attempted: `list`, `discovery`, `logs`, `metrics`, `kubelet-stats`, `watch`, ...
    pub what: String,
    /// What it was about: a resource (`apps/v1/deployments`), a pod container, a node.
    pub scope: String,
    /// The namespace, when the attempt was namespaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub kind: FailureKind,
    /// The HTTP status, when there was an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The server's or the client's message.
    pub message: String,
}

/// How many values one redaction rule replaced in one file. Never holds a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedactionCount {
    pub rule: String,
    pub file: String,
    pub count: u64,
}

/// `manifest.json`, the last entry of a native bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub tool: Tool,
    pub cluster: ClusterInfo,
    /// The options the collection ran with, by flag name.
    pub options: BTreeMap<String, serde_json::Value>,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC; when the manifest was written.
    pub finished_at: String,
    /// Whether everything the options asked for was attempted. Failures of single requests
    /// (a 403, a gone pod) do not make a bundle incomplete; a deadline or Ctrl-C does.
    pub complete: bool,
    /// Why the bundle is incomplete, when it is.
    #[serde(default)]
    pub incomplete_reasons: Vec<String>,
    pub files: Vec<FileRecord>,
    pub failures: Vec<Failure>,
    pub redactions: Vec<RedactionCount>,
}

impl Manifest {
    /// Parses a manifest, refusing a format version newer than [`FORMAT_VERSION`] with a
    /// message naming both versions.
    pub fn from_slice(entry: &str, bytes: &[u8]) -> Result<Manifest> {
        check_version(entry, bytes)?;
        serde_json::from_slice(bytes)
            .map_err(|source| Error::InvalidManifest { entry: entry.to_owned(), source })
    }

    /// The record of one file, by path.
    pub fn file(&self, path: &str) -> Option<&FileRecord> {
        self.files.iter().find(|file| file.path == path)
    }
}

impl FormatHeader {
    /// Parses `format.json`, refusing a newer format version and a file of another format.
    pub fn from_slice(entry: &str, bytes: &[u8]) -> Result<FormatHeader> {
        check_version(entry, bytes)?;
        let header: FormatHeader = serde_json::from_slice(bytes)
            .map_err(|source| Error::InvalidManifest { entry: entry.to_owned(), source })?;
        if header.format != FORMAT_NAME {
            let message = format!("`format` is `{}`, not `{FORMAT_NAME}`", header.format);
            let source = <serde_json::Error as serde::de::Error>::custom(message);
            return Err(Error::InvalidManifest { entry: entry.to_owned(), source });
        }
        Ok(header)
    }
}

/// Whether a `format.json` claims to be a kubesnap bundle, before it is trusted: tells a
/// native bundle from a foreign one that happens to hold a file of that name. A native file
/// whose other fields are broken still claims it, and then fails [`FormatHeader::from_slice`]
/// with a message rather than being silently read as foreign.
pub(crate) fn claims_native_format(bytes: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct FormatOnly {
        format: String,
    }
    serde_json::from_slice::<FormatOnly>(bytes).is_ok_and(|probe| probe.format == FORMAT_NAME)
}

/// Reads only `format_version`, so that a newer format whose other fields changed still gets
/// the clear "newer version" message rather than a parse error.
fn check_version(entry: &str, bytes: &[u8]) -> Result<()> {
    #[derive(Deserialize)]
    struct VersionOnly {
        format_version: u32,
    }
    let probe: VersionOnly = serde_json::from_slice(bytes)
        .map_err(|source| Error::InvalidManifest { entry: entry.to_owned(), source })?;
    if probe.format_version > FORMAT_VERSION {
        return Err(Error::UnsupportedFormatVersion {
            found: probe.format_version,
            supported: FORMAT_VERSION,
        });
    }
    if probe.format_version == 0 {
        let source = <serde_json::Error as serde::de::Error>::custom("format version 0 does not exist");
        return Err(Error::InvalidManifest { entry: entry.to_owned(), source });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_version_is_refused_naming_both_versions() {
        let text = br#"{"format_version": 7, "something": "new"}"#;
        let err = Manifest::from_slice("manifest.json", text).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "bundle format version 7 is newer than this kubesnap understands (up to version 1); upgrade kubesnap to read it"
            )
        );
    }

    #[test]
    fn format_header_of_another_format_is_refused() {
        let text = br#"{"format": "other", "format_version": 1, "tool": {"name": "x", "version": "1"}, "started_at": ""}"#;
        assert!(!claims_native_format(text));
        assert!(matches!(FormatHeader::from_slice("format.json", text), Err(Error::InvalidManifest { .. })));
        assert!(claims_native_format(br#"{"format": "kubesnap-bundle"}"#));
        assert!(!claims_native_format(b"[1, 2]"));
    }

    #[test]
    fn failure_kind_is_kebab_case() -> Result<(), serde_json::Error> {
        assert_eq!(serde_json::to_string(&FailureKind::TooManyRequests)?, "\"too-many-requests\"");
        Ok(())
    }
}
