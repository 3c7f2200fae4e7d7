//! `kubesnap-analyze diff OLD NEW`: the arguments, loading and analyzing both bundles, writing
//! `diff.html`, `diff.md` and `diff.json`, and the summary on stderr.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::ValueEnum;

use super::{Analyzed, BundleDiff, Verdict};
use crate::exit_codes;

/// Compare two bundles of one cluster: what changed, and the findings that came with it.
///
/// Loads and analyzes OLD and NEW (any formats the analyzer reads, archives or folders) and
/// writes diff.html (self-contained), diff.md (for a ticket) and diff.json (for machines): the
/// objects added, removed and changed field by field (churn left out, Secret values never shown),
/// the findings new, resolved and persisting, the rollouts, node changes and events in between,
/// and a summary that puts each change next to the findings that appeared with it. It says
/// loudly when the bundles look like two different clusters. See docs/diff.md.
#[derive(Debug, clap::Args)]
#[command(max_term_width = 100, after_long_help = EXAMPLES)]
pub(crate) struct DiffArgs {
    /// The earlier bundle: an archive (.tar.gz, .tar.xz, .tar) or a folder
    #[arg(value_name = "OLD")]
    old: PathBuf,

    /// The later bundle: an archive (.tar.gz, .tar.xz, .tar) or a folder
    #[arg(value_name = "NEW")]
    new: PathBuf,

    /// Where to write the outputs [default: ./kubesnap-diff-<OLD name>-<NEW name>/]
    ///
    /// `-` prints one output to stdout instead: the Markdown, or the one chosen with --format.
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,

    /// Which outputs to write (comma-separated or repeated) [default: html,md,json]
    #[arg(long, value_enum, value_delimiter = ',', value_name = "FORMAT")]
    format: Vec<DiffFormat>,

    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,

    /// Print only errors: no summary
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

const EXAMPLES: &str = "\
Examples:
  kubesnap-analyze diff monday.tar.gz friday.tar.gz
  kubesnap-analyze diff good.tar.gz bad.tar.gz -o - | less
  kubesnap-analyze diff bundle.tar.gz cluster-info-dump/ --format json -o out/";

/// An output of the diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum DiffFormat {
    /// diff.html: one self-contained page
    Html,
    /// diff.md: Markdown for a ticket
    Md,
    /// diff.json: for machines
    Json,
}

impl DiffFormat {
    fn file_name(self) -> &'static str {
        match self {
            DiffFormat::Html => "diff.html",
            DiffFormat::Md => "diff.md",
            DiffFormat::Json => "diff.json",
        }
    }

    fn render(self, diff: &BundleDiff) -> anyhow::Result<String> {
        Ok(match self {
            DiffFormat::Html => super::render::html(diff).context("failed to render diff.html")?,
            DiffFormat::Md => super::render::markdown(diff).context("failed to render diff.md")?,
            DiffFormat::Json => super::render::json(diff).context("failed to render diff.json")?,
        })
    }
}

/// Loads, analyzes and compares both bundles and writes the outputs.
pub(crate) fn run(args: &DiffArgs) -> anyhow::Result<u8> {
    let to_stdout = args.output.as_deref() == Some(Path::new("-"));
    let mut formats = args.format.clone();
    formats.sort();
    formats.dedup();
    if formats.is_empty() {
        formats = if to_stdout {
            vec![DiffFormat::Md]
        } else {
            vec![DiffFormat::Html, DiffFormat::Md, DiffFormat::Json]
        };
    }
    if to_stdout && formats.len() > 1 {
        anyhow::bail!("`-o -` prints one output: choose it with --format html, md or json");
    }
    let limits = kubesnap_shared::Limits::default();
    let old_model = crate::cli::load_bundle(&args.old, limits, crate::load::DEFAULT_MAX_PARSED_ENTRY)?;
    let new_model = crate::cli::load_bundle(&args.new, limits, crate::load::DEFAULT_MAX_PARSED_ENTRY)?;
    let (old_name, new_name) = (crate::cli::bundle_name(&args.old), crate::cli::bundle_name(&args.new));
    let old = Analyzed::new(&old_name, &old_model);
    let new = Analyzed::new(&new_name, &new_model);
    let diff = super::compare(&old, &new);
    if diff.identity.verdict == Verdict::Different {
        tracing::warn!(
            "these bundles look like two different clusters ({}): every difference may be the clusters', not a change",
            diff.identity.reasons.join("; ")
        );
    }
    let destination = if to_stdout {
        for format in &formats {
            crate::cli::write_stdout(format.render(&diff)?.as_bytes())?;
        }
        "stdout".to_owned()
    } else {
        let directory = args
            .output
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("kubesnap-diff-{old_name}-{new_name}")));
        std::fs::create_dir_all(&directory)
            .with_context(|| format!("failed to create the output folder {}", directory.display()))?;
        let mut written = Vec::new();
        for format in &formats {
            let path = directory.join(format.file_name());
            std::fs::write(&path, format.render(&diff)?)
                .with_context(|| format!("failed to write {}", path.display()))?;
            written.push(path.display().to_string());
        }
        written.join(", ")
    };
    if !args.quiet {
        let line = format!(
            "diff: {} changes, {} objects added, {} removed, {} changed; {} new findings, {} resolved → {destination}\n",
            diff.summary.len(),
            diff.objects.added.len(),
            diff.objects.removed.len(),
            diff.objects.changed.len(),
            diff.findings.new.len(),
            diff.findings.resolved.len(),
        );
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
    Ok(exit_codes::OK)
}
