//! The loader: one streaming pass over a bundle (native or foreign) into the
//! [`ClusterModel`].
//!
//! The decoding thread (the caller's) only reads entries through [`Bundle::read`]: it detects
//! the format, classifies each path, and hands whole files (object lists, metrics) or
//! line-aligned chunks of logs to rayon workers, which parse JSON and YAML and scan log lines.
//! A byte budget bounds what is in flight, so memory stays bounded whatever the bundle's size,
//! and a log of any length is scanned a chunk at a time, never held whole. Results are tagged
//! with their entry and chunk number and merged in that order at the end, so the model never
//! depends on thread timing.
//!
//! A bundle that can be partly read still loads: refused entries, a truncated stream, checksum
//! problems and files that do not parse go into `model.read_problems`, and what the bundle
//! lacks into `model.gaps`.

mod assemble;
mod logs;
mod logscan;
mod node_problems;
mod pipeline;

use std::path::{Path, PathBuf};

use kubesnap_shared::import::{LOOKED_FOR, Refusal};
use kubesnap_shared::model::ClusterModel;
use kubesnap_shared::{Bundle, Limits};

/// How to load a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// Bounds on what the bundle may expand to (the reader's decompression-bomb guards).
    pub limits: Limits,
    /// Most bytes read but not yet parsed or scanned at any moment.
    pub max_in_flight: u64,
    /// Size of the chunks logs are scanned in.
    pub chunk_size: usize,
    /// Largest entry parsed whole (object lists, metrics, kubelet stats): a larger one is
    /// skipped, with a read problem, before a byte of it is read.
    pub max_parsed_entry: u64,
}

/// Default of [`LoadOptions::max_parsed_entry`]: a List of about 40,000 pods in one namespace.
pub const DEFAULT_MAX_PARSED_ENTRY: u64 = 512 << 20;

impl Default for LoadOptions {
    fn default() -> Self {
        // Two chunks per worker keep every worker busy while the decoder reads ahead; more
        // only holds memory (on two cores, 128 MiB in flight peaked 70–110 MB higher than 32 MiB
        // on the 10,000-pod, 2 GB bundle, at the same speed).
        let chunk_size: usize = 4 << 20;
        let workers = rayon::current_num_threads() as u64;
        let max_in_flight = (2 * workers * chunk_size as u64).max(32 << 20);
        LoadOptions {
            limits: Limits::default(),
            max_in_flight,
            chunk_size,
            max_parsed_entry: DEFAULT_MAX_PARSED_ENTRY,
        }
    }
}

impl LoadOptions {
    /// Default options with the given reader limits.
    pub fn with_limits(limits: Limits) -> LoadOptions {
        LoadOptions { limits, ..LoadOptions::default() }
    }
}

/// Why a bundle could not be loaded at all. Anything less (a bad entry, a cut stream) is a
/// read problem of the model instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("failed to open bundle {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: kubesnap_shared::Error,
    },
    #[error(
        "{} is not a bundle kubesnap knows; it looked for:\n  - {}",
        path.display(),
        LOOKED_FOR.join("\n  - ")
    )]
    UnknownFormat { path: PathBuf },
    #[error("{} is {}, which kubesnap does not read: {}", path.display(), refusal.what, refusal.why)]
    Refused { path: PathBuf, refusal: Refusal },
    #[error("failed to read bundle {}", path.display())]
    Bundle {
        path: PathBuf,
        #[source]
        source: kubesnap_shared::Error,
    },
    #[error("failed to compile the log patterns")]
    Patterns(#[from] regex::Error),
}

/// Loads the bundle at `path` (a `.tar.gz`, `.tar.xz`, `.tar` or a folder, of any supported
/// format) into the cluster model.
pub fn load(path: &Path, options: &LoadOptions) -> Result<ClusterModel, LoadError> {
    let bundle = Bundle::open(path, options.limits)
        .map_err(|source| LoadError::Open { path: path.to_owned(), source })?;
    let patterns = logscan::Patterns::new()?;
    let node_rules = node_problems::NodeRules::new()?;
    // A folder's own name is part of what its collector wrote (the RKE2 collector's names the
    // host and the time); an archive holds its top folder inside.
    let opened_folder = path
        .is_dir()
        .then(|| path.canonicalize().ok()?.file_name().map(|name| name.to_string_lossy().into_owned()))
        .flatten();
    let read = pipeline::read(&bundle, &patterns, &node_rules, options, opened_folder)
        .map_err(|source| LoadError::Bundle { path: path.to_owned(), source })?;
    if let Some(refusal) = read.refused.clone() {
        return Err(LoadError::Refused { path: path.to_owned(), refusal });
    }
    let Some(importer) = read.importer.clone() else {
        return Err(LoadError::UnknownFormat { path: path.to_owned() });
    };
    Ok(assemble::assemble(importer, read))
}

/// Scans one container's log text as the loader scans a log entry of a native bundle (one
/// chunk, the plain layout), with year-less times placed by `reference`: the test fixtures'
/// way through the real scanner without writing a bundle.
#[cfg(test)]
pub(crate) fn scan_log(
    key: kubesnap_shared::model::LogKey,
    path: &str,
    text: &str,
    reference: Option<jiff::Timestamp>,
) -> kubesnap_shared::model::ContainerLog {
    static PATTERNS: std::sync::LazyLock<logscan::Patterns> =
        std::sync::LazyLock::new(|| logscan::Patterns::new().expect("the log patterns compile"));
    let mut log = logs::LogAccumulator::new(key, path);
    for segment in logscan::scan_chunk(&PATTERNS, text.as_bytes(), kubesnap_shared::import::LogLayout::Plain)
    {
        log.absorb(segment);
    }
    log.finish(reference)
}
