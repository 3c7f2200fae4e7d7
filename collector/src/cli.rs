//! The command line of `kubesnap-collect`: clap derive, with each doc comment as the help text
//! (first line for `-h`, the rest for `--help`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser, Subcommand, ValueEnum};

use crate::exit_codes;
use crate::redact_cmd::RedactArgs;
use crate::redaction::TokenArgs;
use crate::redaction_map::RedactionMapArgs;

/// Capture a whole Kubernetes cluster into one support bundle (.tar.gz).
///
/// Connects like kubectl does (--kubeconfig, --context, KUBECONFIG, or the in-cluster service
/// account when run as a pod), discovers every API group, lists every listable resource, keeps
/// the events, the logs of every container, samples of the metrics API and the kubelets' stats,
/// redacts secrets before anything is written, and writes one bundle for `kubesnap-analyze`.
#[derive(Debug, Parser)]
#[command(name = "kubesnap-collect", version, after_long_help = exit_codes::HELP, args_conflicts_with_subcommands = true)]
pub(crate) struct Cli {
    /// Without a subcommand, collect the cluster.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    /// Path of the kubeconfig file to use.
    ///
    /// Without it, KUBECONFIG (which may list several files) or ~/.kube/config is read, and
    /// when there is none, the in-cluster service account of the pod.
    #[arg(long, value_name = "PATH")]
    pub(crate) kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use (default: the current context).
    #[arg(long, value_name = "NAME")]
    pub(crate) context: Option<String>,

    /// Collect only this namespace (repeatable; default: all namespaces).
    ///
    /// Cluster-scoped resources (nodes, persistent volumes, CRDs, ...) are always collected.
    #[arg(short = 'n', long = "namespace", value_name = "NAME")]
    pub(crate) namespaces: Vec<String>,

    /// Leave this namespace out (repeatable).
    #[arg(long = "exclude-namespace", value_name = "NAME")]
    pub(crate) exclude_namespaces: Vec<String>,

    /// Where to write the bundle.
    ///
    /// Default: kubesnap-<cluster>-<UTC time>.tar.gz in the current folder.
    #[arg(short = 'o', long, value_name = "PATH")]
    pub(crate) output: Option<PathBuf>,

    /// Cap of each container log, in bytes (suffixes K, M, G, Ki, Mi, Gi).
    ///
    /// The newest bytes are kept; a log that reaches the cap is marked truncated in the
    /// manifest. 0 collects no logs.
    #[arg(long, value_name = "SIZE", default_value = "2Mi", value_parser = parse_size)]
    pub(crate) log_bytes: u64,

    /// Only keep log lines newer than this (e.g. 30m, 6h, 2d; default: no time cap).
    ///
    /// A container that started before the window is marked truncated in the manifest.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) since: Option<Duration>,

    /// How long to sample the metrics API (pods and nodes); 0 disables sampling.
    ///
    /// The sampling runs while everything else is collected, and the collection waits for
    /// the window to end.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub(crate) metrics_duration: Duration,

    /// Time between two metrics samples.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    pub(crate) metrics_interval: Duration,

    /// Write secret-bearing values as they are. DANGEROUS: the bundle leaves your cluster.
    ///
    /// Secret values are dropped even then; environment variables, annotations and log lines
    /// keep their passwords, tokens and keys.
    #[arg(long)]
    pub(crate) no_redact: bool,

    /// Add the redaction rules of this file to the built-in ones (see docs/redaction.md).
    #[arg(long, value_name = "FILE", conflicts_with = "no_redact")]
    pub(crate) redact_rules: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) tokens: TokenArgs,

    /// How many API requests may be in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub(crate) concurrency: u32,

    /// Client-side rate limit: sustained API requests per second.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) qps: u32,

    /// Client-side rate limit: requests allowed in a burst above --qps.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) burst: u32,

    /// Client-side rate limit of log and kubelet stats requests, per second.
    ///
    /// The API server proxies these to each node's kubelet (no etcd read), so they have a
    /// budget of their own and --qps does not slow them; bursts of up to one second's worth.
    /// --concurrency still bounds how many requests of any kind are in flight.
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) log_qps: u32,

    /// Give up on a single API request after this long (the failure is recorded).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub(crate) request_timeout: Duration,

    /// Stop after this long and write what was collected, marked incomplete (exit code 3).
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    pub(crate) deadline: Duration,

    /// More log output on stderr (-v: info, -vv: debug, -vvv: trace); RUST_LOG overrides it.
    #[arg(short, long, action = ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,

    /// Only errors on stderr: no progress, no summary.
    #[arg(short, long)]
    pub(crate) quiet: bool,

    /// Do not draw progress bars (they are also off when stderr is not a terminal).
    #[arg(long, env = "KUBESNAP_NO_PROGRESS", value_parser = clap::builder::FalseyValueParser::new())]
    pub(crate) no_progress: bool,

    /// When to color the output.
    #[arg(long, value_name = "WHEN", default_value = "auto")]
    pub(crate) color: ColorChoice,
}

/// Subcommands beside the collection.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    Redact(RedactArgs),
    RedactionMap(RedactionMapArgs),
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl Cli {
    /// The options recorded in the manifest, by flag name. Paths of local files are kept
    /// (they say how the bundle was made); nothing secret is a flag.
    pub(crate) fn manifest_options(&self) -> std::collections::BTreeMap<String, serde_json::Value> {
        use serde_json::json;
        let mut options = std::collections::BTreeMap::new();
        options.insert("namespace".to_owned(), json!(self.namespaces));
        options.insert("exclude-namespace".to_owned(), json!(self.exclude_namespaces));
        options.insert("log-bytes".to_owned(), json!(self.log_bytes));
        options.insert("since".to_owned(), json!(self.since.map(|since| since.as_secs())));
        options.insert("metrics-duration".to_owned(), json!(self.metrics_duration.as_secs()));
        options.insert("metrics-interval".to_owned(), json!(self.metrics_interval.as_secs()));
        options.insert("redact".to_owned(), json!(!self.no_redact));
        options.insert("redact-mode".to_owned(), json!(self.tokens.redact_mode.name()));
        options.insert(
            "redact-rules".to_owned(),
            json!(self.redact_rules.as_ref().map(|path| path.display().to_string())),
        );
        options.insert("concurrency".to_owned(), json!(self.concurrency));
        options.insert("qps".to_owned(), json!(self.qps));
        options.insert("burst".to_owned(), json!(self.burst));
        options.insert("log-qps".to_owned(), json!(self.log_qps));
        options.insert("request-timeout".to_owned(), json!(self.request_timeout.as_secs_f64()));
        options.insert("deadline".to_owned(), json!(self.deadline.as_secs()));
        options
    }
}

/// Parses `90s`, `5m`, `1h30m`, `2d` (jiff's friendly format) or a plain number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let signed: jiff::SignedDuration =
        text.parse().map_err(|err| format!("not a duration (e.g. 30s, 5m, 1h30m): {err}"))?;
    Duration::try_from(signed).map_err(|_| "a duration cannot be negative".to_owned())
}

/// Parses a byte size the way both programs do (`2Mi`, `500K`, `1.5Gi`): `shared::bytesize`.
fn parse_size(text: &str) -> Result<u64, String> {
    kubesnap_shared::bytesize::parse(text).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes_parse_with_decimal_and_binary_units() {
        let cli =
            Cli::try_parse_from(["kubesnap-collect", "--log-bytes", "1.5Mi"]).map_err(|e| e.to_string());
        assert_eq!(cli.map(|cli| cli.log_bytes), Ok(3 << 19));
        let refused =
            Cli::try_parse_from(["kubesnap-collect", "--log-bytes", "12X"]).map_err(|e| e.to_string());
        assert!(refused.is_err_and(|err| err.contains("unknown unit")));
    }

    #[test]
    fn durations_parse_friendly_and_plain() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn defaults_are_the_documented_ones() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from(["kubesnap-collect"])?;
        assert_eq!(cli.metrics_duration, Duration::from_secs(60));
        assert_eq!(cli.metrics_interval, Duration::from_secs(15));
        assert_eq!(cli.log_bytes, 2 << 20);
        assert_eq!((cli.qps, cli.burst, cli.log_qps), (50, 100, 500));
        assert!(!cli.no_redact);
        let cli = Cli::try_parse_from([
            "kubesnap-collect",
            "-n",
            "a",
            "--namespace",
            "b",
            "--metrics-duration",
            "0",
        ])?;
        assert_eq!(cli.namespaces, ["a", "b"]);
        assert_eq!(cli.metrics_duration, Duration::ZERO);
        Ok(())
    }

    #[test]
    fn redact_is_a_subcommand_and_excludes_collection_flags() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from(["kubesnap-collect", "redact", "bundle.tar.gz", "-o", "clean.tar.gz"])?;
        assert!(matches!(cli.command, Some(Command::Redact(_))));
        assert!(Cli::try_parse_from(["kubesnap-collect", "-n", "x", "redact", "in.log"]).is_err());
        Ok(())
    }

    #[test]
    fn no_redact_conflicts_with_extra_rules() {
        let parsed = Cli::try_parse_from(["kubesnap-collect", "--no-redact", "--redact-rules", "r.toml"]);
        assert!(parsed.is_err());
    }
}
