//! Helm release history: while the resources phase lists Secrets (and ConfigMaps, for Helm's
//! `configmap` storage driver), each Helm release record is decoded, before redaction replaces
//! its payload, into its metadata only: release, namespace, revision, status, chart name and
//! version, app version, first and last deployed, and the description (redacted). Values,
//! manifests, notes, hooks and the chart's files are never kept: the release JSON is read into
//! a struct that has no field for them, so serde skips them as it streams.
//!
//! A record is base64 of gzip of JSON (Helm's `pkg/storage/driver/util.go`; releases stored
//! before compression are plain JSON); a Secret's `data` adds Kubernetes' own base64. Every
//! step is bounded: the encoded size, the decompressed size (a gzip bomb stops at
//! [`MAX_INFLATED`]), the JSON nesting (serde_json's recursion limit) and the description's
//! length. A record that fails any step is a `helm-release` failure of kind `decode` in the
//! manifest, with the typed reason; the collection goes on.

use std::io::Read;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kubesnap_shared::helm::{HelmRelease, HelmReleases, HelmStorage};
use kubesnap_shared::layout;
use kubesnap_shared::manifest::{Failure, FailureKind};
use kubesnap_shared::redact::Counts;
use serde::Deserialize;
use serde_json::Value;

use crate::context::Context;
use crate::redaction::{self, Redaction};
use crate::sink::{SinkClosed, Tally};

/// The largest encoded record decoded. Helm refuses releases above 1 MiB (etcd's object
/// limit is about 1.5 MiB), so a bigger one is not a record Helm wrote.
const MAX_ENCODED: usize = 8 << 20;
/// The largest decompressed release JSON read. Charts with many files reach a few MiB.
const MAX_INFLATED: u64 = 64 << 20;
/// The longest description kept, in bytes; a longer one is cut at a character boundary.
const MAX_DESCRIPTION: usize = 4096;
/// The gzip magic Helm checks before decompressing (`magicGzip`).
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// Why one release record could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("the record has no `release` value")]
    Missing,
    #[error("the record is {size} bytes encoded, more than the {limit} bytes read")]
    TooLarge { size: usize, limit: usize },
    #[error("the record is not valid base64")]
    Base64(#[source] base64::DecodeError),
    #[error("the record's gzip stream is corrupt")]
    Gzip(#[source] std::io::Error),
    #[error("the record decompresses to more than {limit} bytes")]
    Inflated { limit: u64 },
    #[error("the record is not a Helm release JSON document")]
    Json(#[source] serde_json::Error),
    #[error("the release JSON has no {0}")]
    Field(&'static str),
}

impl DecodeError {
    /// The message with its cause, for the manifest.
    fn message(&self) -> String {
        match std::error::Error::source(self) {
            Some(source) => format!("{self}: {source}"),
            None => self.to_string(),
        }
    }
}

/// What the listing found, merged across pages and namespaces.
#[derive(Debug, Default)]
pub(crate) struct HelmCapture {
    releases: Vec<HelmRelease>,
    failures: Vec<Failure>,
    counts: Counts,
    /// Whether Secrets were listed (in at least one namespace): only then does an empty file
    /// mean "no releases".
    pub(crate) secrets_listed: bool,
}

impl HelmCapture {
    pub(crate) fn merge(&mut self, other: HelmCapture) {
        self.releases.extend(other.releases);
        self.failures.extend(other.failures);
        self.counts.merge(&other.counts);
        self.secrets_listed |= other.secrets_listed;
    }

    /// Reads `item` when it is a Helm release record; must run before the item is redacted.
    pub(crate) fn observe(&mut self, item: &Value, redaction: &Redaction) {
        let Some(storage) = storage_of(item) else { return };
        let metadata = &item["metadata"];
        let namespace = metadata["namespace"].as_str().unwrap_or_default();
        let object = metadata["name"].as_str().unwrap_or_default();
        match decode(item, storage) {
            Ok(mut release) => {
                if release.namespace.is_empty() {
                    namespace.clone_into(&mut release.namespace);
                }
                if let Some(description) = release.description.take() {
                    let redacted = redaction.text(&description, &mut self.counts);
                    release.description = Some(cut(&redacted, MAX_DESCRIPTION));
                }
                self.releases.push(release);
            }
            Err(err) => self.failures.push(Failure {
                what: "helm-release".to_owned(),
                scope: format!("{namespace}/{object}"),
                namespace: Some(namespace.to_owned()),
                kind: FailureKind::Decode,
                status: None,
                message: err.message(),
            }),
        }
    }
}

/// Writes [`layout::HELM_RELEASES`] when Secrets were listed, and records its failures.
pub(crate) async fn write(ctx: &Context, mut capture: HelmCapture) -> Result<(), SinkClosed> {
    for failure in std::mem::take(&mut capture.failures) {
        ctx.sink.failure(failure).await?;
    }
    if !capture.secrets_listed && capture.releases.is_empty() {
        // The Secrets' list failed (it is in the manifest): no file, so that no reader takes
        // the absence of releases for "there are none".
        return Ok(());
    }
    let file = HelmReleases { releases: sorted(capture.releases) };
    let mut bytes = serde_json::to_vec_pretty(&file).unwrap_or_default();
    bytes.push(b'\n');
    ctx.sink.redactions(layout::HELM_RELEASES, redaction::pairs(&capture.counts)).await?;
    let n_releases = file.releases.len() as u64;
    tracing::info!(n_releases, "helm release history");
    ctx.sink.add(layout::HELM_RELEASES.to_owned(), bytes, Tally::Other).await
}

fn sorted(mut releases: Vec<HelmRelease>) -> Vec<HelmRelease> {
    releases.sort_by(|a, b| {
        (&a.namespace, &a.name, a.revision, &a.object).cmp(&(&b.namespace, &b.name, b.revision, &b.object))
    });
    releases
}

/// Which storage `item` is a Helm release record of, if any.
fn storage_of(item: &Value) -> Option<HelmStorage> {
    match item["kind"].as_str()? {
        "Secret" if item["type"] == "helm.sh/release.v1" => Some(HelmStorage::Secret),
        "ConfigMap"
            if item["metadata"]["labels"]["owner"] == "helm" && item["data"]["release"].is_string() =>
        {
            Some(HelmStorage::Configmap)
        }
        _ => None,
    }
}

/// Decodes one record into its metadata.
fn decode(item: &Value, storage: HelmStorage) -> Result<HelmRelease, DecodeError> {
    let stored = item["data"]["release"].as_str().ok_or(DecodeError::Missing)?;
    check_size(stored.len())?;
    let helm_text = match storage {
        // Kubernetes' base64 around Helm's.
        HelmStorage::Secret => STANDARD.decode(stored.trim()).map_err(DecodeError::Base64)?,
        HelmStorage::Configmap => stored.as_bytes().to_vec(),
    };
    let payload = STANDARD.decode(helm_text.trim_ascii()).map_err(DecodeError::Base64)?;
    let release = parse(&payload)?;
    let labels = &item["metadata"]["labels"];
    let label = |key: &str| labels[key].as_str().filter(|text| !text.is_empty()).map(str::to_owned);
    let info = release.info.unwrap_or_default();
    let metadata = release.chart.and_then(|chart| chart.metadata).unwrap_or_default();
    let name = nonempty(release.name).or_else(|| label("name")).ok_or(DecodeError::Field("name"))?;
    let revision = release
        .version
        .or_else(|| label("version").and_then(|version| version.parse().ok()))
        .ok_or(DecodeError::Field("version"))?;
    Ok(HelmRelease {
        name,
        namespace: nonempty(release.namespace).unwrap_or_default(),
        revision,
        status: nonempty(info.status).or_else(|| label("status")).unwrap_or_else(|| "unknown".to_owned()),
        chart: nonempty(metadata.name),
        chart_version: nonempty(metadata.version),
        app_version: nonempty(metadata.app_version),
        first_deployed: nonempty(info.first_deployed),
        last_deployed: nonempty(info.last_deployed),
        deleted: nonempty(info.deleted),
        description: nonempty(info.description),
        storage,
        object: item["metadata"]["name"].as_str().unwrap_or_default().to_owned(),
    })
}

fn check_size(size: usize) -> Result<(), DecodeError> {
    if size > MAX_ENCODED {
        return Err(DecodeError::TooLarge { size, limit: MAX_ENCODED });
    }
    Ok(())
}

/// Parses the release JSON, decompressing it first when it is gzip (as Helm does).
fn parse(payload: &[u8]) -> Result<Release, DecodeError> {
    if !payload.starts_with(&GZIP_MAGIC) {
        if payload.len() as u64 > MAX_INFLATED {
            return Err(DecodeError::Inflated { limit: MAX_INFLATED });
        }
        return serde_json::from_slice(payload).map_err(DecodeError::Json);
    }
    let mut reader = Bounded::new(flate2::read::GzDecoder::new(payload), MAX_INFLATED);
    let parsed = serde_json::from_reader::<_, Release>(std::io::BufReader::new(&mut reader));
    match (parsed, reader.state) {
        (_, State::Exceeded) => Err(DecodeError::Inflated { limit: MAX_INFLATED }),
        (_, State::Failed(err)) => Err(DecodeError::Gzip(err)),
        (Ok(release), State::Reading) => Ok(release),
        (Err(err), State::Reading) => Err(DecodeError::Json(err)),
    }
}

/// A reader that stops after `limit` bytes and remembers why it stopped, so that a bomb and a
/// corrupt stream are told apart from bad JSON.
struct Bounded<R> {
    inner: R,
    remaining: u64,
    state: State,
}

enum State {
    Reading,
    Exceeded,
    Failed(std::io::Error),
}

impl<R: Read> Bounded<R> {
    fn new(inner: R, limit: u64) -> Self {
        Bounded { inner, remaining: limit, state: State::Reading }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !matches!(self.state, State::Reading) {
            return Err(std::io::Error::other("the release record stopped being read"));
        }
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(err) => {
                let kind = err.kind();
                self.state = State::Failed(err);
                return Err(std::io::Error::new(kind, "the gzip stream failed"));
            }
        };
        if n as u64 > self.remaining {
            self.state = State::Exceeded;
            return Err(std::io::Error::other("the release record is too large"));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// The part of Helm's `release.Release` (`pkg/release/v1`) kept; every other field
/// (`config`, `manifest`, `hooks`, the chart's templates, values and files, `info.notes`) is
/// skipped by serde without being held.
#[derive(Debug, Deserialize)]
struct Release {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    info: Option<Info>,
    #[serde(default)]
    chart: Option<Chart>,
}

#[derive(Debug, Default, Deserialize)]
struct Info {
    #[serde(default)]
    first_deployed: Option<String>,
    #[serde(default)]
    last_deployed: Option<String>,
    #[serde(default)]
    deleted: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Chart {
    #[serde(default)]
    metadata: Option<ChartMetadata>,
}

#[derive(Debug, Default, Deserialize)]
struct ChartMetadata {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default, rename = "appVersion")]
    app_version: Option<String>,
}

fn nonempty(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.is_empty())
}

/// `text` cut to at most `max` bytes at a character boundary, marked when cut.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… (cut at {max} bytes)", &text[..end])
}

#[cfg(test)]
mod tests;
