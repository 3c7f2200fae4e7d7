//! The safe bundle reader: opens a `.tar.gz`, a `.tar.xz`, a `.tar` or an unpacked folder the
//! same way and streams its entries in one pass.
//!
//! Every entry passes one gate (`gate.rs`): its name is validated, links that leave the bundle
//! and special files are refused, sizes are checked against [`Limits`] before a byte is read,
//! duplicates and file/folder conflicts are refused, and the content of a native bundle is
//! hashed as the consumer reads it, so that the checksums of `manifest.json` are verified
//! without a second pass.
//!
//! A refused entry is skipped and reported in [`ReadOutcome::rejected`]; a stream that breaks
//! (truncated gzip, a lying size header, a decompression bomb) ends the read, and everything
//! delivered before it stays delivered, with the error in [`ReadOutcome::stream_error`].
//! Nothing here panics on any input, and [`Bundle::unpack`] never writes outside its target.

mod archive;
mod folder;
mod gate;
mod parallel;
mod unpack;
mod zip_stream;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

pub use crate::error::ChecksumProblem;
use crate::error::{Error, RejectReason, Result};
use crate::manifest::{FormatHeader, Manifest};

use gate::{Gate, Stop};

/// Bounds on what a bundle may expand to. Defaults fit a 10,000-pod cluster with gigabytes of
/// logs; the analyzer's `--max-entry-size`, `--max-total-size` and `--max-entries` raise them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single entry, uncompressed: 4 GiB by default.
    pub max_entry_size: u64,
    /// Largest total of the declared sizes of all entries (refused ones included, since they
    /// must still be decompressed to be skipped): the decompression-bomb guard. 64 GiB by
    /// default.
    pub max_total_size: u64,
    /// Most entries, counting folders, links, refused entries and tar's long-name and PAX
    /// headers: 2,000,000 by default.
    pub max_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_entry_size: 4 << 30, max_total_size: 64 << 30, max_entries: 2_000_000 }
    }
}

/// How the bundle is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    TarGz,
    TarXz,
    Tar,
    Folder,
    /// One file of text (kubectl's output pasted into a ticket): a bundle of one entry, named
    /// as the file is.
    Text,
}

/// One bundle on disk, ready to be read.
#[derive(Debug, Clone)]
pub struct Bundle {
    path: PathBuf,
    container: Container,
    limits: Limits,
}

/// One file of the bundle, readable once.
///
/// Reading fails with an I/O error if the stream breaks under it or ends before the declared
/// size, so a consumer never mistakes a cut entry for a whole one.
pub struct Entry<'a> {
    path: &'a str,
    size: u64,
    reader: &'a mut dyn Read,
}

impl std::fmt::Debug for Entry<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry").field("path", &self.path).field("size", &self.size).finish()
    }
}

impl Entry<'_> {
    /// Normalized path relative to the archive or folder (`root/resources/...`).
    pub fn path(&self) -> &str {
        self.path
    }

    /// Size in bytes, as declared by the archive (checked against the limits, and enforced
    /// while reading).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Reads the whole entry into memory.
    pub fn read_to_vec(&mut self) -> io::Result<Vec<u8>> {
        // The declared size is a hint from the archive: trust it for the first 64 MiB only.
        let capacity = usize::try_from(self.size.min(64 << 20)).unwrap_or(0);
        let mut bytes = Vec::with_capacity(capacity);
        self.reader.read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}

impl Read for Entry<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

/// An entry that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The entry's name, lossily decoded for display.
    pub entry: String,
    pub reason: RejectReason,
}

/// A link inside the bundle that stays inside it: not followed, its target is read in its
/// own place (troubleshoot bundles link convenience folders to the real ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub path: String,
    pub target: String,
}

/// What one pass over a bundle saw.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    /// Entries delivered to the consumer.
    pub entries: u64,
    /// Bytes delivered, uncompressed.
    pub bytes: u64,
    pub rejected: Vec<Rejection>,
    pub links: Vec<Link>,
    /// `format.json` of a native bundle.
    pub format: Option<FormatHeader>,
    /// The folder that holds `format.json` (`""` when it is at the top); `Some` marks a native
    /// bundle.
    pub native_root: Option<String>,
    /// `manifest.json` of a native bundle, when it was read whole and valid.
    pub manifest: Option<Manifest>,
    /// Why `format.json` or `manifest.json` of a native bundle could not be used.
    pub manifest_error: Option<Error>,
    /// Checksum problems of a native bundle with a manifest.
    pub checksum_problems: Vec<ChecksumProblem>,
    /// The error that ended the stream early, if any: everything before it was delivered.
    pub stream_error: Option<Error>,
}

impl ReadOutcome {
    /// Turns the first stream error, rejection, manifest problem or checksum problem into an
    /// error, for callers that want all-or-nothing. Links that stay inside are not problems.
    pub fn into_strict(mut self) -> Result<ReadOutcome> {
        if let Some(error) = self.stream_error.take() {
            return Err(error);
        }
        if let Some(rejection) = self.rejected.first() {
            return Err(Error::Rejected { entry: rejection.entry.clone(), reason: rejection.reason.clone() });
        }
        if let Some(error) = self.manifest_error.take() {
            return Err(error);
        }
        if self.native_root.is_some() && self.manifest.is_none() {
            return Err(Error::MissingManifest);
        }
        if let Some(problem) = self.checksum_problems.first() {
            return Err(Error::Checksum { problem: problem.clone() });
        }
        Ok(self)
    }

    /// Whether this is a native bundle whose every entry passed the gate and whose manifest's
    /// checksums were verified and all held.
    pub fn verified(&self) -> bool {
        self.manifest.is_some()
            && self.manifest_error.is_none()
            && self.checksum_problems.is_empty()
            && self.rejected.is_empty()
            && self.stream_error.is_none()
    }
}

impl Bundle {
    /// Opens `path`, detecting the container from its content (not its name).
    pub fn open(path: &Path, limits: Limits) -> Result<Bundle> {
        let metadata = std::fs::metadata(path).map_err(|source| Error::io(path, source))?;
        let container = if metadata.is_dir() { Container::Folder } else { sniff(path)? };
        Ok(Bundle { path: path.to_owned(), container, limits })
    }

    pub fn container(&self) -> Container {
        self.container
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Streams every entry to `visit`, in archive order (folders: `format.json` first,
    /// `manifest.json` last, the rest depth first with siblings sorted by name).
    ///
    /// An error returned by `visit` stops the read and is returned as is, unless it came from
    /// the stream breaking under the entry, which is reported in
    /// [`ReadOutcome::stream_error`]. A `format.json` or `manifest.json` of a newer format
    /// version fails the read with [`Error::UnsupportedFormatVersion`].
    pub fn read<E: From<Error>>(
        &self,
        mut visit: impl FnMut(Entry<'_>) -> Result<(), E>,
    ) -> Result<ReadOutcome, E> {
        let mut gate = Gate::new(self.limits);
        let result = match self.container {
            Container::Folder => folder::read(&self.path, &mut gate, &mut visit),
            Container::Text => read_text_file(&self.path, &mut gate, &mut visit),
            Container::Tar | Container::TarGz | Container::TarXz => {
                let file = File::open(&self.path).map_err(|source| Error::io(&self.path, source))?;
                // 256 KiB on both sides of the decoder: large enough that the decoder runs in
                // long stretches, small enough to stay in L2 while the consumer copies out.
                let file = BufReader::with_capacity(256 << 10, file);
                let stream: Box<dyn Read> = match self.container {
                    Container::TarGz => gzip_stream(file),
                    Container::TarXz => Box::new(BufReader::with_capacity(
                        256 << 10,
                        liblzma::bufread::XzDecoder::new_multi_decoder(file),
                    )),
                    Container::Tar | Container::Folder | Container::Text => Box::new(file),
                };
                archive::read(stream, &mut gate, &mut visit)
            }
        };
        match result {
            Ok(()) => {}
            Err(Stop::Stream(error)) => gate.outcome.stream_error = Some(error),
            Err(Stop::Visitor(error)) => return Err(error),
        }
        Ok(gate.finish())
    }

    /// Unpacks the bundle into `target`, which must be empty or absent. Links are not
    /// recreated; refused entries are not written. Never writes outside `target`.
    pub fn unpack(&self, target: &Path) -> Result<ReadOutcome> {
        unpack::unpack(self, target)
    }
}

/// Reads a zip archive that an entry of a bundle holds (support-bundle-kit's
/// `nodes/<node>.zip`), streaming each member to `visit` as an [`Entry`] named
/// `<archive>/<member>`, through the same checks as the bundle's own entries (`zip_stream.rs`).
///
/// `limits` is the budget every archive of one bundle shares: what this one counted (members,
/// declared bytes) is taken off it, so a bundle of many archives cannot expand past the limits
/// in total. A refused member is skipped and reported in [`ReadOutcome::rejected`]; a cut or
/// corrupt archive, or one past the budget, ends at the member where it broke, with the error in
/// [`ReadOutcome::stream_error`], and the members before it stay delivered. An error returned by
/// `visit` stops the read and is returned as is.
pub fn read_zip<E: From<Error>>(
    stream: &mut dyn Read,
    archive: &str,
    limits: &mut Limits,
    mut visit: impl FnMut(Entry<'_>) -> Result<(), E>,
) -> Result<ReadOutcome, E> {
    let mut gate = Gate::nested(*limits, archive);
    let result = zip_stream::read(stream, &mut gate, &mut visit);
    let (records, declared) = gate.counted();
    limits.max_entries = limits.max_entries.saturating_sub(records);
    limits.max_total_size = limits.max_total_size.saturating_sub(declared);
    match result {
        Ok(()) => {}
        Err(Stop::Stream(error)) => gate.outcome.stream_error = Some(error),
        Err(Stop::Visitor(error)) => return Err(error),
    }
    Ok(gate.finish())
}

/// The decoded stream of a `.tar.gz`: on every core when its members are indexed (as kubesnap
/// writes them), else on this thread.
fn gzip_stream(mut file: BufReader<File>) -> Box<dyn Read> {
    let indexed = file.fill_buf().is_ok_and(|start| crate::members::member_length(start).is_some());
    let file = if indexed {
        match parallel::ParallelGz::new(file) {
            Ok(stream) => return Box::new(stream),
            Err(file) => file,
        }
    } else {
        file
    };
    Box::new(BufReader::with_capacity(256 << 10, flate2::bufread::MultiGzDecoder::new(file)))
}

/// Reads the first bytes to tell gzip, xz and tar apart.
fn sniff(path: &Path) -> Result<Container> {
    let mut head = Vec::with_capacity(512);
    let file = File::open(path).map_err(|source| Error::io(path, source))?;
    file.take(512).read_to_end(&mut head).map_err(|source| Error::io(path, source))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Container::TarGz)
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Ok(Container::TarXz)
    } else if head.get(257..262) == Some(b"ustar".as_slice()) {
        Ok(Container::Tar)
    } else if looks_like_text(&head) {
        Ok(Container::Text)
    } else {
        Err(Error::UnknownContainer { path: path.to_owned() })
    }
}

/// Whether a file's first bytes are text: no NUL, and UTF-8 but for a character the prefix may
/// have cut.
fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(error) => error.error_len().is_none(),
    }
}

/// A single text file as a bundle of one entry, named after the file.
fn read_text_file<E: From<Error>>(
    path: &Path,
    gate: &mut Gate,
    visit: &mut impl FnMut(Entry<'_>) -> Result<(), E>,
) -> std::result::Result<(), Stop<E>> {
    let file = File::open(path).map_err(|source| Stop::Stream(Error::io(path, source)))?;
    let size = file.metadata().map_err(|source| Stop::Stream(Error::io(path, source)))?.len();
    let name = path.file_name().map_or_else(|| "text".into(), |name| name.to_string_lossy().into_owned());
    gate.account(name.as_bytes(), size)?;
    let mut reader = BufReader::with_capacity(256 << 10, file);
    gate.admit(name.as_bytes(), gate::Kind::File, size, &mut reader, visit)
}

/// `path` relative to `root`, when it is under it.
pub fn strip_root<'a>(root: &str, path: &'a str) -> Option<&'a str> {
    if root.is_empty() { Some(path) } else { path.strip_prefix(root)?.strip_prefix('/') }
}
