//! What could not be read of a bundle, kept as what happened (which entry, which limit, which
//! error) until a report words it: [`ReadProblem`]'s `Display` is the one place that does.

use std::fmt;

use crate::error::{ChecksumProblem, RejectReason};

/// One problem met while reading a bundle. The rest of the bundle was read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadProblem {
    /// The reader refused an archive entry (an unsafe path, a link that leaves the bundle...).
    Refused { entry: String, reason: RejectReason },
    /// The archive stream ended early; everything before it was read. `error` is the error and
    /// its causes, joined by `: `.
    StreamEnded { error: String },
    /// A native bundle's `format.json` or `manifest.json` could not be used (the error and its
    /// causes).
    Manifest { error: String },
    /// A file does not keep a checksum its manifest promised.
    Checksum(ChecksumProblem),
    /// No known bundle layout showed in the first `entries` entries, and holding `path` too
    /// would have passed the memory budget: none of them was read.
    UnknownLayout { entries: usize, path: String, size: u64 },
    /// A file to parse whole is larger than `--max-parse-size` (`limit`).
    TooLargeToParse { path: String, size: u64, limit: u64 },
    /// A file to parse as JSON or YAML holds a NUL byte in its first `sniffed_kib` KiB.
    Binary { path: String, sniffed_kib: u64 },
    /// An entry could not be read to its end; what came before was read.
    Unfinished { path: String, error: String },
    /// A file did not parse (the parse error, which names the file, and its causes).
    Unparsable { error: String },
    /// A server version file without a `gitVersion`.
    NoGitVersion { path: String },
    /// An entry classified as something with no parser.
    NothingToParse { path: String },
    /// A file read as kubectl text on its own holds none of kubectl's output; `looked_for` names
    /// what the reader recognizes.
    NoKubectlOutput { path: String, looked_for: String },
    /// The parser panicked on `path`; the entry was skipped.
    ParserFailed { path: String },
    /// The log scanner panicked on a chunk of a container log (`node: false`) or of a node log.
    ScannerFailed { node: bool },
    /// Log files whose pod is not in the bundle, so they were not read as container logs.
    UnplacedLogs { paths: Vec<String> },
    /// Objects printed whole that no API server returned (no `uid`, no `creationTimestamp`):
    /// manifests, what someone applied or meant to, not what the cluster ran; not read.
    Manifests { path: String, count: usize },
}

/// How many paths of [`ReadProblem::UnplacedLogs`] are named.
const NAMED_PATHS: usize = 5;

impl fmt::Display for ReadProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadProblem::Refused { entry, reason } => write!(f, "entry `{entry}` refused: {reason}"),
            ReadProblem::StreamEnded { error } | ReadProblem::Manifest { error } => f.write_str(error),
            ReadProblem::Checksum(problem) => write!(f, "{problem}"),
            ReadProblem::UnknownLayout { entries, path, size } => write!(
                f,
                "no known bundle layout in the first {entries} entries; \
                 they were not read, nor `{path}` ({size} bytes)"
            ),
            ReadProblem::TooLargeToParse { path, size, limit } => write!(
                f,
                "`{path}` is {size} bytes, more than the {limit} bytes a file parsed whole may hold \
                 (--max-parse-size); skipped"
            ),
            ReadProblem::Binary { path, sniffed_kib } => write!(
                f,
                "`{path}` holds binary data (a NUL byte in its first {sniffed_kib} KiB), not JSON or YAML; skipped"
            ),
            ReadProblem::Unfinished { path, error } => {
                write!(f, "`{path}` could not be read to the end: {error}")
            }
            ReadProblem::Unparsable { error } => f.write_str(error),
            ReadProblem::NoGitVersion { path } => write!(f, "`{path}` holds no gitVersion"),
            ReadProblem::NothingToParse { path } => write!(f, "`{path}`: nothing to parse"),
            ReadProblem::NoKubectlOutput { path, looked_for } => {
                write!(f, "`{path}` holds none of kubectl's output and was not read; looked for {looked_for}")
            }
            ReadProblem::ParserFailed { path } => {
                write!(f, "`{path}`: internal error while parsing; skipped")
            }
            ReadProblem::ScannerFailed { node } => {
                let which = if *node { "a node log chunk" } else { "a log chunk" };
                write!(f, "internal error while scanning {which}; skipped")
            }
            ReadProblem::Manifests { path, count } => write!(
                f,
                "`{path}`: {count} object(s) without a uid or creationTimestamp are manifests (what was \
                 applied, not what the cluster ran) and were not read"
            ),
            ReadProblem::UnplacedLogs { paths } => write!(
                f,
                "{} log files name no pod of the bundle and were not read as container logs: {}",
                paths.len(),
                paths.iter().take(NAMED_PATHS).map(String::as_str).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_read_as_the_report_words_them() {
        let unplaced = ReadProblem::UnplacedLogs { paths: (1..=7).map(|n| format!("l{n}.log")).collect() };
        assert_eq!(
            unplaced.to_string(),
            "7 log files name no pod of the bundle and were not read as container logs: \
             l1.log, l2.log, l3.log, l4.log, l5.log"
        );
        let large = ReadProblem::TooLargeToParse { path: "a.json".into(), size: 10, limit: 5 };
        assert_eq!(
            large.to_string(),
            "`a.json` is 10 bytes, more than the 5 bytes a file parsed whole may hold (--max-parse-size); skipped"
        );
        assert_eq!(
            ReadProblem::ScannerFailed { node: true }.to_string(),
            "internal error while scanning a node log chunk; skipped"
        );
        let missing = ReadProblem::Checksum(ChecksumProblem::Missing { path: "x".into() });
        assert_eq!(missing.to_string(), "`x` is listed in the manifest but not in the bundle");
    }
}
