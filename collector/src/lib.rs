//! The collector: discovery, resources, events, logs, metrics and kubelet stats, streamed into
//! one bundle through `kubesnap_shared::BundleWriter`.
//!
//! `main_impl` parses the command line, connects, opens the bundle and its writer thread, runs
//! the phases of [`collect`] under Ctrl-C and `--deadline`, finishes the bundle (complete or
//! not) and prints the summary. Every API failure becomes a manifest entry; only a cluster
//! that cannot be reached at all, or an output that cannot be written, is fatal.

mod api;
mod cli;
mod collect;
mod connect;
mod context;
mod discover;
mod events;
mod exit_codes;
mod failures;
mod helm;
mod inventory;
mod logs;
mod metrics;
mod progress;
mod redact_cmd;
mod redaction;
mod redaction_map;
mod resources;
mod sink;

use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use indicatif::HumanBytes;
use kubesnap_shared::BundleWriter;
use kubesnap_shared::layout;
use kubesnap_shared::manifest::Tool;
use kubesnap_shared::writer::BundleHeader;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, ColorChoice};
use crate::context::{Context, LogOptions, MetricsOptions, Scope};
use crate::progress::Progress;
use crate::sink::{Tally, Totals};

/// How long the phases get to flush what they hold once the run is cancelled.
const GRACE: Duration = Duration::from_secs(5);

/// Entry point of `kubesnap-collect`.
pub fn main_impl() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // `--help` and `--version` print to stdout and succeed; usage errors exit 2.
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { exit_codes::FATAL } else { exit_codes::COMPLETE });
        }
    };
    init_logging(&cli);
    let subcommand = match &cli.command {
        Some(cli::Command::Redact(args)) => Some(redact_cmd::run(args)),
        Some(cli::Command::RedactionMap(args)) => Some(redaction_map::run(args)),
        None => None,
    };
    if let Some(result) = subcommand {
        return match result {
            Ok(code) => code,
            Err(err) => {
                report_fatal(&err);
                ExitCode::from(exit_codes::FATAL)
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            report_fatal(&anyhow::Error::new(err).context("failed to start the async runtime"));
            return ExitCode::from(exit_codes::FATAL);
        }
    };
    let result = runtime.block_on(run(cli));
    // A watch or a request cut short by the grace period must not hold the process open.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            report_fatal(&err);
            ExitCode::from(exit_codes::FATAL)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    let (tokens, map_target) = cli.tokens.prepare()?;
    let redaction = redaction::Redaction::new(cli.no_redact, cli.redact_rules.as_deref(), tokens)?;
    if cli.no_redact {
        warn_no_redact();
    }
    let connection = connect::connect(&cli).await?;
    let cancel = CancellationToken::new();
    let limits = api::Limits {
        concurrency: cli.concurrency,
        qps: cli.qps,
        burst: cli.burst,
        log_qps: cli.log_qps,
        timeout: cli.request_timeout,
    };
    let gate = api::ApiGate::new(connection.client, limits, cancel.clone());
    let server = connection.cluster.server.clone().unwrap_or_default();
    // Reaching the server is checked before any file is created: no empty bundles.
    let version_text = gate
        .get_text("/version")
        .await
        .with_context(|| format!("failed to reach the Kubernetes API server at {server}"))?;
    let version: serde_json::Value = serde_json::from_str(&version_text).unwrap_or_default();
    let mut cluster = connection.cluster;
    cluster.version = version["gitVersion"].as_str().map(str::to_owned);
    cluster.platform = version["platform"].as_str().map(str::to_owned);

    let started_at = jiff::Timestamp::now();
    let stamp = started_at.strftime("%Y%m%dT%H%M%SZ").to_string();
    let root = format!("kubesnap-{}-{stamp}", connection.name);
    let output = cli.output.clone().unwrap_or_else(|| PathBuf::from(format!("{root}.tar.gz")));
    let file =
        std::fs::File::create(&output).with_context(|| format!("failed to create {}", output.display()))?;
    let bundle_name = root.clone();
    let header = BundleHeader {
        root,
        tool: Tool { name: "kubesnap-collect".to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() },
        cluster,
        options: cli.manifest_options(),
        started_at,
        compression: 6,
    };
    let writer = BundleWriter::new(BufWriter::with_capacity(256 << 10, file), header)
        .with_context(|| format!("failed to start the bundle {}", output.display()))?;
    let progress = if show_progress(&cli) { Progress::stderr() } else { Progress::hidden() };
    let concurrency = usize::try_from(cli.concurrency).unwrap_or(8);
    let (sink, sink_thread) = sink::spawn(writer, concurrency * 2, progress.clone())
        .context("failed to start the bundle writer thread")?;
    // A failed send means the writer stopped; its error is reported after the join.
    let _ = sink.add(layout::CLUSTER_VERSION.to_owned(), version_text.into_bytes(), Tally::Other).await;

    let ctx = Arc::new(Context {
        gate,
        sink: sink.clone(),
        redaction,
        scope: Scope::new(&cli.namespaces, &cli.exclude_namespaces),
        progress: progress.clone(),
        logs: LogOptions { bytes: cli.log_bytes, since: cli.since },
        metrics: MetricsOptions { duration: cli.metrics_duration, interval: cli.metrics_interval },
        concurrency,
        started_at,
    });
    let stopper = tokio::spawn(collect::stop_on_signal_or_deadline(cancel.clone(), cli.deadline));
    let collection = collect::run(Arc::clone(&ctx));
    let grace_over = async {
        cancel.cancelled().await;
        tokio::time::sleep(GRACE).await;
    };
    let mut reasons = Vec::new();
    tokio::select! {
        _result = collection => {}
        () = grace_over => reasons.push(format!("some phases did not stop within {}s and were abandoned", GRACE.as_secs())),
    }
    let stopped_by = if cancel.is_cancelled() {
        stopper.await.ok().flatten()
    } else {
        stopper.abort();
        None
    };
    reasons.splice(0..0, stopped_by);
    let _ = sink.close().await;
    drop(sink);
    let token_map = ctx.redaction.take_map();
    drop(ctx);
    let outcome = tokio::task::spawn_blocking(move || sink_thread.join())
        .await
        .context("the writer thread was lost")??;
    progress.finish();

    if let Some(err) = &outcome.error {
        reasons.push(format!("writing the bundle failed: {err}"));
    }
    let complete = reasons.is_empty();
    let finished =
        if complete { outcome.writer.finish() } else { outcome.writer.finish_incomplete(reasons.clone()) };
    let mut out = finished.with_context(|| format!("failed to finish the bundle {}", output.display()))?;
    out.flush().with_context(|| format!("failed to write {}", output.display()))?;
    drop(out);
    if let Some(target) = &map_target {
        target.write(&bundle_name, &token_map)?;
    }
    if !cli.quiet {
        print_summary(&output, &outcome.totals, &reasons);
        if let Some(target) = &map_target {
            let _ = writeln!(
                std::io::stderr(),
                "  redaction map: {} token(s) in {} (keep it with its key; never send it)",
                token_map.len(),
                target.path().display()
            );
        }
    }
    Ok(if complete { exit_codes::COMPLETE } else { exit_codes::INCOMPLETE })
}

fn show_progress(cli: &Cli) -> bool {
    !cli.quiet && cli.verbose == 0 && !cli.no_progress && std::io::stderr().is_terminal()
}

fn init_logging(cli: &Cli) {
    let default = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        // kube-client logs every 4xx/5xx at error level; the collector records each one in
        // the manifest instead, so they are only shown from -vv on.
        (false, 0) => "warn,kube_client::client::builder=off",
        (false, 1) => "info,kube_client::client::builder=off",
        (false, 2) => "debug,hyper_util=info,rustls=info,tower=info",
        (false, _) => "trace",
    };
    // RUST_LOG, when set, overrides the verbosity flags.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}

fn warn_no_redact() {
    let _ = writeln!(
        std::io::stderr(),
        "\n\
         ********************************************************************************\n\
         WARNING: --no-redact: passwords, tokens and keys in environment variables,\n\
         annotations, ConfigMaps and logs are written AS THEY ARE. Secret values are still\n\
         dropped. Do not send this bundle outside your organisation.\n\
         ********************************************************************************\n"
    );
}

fn report_fatal(err: &anyhow::Error) {
    let _ = writeln!(std::io::stderr(), "kubesnap-collect: error: {err:#}");
}

fn print_summary(output: &Path, totals: &Totals, reasons: &[String]) {
    let size = std::fs::metadata(output).map(|m| m.len()).unwrap_or(0);
    let mut text = format!(
        "kubesnap-collect: wrote {} ({})\n  {} objects, {} logs, {} metric samples, {} failures recorded, {} values redacted, {} entries ({} uncompressed)\n",
        output.display(),
        HumanBytes(size),
        totals.objects,
        totals.logs,
        totals.samples,
        totals.failures,
        totals.redactions,
        totals.entries,
        HumanBytes(totals.bytes),
    );
    if reasons.is_empty() {
        text.push_str("  the bundle is complete\n");
    } else {
        text.push_str("  the bundle is INCOMPLETE:\n");
        for reason in reasons {
            text.push_str(&format!("    - {reason}\n"));
        }
    }
    if totals.failures > 0 {
        text.push_str("  see \"failures\" in manifest.json for what could not be collected and why\n");
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
}
