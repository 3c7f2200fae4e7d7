//! The one gate every entry passes, whatever its source (tar stream or folder walk): limits,
//! name validation, links, special files, duplicates, size enforcement, and the bookkeeping
//! that verifies a native bundle's checksums at the end of the one pass.

use std::collections::HashSet;
use std::io::{self, Read};

use super::{ChecksumProblem, Entry, Limits, Link, ReadOutcome, Rejection, strip_root};
use crate::entry_path::{self, PathTree};
use crate::error::{Error, RejectReason};
use crate::hashing::{Digests, HashThread, HashingReader};
use crate::layout::{FORMAT_FILE, MANIFEST_FILE};
use crate::manifest::{self, FormatHeader, Manifest};

/// Why a source stopped reading.
pub(super) enum Stop<E> {
    /// The stream itself broke: recorded in the outcome, what was read stays read.
    Stream(Error),
    /// The consumer returned an error (or the format is too new): handed back to the caller.
    Visitor(E),
}

/// What a source tells the gate an entry is.
pub(super) enum Kind<'a> {
    File,
    Directory,
    Symlink(&'a [u8]),
    HardLink(&'a [u8]),
    Special(&'static str),
}

/// The checks every entry passes, and the bookkeeping of one read.
pub(super) struct Gate {
    limits: Limits,
    tree: PathTree,
    /// Declared bytes of every record so far.
    total: u64,
    /// Every record so far: entries, folders, links, refused entries, tar extension headers.
    records: u64,
    last_entry: String,
    /// SHA-256 and size of each delivered file of a native bundle, by root-relative path,
    /// when hashed inline; those hashed on `hasher` join them at the end.
    digests: Digests,
    /// The thread that hashes native entries off the reading thread, started at the first
    /// one; `None` before, or when the system refused a thread (then entries hash inline).
    hasher: Option<HashThread>,
    /// A thread was refused: do not ask again for every entry.
    hash_inline: bool,
    /// Files of a native bundle delivered outside its root.
    outside_root: Vec<String>,
    /// The archive entry this gate reads the members of (a zip inside a bundle): names are
    /// delivered and refused under it, and no member makes a native bundle.
    nested_in: Option<String>,
    pub(super) outcome: ReadOutcome,
}

impl Gate {
    pub(super) fn new(limits: Limits) -> Gate {
        Gate {
            limits,
            tree: PathTree::default(),
            total: 0,
            records: 0,
            last_entry: String::new(),
            digests: Digests::new(),
            hasher: None,
            hash_inline: false,
            outside_root: Vec::new(),
            nested_in: None,
            outcome: ReadOutcome::default(),
        }
    }

    /// The gate of the members of the archive entry `archive`, under `limits`.
    pub(super) fn nested(limits: Limits, archive: &str) -> Gate {
        Gate { nested_in: Some(archive.to_owned()), ..Gate::new(limits) }
    }

    /// Records and declared bytes counted so far.
    pub(super) fn counted(&self) -> (u64, u64) {
        (self.records, self.total)
    }

    /// A member's path as it is named outside its archive.
    fn qualified(&self, path: String) -> String {
        match &self.nested_in {
            Some(archive) => format!("{archive}/{path}"),
            None => path,
        }
    }

    pub(super) fn limits(&self) -> Limits {
        self.limits
    }

    pub(super) fn last_entry(&self) -> &str {
        &self.last_entry
    }

    pub(super) fn reject(&mut self, raw_name: &[u8], reason: RejectReason) {
        let entry = self.qualified(String::from_utf8_lossy(raw_name).into_owned());
        self.outcome.rejected.push(Rejection { entry, reason });
    }

    pub(super) fn truncated(&self, source: io::Error) -> Error {
        Error::Truncated { entries: self.outcome.entries, last_entry: self.last_entry.clone(), source }
    }

    /// Counts one record of the source with its declared size, before any of it is read or
    /// skipped: a refused entry must still be decompressed to be skipped, so it counts too.
    pub(super) fn account<E>(&mut self, raw_name: &[u8], size: u64) -> Result<(), Stop<E>> {
        self.records += 1;
        if self.records > self.limits.max_entries {
            return Err(Stop::Stream(Error::TooManyEntries { limit: self.limits.max_entries }));
        }
        self.total = self.total.saturating_add(size);
        if self.total > self.limits.max_total_size {
            let entry = self.qualified(String::from_utf8_lossy(raw_name).into_owned());
            return Err(Stop::Stream(Error::TotalSizeExceeded { entry, limit: self.limits.max_total_size }));
        }
        Ok(())
    }

    /// Passes one entry through the checks and, if it is a file that passes, to `visit`.
    ///
    /// `reader` yields the entry's content; the gate reads at most `size` bytes of it and
    /// fails the read (a stream error) when it yields fewer.
    pub(super) fn admit<E: From<Error>>(
        &mut self,
        raw_name: &[u8],
        kind: Kind<'_>,
        size: u64,
        reader: &mut dyn Read,
        visit: &mut impl FnMut(Entry<'_>) -> Result<(), E>,
    ) -> Result<(), Stop<E>> {
        let path = match entry_path::normalize(raw_name) {
            Ok(path) => path,
            // `./`, the archive's own top folder, as `tar -C dir -c .` writes it.
            Err(RejectReason::EmptyPath) if matches!(kind, Kind::Directory) => return Ok(()),
            Err(reason) => {
                self.reject(raw_name, reason);
                return Ok(());
            }
        };
        match kind {
            Kind::File => {}
            Kind::Directory => {
                if let Err(reason) = self.tree.insert_folder(&path) {
                    self.reject(raw_name, reason);
                }
                return Ok(());
            }
            Kind::Special(kind) => {
                self.reject(raw_name, RejectReason::SpecialFile { kind });
                return Ok(());
            }
            Kind::Symlink(target) => {
                let Some(resolved) = entry_path::resolve_link(&path, target) else {
                    let target = String::from_utf8_lossy(target).into_owned();
                    self.reject(raw_name, RejectReason::LinkLeavesBundle { target });
                    return Ok(());
                };
                self.add_link(raw_name, path, resolved);
                return Ok(());
            }
            Kind::HardLink(target) => {
                // Hard link targets are archive paths, and must name an entry already read.
                match entry_path::normalize(target) {
                    Ok(resolved) if self.tree.has_file(&resolved) => self.add_link(raw_name, path, resolved),
                    _ => {
                        let target = String::from_utf8_lossy(target).into_owned();
                        self.reject(raw_name, RejectReason::HardLinkLeavesBundle { target });
                    }
                }
                return Ok(());
            }
        }
        if size > self.limits.max_entry_size {
            self.reject(raw_name, RejectReason::TooLarge { size, limit: self.limits.max_entry_size });
            return Ok(());
        }
        if let Err(reason) = self.tree.insert_file(&path) {
            self.reject(raw_name, reason);
            return Ok(());
        }
        let path = self.qualified(path);
        self.last_entry.clone_from(&path);
        self.deliver(&path, size, reader, visit)
    }

    fn add_link(&mut self, raw_name: &[u8], path: String, target: String) {
        match self.tree.insert_file(&path) {
            Ok(()) => self.outcome.links.push(Link { path, target }),
            Err(reason) => self.reject(raw_name, reason),
        }
    }

    fn deliver<E: From<Error>>(
        &mut self,
        path: &str,
        size: u64,
        reader: &mut dyn Read,
        visit: &mut impl FnMut(Entry<'_>) -> Result<(), E>,
    ) -> Result<(), Stop<E>> {
        // Native bundles: `format.json`, first, names the root; everything under it is hashed.
        let relative = match &self.outcome.native_root {
            Some(root) => strip_root(root, path),
            None if self.nested_in.is_none() && self.outcome.entries == 0 && format_root(path).is_some() => {
                Some(FORMAT_FILE)
            }
            None => None,
        };
        let relative = relative.map(str::to_owned);
        let mut guarded = Guarded { inner: reader, declared: size, read: 0, failure: None };
        let mut metered = match relative {
            Some(_) => match self.hash_thread() {
                Some(thread) => HashingReader::offloaded(&mut guarded, thread, size),
                None => HashingReader::new(&mut guarded),
            },
            None => HashingReader::counting(&mut guarded),
        };
        let visited = match relative.as_deref() {
            // The two native control files are small: read them first so that a newer format
            // is refused before anything else and checksums can be verified at the end.
            Some(name @ (FORMAT_FILE | MANIFEST_FILE)) => {
                let mut bytes = Vec::with_capacity(usize::try_from(size.min(1 << 20)).unwrap_or(0));
                if let Err(source) = metered.read_to_end(&mut bytes) {
                    let error = match guarded.failure.take() {
                        Some(failure) => self.stream_failure(failure),
                        None => self.truncated(source),
                    };
                    return Err(Stop::Stream(error));
                }
                match self.note_control_file(name, path, &bytes) {
                    Ok(()) => {}
                    Err(error @ Error::UnsupportedFormatVersion { .. }) => {
                        return Err(Stop::Visitor(E::from(error)));
                    }
                    Err(error) => self.outcome.manifest_error = Some(error),
                }
                visit(Entry { path, size, reader: &mut bytes.as_slice() })
            }
            _ => visit(Entry { path, size, reader: &mut metered }),
        };
        self.outcome.entries += 1;
        // A consumer that failed, or swallowed an error, because the stream broke under it
        // gets the stream error: a cut archive is always reported as one. A consumer that
        // stopped reading early leaves the rest to skip (and hash); one that failed does not.
        let finished = match visited {
            Ok(()) => metered.drain_and_finish(),
            Err(error) => {
                return Err(match guarded.failure.take() {
                    Some(failure) => Stop::Stream(self.stream_failure(failure)),
                    None => Stop::Visitor(error),
                });
            }
        };
        if let Some(failure) = guarded.failure.take() {
            return Err(Stop::Stream(self.stream_failure(failure)));
        }
        let (hashed, count) = finished.map_err(|source| Stop::Stream(self.truncated(source)))?;
        self.outcome.bytes += count;
        // Only now is it known whether the entry needed its checksum: `format.json` may turn
        // out not to be kubesnap's, and then nothing before the root is a native bundle's.
        let key = match (&self.outcome.native_root, relative) {
            (Some(_), Some(relative)) => Some(relative),
            (Some(_), None) => {
                self.outside_root.push(path.to_owned());
                None
            }
            (None, _) => None,
        };
        hashed.record(key, count, &mut self.digests).map_err(|source| Stop::Stream(self.truncated(source)))
    }

    /// The hashing thread, started on first use.
    fn hash_thread(&mut self) -> Option<&HashThread> {
        if self.hasher.is_none() && !self.hash_inline {
            self.hasher = HashThread::spawn();
            self.hash_inline = self.hasher.is_none();
        }
        self.hasher.as_ref()
    }

    /// Turns what the guard saw into the stream error to report.
    fn stream_failure(&self, failure: GuardFailure) -> Error {
        match failure {
            GuardFailure::Short { declared, actual } => {
                Error::SizeMismatch { entry: self.last_entry.clone(), declared, actual }
            }
            GuardFailure::Io(source) => self.truncated(source),
        }
    }

    /// Parses `format.json` and `manifest.json` of a native bundle.
    fn note_control_file(&mut self, relative: &str, path: &str, bytes: &[u8]) -> Result<(), Error> {
        if relative == FORMAT_FILE && self.outcome.native_root.is_none() {
            if !manifest::claims_native_format(bytes) {
                return Ok(());
            }
            let root = format_root(path).unwrap_or_default();
            self.outcome.native_root = Some(root.to_owned());
            self.outcome.format = Some(FormatHeader::from_slice(path, bytes)?);
        } else if relative == MANIFEST_FILE {
            self.outcome.manifest = Some(Manifest::from_slice(path, bytes)?);
        }
        Ok(())
    }

    pub(super) fn finish(mut self) -> ReadOutcome {
        if let Some(thread) = self.hasher.take() {
            self.digests.extend(thread.finish());
        }
        let Some(manifest) = &self.outcome.manifest else { return self.outcome };
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
            if path != MANIFEST_FILE && !listed.contains(path.as_str()) {
                problems.push(ChecksumProblem::Unlisted { path: path.clone() });
            }
        }
        for path in &self.outside_root {
            problems.push(ChecksumProblem::Unlisted { path: path.clone() });
        }
        self.outcome.checksum_problems = problems;
        self.outcome
    }
}

/// The root of a native bundle, when `path` is its `format.json` (at the top or one folder
/// down).
fn format_root(path: &str) -> Option<&str> {
    if path == FORMAT_FILE {
        return Some("");
    }
    let (root, file) = path.split_once('/')?;
    (file == FORMAT_FILE).then_some(root)
}

/// What went wrong under a consumer.
enum GuardFailure {
    /// The source ended before the declared size.
    Short { declared: u64, actual: u64 },
    /// The source failed (a corrupt or cut compressed stream).
    Io(io::Error),
}

/// Yields at most the declared size of an entry, fails if the source ends before it, and
/// remembers any failure so that a consumer cannot swallow a truncation.
struct Guarded<'a> {
    inner: &'a mut dyn Read,
    declared: u64,
    read: u64,
    failure: Option<GuardFailure>,
}

impl Read for Guarded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let remaining = self.declared - self.read;
        if remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = usize::try_from(remaining).unwrap_or(usize::MAX).min(buf.len());
        match self.inner.read(&mut buf[..want]) {
            Ok(0) => {
                self.failure = Some(GuardFailure::Short { declared: self.declared, actual: self.read });
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the entry ends after {} of its {} bytes", self.read, self.declared),
                ))
            }
            Ok(n) => {
                self.read += n as u64;
                Ok(n)
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => Err(error),
            Err(error) => {
                self.failure = Some(GuardFailure::Io(io::Error::new(error.kind(), error.to_string())));
                Err(error)
            }
        }
    }
}
