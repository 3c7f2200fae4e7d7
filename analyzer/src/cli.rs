//! The command line of `kubesnap-analyze`: parse the arguments, load the bundle, run the
//! diagnostics, write the reports, print the summary, and turn the outcome into an exit code.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use kubesnap_shared::Limits;
use kubesnap_shared::model::ClusterModel;
use rayon::prelude::*;

use crate::engine::{self, Selection};
use crate::exit_codes;
use crate::facts::Facts;
use crate::finding::Severity;
use crate::report::{self, json, model::Report, rollup, summary};
use crate::{catalog, incident, load, serve};

/// Analyze a Kubernetes support bundle offline and report what is wrong.
///
/// Reads a kubesnap bundle (or a troubleshoot support bundle, an OpenShift must-gather, sonobuoy
/// results, a `kubectl cluster-info dump`, a support-bundle-kit or RKE2 log collector bundle),
/// as an archive or an unpacked folder, or kubectl's text output pasted into a ticket, runs every
/// diagnostic in parallel, and writes report.html (self-contained, no network), report.md (for a
/// ticket) and findings.json (for machines). Nothing is sent anywhere. The same bundle always
/// gives byte-identical reports.
///
/// `kubesnap-analyze serve BUNDLE` serves the bundle to kubectl as a read-only API instead;
/// `kubesnap-analyze diff OLD NEW` compares two bundles of one cluster.
#[derive(Debug, Parser)]
#[command(
    name = "kubesnap-analyze",
    version,
    after_long_help = exit_codes::HELP,
    max_term_width = 100,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Option<Command>,

    /// The bundle to analyze: an archive (.tar.gz, .tar.xz, .tar) or a folder; or kubectl's text
    /// output (a file or a folder of files: tables, describe output, a terminal transcript)
    #[arg(required_unless_present = "list_diagnostics", value_name = "BUNDLE")]
    bundle: Option<PathBuf>,

    /// Where to write the reports [default: ./kubesnap-report-<bundle name>/]
    ///
    /// `-` prints one report to stdout instead: the Markdown, or the one chosen with --format.
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,

    /// Which reports to write (comma-separated or repeated) [default: html,md,json]
    #[arg(long, value_enum, value_delimiter = ',', value_name = "FORMAT")]
    format: Vec<Format>,

    /// Run only these diagnostics: codes or categories (repeatable)
    ///
    /// Categories: pods, workloads, performance, network, storage, logs, nodes, cluster, alerts,
    /// security. See --list-diagnostics for the codes.
    #[arg(long, value_name = "CODE|CATEGORY", value_delimiter = ',')]
    only: Vec<String>,

    /// Do not run these diagnostics: codes or categories (repeatable)
    #[arg(long, value_name = "CODE|CATEGORY", value_delimiter = ',')]
    skip: Vec<String>,

    /// Exit with code 1 when a finding is at least this severe (P0 most severe, P3 least)
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    fail_on: Option<Severity>,

    /// Roll up P2/P3 findings of one code in one namespace when more than N [default: 5]
    ///
    /// A rolled-up group is one entry of report.html and report.md with its count, worst severity,
    /// examples and the full list; it also rolls up when its code has more than 10 × N such
    /// findings in the bundle. P0 and P1 findings are never rolled up, and findings.json always
    /// lists every finding. 0 turns rollups off.
    #[arg(long, value_name = "N")]
    rollup_threshold: Option<usize>,

    /// Threads for the diagnostics [default: one per core]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,

    /// Largest single entry of the bundle, uncompressed (bytes, or 512Mi, 4Gi) [default: 4Gi]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_entry_size: Option<u64>,

    /// Largest file parsed whole (a List of objects, metrics, kubelet stats) [default: 512Mi]
    ///
    /// Such a file is held in memory while it is parsed; a larger one is skipped (the report's
    /// read problems name it) before a byte of it is read. Logs are scanned in chunks, whatever
    /// their size.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_parse_size: Option<u64>,

    /// Largest total the bundle may expand to: the decompression-bomb guard [default: 64Gi]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_total_size: Option<u64>,

    /// Most entries the bundle may hold [default: 2000000]
    #[arg(long, value_name = "N")]
    max_entries: Option<u64>,

    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    verbose: u8,

    /// Print only errors: no summary
    #[arg(short, long)]
    quiet: bool,

    /// When to color the output on stderr
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    /// List every diagnostic (code, category, severities, title) and exit
    ///
    /// With -v, print the whole catalog in Markdown: what each checks, why it matters, how to fix it.
    #[arg(long)]
    list_diagnostics: bool,
}

/// What to do with a bundle other than analyzing it.
#[derive(Debug, Subcommand)]
enum Command {
    Serve(serve::ServeArgs),
    Diff(crate::diff::command::DiffArgs),
}

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum Format {
    /// report.html: one self-contained page
    Html,
    /// report.md: Markdown for a ticket
    Md,
    /// findings.json: for machines
    Json,
}

impl Format {
    fn file_name(self) -> &'static str {
        match self {
            Format::Html => "report.html",
            Format::Md => "report.md",
            Format::Json => "findings.json",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    Severity::parse(text).ok_or_else(|| format!("`{text}` is not a severity: use P0, P1, P2 or P3"))
}

/// A limit in bytes, parsed as the collector parses its sizes (`shared::bytesize`); a limit of
/// 0 bytes would refuse every bundle, so it is refused here.
fn parse_size(text: &str) -> Result<u64, String> {
    match kubesnap_shared::bytesize::parse(text) {
        Ok(0) => Err(format!("`{text}` is no room at all: a limit must be at least one byte")),
        Ok(bytes) => Ok(bytes),
        Err(err) => Err(err.to_string()),
    }
}

/// Parses the command line and runs; clap exits on `--help`, `--version` and usage errors.
pub(crate) fn main() -> ExitCode {
    let args = Args::parse();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let (quiet, verbose) = match &args.command {
        Some(Command::Serve(serve)) => (serve.quiet, serve.verbose),
        Some(Command::Diff(diff)) => (diff.quiet, diff.verbose),
        None => (args.quiet, args.verbose),
    };
    init_tracing(quiet, verbose, color);
    let outcome = match &args.command {
        Some(Command::Serve(serve)) => serve::run(serve),
        Some(Command::Diff(diff)) => crate::diff::command::run(diff),
        None => run(&args, color),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            let _ = writeln!(io::stderr().lock(), "error: {error:#}");
            ExitCode::from(exit_codes::ERROR)
        }
    }
}

fn init_tracing(quiet: bool, verbose: u8, color: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(color)
        .with_target(false)
        .without_time()
        .try_init();
    // A panic is a bug; say where through the log rather than the default hook's raw text.
    // Diagnostics' panics are caught by the engine and reported as findings as well.
    std::panic::set_hook(Box::new(|info| tracing::error!("bug: {info}")));
}

fn run(args: &Args, color: bool) -> anyhow::Result<u8> {
    if args.list_diagnostics {
        let text = if args.verbose > 0 { catalog::markdown() } else { catalog::table() };
        write_stdout(text.as_bytes())?;
        return Ok(exit_codes::OK);
    }
    let Some(bundle) = args.bundle.as_deref() else { bail!("no bundle given") };
    let diagnostics = Selection { only: args.only.clone(), skip: args.skip.clone() }.apply()?;
    let to_stdout = args.output.as_deref() == Some(Path::new("-"));
    let mut formats = args.format.clone();
    formats.sort();
    formats.dedup();
    if formats.is_empty() {
        formats = if to_stdout { vec![Format::Md] } else { vec![Format::Html, Format::Md, Format::Json] };
    }
    if to_stdout && formats.len() > 1 {
        bail!("`-o -` prints one report: choose it with --format html, md or json");
    }

    let defaults = Limits::default();
    let limits = Limits {
        max_entry_size: args.max_entry_size.unwrap_or(defaults.max_entry_size),
        max_total_size: args.max_total_size.unwrap_or(defaults.max_total_size),
        max_entries: args.max_entries.unwrap_or(defaults.max_entries),
    };
    let started = Instant::now();
    let max_parsed_entry = args.max_parse_size.unwrap_or(load::DEFAULT_MAX_PARSED_ENTRY);
    let model = load_bundle(bundle, limits, max_parsed_entry)?;
    tracing::info!(objects = model.objects.len(), logs = model.logs.len(), elapsed = ?started.elapsed(), "bundle loaded");
    let facts = Facts::new(&model);
    let started = Instant::now();
    let analysis = engine::run_with_threads(&facts, &diagnostics, args.threads.map(usize::from))
        .context("failed to start the diagnostic threads")?;
    tracing::info!(findings = analysis.findings.len(), elapsed = ?started.elapsed(), "diagnostics ran");
    let started = Instant::now();
    // Built once: the HTML and Markdown views and findings.json show the same summary.
    let incident = incident::build(&facts, &analysis.findings);
    tracing::info!(elapsed = ?started.elapsed(), "incident summary built");
    let name = bundle_name(bundle);
    let rollups =
        rollup::Policy::with_threshold(args.rollup_threshold.unwrap_or(rollup::Policy::DEFAULT_THRESHOLD));
    let started = Instant::now();
    let view = Report::build(&facts, &analysis, &incident, &name, rollups);
    tracing::info!(elapsed = ?started.elapsed(), "report view built");

    // The formats render side by side; `collect` keeps them in the order asked for.
    let outputs = formats
        .par_iter()
        .map(|format| {
            let started = Instant::now();
            let text = match format {
                Format::Html => report::html(&view).context("failed to render report.html")?,
                Format::Md => report::markdown(&view).context("failed to render report.md")?,
                Format::Json => json::render(&facts, &analysis, &incident, &view)
                    .context("failed to render findings.json")?,
            };
            tracing::info!(report = format.file_name(), bytes = text.len(), elapsed = ?started.elapsed(), "rendered");
            Ok((*format, text))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let destination = if to_stdout {
        for (_, text) in &outputs {
            write_stdout(text.as_bytes())?;
        }
        "stdout".to_owned()
    } else {
        let directory =
            args.output.clone().unwrap_or_else(|| PathBuf::from(format!("kubesnap-report-{name}")));
        std::fs::create_dir_all(&directory)
            .with_context(|| format!("failed to create the report folder {}", directory.display()))?;
        let mut written = Vec::new();
        for (format, text) in &outputs {
            let path = directory.join(format.file_name());
            std::fs::write(&path, text).with_context(|| format!("failed to write {}", path.display()))?;
            written.push(path.display().to_string());
        }
        written.join(", ")
    };
    if !args.quiet {
        let text = summary::render(&analysis, &destination, color);
        let _ = io::stderr().lock().write_all(text.as_bytes());
    }
    let failed =
        args.fail_on.is_some_and(|threshold| analysis.findings.iter().any(|f| f.severity <= threshold));
    let shortfall = kubesnap_shared::import::shortfall(&model);
    if let Some(why) = &shortfall {
        tracing::warn!("{}", incident::not_analyzed(why));
    }
    Ok(match (failed, shortfall) {
        (true, _) => exit_codes::FINDINGS,
        (false, Some(_)) => exit_codes::NOTHING_TO_ANALYZE,
        (false, None) => exit_codes::OK,
    })
}

/// The loader's one streaming pass over the bundle.
pub(crate) fn load_bundle(
    path: &Path,
    limits: Limits,
    max_parsed_entry: u64,
) -> anyhow::Result<ClusterModel> {
    let options = load::LoadOptions { limits, max_parsed_entry, ..load::LoadOptions::default() };
    Ok(load::load(path, &options)?)
}

/// Writes to stdout; a reader that went away (`| head`) is not an error.
pub(crate) fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => {
            Err(error).context("failed to write to stdout")
        }
        _ => Ok(()),
    }
}

/// The bundle's file or folder name without its archive suffix: `prod-2025` for
/// `/tmp/prod-2025.tar.gz`.
pub(crate) fn bundle_name(path: &Path) -> String {
    let name = path
        .canonicalize()
        .ok()
        .and_then(|path| path.file_name().map(|name| name.to_string_lossy().into_owned()))
        .or_else(|| path.file_name().map(|name| name.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "bundle".to_owned());
    for suffix in [".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar"] {
        if let Some(stem) = name.strip_suffix(suffix).filter(|stem| !stem.is_empty()) {
            return stem.to_owned();
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_names_lose_their_archive_suffix() {
        assert_eq!(bundle_name(Path::new("/nonexistent/prod-2025.tar.gz")), "prod-2025");
        assert_eq!(bundle_name(Path::new("/nonexistent/must-gather.tar.xz")), "must-gather");
        assert_eq!(bundle_name(Path::new("/nonexistent/dump")), "dump");
    }

    #[test]
    fn sizes_accept_bytes_and_quantities() {
        assert_eq!(parse_size("4Gi"), Ok(4 << 30));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("500K"), Ok(500_000), "the collector's units are the analyzer's");
        assert_eq!(parse_size("1.5Mi"), Ok(3 << 19));
        assert!(parse_size("lots").is_err_and(|err| err.contains("number")));
        assert!(parse_size("0").is_err_and(|err| err.contains("at least one byte")));
    }
}
