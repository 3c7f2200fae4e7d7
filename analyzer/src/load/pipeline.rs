//! The decoding side of the load: detection, classification and dispatch of every entry to
//! the workers, under a byte budget.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Condvar, Mutex, PoisonError};

use kubesnap_shared::import::DEFAULT_CONTAINER;
use kubesnap_shared::import::{
    Detection, Detector, EntryClass, Importer, LogLayout, Refusal, Syntax, parse, text,
};
use kubesnap_shared::json::Value;
use kubesnap_shared::manifest::Failure;
use kubesnap_shared::model::{
    ContainerKey, Event, HostCheck, LogKey, MetricSample, Object, PluginResult, ReadProblem, SourceFormat,
};
use kubesnap_shared::{Bundle, Entry, Limits, ReadOutcome};

use super::LoadOptions;
use super::logscan::{Patterns, Segment, scan_chunk};
use super::node_problems::{self, NodeHit, NodeRules};

/// Entries buffered while the format is still unknown.
const MAX_PENDING_BYTES: u64 = 64 << 20;
/// The longest line kept whole: longer ones are cut (and counted as several lines).
const MAX_LINE: usize = 8 << 20;
/// The most of a marker file (`format.json`, `version.yaml`) read to detect the format: a
/// prefix, never the whole entry.
const MAX_HEAD: u64 = 64 << 10;
/// The prefix of an entry parsed whole that is checked for binary content before the rest is
/// read: JSON and YAML never hold a NUL byte.
const SNIFF: u64 = 64 << 10;

/// What a worker made of one entry or chunk.
#[derive(Debug)]
pub(super) enum Piece {
    Objects {
        objects: Vec<Object>,
        events: Vec<Event>,
        /// The newest creation and observed times of the objects and events.
        newest: parse::Times,
        /// The kinds the entry's lists hold, even empty ones (`ParsedObjects::listed_kinds`).
        listed_kinds: BTreeSet<String>,
        /// Read from kubectl text: each object has only the fields `TextFields` names. The
        /// others are objects printed whole.
        text: bool,
    },
    LogChunk(Vec<Segment>),
    /// A node log chunk's node-problem hits, and how many lines the chunk has.
    NodeHits {
        lines: u64,
        hits: Vec<NodeHit>,
    },
    Metrics {
        containers: Vec<(ContainerKey, MetricSample)>,
        nodes: Vec<(String, MetricSample)>,
        errors: Vec<String>,
    },
    KubeletStats {
        node: String,
        stats: Value,
    },
    ServerVersion(String),
    HelmReleases(Vec<kubesnap_shared::helm::HelmRelease>),
    /// Kinds read from kubectl text and the fields the text gave.
    TextFields(BTreeMap<String, BTreeSet<&'static str>>),
    HostCheck(HostCheck),
    PluginResult(PluginResult),
    Failures(Vec<Failure>),
    Problem(ReadProblem),
}

/// How a log is scanned: its layout, and whether it is a node's (also read for node problems).
#[derive(Debug, Clone, Copy)]
struct LogScan {
    layout: LogLayout,
    node: bool,
}

/// A log file as the decoder saw it.
#[derive(Debug)]
pub(super) struct LogFile {
    pub(super) key: LogKey,
    pub(super) path: String,
    pub(super) namespace_known: bool,
}

/// Everything one pass produced, before assembly.
#[derive(Debug)]
pub(super) struct Pass {
    pub(super) importer: Option<Importer>,
    /// A layout recognized and refused: nothing of it was read.
    pub(super) refused: Option<Refusal>,
    pub(super) outcome: ReadOutcome,
    /// (entry, chunk, piece), sorted.
    pub(super) pieces: Vec<(u64, u32, Piece)>,
    pub(super) logs: BTreeMap<u64, LogFile>,
    pub(super) problems: Vec<ReadProblem>,
}

/// Bytes in flight, bounded: the decoder waits when the workers are behind.
#[derive(Debug)]
struct Budget {
    cap: u64,
    used: Mutex<u64>,
    freed: Condvar,
}

impl Budget {
    /// Takes `n` bytes (at most the whole budget, so one huge entry still passes alone).
    fn acquire(&self, n: u64) -> u64 {
        let n = n.clamp(1, self.cap);
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        while *used > 0 && *used + n > self.cap {
            used = self.freed.wait(used).unwrap_or_else(PoisonError::into_inner);
        }
        *used += n;
        n
    }

    fn release(&self, n: u64) {
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        *used = used.saturating_sub(n);
        self.freed.notify_all();
    }
}

/// Shared by the decoder and the workers.
struct Shared<'a> {
    patterns: &'a Patterns,
    node_rules: &'a NodeRules,
    budget: Budget,
    pieces: Mutex<Vec<(u64, u32, Piece)>>,
    /// Chunk buffers scanned and given back: reusing them spares the allocator (and the
    /// kernel, for buffers this large) a map and unmap per chunk. They stay initialized (their
    /// length is their size), so that reading into one never zeroes it first.
    spare: Mutex<Vec<Vec<u8>>>,
}

/// How many spare chunk buffers are kept.
const SPARE_BUFFERS: usize = 8;

impl Shared<'_> {
    /// An initialized buffer of at least `size` bytes (zeroed only where it grows).
    fn buffer(&self, size: usize) -> Vec<u8> {
        let spare = self.spare.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut buffer = spare.unwrap_or_default();
        if buffer.len() < size {
            buffer.resize(size, 0);
        }
        buffer
    }

    fn give_back(&self, buffer: Vec<u8>) {
        let mut spare = self.spare.lock().unwrap_or_else(PoisonError::into_inner);
        if spare.len() < SPARE_BUFFERS {
            spare.push(buffer);
        }
    }

    fn push(&self, entry: u64, chunk: u32, piece: Piece) {
        self.pieces.lock().unwrap_or_else(PoisonError::into_inner).push((entry, chunk, piece));
    }
}

/// Reads the whole bundle once.
pub(super) fn read(
    bundle: &Bundle,
    patterns: &Patterns,
    node_rules: &NodeRules,
    options: &LoadOptions,
    opened_folder: Option<String>,
) -> Result<Pass, kubesnap_shared::Error> {
    let shared = Shared {
        patterns,
        node_rules,
        budget: Budget { cap: options.max_in_flight.max(1), used: Mutex::new(0), freed: Condvar::new() },
        pieces: Mutex::new(Vec::new()),
        spare: Mutex::new(Vec::new()),
    };
    let mut decoder = Decoder {
        shared: &shared,
        chunk_size: options.chunk_size.max(16),
        max_parsed: options.max_parsed_entry,
        detector: Detector::new(),
        importer: None,
        refused: None,
        opened_folder: opened_folder.clone(),
        pending: Vec::new(),
        pending_bytes: 0,
        next_entry: 0,
        archive_limits: options.limits,
        logs: BTreeMap::new(),
        problems: Vec::new(),
    };
    let outcome = rayon::in_place_scope(|scope| {
        let outcome = bundle.read(|entry| decoder.entry(scope, entry));
        if outcome.is_ok() && decoder.importer.is_none() && decoder.refused.is_none() {
            decoder.importer = decoder.conclude();
        }
        decoder.flush(scope);
        outcome
    })?;
    let Decoder { importer, refused, logs, problems, .. } = decoder;
    let mut pieces = shared.pieces.into_inner().unwrap_or_else(PoisonError::into_inner);
    pieces.sort_by_key(|(entry, chunk, _)| (*entry, *chunk));
    Ok(Pass { importer, refused, outcome, pieces, logs, problems })
}

struct Decoder<'a> {
    shared: &'a Shared<'a>,
    chunk_size: usize,
    /// Largest entry parsed whole (object lists, kubelet stats, metrics): larger ones are
    /// skipped with a problem, never read.
    max_parsed: u64,
    detector: Detector,
    importer: Option<Importer>,
    refused: Option<Refusal>,
    /// The name of the folder the bundle was opened as, when it was one.
    opened_folder: Option<String>,
    /// Entries read before the format was known: (path, content).
    pending: Vec<(String, Vec<u8>)>,
    pending_bytes: u64,
    next_entry: u64,
    /// What the archives inside the bundle (node zips) may still expand to, all together.
    archive_limits: Limits,
    logs: BTreeMap<u64, LogFile>,
    problems: Vec<ReadProblem>,
}

impl<'a> Decoder<'a> {
    fn entry<'scope>(
        &mut self,
        scope: &rayon::Scope<'scope>,
        mut entry: Entry<'_>,
    ) -> Result<(), kubesnap_shared::Error>
    where
        'a: 'scope,
    {
        let path = entry.path().to_owned();
        let size = entry.size();
        if self.importer.is_some() {
            return self.dispatch(scope, &path, size, &mut entry);
        }
        if self.refused.is_some() {
            return Ok(());
        }
        let head =
            if Detector::wants_head(&path) { read_prefix(&mut entry, MAX_HEAD, &path)? } else { Vec::new() };
        let wanted_head = Detector::wants_head(&path).then_some(head.as_slice());
        match self.detector.observe(&path, wanted_head) {
            Some(Detection::Refuse(refusal)) => {
                self.refused = Some(refusal);
                self.pending.clear();
                self.pending_bytes = 0;
                return Ok(());
            }
            Some(Detection::Import(importer)) => {
                self.importer = Some(importer.opened_as_folder(self.opened_folder.clone()));
            }
            None => {}
        }
        if self.importer.is_some() {
            self.flush(scope);
            return self.dispatch(scope, &path, size, &mut head.as_slice().chain(&mut entry));
        }
        if size > MAX_PENDING_BYTES - self.pending_bytes {
            // Holding this entry until the format is known would hold unbounded memory: go with
            // the weak evidence now, if any, and stream it; else it is not read.
            self.importer = self.conclude();
            if self.importer.is_some() {
                self.flush(scope);
                return self.dispatch(scope, &path, size, &mut head.as_slice().chain(&mut entry));
            }
            // A long transcript is kubectl text from its first lines.
            let mut prefix = head;
            prefix.extend(read_prefix(&mut entry, SNIFF.saturating_sub(prefix.len() as u64), &path)?);
            if text::looks_like(&prefix) {
                self.importer = Some(
                    Importer::new(SourceFormat::KubectlText, "").opened_as_folder(self.opened_folder.clone()),
                );
                self.flush(scope);
                return self.dispatch(scope, &path, size, &mut prefix.as_slice().chain(&mut entry));
            }
            self.problems.push(ReadProblem::UnknownLayout { entries: self.pending.len() + 1, path, size });
            self.pending.clear();
            self.pending_bytes = 0;
            return Ok(());
        }
        // Fits in what is left of the pending budget (the reader enforces the declared size).
        let bytes = read_all(&mut head.as_slice().chain(&mut entry), size, &path)?;
        self.pending_bytes += bytes.len() as u64;
        self.pending.push((path, bytes));
        Ok(())
    }

    /// The format once no more evidence will come: the layout with the most weak evidence, or
    /// kubectl text when no layout matched and an entry read so far is kubectl's output.
    fn conclude(&self) -> Option<Importer> {
        self.detector
            .conclude()
            .or_else(|| {
                self.pending
                    .iter()
                    .any(|(_, bytes)| text::looks_like(bytes))
                    .then(|| Importer::new(SourceFormat::KubectlText, ""))
            })
            .map(|importer| importer.opened_as_folder(self.opened_folder.clone()))
    }

    /// Dispatches the entries buffered before the format was known.
    fn flush<'scope>(&mut self, scope: &rayon::Scope<'scope>)
    where
        'a: 'scope,
    {
        if self.importer.is_none() {
            return;
        }
        for (path, bytes) in std::mem::take(&mut self.pending) {
            // Reading from memory cannot fail.
            let _ = self.dispatch(scope, &path, bytes.len() as u64, &mut bytes.as_slice());
        }
        self.pending_bytes = 0;
    }

    /// Classifies one entry and hands it to the workers; `size` is what the archive declares
    /// (the reader enforces it).
    fn dispatch<'scope>(
        &mut self,
        scope: &rayon::Scope<'scope>,
        path: &str,
        size: u64,
        reader: &mut dyn Read,
    ) -> Result<(), kubesnap_shared::Error>
    where
        'a: 'scope,
    {
        let Some(importer) = &self.importer else { return Ok(()) };
        let class = importer.classify(path);
        let now = importer.capture_time();
        let entry = self.next_entry;
        self.next_entry += 1;
        match class {
            EntryClass::Ignored => Ok(()),
            EntryClass::Log { key, layout, namespace_known } => {
                let node = key.namespace == kubesnap_shared::model::NODE_LOG_NAMESPACE;
                self.logs.insert(entry, LogFile { key, path: path.to_owned(), namespace_known });
                self.dispatch_log(scope, entry, path, size, reader, LogScan { layout, node });
                Ok(())
            }
            EntryClass::NodeArchive { node } => {
                let importer = importer.clone();
                self.dispatch_archive(scope, &importer, &node, path, reader);
                Ok(())
            }
            class => {
                if size > self.max_parsed {
                    let limit = self.max_parsed;
                    self.problems.push(ReadProblem::TooLargeToParse { path: path.to_owned(), size, limit });
                    return Ok(());
                }
                let shared = self.shared;
                // Counted before it is read: the bytes the decoder holds are in the budget too.
                let taken = shared.budget.acquire(size);
                let head = read_prefix(&mut *reader, SNIFF, path)?;
                if head.contains(&0) {
                    shared.budget.release(taken);
                    let sniffed_kib = SNIFF >> 10;
                    self.problems.push(ReadProblem::Binary { path: path.to_owned(), sniffed_kib });
                    return Ok(());
                }
                let bytes = match read_all(&mut head.as_slice().chain(reader), size, path) {
                    Ok(bytes) => bytes,
                    Err(error) => {
                        shared.budget.release(taken);
                        return Err(error);
                    }
                };
                if let EntryClass::KubectlText { standalone: true, .. } = class {
                    self.dispatch_text_logs(scope, path, &bytes);
                }
                let path = path.to_owned();
                scope.spawn(move |_| {
                    let pieces = catch_unwind(AssertUnwindSafe(|| parse_whole(&class, &bytes, &path, now)))
                        .unwrap_or_else(|_| {
                            vec![Piece::Problem(ReadProblem::ParserFailed { path: path.clone() })]
                        });
                    drop(bytes);
                    for (chunk, piece) in (0u32..).zip(pieces) {
                        shared.push(entry, chunk, piece);
                    }
                    shared.budget.release(taken);
                });
                Ok(())
            }
        }
    }

    /// Reads the members of a node archive as they stream, each as the bundle's own entries
    /// are: a log in chunks, on the workers. What the archive's gate refused, and where a cut or
    /// hostile archive ended, are read problems; the rest of the bundle is read on.
    fn dispatch_archive<'scope>(
        &mut self,
        scope: &rayon::Scope<'scope>,
        importer: &Importer,
        node: &str,
        path: &str,
        reader: &mut dyn Read,
    ) where
        'a: 'scope,
    {
        let mut limits = self.archive_limits;
        let prefix = format!("{path}/");
        let read = kubesnap_shared::reader::read_zip(reader, path, &mut limits, |mut member| {
            let inside = member.path().strip_prefix(&prefix).unwrap_or(member.path());
            if let EntryClass::Log { key, layout, namespace_known } = importer.classify_member(node, inside) {
                let entry = self.next_entry;
                self.next_entry += 1;
                let member_path = member.path().to_owned();
                let node_log = key.namespace == kubesnap_shared::model::NODE_LOG_NAMESPACE;
                self.logs.insert(entry, LogFile { key, path: member_path.clone(), namespace_known });
                let size = member.size();
                self.dispatch_log(
                    scope,
                    entry,
                    &member_path,
                    size,
                    &mut member,
                    LogScan { layout, node: node_log },
                );
            }
            Ok::<(), kubesnap_shared::Error>(())
        });
        self.archive_limits = limits;
        // The visitor never fails: every outcome is a read.
        let Ok(outcome) = read else { return };
        for rejection in outcome.rejected {
            self.problems.push(ReadProblem::Refused { entry: rejection.entry, reason: rejection.reason });
        }
        if let Some(error) = outcome.stream_error {
            self.problems.push(ReadProblem::Unfinished { path: path.to_owned(), error: error_chain(&error) });
        }
    }

    /// The `kubectl logs` outputs of a transcript, each read as the log of its container (the
    /// pod's default one when the command named none).
    fn dispatch_text_logs<'scope>(&mut self, scope: &rayon::Scope<'scope>, path: &str, bytes: &[u8])
    where
        'a: 'scope,
    {
        let whole = String::from_utf8_lossy(bytes);
        for log in text::logs(&whole) {
            let entry = self.next_entry;
            self.next_entry += 1;
            let container = log.container.clone().unwrap_or_else(|| DEFAULT_CONTAINER.to_owned());
            let key = LogKey {
                namespace: log.namespace.clone().unwrap_or_default(),
                pod: log.pod.clone(),
                container,
                previous: log.previous,
            };
            let previous = if log.previous { " --previous" } else { "" };
            let log_path = format!("{path}: kubectl logs {}{previous}", log.pod);
            self.logs.insert(
                entry,
                LogFile { key, path: log_path.clone(), namespace_known: log.namespace.is_some() },
            );
            let mut reader = whole.as_bytes().get(log.range.clone()).unwrap_or_default();
            let size = reader.len() as u64;
            let scan = LogScan { layout: LogLayout::Plain, node: false };
            self.dispatch_log(scope, entry, &log_path, size, &mut reader, scan);
        }
    }

    /// Reads a log in line-aligned chunks and scans each on a worker. A read error ends the
    /// log where it broke (the reader reports a broken stream on its own).
    fn dispatch_log<'scope>(
        &mut self,
        scope: &rayon::Scope<'scope>,
        entry: u64,
        path: &str,
        size: u64,
        reader: &mut dyn Read,
        scan: LogScan,
    ) where
        'a: 'scope,
    {
        let layout = scan.layout;
        let mut gzip;
        let reader: &mut dyn Read = if layout == LogLayout::Gzip {
            gzip = flate2::read::MultiGzDecoder::new(reader);
            &mut gzip
        } else {
            reader
        };
        // The partial last line of the previous chunk, which starts the next one.
        let mut carry: Vec<u8> = Vec::new();
        let mut chunk_number = 0u32;
        // What is left to read, when known: a small log gets a small buffer, not a chunk's worth
        // of memory written (and resident) while it waits for a worker.
        let mut left = (layout != LogLayout::Gzip).then_some(size);
        loop {
            let want = left.map_or(self.chunk_size, |left| {
                // One byte more than declared, so that the read that finds the end is not a
                // chunk of its own.
                usize::try_from(left.saturating_add(1)).unwrap_or(usize::MAX).min(self.chunk_size)
            });
            let mut chunk = self.shared.buffer(want + carry.len());
            chunk[..carry.len()].copy_from_slice(&carry);
            let start = carry.len();
            carry.clear();
            let (read, outcome) = fill(reader, &mut chunk[start..start + want]);
            left = left.map(|left| left.saturating_sub(read as u64));
            let mut len = start + read;
            let eof = match outcome {
                Ok(eof) => eof,
                Err(error) => {
                    let error = error.to_string();
                    self.problems.push(ReadProblem::Unfinished { path: path.to_owned(), error });
                    true
                }
            };
            if !eof {
                match memchr::memrchr(b'\n', &chunk[..len]) {
                    Some(end) => {
                        carry.extend_from_slice(&chunk[end + 1..len]);
                        len = end + 1;
                    }
                    // One line longer than a chunk: keep reading it, up to a bound.
                    None if len < MAX_LINE => {
                        carry.extend_from_slice(&chunk[..len]);
                        self.shared.give_back(chunk);
                        continue;
                    }
                    None => {}
                }
            }
            if len > 0 {
                self.spawn_chunk(scope, entry, chunk_number, chunk, len, scan);
                chunk_number += 1;
            } else {
                self.shared.give_back(chunk);
            }
            if eof {
                break;
            }
        }
    }

    fn spawn_chunk<'scope>(
        &self,
        scope: &rayon::Scope<'scope>,
        entry: u64,
        number: u32,
        chunk: Vec<u8>,
        len: usize,
        scan: LogScan,
    ) where
        'a: 'scope,
    {
        let LogScan { layout, node } = scan;
        let shared = self.shared;
        let taken = shared.budget.acquire(len as u64);
        scope.spawn(move |_| {
            let piece = catch_unwind(AssertUnwindSafe(|| {
                Piece::LogChunk(scan_chunk(shared.patterns, &chunk[..len], layout))
            }))
            .unwrap_or_else(|_| Piece::Problem(ReadProblem::ScannerFailed { node: false }));
            // A node log is also read for node problems, chunk by chunk.
            let node_piece = node.then(|| {
                catch_unwind(AssertUnwindSafe(|| {
                    let (lines, hits) =
                        node_problems::scan(shared.node_rules, &shared.patterns.times, &chunk[..len], layout);
                    Piece::NodeHits { lines, hits }
                }))
                .unwrap_or_else(|_| Piece::Problem(ReadProblem::ScannerFailed { node: true }))
            });
            shared.give_back(chunk);
            shared.push(entry, number, piece);
            if let Some(node_piece) = node_piece {
                shared.push(entry, number, node_piece);
            }
            shared.budget.release(taken);
        });
    }
}

/// Reads until `buffer` is full or the reader ends: how many bytes were read, and whether the
/// reader ended (or the error that ended it; the bytes before it count).
///
/// Reads straight into the (initialized) buffer: `read_to_end` would zero each chunk's spare
/// capacity first, a memset of every log byte on the decoding thread.
fn fill(reader: &mut dyn Read, buffer: &mut [u8]) -> (usize, io::Result<bool>) {
    let mut read = 0;
    while read < buffer.len() {
        match reader.read(&mut buffer[read..]) {
            Ok(0) => return (read, Ok(true)),
            Ok(n) => read += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return (read, Err(error)),
        }
    }
    (read, Ok(false))
}

/// Reads a whole entry; `size` (declared by the archive, enforced by the reader, and bounded by
/// the caller) sizes the buffer once instead of doubling it up to the entry's size: a doubling
/// `Vec` peaks at twice the entry.
fn read_all(reader: &mut dyn Read, size: u64, path: &str) -> Result<Vec<u8>, kubesnap_shared::Error> {
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    reader.read_to_end(&mut bytes).map_err(|source| kubesnap_shared::Error::Entry {
        context: format!("failed to read `{path}`"),
        source,
    })?;
    Ok(bytes)
}

/// Reads at most `limit` bytes of an entry.
fn read_prefix(reader: &mut dyn Read, limit: u64, path: &str) -> Result<Vec<u8>, kubesnap_shared::Error> {
    let mut bytes = Vec::new();
    reader.take(limit).read_to_end(&mut bytes).map_err(|source| kubesnap_shared::Error::Entry {
        context: format!("failed to read `{path}`"),
        source,
    })?;
    Ok(bytes)
}

/// Parses a whole entry on a worker; `now` is the capture time when the layout says.
fn parse_whole(class: &EntryClass, bytes: &[u8], path: &str, now: Option<jiff::Timestamp>) -> Vec<Piece> {
    match class {
        EntryClass::KubectlText { hint, standalone } => {
            let read = text::read(bytes, *hint, now, path);
            if *standalone && !read.recognized {
                return vec![Piece::Problem(ReadProblem::NoKubectlOutput {
                    path: path.to_owned(),
                    looked_for: text::LOOKED_FOR.join("; "),
                })];
            }
            let mut pieces = vec![objects_piece(read.objects.objects, read.listed_kinds, true)];
            if !read.documents.is_empty() || !read.document_kinds.is_empty() {
                pieces.push(objects_piece(read.documents, read.document_kinds, false));
            }
            pieces.extend(
                read.unparsable
                    .iter()
                    .map(|error| Piece::Problem(ReadProblem::Unparsable { error: error_chain(error) })),
            );
            if read.manifests > 0 {
                let count = read.manifests;
                pieces.push(Piece::Problem(ReadProblem::Manifests { path: path.to_owned(), count }));
            }
            if !read.objects.fields.is_empty() {
                pieces.push(Piece::TextFields(read.objects.fields));
            }
            if !read.container_metrics.is_empty() || !read.node_metrics.is_empty() {
                pieces.push(Piece::Metrics {
                    containers: read.container_metrics,
                    nodes: read.node_metrics,
                    errors: Vec::new(),
                });
            }
            pieces
        }
        EntryClass::EtcdCheck { node, check } => {
            parse::etcd_check(node, check, bytes, path).map(Piece::HostCheck).into_iter().collect()
        }
        class => vec![parse_one(class, bytes, path)],
    }
}

/// Parses an entry that gives one piece.
fn parse_one(class: &EntryClass, bytes: &[u8], path: &str) -> Piece {
    let problem =
        |error: parse::ParseError| Piece::Problem(ReadProblem::Unparsable { error: error_chain(&error) });
    match class {
        EntryClass::Objects { syntax, kind, api_version } => {
            let parsed = match syntax {
                Syntax::Json => parse::objects_from_json(bytes, *kind, *api_version, path),
                Syntax::Yaml => parse::objects_from_yaml(bytes, *kind, *api_version, path),
            };
            match parsed {
                Ok(parsed) => objects_piece(parsed.objects, parsed.listed_kinds, false),
                Err(error) => problem(error),
            }
        }
        EntryClass::WatchedEvents => {
            let mut objects = Vec::new();
            for line in bytes.split(|&b| b == b'\n').filter(|line| !line.trim_ascii().is_empty()) {
                match parse::watched_event(line, path) {
                    Ok(Some(object)) => objects.push(object),
                    Ok(None) => {}
                    Err(error) => return problem(error),
                }
            }
            // A watch is no list: the manifest says what the collector listed.
            objects_piece(objects, BTreeSet::new(), false)
        }
        EntryClass::PodMetrics | EntryClass::NodeMetrics => {
            let (mut containers, mut nodes, mut errors) = (Vec::new(), Vec::new(), Vec::new());
            for line in bytes.split(|&b| b == b'\n').filter(|line| !line.trim_ascii().is_empty()) {
                match parse::metrics_line(line, path) {
                    Ok(parsed) => {
                        containers.extend(parsed.containers);
                        nodes.extend(parsed.nodes);
                        errors.extend(parsed.error);
                    }
                    Err(error) => errors.push(error_chain(&error)),
                }
            }
            Piece::Metrics { containers, nodes, errors }
        }
        EntryClass::KubeletStats { node } => match serde_json::from_slice::<Value>(bytes) {
            Ok(stats) => {
                let node = stats.pointer("/node/nodeName").and_then(Value::as_str).unwrap_or(node).to_owned();
                Piece::KubeletStats { node, stats }
            }
            Err(source) => problem(parse::ParseError::Json { entry: path.to_owned(), source }),
        },
        EntryClass::ServerVersion => match parse::server_version(bytes, path) {
            Ok(Some(version)) => Piece::ServerVersion(version),
            Ok(None) => Piece::Problem(ReadProblem::NoGitVersion { path: path.to_owned() }),
            Err(error) => problem(error),
        },
        EntryClass::HelmReleases => {
            match serde_json::from_slice::<kubesnap_shared::helm::HelmReleases>(bytes) {
                Ok(file) => Piece::HelmReleases(file.releases),
                Err(source) => problem(parse::ParseError::Json { entry: path.to_owned(), source }),
            }
        }
        EntryClass::FailedRequests => Piece::Failures(parse::failed_requests(bytes)),
        EntryClass::PluginResults { plugin } => match parse::plugin_results(plugin, bytes, path) {
            Ok(result) => Piece::PluginResult(result),
            Err(error) => problem(error),
        },
        EntryClass::CollectorErrors { scope, namespace, list } => {
            match parse::collector_errors(bytes, scope, namespace.as_deref(), *list, path) {
                Ok(failures) => Piece::Failures(failures),
                Err(error) => problem(error),
            }
        }
        _ => Piece::Problem(ReadProblem::NothingToParse { path: path.to_owned() }),
    }
}

/// Splits events out of the objects (they go to `model.events` only) and notes the newest
/// time the objects record.
fn objects_piece(objects: Vec<Object>, listed_kinds: BTreeSet<String>, text: bool) -> Piece {
    let mut newest = parse::Times::default();
    let mut events = Vec::new();
    let mut kept = Vec::with_capacity(objects.len());
    for object in objects {
        newest = newest.max(parse::timestamps(&object));
        if object.kind == "Event" {
            if let Some(event) = Event::from_object(&object) {
                newest.observed = newest.observed.max(event.last_seen);
                events.push(event);
            }
        } else {
            kept.push(object);
        }
    }
    Piece::Objects { objects: kept, events, newest, listed_kinds, text }
}

/// An error and its sources, `: `-separated.
pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
