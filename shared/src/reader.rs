//! The safe bundle reader: opens a `.tar.gz`, a `.tar.xz`, a `.tar` or an unpacked folder the
//! same way and streams its entries in one pass.
//!
//! Every entry passes one gate ([`Gate`]): its name is validated, links that leave the bundle
//! and special files are refused, sizes are checked against [`Limits`] before a byte is read,
//! duplicates are refused, and the content of a native bundle is hashed as the consumer reads
//! it, so that the checksums of `manifest.json` are verified without a second pass.
//!
//! A refused entry is skipped and reported in [`ReadOutcome::rejected`]; a stream that breaks
//! (truncated gzip, a lying size header, a decompression bomb) ends the read, and everything
//! delivered before it stays delivered, with the error in [`ReadOutcome::stream_error`].
//! Nothing here panics on any input, and [`Bundle::unpack`] never writes outside its target.

mod archive;
mod folder;
mod unpack;

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::entry_path;
use crate::error::{Error, RejectReason, Result};
use crate::hashing::HashingReader;
use crate::layout::{FORMAT_FILE, MANIFEST_FILE};
use crate::manifest::{FormatHeader, Manifest};

/// Bounds on what a bundle may expand to. Defaults fit a 10,000-pod cluster with gigabytes of
/// logs; the analyzer's `--max-entry-size`, `--max-total-size` and `--max-entries` raise them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single entry, uncompressed.
    pub max_entry_size: u64,
    /// Largest total of all entries, uncompressed: the decompression-bomb guard.
    pub max_total_size: u64,
    /// Most entries.
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
}

/// One bundle on disk, ready to be read.
#[derive(Debug, Clone)]
pub struct Bundle {
    path: PathBuf,
    container: Container,
    limits: Limits,
}

/// One file of the bundle, readable once.
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

    /// Size in bytes, as declared by the archive (checked against the limits).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Reads the whole entry into memory.
    pub fn read_to_vec(&mut self) -> io::Result<Vec<u8>> {
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

/// A checksum the manifest promised that the content does not keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChecksumProblem {
    /// The content's SHA-256 or size differs from the manifest's.
    Mismatch { path: String, expected: String, actual: String },
    /// The manifest lists a file the bundle does not hold.
    Missing { path: String },
    /// The bundle holds a file the manifest does not list.
    Unlisted { path: String },
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
    /// The folder that holds `format.json` (`""` when it is at the top).
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
    /// Turns the first rejection, stream error or checksum problem into an error, for callers
    /// that want all-or-nothing.
    pub fn into_strict(self) -> Result<ReadOutcome> {
        if let Some(error) = self.stream_error {
            return Err(error);
        }
        if let Some(rejection) = self.rejected.first() {
            return Err(Error::Rejected { entry: rejection.entry.clone(), reason: rejection.reason.clone() });
        }
        Ok(self)
    }

    /// Whether the manifest's checksums were verified and all held.
    pub fn verified(&self) -> bool {
        self.manifest.is_some() && self.checksum_problems.is_empty() && self.stream_error.is_none()
    }
}

impl Bundle {
    /// Opens `path`, detecting the container from its content (not its name).
    pub fn open(path: &Path, limits: Limits) -> Result<Bundle> {
        let metadata = std::fs::metadata(path).map_err(|source| Error::io(path, source))?;
        let container = if metadata.is_dir() {
            Container::Folder
        } else {
            sniff(path)?
        };
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
    /// `manifest.json` last, the rest sorted by path).
    ///
    /// An error returned by `visit` stops the read and is returned as is.
    pub fn read<E: From<Error>>(
        &self,
        mut visit: impl FnMut(Entry<'_>) -> Result<(), E>,
    ) -> Result<ReadOutcome, E> {
        let mut gate = Gate::new(self.limits);
        let result = match self.container {
            Container::Folder => folder::read(&self.path, &mut gate, &mut visit),
            Container::Tar | Container::TarGz | Container::TarXz => {
                let file = File::open(&self.path).map_err(|source| Error::io(&self.path, source))?;
                let file = BufReader::with_capacity(1 << 20, file);
                let stream: Box<dyn Read> = match self.container {
                    Container::TarGz => Box::new(BufReader::with_capacity(
                        1 << 20,
                        flate2::bufread::MultiGzDecoder::new(file),
                    )),
                    Container::TarXz => Box::new(BufReader::with_capacity(
                        1 << 20,
                        liblzma::read::XzDecoder::new_multi_decoder(file),
                    )),
                    _ => Box::new(file),
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

/// Reads the first bytes to tell gzip, xz and tar apart.
fn sniff(path: &Path) -> Result<Container> {
    let mut head = [0u8; 512];
    let mut file = File::open(path).map_err(|source| Error::io(path, source))?;
    let mut filled = 0;
    while filled < head.len() {
        let n = file.read(&mut head[filled..]).map_err(|source| Error::io(path, source))?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    let head = &head[..filled];
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Container::TarGz)
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Ok(Container::TarXz)
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Ok(Container::Tar)
    } else {
        Err(Error::UnknownContainer { path: path.to_owned() })
    }
}

/// Why a source stopped reading.
enum Stop<E> {
    /// The stream itself broke: recorded in the outcome, what was read stays read.
    Stream(Error),
    /// The consumer returned an error: handed back to the caller.
    Visitor(E),
}

/// What a source tells the gate an entry is.
enum Kind<'a> {
    File,
    Directory,
    Symlink(&'a [u8]),
    HardLink(&'a [u8]),
    Special(&'static str),
}

/// The checks every entry passes, and the bookkeeping of one read.
struct Gate {
    limits: Limits,
    seen: HashSet<String>,
    total: u64,
    count: u64,
    last_entry: String,
    /// SHA-256 and size of each delivered file of a native bundle, by root-relative path.
    digests: BTreeMap<String, (String, u64)>,
    outcome: ReadOutcome,
}

impl Gate {
    fn new(limits: Limits) -> Gate {
        Gate {
            limits,
            seen: HashSet::new(),
            total: 0,
            count: 0,
            last_entry: String::new(),
            digests: BTreeMap::new(),
            outcome: ReadOutcome::default(),
        }
    }

    fn reject(&mut self, raw: &[u8], reason: RejectReason) {
        self.outcome.rejected.push(Rejection { entry: String::from_utf8_lossy(raw).into_owned(), reason });
    }

    fn truncated(&self, source: io::Error) -> Error {
        Error::Truncated { entries: self.count, last_entry: self.last_entry.clone(), source }
    }

    /// Passes one entry through the checks and, if it is a file that passes, to `visit`.
    ///
    /// `reader` must yield exactly `size` bytes; an I/O error while reading it is a stream
    /// error (the archive is truncated or lies about sizes).
    fn admit<E: From<Error>>(
        &mut self,
        raw_name: &[u8],
        kind: Kind<'_>,
        size: u64,
        reader: &mut dyn Read,
        visit: &mut impl FnMut(Entry<'_>) -> Result<(), E>,
    ) -> Result<(), Stop<E>> {
        let path = match entry_path::normalize(raw_name) {
            Ok(path) => path,
            Err(reason) => {
                self.reject(raw_name, reason);
                return Ok(());
            }
        };
        match kind {
            Kind::Directory => return Ok(()),
            Kind::Special(kind) => {
                self.reject(raw_name, RejectReason::SpecialFile { kind });
                return Ok(());
            }
            Kind::Symlink(target) => {
                match entry_path::resolve_link(&path, target) {
                    Some(target) if self.seen.insert(path.clone()) => {
                        self.outcome.links.push(Link { path, target });
                    }
                    Some(_) => self.reject(raw_name, RejectReason::Duplicate),
                    None => self.reject(
                        raw_name,
                        RejectReason::LinkLeavesBundle { target: String::from_utf8_lossy(target).into_owned() },
                    ),
                }
                return Ok(());
            }
            Kind::HardLink(target) => {
                // Hard link targets are archive paths, and must name an entry already read.
                match entry_path::normalize(target) {
                    Ok(target) if self.seen.contains(&target) && self.seen.insert(path.clone()) => {
                        self.outcome.links.push(Link { path, target });
                    }
                    _ => self.reject(
                        raw_name,
                        RejectReason::HardLinkLeavesBundle { target: String::from_utf8_lossy(target).into_owned() },
                    ),
                }
                return Ok(());
            }
            Kind::File => {}
        }
        if size > self.limits.max_entry_size {
            self.reject(raw_name, RejectReason::TooLarge { size, limit: self.limits.max_entry_size });
            return Ok(());
        }
        if self.seen.contains(&path) {
            self.reject(raw_name, RejectReason::Duplicate);
            return Ok(());
        }
        self.count += 1;
        if self.count > self.limits.max_entries {
            return Err(Stop::Stream(Error::TooManyEntries { limit: self.limits.max_entries }));
        }
        self.total = self.total.saturating_add(size);
        if self.total > self.limits.max_total_size {
            return Err(Stop::Stream(Error::TotalSizeExceeded { entry: path, limit: self.limits.max_total_size }));
        }
        self.seen.insert(path.clone());
        self.last_entry.clone_from(&path);

        // Native bundles: `format.json` first names the root; hash everything under it.
        if self.outcome.entries == 0 {
            if let Some(root) = native_root(&path) {
                self.outcome.native_root = Some(root.to_owned());
            }
        }
        let relative = self.outcome.native_root.as_deref().and_then(|root| strip_root(root, &path));
        let relative = relative.map(str::to_owned);
        let mut tracked = TrackedReader { inner: reader, error: None };
        let mut hashing = HashingReader::new(&mut tracked);
        let visited = match relative.as_deref() {
            // The two native control files are small: read them first so the gate can refuse
            // a newer format before anything else and verify checksums at the end.
            Some(name @ (FORMAT_FILE | MANIFEST_FILE)) => {
                let mut bytes = Vec::new();
                if let Err(source) = hashing.read_to_end(&mut bytes) {
                    return Err(Stop::Stream(self.truncated(source)));
                }
                if let Err(error) = self.note_native_file(name, &bytes) {
                    if matches!(error, Error::UnsupportedFormatVersion { .. }) {
                        return Err(Stop::Visitor(E::from(error)));
                    }
                    self.outcome.manifest_error = Some(error);
                }
                visit(Entry { path: &path, size, reader: &mut bytes.as_slice() })
            }
            _ => visit(Entry { path: &path, size, reader: &mut hashing }),
        };
        self.outcome.entries += 1;
        let finished = hashing.drain_and_finish();
        if let Err(error) = visited {
            // A consumer that failed because the stream broke under it gets the stream error,
            // so a truncated archive is always reported as one.
            return match tracked.error.take() {
                Some(source) => Err(Stop::Stream(self.truncated(source))),
                None => Err(Stop::Visitor(error)),
            };
        }
        let (digest, count) = finished.map_err(|source| Stop::Stream(self.truncated(source)))?;
        self.outcome.bytes += count;
        if let Some(relative) = relative {
            self.digests.insert(relative, (digest, count));
        }
        Ok(())
    }

    /// Parses `format.json` and `manifest.json` of a native bundle.
    fn note_native_file(&mut self, relative: &str, bytes: &[u8]) -> Result<(), Error> {
        if relative == FORMAT_FILE {
            self.outcome.format = Some(FormatHeader::from_slice(relative, bytes)?);
        } else if relative == MANIFEST_FILE {
            self.outcome.manifest = Some(Manifest::from_slice(relative, bytes)?);
        }
        Ok(())
    }

    fn finish(mut self) -> ReadOutcome {
        if let Some(manifest) = &self.outcome.manifest {
            let mut problems = Vec::new();
            let mut listed = HashSet::new();
            for file in &manifest.files {
                listed.insert(file.path.as_str());
                match self.digests.get(&file.path) {
                    Some((digest, size)) if *digest == file.sha256 && *size == file.size => {}
                    Some((digest, size)) => problems.push(ChecksumProblem::Mismatch {
                        path: file.path.clone(),
                        expected: format!("{} ({} bytes)", file.sha256, file.size),
                        actual: format!("{digest} ({size} bytes)"),
                    }),
                    None => problems.push(ChecksumProblem::Missing { path: file.path.clone() }),
                }
            }
            for path in self.digests.keys() {
                if path != FORMAT_FILE && path != MANIFEST_FILE && !listed.contains(path.as_str()) {
                    problems.push(ChecksumProblem::Unlisted { path: path.clone() });
                }
            }
            self.outcome.checksum_problems = problems;
        }
        self.outcome
    }
}

/// The root of a native bundle, when `path` is its `format.json`.
fn native_root(path: &str) -> Option<&str> {
    if path == FORMAT_FILE {
        return Some("");
    }
    let (root, file) = path.split_once('/')?;
    (file == FORMAT_FILE).then_some(root)
}

/// `path` relative to `root`, when it is under it.
pub fn strip_root<'a>(root: &str, path: &'a str) -> Option<&'a str> {
    if root.is_empty() {
        Some(path)
    } else {
        path.strip_prefix(root)?.strip_prefix('/')
    }
}

/// Remembers an I/O error of the inner reader so a consumer cannot swallow a truncation.
struct TrackedReader<'a> {
    inner: &'a mut dyn Read,
    error: Option<io::Error>,
}

impl Read for TrackedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => Ok(n),
            Err(error) => {
                let copy = io::Error::new(error.kind(), error.to_string());
                self.error = Some(copy);
                Err(error)
            }
        }
    }
}
