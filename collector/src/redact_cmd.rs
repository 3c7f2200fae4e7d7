//! `kubesnap-collect redact`: the collector's redaction applied to what already exists, so
//! that people can re-redact a bundle (with more rules) before passing it on, or redact a log
//! or a manifest they are about to paste into a ticket.
//!
//! Inputs: stdin (to stdout), a file, a folder (mirrored into a new folder), or a native
//! bundle (`.tar.gz`, `.tar.xz`, `.tar` or unpacked), read through `kubesnap_shared::Bundle`
//! and written through `BundleWriter` as a new bundle with every entry re-redacted and the
//! manifest's redaction report updated (the original counts are kept and the new ones added).
//!
//! Memory is bounded whatever the input: a file or entry up to [`MAX_WHOLE_BYTES`] is redacted
//! whole; a larger text is streamed in batches of lines (a line cut at [`MAX_LINE_BYTES`], the
//! cut recorded), a larger JSON document is redacted as an object up to [`MAX_JSON_BYTES`]
//! (the analyzer's `--max-parse-size`) and left out above it, since as text its Secret values
//! would pass.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use kubesnap_shared::layout::{self, EntryKind};
use kubesnap_shared::manifest::Manifest;
use kubesnap_shared::reader::{Container, strip_root};
use kubesnap_shared::redact::{Counts, Redactor};
use kubesnap_shared::writer::BundleHeader;
use kubesnap_shared::{Bundle, BundleWriter, Limits};
use serde_json::{Value, json};

use crate::redaction::{self, TokenArgs};

/// Files and entries up to this size are read and redacted whole.
const MAX_WHOLE_BYTES: u64 = 64 << 20;
/// The largest JSON document redacted as an object (the analyzer's `--max-parse-size`).
const MAX_JSON_BYTES: u64 = 512 << 20;
/// The longest line a streamed text keeps; the rest of a longer line is left out.
const MAX_LINE_BYTES: usize = 8 << 20;
/// A streamed text is redacted in batches of whole lines of about this size, so that a
/// secret written over several lines (a PEM block) is redacted in one piece.
const BATCH_BYTES: usize = 4 << 20;
/// How far a batch grows to close a PEM block it opened.
const MAX_BATCH_BYTES: usize = 64 << 20;
/// How much of a file tells whether it is binary (JSON and text never hold a NUL byte).
const SNIFF_BYTES: usize = 64 << 10;

/// Redact secrets from stdin, a file, a folder or an existing bundle.
///
/// Applies the same rules as a collection (built-in, plus `--redact-rules`). Text goes from
/// stdin to stdout; a file is written to `--output` or stdout; a folder is mirrored into the new
/// folder `--output`; a bundle is written as the new bundle `--output` with every entry
/// re-redacted and the manifest's redaction report updated.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RedactArgs {
    /// What to redact: a file, a folder or a bundle; `-` or nothing reads stdin.
    #[arg(value_name = "INPUT")]
    pub(crate) input: Option<PathBuf>,

    /// Where to write: a file for a file or stdin (default: stdout), a new folder for a folder,
    /// a new `.tar.gz` for a bundle.
    #[arg(short, long, value_name = "PATH")]
    pub(crate) output: Option<PathBuf>,

    /// Add the redaction rules of this file to the built-in ones (see docs/redaction.md).
    #[arg(long, value_name = "FILE")]
    pub(crate) redact_rules: Option<PathBuf>,

    /// Print the redaction report (rule, file, count) on stderr; never a value.
    #[arg(long)]
    pub(crate) report: bool,

    #[command(flatten)]
    pub(crate) tokens: TokenArgs,
}

/// Runs `kubesnap-collect redact`.
pub(crate) fn run(args: &RedactArgs) -> anyhow::Result<ExitCode> {
    let (tokens, map_target) = args.tokens.prepare()?;
    let redactor = redaction::redactor(args.redact_rules.as_deref(), tokens)?;
    let input = args.input.as_deref().filter(|path| *path != Path::new("-"));
    let report = match input {
        None => redact_stream(&redactor, &mut io::stdin().lock(), args.output.as_deref(), "-")?,
        Some(path) if path.is_dir() && is_native_folder(path) => {
            redact_bundle(&redactor, path, required(args, "bundle")?)?
        }
        Some(path) if path.is_dir() => redact_folder(&redactor, path, required(args, "folder")?)?,
        // An archive; a single text file also opens as a bundle (of one entry), but is
        // redacted as the file it is.
        Some(path) if is_archive(path) => redact_bundle(&redactor, path, required(args, "bundle")?)?,
        Some(path) => {
            let mut file = File::open(path).with_context(|| format!("failed to open {}", path.display()))?;
            redact_stream(&redactor, &mut file, args.output.as_deref(), &path.display().to_string())?
        }
    };
    print_report(&report, args.report);
    if let Some(target) = &map_target {
        let map = redactor.tokens().map(kubesnap_shared::redact::Tokens::take_map).unwrap_or_default();
        let source = input.map_or_else(|| "stdin".to_owned(), |path| path.display().to_string());
        target.write(&source, &map)?;
        let _ = writeln!(
            io::stderr(),
            "redaction map: {} token(s) in {} (keep it with its key; never send it)",
            map.len(),
            target.path().display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Counts by file, in file order.
type Report = BTreeMap<String, Counts>;

fn required<'a>(args: &'a RedactArgs, what: &str) -> anyhow::Result<&'a Path> {
    match args.output.as_deref() {
        Some(path) => Ok(path),
        None => bail!("redacting a {what} writes a new {what}: give it with --output"),
    }
}

/// A `.tar.gz`, `.tar.xz` or `.tar` the bundle reader opens.
fn is_archive(path: &Path) -> bool {
    Bundle::open(path, Limits::default()).is_ok_and(|bundle| {
        matches!(bundle.container(), Container::TarGz | Container::TarXz | Container::Tar)
    })
}

/// An unpacked native bundle: `format.json` at the top, or in the single folder at the top.
fn is_native_folder(path: &Path) -> bool {
    if path.join(layout::FORMAT_FILE).is_file() {
        return true;
    }
    let Ok(entries) = fs::read_dir(path) else { return false };
    let entries: Vec<_> = entries.flatten().collect();
    entries.len() == 1 && entries[0].path().join(layout::FORMAT_FILE).is_file()
}

fn redact_stream(
    redactor: &Redactor,
    input: &mut dyn Read,
    output: Option<&Path>,
    name: &str,
) -> anyhow::Result<Report> {
    let mut head = Vec::new();
    input
        .take(MAX_WHOLE_BYTES + 1)
        .read_to_end(&mut head)
        .with_context(|| format!("failed to read {name}"))?;
    let mut counts = Counts::default();
    let mut out: Box<dyn Write> = match output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("failed to write {}", path.display()))?,
        )),
        None => Box::new(io::stdout().lock()),
    };
    let written = if head.len() as u64 <= MAX_WHOLE_BYTES {
        let redacted = redactor.redact_bytes(&head, &mut counts);
        out.write_all(&redacted).and_then(|()| out.flush())
    } else {
        let mut rest = io::Cursor::new(head).chain(input);
        match redact_text_stream(redactor, &mut rest, &mut out, false, &mut counts) {
            Ok(cut) => {
                note_cut_lines(name, cut);
                out.flush()
            }
            Err(error) => Err(error),
        }
    };
    match written {
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe && output.is_none() => {}
        result => result.with_context(|| match output {
            Some(path) => format!("failed to write {}", path.display()),
            None => format!("failed to redact {name} to stdout"),
        })?,
    }
    Ok(BTreeMap::from([(name.to_owned(), counts)]))
}

fn note_cut_lines(name: &str, cut: u64) {
    if cut > 0 {
        let _ = writeln!(
            io::stderr(),
            "{name}: {cut} line(s) longer than {} MiB were cut to their first {} MiB",
            MAX_LINE_BYTES >> 20,
            MAX_LINE_BYTES >> 20
        );
    }
}

/// Redacts a text of any size from `input` into `output` in batches of whole lines (JSON
/// Lines line by line as objects when `json_lines`): memory is a batch, never the text. A line
/// longer than [`MAX_LINE_BYTES`] keeps its start; returns how many lines were cut.
fn redact_text_stream(
    redactor: &Redactor,
    input: &mut dyn Read,
    output: &mut dyn Write,
    json_lines: bool,
    counts: &mut Counts,
) -> io::Result<u64> {
    let mut chunk = vec![0; 256 << 10];
    let mut batch: Vec<u8> = Vec::new();
    let mut line_start = 0;
    let mut line_cut = false;
    let mut n_cut = 0;
    let flush = |batch: &mut Vec<u8>, output: &mut dyn Write, counts: &mut Counts| -> io::Result<()> {
        let redacted = if json_lines {
            redact_json_lines(redactor, batch, counts)
        } else {
            redactor.redact_bytes(batch, counts)
        };
        output.write_all(&redacted)?;
        batch.clear();
        Ok(())
    };
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        for piece in chunk[..n].split_inclusive(|&byte| byte == b'\n') {
            let (body, ends) = match piece.strip_suffix(b"\n") {
                Some(body) => (body, true),
                None => (piece, false),
            };
            let room = MAX_LINE_BYTES - (batch.len() - line_start);
            if body.len() > room {
                line_cut = true;
            }
            batch.extend_from_slice(&body[..body.len().min(room)]);
            if !ends {
                continue;
            }
            batch.push(b'\n');
            line_start = batch.len();
            n_cut += u64::from(line_cut);
            line_cut = false;
            if batch.len() >= MAX_BATCH_BYTES || (batch.len() >= BATCH_BYTES && !inside_pem_block(&batch)) {
                flush(&mut batch, output, counts)?;
                line_start = 0;
            }
        }
    }
    n_cut += u64::from(line_cut);
    flush(&mut batch, output, counts)?;
    Ok(n_cut)
}

/// Whether `text` opens a PEM block it does not close.
fn inside_pem_block(text: &[u8]) -> bool {
    let last = |needle: &[u8]| text.windows(needle.len()).rposition(|window| window == needle);
    match last(b"-----BEGIN ") {
        Some(begin) => last(b"-----END ").is_none_or(|end| end < begin),
        None => false,
    }
}

/// What to do with a file or entry of `size` bytes at `path`, from its size and first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Read and redact whole (JSON up to [`MAX_JSON_BYTES`], anything up to [`MAX_WHOLE_BYTES`]).
    Whole,
    /// Redact as a text stream.
    Stream,
    /// A JSON document too large to redact as an object: left out.
    Refuse,
}

fn plan(path: &str, size: u64, head: &[u8]) -> Plan {
    let json = path.ends_with(".json") && !head.contains(&0);
    if size <= MAX_WHOLE_BYTES || (json && size <= MAX_JSON_BYTES) {
        Plan::Whole
    } else if json {
        Plan::Refuse
    } else {
        Plan::Stream
    }
}

/// Reads `head` and then the rest of `input` (of `size` bytes in all) into one buffer sized once.
fn read_whole(head: Vec<u8>, input: &mut dyn Read, size: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0).saturating_add(1));
    bytes.extend_from_slice(&head);
    drop(head);
    input.take(size.saturating_sub(bytes.len() as u64) + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The first [`SNIFF_BYTES`] of `input`.
fn sniff(input: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    input.take(SNIFF_BYTES as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Mirrors `input` into the new folder `output`, every file redacted. Files that are not text
/// cannot be redacted and are left out, and named on stderr.
fn redact_folder(redactor: &Redactor, input: &Path, output: &Path) -> anyhow::Result<Report> {
    if output.exists() {
        bail!("{} already exists; redaction writes a new folder", output.display());
    }
    let mut report = Report::new();
    let mut skipped = Vec::new();
    let mut refused = Vec::new();
    for entry in walkdir::WalkDir::new(input).sort_by_file_name() {
        let entry = entry.with_context(|| format!("failed to walk {}", input.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry.path().strip_prefix(input).unwrap_or(entry.path());
        let name = relative.to_string_lossy().into_owned();
        let read_failed = || format!("failed to read {}", entry.path().display());
        let mut file = File::open(entry.path()).with_context(read_failed)?;
        let size = file.metadata().with_context(read_failed)?.len();
        let head = sniff(&mut file).with_context(read_failed)?;
        let whole = plan(&name, size, &head);
        if whole == Plan::Refuse {
            refused.push(name);
            continue;
        }
        if head.contains(&0) {
            skipped.push(relative.display().to_string());
            continue;
        }
        let target = output.join(relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).with_context(|| format!("failed to create {}", parent.display()))?;
        }
        let written = || format!("failed to write {}", target.display());
        let mut counts = Counts::default();
        if whole == Plan::Whole {
            let bytes = read_whole(head, &mut file, size).with_context(read_failed)?;
            if bytes.contains(&0) {
                skipped.push(relative.display().to_string());
                continue;
            }
            let redacted = redact_entry(redactor, &name, &bytes, &mut counts);
            fs::write(&target, &redacted).with_context(written)?;
        } else {
            let mut out = BufWriter::new(File::create(&target).with_context(written)?);
            let mut rest = io::Cursor::new(head).chain(&mut file);
            let cut =
                redact_text_stream(redactor, &mut rest, &mut out, name.ends_with(".jsonl"), &mut counts)
                    .with_context(written)?;
            out.flush().with_context(written)?;
            note_cut_lines(&name, cut);
        }
        report.insert(relative.display().to_string(), counts);
    }
    if !refused.is_empty() {
        let _ = writeln!(
            io::stderr(),
            "left out {} JSON file(s) larger than the {} MiB redacted as an object: {}",
            refused.len(),
            MAX_JSON_BYTES >> 20,
            refused.join(", ")
        );
    }
    if !skipped.is_empty() {
        let mut stderr = io::stderr().lock();
        let _ = writeln!(
            stderr,
            "left out {} binary file(s) that cannot be redacted: {}",
            skipped.len(),
            skipped.join(", ")
        );
    }
    Ok(report)
}

/// Redacts one file by what it holds: JSON objects and Lists as objects, JSON Lines line by
/// line, everything else as text. Unchanged content comes back byte for byte.
fn redact_entry<'b>(
    redactor: &Redactor,
    path: &str,
    bytes: &'b [u8],
    counts: &mut Counts,
) -> std::borrow::Cow<'b, [u8]> {
    if path.ends_with(".jsonl") {
        return redact_json_lines(redactor, bytes, counts);
    }
    if path.ends_with(".json")
        && let Ok(mut value) = serde_json::from_slice::<Value>(bytes)
    {
        let mut inner = Counts::default();
        redactor.redact_object(&mut value, &mut inner);
        if inner.is_empty() {
            return std::borrow::Cow::Borrowed(bytes);
        }
        counts.merge(&inner);
        let mut out = serde_json::to_vec(&value).unwrap_or_default();
        if bytes.ends_with(b"\n") {
            out.push(b'\n');
        }
        return std::borrow::Cow::Owned(out);
    }
    redactor.redact_bytes(bytes, counts)
}

fn redact_json_lines<'b>(
    redactor: &Redactor,
    bytes: &'b [u8],
    counts: &mut Counts,
) -> std::borrow::Cow<'b, [u8]> {
    let before = counts.total();
    let mut out = Vec::with_capacity(bytes.len());
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let (body, newline) = match line.strip_suffix(b"\n") {
            Some(body) => (body, true),
            None => (line, false),
        };
        match serde_json::from_slice::<Value>(body) {
            Ok(mut value) => {
                let mut inner = Counts::default();
                redactor.redact_object(&mut value, &mut inner);
                if inner.is_empty() {
                    out.extend_from_slice(body);
                } else {
                    counts.merge(&inner);
                    out.extend_from_slice(&serde_json::to_vec(&value).unwrap_or_default());
                }
            }
            Err(_) => out.extend_from_slice(&redactor.redact_bytes(body, counts)),
        }
        if newline {
            out.push(b'\n');
        }
    }
    if counts.total() == before { std::borrow::Cow::Borrowed(bytes) } else { std::borrow::Cow::Owned(out) }
}

/// Reads a native bundle twice (the manifest comes last, but the writer needs its options
/// first) and writes a new one with every entry re-redacted.
fn redact_bundle(redactor: &Redactor, input: &Path, output: &Path) -> anyhow::Result<Report> {
    let bundle = Bundle::open(input, Limits::default())
        .with_context(|| format!("failed to open bundle {}", input.display()))?;
    let first = bundle
        .read::<kubesnap_shared::Error>(|_| Ok(()))
        .with_context(|| format!("failed to read bundle {}", input.display()))?;
    let (Some(root), Some(format)) = (first.native_root.clone(), first.format.clone()) else {
        bail!(
            "{} is not a kubesnap bundle (no format.json); unpack it and redact the folder instead",
            input.display()
        );
    };
    let Some(manifest) = first.manifest.clone() else {
        bail!(
            "bundle {} has no readable manifest.json; unpack it and redact the folder instead",
            input.display()
        );
    };
    if fs::canonicalize(output).ok() == fs::canonicalize(input).ok() {
        bail!("the output would overwrite the input {}", input.display());
    }
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(output)
        .with_context(|| format!("failed to create {} (it must not exist yet)", output.display()))?;
    let root = if root.is_empty() { bundle_name(output) } else { root };
    let mut writer =
        BundleWriter::new(BufWriter::new(file), header(&manifest, &format.tool, &root, redactor))
            .with_context(|| format!("failed to start bundle {}", output.display()))?;
    if let Ok(finished_at) = manifest.finished_at.parse::<jiff::Timestamp>() {
        writer.set_finished_at(finished_at);
    }
    let native_root = first.native_root.clone().unwrap_or_default();
    let mut report = Report::new();
    let mut left_out = Vec::new();
    let second = bundle.read::<anyhow::Error>(|mut entry| {
        let Some(relative) = strip_root(&native_root, entry.path()).map(str::to_owned) else { return Ok(()) };
        if matches!(layout::classify(&relative), EntryKind::Format | EntryKind::Manifest) {
            return Ok(());
        }
        let read_failed = || format!("failed to read {relative}");
        let size = entry.size();
        let head = sniff(&mut entry).with_context(read_failed)?;
        let collected_cut = manifest.file(&relative).and_then(|record| record.truncation.clone());
        let mut counts = Counts::default();
        match plan(&relative, size, &head) {
            Plan::Refuse => {
                left_out.push(format!(
                    "the source bundle's entry {relative} ({size} bytes) is a JSON document larger than the {} MiB redacted as an object; left out",
                    MAX_JSON_BYTES >> 20
                ));
                return Ok(());
            }
            Plan::Whole => {
                let bytes = read_whole(head, &mut entry, size).with_context(read_failed)?;
                let redacted = redact_entry(redactor, &relative, &bytes, &mut counts);
                match &collected_cut {
                    Some(truncation) => writer.add_truncated(&relative, &redacted, truncation),
                    None => writer.add(&relative, &redacted),
                }
                .with_context(|| format!("failed to write {relative}"))?;
            }
            Plan::Stream => {
                let mut spool = tempfile::tempfile().context("failed to create a temporary file")?;
                let mut rest = io::Cursor::new(head).chain(&mut entry);
                let mut out = BufWriter::new(&mut spool);
                let cut = redact_text_stream(redactor, &mut rest, &mut out, relative.ends_with(".jsonl"), &mut counts)
                    .with_context(read_failed)?;
                out.flush().context("failed to write a temporary file")?;
                drop(out);
                let spooled = spool.stream_position().context("failed to read a temporary file")?;
                spool.rewind().context("failed to read a temporary file")?;
                let line_cap = (cut > 0).then(|| {
                    format!("lines: {cut} line(s) longer than {} MiB cut by redaction", MAX_LINE_BYTES >> 20)
                });
                let truncation = match (&collected_cut, line_cap) {
                    (Some(cap), Some(lines)) => Some(format!("{cap}; {lines}")),
                    (cap, lines) => cap.clone().or(lines),
                };
                writer
                    .add_reader_truncated(&relative, spooled, io::BufReader::new(spool), truncation.as_deref())
                    .with_context(|| format!("failed to write {relative}"))?;
            }
        }
        counts.record(&mut writer, &relative);
        report.insert(relative, counts);
        Ok(())
    })?;
    for failure in &manifest.failures {
        writer.record_failure(failure.clone());
    }
    for previous in &manifest.redactions {
        writer.record_redactions(&previous.rule, &previous.file, previous.count);
    }
    let mut reasons = manifest.incomplete_reasons.clone();
    reasons.extend(left_out);
    if let Some(error) = &second.stream_error {
        reasons.push(format!("the source bundle ended early while re-redacting it: {error}"));
    }
    for rejection in &second.rejected {
        reasons.push(format!(
            "the source bundle's entry {} was refused: {:?}",
            rejection.entry, rejection.reason
        ));
    }
    let finished = if manifest.complete && reasons.is_empty() {
        writer.finish()
    } else {
        writer.finish_incomplete(reasons)
    };
    let mut out = finished.with_context(|| format!("failed to finish bundle {}", output.display()))?;
    out.flush().with_context(|| format!("failed to write {}", output.display()))?;
    Ok(report)
}

/// The new bundle's header: the original's, with a record of this re-redaction in the options.
fn header(
    manifest: &Manifest,
    tool: &kubesnap_shared::manifest::Tool,
    root: &str,
    redactor: &Redactor,
) -> BundleHeader {
    let mut options = manifest.options.clone();
    let extra: Vec<&str> = redactor.extra_rule_names().collect();
    options.insert(
        "re-redacted".to_owned(),
        json!({
            "by": format!("kubesnap-collect {}", env!("CARGO_PKG_VERSION")),
            "extra-rules": extra,
            "mode": if redactor.tokens().is_some() { "tokens" } else { "mask" },
        }),
    );
    BundleHeader {
        root: root.to_owned(),
        tool: tool.clone(),
        cluster: manifest.cluster.clone(),
        options,
        started_at: manifest.started_at.parse().unwrap_or_else(|_| jiff::Timestamp::now()),
        compression: 6,
    }
}

/// `out/prod.redacted.tar.gz` → `prod.redacted`.
fn bundle_name(output: &Path) -> String {
    let name = output.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let stem =
        [".tar.gz", ".tgz", ".tar.xz", ".tar"].iter().find_map(|ext| name.strip_suffix(ext)).unwrap_or(&name);
    let stem: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '-' })
        .collect();
    if stem.is_empty() || stem.starts_with('.') { "kubesnap-redacted".to_owned() } else { stem }
}

fn print_report(report: &Report, per_file: bool) {
    let mut total = Counts::default();
    for counts in report.values() {
        total.merge(counts);
    }
    let mut stderr = io::stderr().lock();
    if per_file {
        for (file, counts) in report {
            for (rule, n) in counts.iter() {
                let _ = writeln!(stderr, "{rule}\t{file}\t{n}");
            }
        }
    }
    let rules: Vec<String> = total.iter().map(|(rule, n)| format!("{rule} {n}")).collect();
    let n_files = report.values().filter(|counts| !counts.is_empty()).count();
    let _ = if rules.is_empty() {
        writeln!(stderr, "redacted nothing in {} file(s)", report.len())
    } else {
        writeln!(
            stderr,
            "redacted {} value(s) in {n_files} of {} file(s): {}",
            total.total(),
            report.len(),
            rules.join(", ")
        )
    };
}

#[cfg(test)]
mod tests {
    use kubesnap_shared::manifest::{ClusterInfo, Tool};

    use super::*;

    fn write_bundle(path: &Path) -> anyhow::Result<()> {
        let header = BundleHeader {
            root: "kubesnap-test".to_owned(),
            tool: Tool { name: "kubesnap-collect".to_owned(), version: "0.1.0".to_owned() },
            cluster: ClusterInfo::default(),
            options: BTreeMap::new(),
            started_at: "2026-01-01T00:00:00Z".parse()?,
            compression: 1,
        };
        let mut writer = BundleWriter::new(File::create(path)?, header)?;
        let pods = json!({"kind": "PodList", "items": [{"kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "env": [{"name": "DB_PASSWORD", "value": "hunter2x"}]}]}}]});
        writer.add("resources/core/v1/pods/default.json", pods.to_string().as_bytes())?;
        writer.add_truncated(
            "logs/default/p/c.log",
            b"connect postgres://app:Pa55w0rd@db/app\nok\n",
            "bytes",
        )?;
        writer.add(
            "events/watched.jsonl",
            b"{\"type\":\"ADDED\",\"object\":{\"message\":\"token=abc123def456\"}}\n",
        )?;
        writer.add("cluster/version.json", b"{\"gitVersion\":\"v1.33.0\"}")?;
        writer.record_redactions("secret-data", "resources/core/v1/secrets/default.json", 4);
        writer.finish()?;
        Ok(())
    }

    #[test]
    fn a_bundle_is_re_redacted_into_a_new_verified_bundle() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let input = dir.path().join("in.tar.gz");
        let output = dir.path().join("out.tar.gz");
        write_bundle(&input)?;
        let report = redact_bundle(&Redactor::builtin(), &input, &output)?;
        assert_eq!(report["resources/core/v1/pods/default.json"].get("name-value-pair"), 1);
        assert_eq!(report["logs/default/p/c.log"].get("url-credentials"), 1);
        assert_eq!(report["events/watched.jsonl"].get("key-name"), 1);
        assert!(report["cluster/version.json"].is_empty());

        let bundle = Bundle::open(&output, Limits::default())?;
        let mut contents = BTreeMap::new();
        let outcome = bundle.read::<anyhow::Error>(|mut entry| {
            let path = entry.path().to_owned();
            contents.insert(path, String::from_utf8_lossy(&entry.read_to_vec()?).into_owned());
            Ok(())
        })?;
        assert!(outcome.verified(), "checksums of the new bundle: {:?}", outcome.checksum_problems);
        let all: String = contents.values().cloned().collect();
        for secret in ["hunter2x", "Pa55w0rd", "abc123def456"] {
            assert!(!all.contains(secret), "{secret} survived");
        }
        assert_eq!(contents["kubesnap-test/cluster/version.json"], "{\"gitVersion\":\"v1.33.0\"}");
        let manifest = outcome.manifest.ok_or_else(|| anyhow::anyhow!("no manifest"))?;
        let count = |rule: &str, file: &str| {
            manifest.redactions.iter().find(|r| r.rule == rule && r.file == file).map(|r| r.count)
        };
        assert_eq!(count("secret-data", "resources/core/v1/secrets/default.json"), Some(4));
        assert_eq!(count("url-credentials", "logs/default/p/c.log"), Some(1));
        assert!(manifest.file("logs/default/p/c.log").is_some_and(|file| file.truncated));
        assert!(manifest.options.contains_key("re-redacted"));
        assert!(manifest.complete);
        Ok(())
    }

    #[test]
    fn a_bundle_re_redacted_in_token_mode_shows_one_token_per_value() -> anyhow::Result<()> {
        use kubesnap_shared::redact::Tokens;
        let dir = tempfile::tempdir()?;
        let input = dir.path().join("in.tar.gz");
        let output = dir.path().join("out.tar.gz");
        write_bundle(&input)?;
        let redactor = Redactor::builtin().with_tokens(Tokens::new([1; 32], true));
        redact_bundle(&redactor, &input, &output)?;
        let bundle = Bundle::open(&output, Limits::default())?;
        let mut all = String::new();
        let outcome = bundle.read::<anyhow::Error>(|mut entry| {
            all.push_str(&String::from_utf8_lossy(&entry.read_to_vec()?));
            Ok(())
        })?;
        for secret in ["hunter2x", "Pa55w0rd", "abc123def456"] {
            assert!(!all.contains(secret), "{secret} survived");
        }
        let map = redactor.tokens().map(Tokens::take_map).unwrap_or_default();
        assert_eq!(map.len(), 3, "{map:?}");
        for (token, value) in &map {
            assert!(all.contains(&format!(":{token}>")), "{token} of {value:?} is not in the bundle");
        }
        let options = outcome.manifest.map(|manifest| manifest.options).unwrap_or_default();
        assert_eq!(options.get("re-redacted").map(|value| &value["mode"]), Some(&json!("tokens")));
        Ok(())
    }

    #[test]
    fn a_bundle_output_must_be_new() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let input = dir.path().join("in.tar.gz");
        write_bundle(&input)?;
        let error = redact_bundle(&Redactor::builtin(), &input, &input).err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some(format!("the output would overwrite the input {}", input.display()).as_str())
        );
        Ok(())
    }

    #[test]
    fn a_folder_is_mirrored_with_text_redacted_and_binaries_left_out() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let input = dir.path().join("in");
        fs::create_dir_all(input.join("sub"))?;
        fs::write(input.join("app.env"), "API_KEY=k3y-0123456789\nPORT=80\n")?;
        fs::write(input.join("sub/secret.json"), r#"{"kind":"Secret","data":{"a":"YWJj"}}"#)?;
        fs::write(input.join("blob.bin"), [0u8, 1, 2])?;
        let output = dir.path().join("out");
        let report = redact_folder(&Redactor::builtin(), &input, &output)?;
        assert_eq!(fs::read_to_string(output.join("app.env"))?, "API_KEY=<redacted:key-name>\nPORT=80\n");
        assert_eq!(
            fs::read_to_string(output.join("sub/secret.json"))?,
            r#"{"data":{"a":"<redacted: 3 bytes>"},"kind":"Secret"}"#
        );
        assert!(!output.join("blob.bin").exists());
        assert_eq!(report.len(), 2);
        Ok(())
    }

    #[test]
    fn json_lines_keep_unredacted_lines_byte_for_byte() {
        let input = b"{\"b\":1, \"a\":2}\n{\"password\":\"Pa55w0rd\"}\nnot json token=abc123def\n";
        let mut counts = Counts::default();
        let out = redact_json_lines(&Redactor::builtin(), input, &mut counts);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "{\"b\":1, \"a\":2}\n{\"password\":\"<redacted:key-name>\"}\nnot json token=<redacted:key-name>\n"
        );
        assert_eq!(counts.get("key-name"), 2);
    }

    #[test]
    fn bundle_names_come_from_the_output_file() {
        assert_eq!(bundle_name(Path::new("x/prod.redacted.tar.gz")), "prod.redacted");
        assert_eq!(bundle_name(Path::new(".tar.gz")), "kubesnap-redacted");
    }
}
