//! The command line of `kubesnap-gen-bundle`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;

use crate::generate::{Config, generate};

/// Writes a realistic native kubesnap bundle of a cluster of any size, deterministic from a seed.
///
/// The bundle holds every pod, its owners, Services, Endpoints and EndpointSlices, ConfigMaps,
/// sanitized Secrets, PVCs and PVs, Nodes, Namespaces, Events and the watched events, the
/// container logs (current and previous), metrics samples and kubelet stats, with the failure
/// scenarios (CrashLoopBackOff, OOMKilled, ImagePullBackOff, CreateContainerConfigError,
/// unschedulable, evicted, a memory leak, a Service without endpoints, a Pending PVC, a NotReady
/// node) at fixed small rates. The same arguments give the same bundle content.
#[derive(Debug, Parser)]
#[command(name = "kubesnap-gen-bundle", version)]
struct Args {
    /// Pods in total (kube-system's included).
    #[arg(long, default_value_t = 1_000)]
    pods: u64,
    /// Bytes of container logs in total: 200MB, 2GB, 512MiB, ...
    #[arg(long, default_value = "200MB", value_parser = parse_size)]
    log_bytes: u64,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Application namespaces [default: pods / 100, at least 1].
    #[arg(long)]
    namespaces: Option<u64>,
    /// Nodes [default: pods / 50, at least 1].
    #[arg(long)]
    nodes: Option<u64>,
    /// Where to write the bundle (`.tar.gz`).
    #[arg(short = 'o', long)]
    output: PathBuf,
    /// gzip level, 0–9. The collector writes level 6; 1 is much faster for quick runs.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(0..=9))]
    compression: u32,
}

/// Entry point of `kubesnap-gen-bundle`.
pub fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr().lock(), "error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    let mut config = Config::sized(args.pods, args.log_bytes, args.seed);
    config.namespaces = args.namespaces.unwrap_or(config.namespaces);
    config.nodes = args.nodes.unwrap_or(config.nodes);
    config.compression = args.compression;
    let started = Instant::now();
    // Written beside the target and renamed at the end, so a killed run leaves no bundle that
    // looks complete.
    let partial = args.output.with_extension("partial");
    let file = File::create(&partial).with_context(|| format!("failed to create {}", partial.display()))?;
    let (out, summary) = generate(&config, BufWriter::with_capacity(1 << 20, file))
        .with_context(|| format!("failed to write the bundle {}", partial.display()))?;
    let file = out.into_inner().map_err(|error| error.into_error()).context("failed to flush the bundle")?;
    file.sync_all().context("failed to sync the bundle")?;
    std::fs::rename(&partial, &args.output)
        .with_context(|| format!("failed to rename {} to {}", partial.display(), args.output.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let compressed = std::fs::metadata(&args.output).map(|m| m.len()).unwrap_or(0);
    let faults: Vec<String> = summary.faults.iter().map(|(fault, n)| format!("{fault} {n}")).collect();
    let _ = writeln!(
        std::io::stderr().lock(),
        "wrote {}: {} pods, {} namespaces, {} nodes, {} entries, {:.1} MB uncompressed ({} logs, {:.1} MB), {:.1} MB compressed, in {seconds:.1} s ({:.0} MB/s uncompressed)\nfaults: {}",
        args.output.display(),
        summary.pods,
        summary.namespaces,
        summary.nodes,
        summary.entries,
        summary.bytes as f64 / 1e6,
        summary.log_files,
        summary.log_bytes as f64 / 1e6,
        compressed as f64 / 1e6,
        summary.bytes as f64 / 1e6 / seconds.max(1e-9),
        faults.join(", "),
    );
    Ok(())
}

/// Byte sizes as both programs take them (`200MB`, `2GB`, `512KiB`).
fn parse_size(text: &str) -> Result<u64, String> {
    kubesnap_shared::bytesize::parse(text).map_err(|err| err.to_string())
}
