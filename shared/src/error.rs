//! Typed errors of the bundle format, each naming the entry or file it is about.

use std::io;
use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an entry of an archive or folder was refused.
///
/// An entry refused for one of these reasons is skipped and reported; the rest of the bundle
/// is still read (see [`crate::reader::ReadOutcome::rejected`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RejectReason {
    #[error("path contains `..`")]
    ParentComponent,
    #[error("path is absolute")]
    AbsolutePath,
    #[error("path is empty")]
    EmptyPath,
    #[error("path is not valid UTF-8")]
    InvalidUtf8,
    #[error("path contains a control character or a backslash")]
    ForbiddenCharacter,
    #[error("symbolic link to `{target}` leaves the bundle")]
    LinkLeavesBundle { target: String },
    #[error("hard link to `{target}` leaves the bundle or precedes its target")]
    HardLinkLeavesBundle { target: String },
    #[error("{kind} entries are not allowed in a bundle")]
    SpecialFile { kind: &'static str },
    #[error(
        "entry of {size} bytes is larger than the limit of {limit} bytes (raise it with --max-entry-size)"
    )]
    TooLarge { size: u64, limit: u64 },
    #[error("path appears more than once in the bundle")]
    Duplicate,
    /// A file where an earlier entry made a folder, or the other way round: `a` and `a/b`.
    #[error("path is both a file and a folder in the bundle (conflicts with `{existing}`)")]
    PathConflict { existing: String },
    /// A zip member declares more bytes than its compressed data can expand to (stored: its
    /// compressed size; deflate: about 1,032 times it): a decompression bomb or a lie.
    #[error(
        "zip member declares {size} bytes from {compressed} compressed bytes, more than they can expand to"
    )]
    ImpossibleRatio { size: u64, compressed: u64 },
    /// A zip member whose content is encrypted or compressed with a method other than stored
    /// or deflate: it is skipped, the members after it are read.
    #[error("zip member is {what}, which kubesnap does not read")]
    UnreadableMember { what: String },
    /// The file changed between listing the folder and opening it (swapped for a link or a
    /// special file): what would be read is not what was checked.
    #[error("file changed while the folder was read")]
    ChangedWhileReading,
}

/// Errors of the bundle format.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("failed to read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{} is neither a gzip or xz compressed tar, a tar, a folder, nor a text file", path.display())]
    UnknownContainer { path: PathBuf },
    #[error("entry `{entry}` refused: {reason}")]
    Rejected { entry: String, reason: RejectReason },
    /// The compressed or tar stream broke: a truncated file, a corrupt gzip or xz stream, a
    /// tar header whose checksum fails (what follows a lying size header), a missing
    /// end-of-archive marker.
    #[error("the archive is truncated or corrupt after {entries} entries (last entry read: `{last_entry}`)")]
    Truncated {
        entries: u64,
        last_entry: String,
        #[source]
        source: io::Error,
    },
    /// An entry yielded fewer bytes than its header declared.
    #[error(
        "entry `{entry}` declares {declared} bytes but the stream holds only {actual} (a truncated archive or a lying size header)"
    )]
    SizeMismatch { entry: String, declared: u64, actual: u64 },
    /// A GNU long name or PAX header larger than any real one: read into memory by tar readers,
    /// it would otherwise be a decompression bomb that bypasses the entry limits.
    #[error("a {kind} header of {size} bytes after `{last_entry}` exceeds the limit of {limit} bytes")]
    ExtensionTooLarge { last_entry: String, kind: &'static str, size: u64, limit: u64 },
    #[error(
        "the bundle expands past {limit} bytes, stopped at entry `{entry}` (a decompression bomb? raise the limit with --max-total-size)"
    )]
    TotalSizeExceeded { entry: String, limit: u64 },
    #[error("the bundle has more than {limit} entries (raise the limit with --max-entries)")]
    TooManyEntries { limit: u64 },
    #[error(
        "bundle format version {found} is newer than this kubesnap understands (up to version {supported}); upgrade kubesnap to read it"
    )]
    UnsupportedFormatVersion { found: u32, supported: u32 },
    #[error("`{entry}` is not a valid manifest")]
    InvalidManifest {
        entry: String,
        #[source]
        source: serde_json::Error,
    },
    /// A native bundle (it has `format.json`) without a readable `manifest.json`: the writer
    /// died before it could write one, or the archive was cut.
    #[error("the bundle has no manifest.json, so its checksums cannot be verified")]
    MissingManifest,
    #[error("checksum verification failed: {problem}")]
    Checksum { problem: ChecksumProblem },
    #[error("path `{path}` cannot be written into a bundle: {reason}")]
    InvalidPath { path: String, reason: RejectReason },
    #[error("`{path}` was already written to this bundle")]
    DuplicateWrite { path: String },
    #[error("failed to write bundle entry `{entry}`")]
    Write {
        entry: String,
        #[source]
        source: io::Error,
    },
    #[error("target folder {} is not empty; unpack refuses to overwrite", path.display())]
    TargetNotEmpty { path: PathBuf },
    #[error("{context}")]
    Entry {
        context: String,
        #[source]
        source: io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

/// A checksum the manifest promised that the content does not keep.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecksumProblem {
    /// The content's SHA-256 or size differs from the manifest's.
    #[error("`{path}` does not match the manifest: expected {expected}, found {actual}")]
    Mismatch { path: String, expected: String, actual: String },
    /// The manifest lists a file the bundle does not hold (or that was refused).
    #[error("`{path}` is listed in the manifest but not in the bundle")]
    Missing { path: String },
    /// The bundle holds a file the manifest does not list (outside the bundle root: its
    /// archive path).
    #[error("`{path}` is in the bundle but not in the manifest")]
    Unlisted { path: String },
}
