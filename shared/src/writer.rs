//! The streaming bundle writer: entries go into the gzip stream as they arrive, the manifest
//! goes last, and a writer dropped before [`BundleWriter::finish`] still leaves a readable
//! archive whose manifest says it is incomplete.
//!
//! Memory is bounded by the largest single entry handed to [`BundleWriter::add`]; entries of
//! unknown or large size stream through [`BundleWriter::add_reader`]. The writer keeps one
//! record per entry for the manifest, nothing else.
//!
//! Every entry is a regular file under one top-level folder, with mode 0644, owner 0 and the
//! collection's start time as mtime, so the same collection gives the same tar stream. The
//! stream is compressed as indexed gzip members of 1 MiB ([`crate::members`]), which any gzip
//! tool reads as one stream and kubesnap's reader decodes on every core.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use flate2::Compression;

use sha2::{Digest, Sha256};

use crate::entry_path::{self, PathTree};
use crate::error::{Error, RejectReason, Result};
use crate::hashing::{hex, sha256_hex};
use crate::layout::{FORMAT_FILE, MANIFEST_FILE};
use crate::manifest::{
    ClusterInfo, FORMAT_NAME, FORMAT_VERSION, Failure, FileRecord, FormatHeader, Manifest, RedactionCount,
    Tool,
};
use crate::members::MemberWriter;

/// What the writer needs to know before the first entry.
#[derive(Debug, Clone)]
pub struct BundleHeader {
    /// The single top-level folder, e.g. `kubesnap-prod-20261121T103400Z`.
    pub root: String,
    pub tool: Tool,
    pub cluster: ClusterInfo,
    pub options: BTreeMap<String, serde_json::Value>,
    /// When the collection started.
    pub started_at: jiff::Timestamp,
    /// gzip level, 0–9.
    pub compression: u32,
}

/// The reason written into the manifest of a bundle whose writer was dropped unfinished.
pub const DROPPED_REASON: &str = "the collection stopped before the bundle was finished";

/// Writes one native bundle into `W` (a file, or any `Write`).
pub struct BundleWriter<W: Write> {
    /// `None` once finished, or once writing failed (the stream is then unusable).
    tar: Option<tar::Builder<MemberWriter<W>>>,
    root: String,
    manifest: Manifest,
    written: PathTree,
    mtime: u64,
    redactions: BTreeMap<(String, String), u64>,
    finished_at: Option<jiff::Timestamp>,
}

impl<W: Write> std::fmt::Debug for BundleWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleWriter")
            .field("root", &self.root)
            .field("entries", &self.manifest.files.len())
            .field("finished", &self.tar.is_none())
            .finish()
    }
}

impl<W: Write> BundleWriter<W> {
    /// Starts a bundle: writes the root folder and `format.json`.
    pub fn new(out: W, header: BundleHeader) -> Result<Self> {
        let root = entry_path::normalize(header.root.as_bytes())
            .map_err(|reason| Error::InvalidPath { path: header.root.clone(), reason })?;
        if root.contains('/') {
            return Err(Error::InvalidPath { path: header.root, reason: RejectReason::ForbiddenCharacter });
        }
        let started_at = header.started_at.round(jiff::Unit::Second).unwrap_or(header.started_at);
        let started = started_at.to_string();
        let mtime = u64::try_from(started_at.as_second()).unwrap_or(0);
        let level = Compression::new(header.compression.min(9));
        let mut tar = tar::Builder::new(MemberWriter::new(out, level));
        tar.mode(tar::HeaderMode::Deterministic);

        let mut dir = tar::Header::new_gnu();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_mode(0o755);
        dir.set_mtime(mtime);
        dir.set_size(0);
        tar.append_data(&mut dir, format!("{root}/"), io::empty())
            .map_err(|source| Error::Write { entry: format!("{root}/"), source })?;

        let tool = header.tool;
        let mut writer = BundleWriter {
            tar: Some(tar),
            root,
            manifest: Manifest {
                format_version: FORMAT_VERSION,
                tool: tool.clone(),
                cluster: header.cluster,
                options: header.options,
                started_at: started.clone(),
                finished_at: String::new(),
                complete: false,
                incomplete_reasons: Vec::new(),
                files: Vec::new(),
                failures: Vec::new(),
                redactions: Vec::new(),
            },
            written: PathTree::default(),
            mtime,
            redactions: BTreeMap::new(),
            finished_at: None,
        };
        let format = FormatHeader {
            format: FORMAT_NAME.to_owned(),
            format_version: FORMAT_VERSION,
            tool,
            started_at: started,
        };
        let bytes = to_json(&format);
        writer
            .written
            .insert_file(FORMAT_FILE)
            .map_err(|reason| Error::InvalidPath { path: FORMAT_FILE.to_owned(), reason })?;
        writer.append_raw(FORMAT_FILE, bytes.len() as u64, bytes.as_slice())?;
        // Listed like any file, so that the manifest vouches for everything but itself.
        writer.manifest.files.push(FileRecord {
            path: FORMAT_FILE.to_owned(),
            size: bytes.len() as u64,
            sha256: sha256_hex(&bytes),
            truncated: false,
            truncation: None,
        });
        Ok(writer)
    }

    /// The top-level folder name.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// Adds a complete entry.
    pub fn add(&mut self, path: &str, data: &[u8]) -> Result<()> {
        self.add_entry(path, data, None)
    }

    /// Adds an entry that a cap cut short; `truncation` says which cap.
    pub fn add_truncated(&mut self, path: &str, data: &[u8], truncation: &str) -> Result<()> {
        self.add_entry(path, data, Some(truncation.to_owned()))
    }

    fn add_entry(&mut self, path: &str, data: &[u8], truncation: Option<String>) -> Result<()> {
        let path = self.check_path(path)?;
        let record = FileRecord {
            path: path.clone(),
            size: data.len() as u64,
            sha256: sha256_hex(data),
            truncated: truncation.is_some(),
            truncation,
        };
        self.append_raw(&path, data.len() as u64, data)?;
        self.manifest.files.push(record);
        Ok(())
    }

    /// Streams an entry of `size` bytes from `reader` (a spooled log, say).
    ///
    /// Should the reader end or fail before `size` bytes, the entry is padded with zeros so the
    /// archive stays readable, and the manifest records it as truncated with the reason; the
    /// call still succeeds, since the entry is written. Only a failure to write the bundle
    /// itself is an error.
    pub fn add_reader(&mut self, path: &str, size: u64, reader: impl Read) -> Result<()> {
        self.add_reader_truncated(path, size, reader, None)
    }

    /// [`BundleWriter::add_reader`] for an entry that a cap may have cut short: `truncation`
    /// says which cap, and a short reader's reason is added to it.
    pub fn add_reader_truncated(
        &mut self,
        path: &str,
        size: u64,
        reader: impl Read,
        truncation: Option<&str>,
    ) -> Result<()> {
        let path = self.check_path(path)?;
        let mut source = ExactSize { inner: reader, remaining: size, hasher: Sha256::new(), problem: None };
        self.append_raw(&path, size, &mut source)?;
        let short = source.problem.take().map(|problem| problem.describe());
        let truncation = match (truncation, short) {
            (Some(cap), Some(short)) => Some(format!("{cap}; {short}")),
            (cap, short) => cap.map(str::to_owned).or(short),
        };
        self.manifest.files.push(FileRecord {
            path,
            size,
            sha256: hex(&source.hasher.finalize()),
            truncated: truncation.is_some(),
            truncation,
        });
        Ok(())
    }

    /// Records something that could not be collected.
    pub fn record_failure(&mut self, failure: Failure) {
        self.manifest.failures.push(failure);
    }

    /// Records that `rule` replaced `count` values in `file`. Counts add up per rule and file.
    pub fn record_redactions(&mut self, rule: &str, file: &str, count: u64) {
        if count > 0 {
            *self.redactions.entry((rule.to_owned(), file.to_owned())).or_default() += count;
        }
    }

    /// Sets what is known of the cluster (its version arrives after the writer is created).
    pub fn set_cluster(&mut self, cluster: ClusterInfo) {
        self.manifest.cluster = cluster;
    }

    /// Paths written so far.
    pub fn files(&self) -> &[FileRecord] {
        &self.manifest.files
    }

    /// Failures recorded so far.
    pub fn failures(&self) -> &[Failure] {
        &self.manifest.failures
    }

    /// Fixes `finished_at` instead of reading the clock when the manifest is written: for
    /// reproducible bundles (the golden archive of the format tests).
    pub fn set_finished_at(&mut self, finished_at: jiff::Timestamp) {
        self.finished_at = Some(finished_at);
    }

    /// Writes the manifest of a complete bundle and closes the stream.
    pub fn finish(mut self) -> Result<W> {
        self.finish_inner(Vec::new())
    }

    /// Writes the manifest of an incomplete bundle (deadline, Ctrl-C) and closes the stream.
    pub fn finish_incomplete(mut self, reasons: Vec<String>) -> Result<W> {
        let reasons = if reasons.is_empty() { vec![DROPPED_REASON.to_owned()] } else { reasons };
        self.finish_inner(reasons)
    }

    fn finish_inner(&mut self, incomplete_reasons: Vec<String>) -> Result<W> {
        let mut manifest = self.manifest.clone();
        manifest.complete = incomplete_reasons.is_empty();
        manifest.incomplete_reasons = incomplete_reasons;
        let finished_at = self.finished_at.unwrap_or_else(jiff::Timestamp::now);
        manifest.finished_at = finished_at.round(jiff::Unit::Second).unwrap_or(finished_at).to_string();
        // Deterministic order whatever order concurrent collectors finished in.
        manifest.files.sort_by(|a, b| a.path.cmp(&b.path));
        manifest.failures.sort();
        manifest.redactions = std::mem::take(&mut self.redactions)
            .into_iter()
            .map(|((rule, file), count)| RedactionCount { rule, file, count })
            .collect();
        let bytes = to_json(&manifest);
        self.append_raw(MANIFEST_FILE, bytes.len() as u64, bytes.as_slice())?;
        let tar = self.tar.take().ok_or_else(|| Error::Write {
            entry: MANIFEST_FILE.to_owned(),
            source: io::Error::other("the bundle was already finished"),
        })?;
        let gzip =
            tar.into_inner().map_err(|source| Error::Write { entry: MANIFEST_FILE.to_owned(), source })?;
        gzip.finish().map_err(|source| Error::Write { entry: MANIFEST_FILE.to_owned(), source })
    }

    /// Normalizes `path` and claims it: the same path twice, or a path that is both a file and
    /// a folder (`a` and `a/b`), would make the bundle unreadable by `tar xf`.
    fn check_path(&mut self, path: &str) -> Result<String> {
        let normalized = entry_path::normalize(path.as_bytes())
            .map_err(|reason| Error::InvalidPath { path: path.to_owned(), reason })?;
        if normalized == MANIFEST_FILE {
            return Err(Error::DuplicateWrite { path: normalized });
        }
        match self.written.insert_file(&normalized) {
            Ok(()) => Ok(normalized),
            Err(RejectReason::Duplicate) => Err(Error::DuplicateWrite { path: normalized }),
            Err(reason) => Err(Error::InvalidPath { path: normalized, reason }),
        }
    }

    fn append_raw(&mut self, path: &str, size: u64, data: impl Read) -> Result<()> {
        let full = format!("{}/{}", self.root, path);
        let tar = self.tar.as_mut().ok_or_else(|| Error::Write {
            entry: path.to_owned(),
            source: io::Error::other("the bundle is finished, or failed earlier"),
        })?;
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_mtime(self.mtime);
        header.set_size(size);
        if let Err(source) = tar.append_data(&mut header, &full, data) {
            // The output failed part way through an entry: what follows would not be framed.
            self.tar = None;
            return Err(Error::Write { entry: path.to_owned(), source });
        }
        Ok(())
    }
}

impl<W: Write> Drop for BundleWriter<W> {
    fn drop(&mut self) {
        if self.tar.is_some() {
            // Best effort: the process may be going down; an error here has nowhere to go,
            // and the reader reports a stream that ends without a manifest.
            let _ = self.finish_inner(vec![DROPPED_REASON.to_owned()]);
        }
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Serializing these plain structs cannot fail: no maps with non-string keys, no I/O.
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Yields exactly `remaining` bytes, hashing them: the inner reader's, then zeros if it ends
/// or fails early, so the tar entry always matches its header.
struct ExactSize<R> {
    inner: R,
    remaining: u64,
    hasher: Sha256,
    problem: Option<SourceProblem>,
}

/// Why a streamed entry was padded.
enum SourceProblem {
    Ended { short_by: u64 },
    Failed { short_by: u64, error: io::Error },
}

impl SourceProblem {
    fn describe(self) -> String {
        match self {
            SourceProblem::Ended { short_by } => {
                format!("the source ended {short_by} bytes early; zero-padded")
            }
            SourceProblem::Failed { short_by, error } => {
                format!("the source failed {short_by} bytes before the end ({error}); zero-padded")
            }
        }
    }
}

impl<R: Read> Read for ExactSize<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = usize::try_from(self.remaining).unwrap_or(usize::MAX).min(buf.len());
        let n = if self.problem.is_some() {
            0
        } else {
            match self.inner.read(&mut buf[..want]) {
                Ok(n) => n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => return Err(error),
                Err(error) => {
                    self.problem = Some(SourceProblem::Failed { short_by: self.remaining, error });
                    0
                }
            }
        };
        let n = if n == 0 {
            buf[..want].fill(0);
            if self.problem.is_none() {
                self.problem = Some(SourceProblem::Ended { short_by: self.remaining });
            }
            want
        } else {
            n
        };
        self.hasher.update(&buf[..n]);
        self.remaining -= n as u64;
        Ok(n)
    }
}
