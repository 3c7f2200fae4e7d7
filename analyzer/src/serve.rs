//! `kubesnap-analyze serve BUNDLE`: the bundle as a read-only Kubernetes API, so that kubectl
//! (and anything else that speaks the API) reads it as it would read the cluster at capture time.
//!
//! The bundle is loaded once into the [`ClusterModel`]; the API answers from it: discovery
//! (aggregated and legacy), `get` and `list` with selectors, server-side tables with the API
//! server's columns, logs (read from the bundle on demand: the model keeps only their scan),
//! events, and the metrics API from the last sample. Everything else (writes, exec,
//! port-forward, proxies) gets a Kubernetes `Status` that says why, never a hang.
//!
//! Security: the server binds 127.0.0.1 unless `--address` says otherwise, speaks only TLS with
//! a certificate signed by a CA generated for this run (written into the kubeconfig, never to
//! disk on its own), and answers only requests that carry the run's random bearer token.

mod api;
mod builtin;
mod catalog;
mod discovery;
mod kubeconfig;
mod logs;
mod select;
mod server;
mod status;
mod table;
mod tls;

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Command;

use anyhow::Context;

use crate::exit_codes;

/// Serve a bundle to kubectl as a read-only Kubernetes API
///
/// Loads the bundle (any format the analyzer reads) and answers kubectl as the cluster's API
/// server would have at capture time: `get` (tables, -o wide/json/yaml/jsonpath/name, label and
/// field selectors, -A, `get all`), `describe`, `logs`, `get events`, `top`, `api-resources`,
/// `version`. Ages are computed against the bundle's capture time, so the bundle reads as it
/// looked when captured. Writes, exec, port-forward and what the bundle did not capture are
/// answered with an error that says why.
///
/// The API listens on 127.0.0.1 (another address only with --address) over TLS, with a CA made
/// for this run, and a random bearer token; both are in the kubeconfig it writes.
#[derive(Debug, clap::Args)]
#[command(max_term_width = 100, after_long_help = EXAMPLES)]
pub(crate) struct ServeArgs {
    /// The bundle to serve: an archive (.tar.gz, .tar.xz, .tar) or a folder
    #[arg(value_name = "BUNDLE")]
    bundle: PathBuf,

    /// Where to write the kubeconfig [default: a private temporary file, removed on exit]
    ///
    /// It holds the server's address, its CA and the bearer token: whoever reads it can read the
    /// bundle through the API while it runs. It is written readable by its owner only.
    #[arg(long, value_name = "FILE")]
    kubeconfig_out: Option<PathBuf>,

    /// The address to listen on [default: 127.0.0.1]
    ///
    /// Anything but a loopback address exposes the bundle to the network (still behind TLS and
    /// the token): give it only on purpose.
    #[arg(long, value_name = "IP")]
    address: Option<IpAddr>,

    /// The port to listen on [default: a free port]
    #[arg(long, value_name = "PORT")]
    port: Option<u16>,

    /// Start a shell ($SHELL, else /bin/sh) with KUBECONFIG set; serving ends when it exits
    #[arg(long, conflicts_with = "command")]
    shell: bool,

    /// Run one command with KUBECONFIG set (after `--`); serving ends when it exits, with its
    /// exit code
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,

    /// More log output on stderr (-v info: every request, -vv debug); RUST_LOG overrides
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,

    /// Print only errors
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

const EXAMPLES: &str = "\
Examples:
  kubesnap-analyze serve bundle.tar.gz -- kubectl get pods -A
  kubesnap-analyze serve bundle.tar.gz --shell
  kubesnap-analyze serve bundle.tar.gz --kubeconfig-out kc.yaml
      then, until Ctrl-C: KUBECONFIG=kc.yaml kubectl get events -A";

/// Loads the bundle, starts the API and runs the command, the shell, or until Ctrl-C.
pub(crate) fn run(args: &ServeArgs) -> anyhow::Result<u8> {
    let model = crate::cli::load_bundle(
        &args.bundle,
        kubesnap_shared::Limits::default(),
        crate::load::DEFAULT_MAX_PARSED_ENTRY,
    )?;
    let api = api::Api::new(model, args.bundle.clone());
    let address = args.address.unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("failed to start the server's runtime")?;
    let identity = tls::Identity::generate(address).context("failed to generate the TLS certificate")?;
    let token =
        tls::random_token().map_err(|_| anyhow::anyhow!("failed to draw the bearer token from the OS"))?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind((address, args.port.unwrap_or(0))))
        .with_context(|| format!("failed to listen on {address}:{}", args.port.unwrap_or(0)))?;
    let local = listener.local_addr().context("failed to read the listening address")?;
    let server_url = format!("https://{}", local);
    let config = kubeconfig::render(&server_url, &identity.ca_pem, &token, api.default_namespace());
    let (kubeconfig_path, temporary) = match &args.kubeconfig_out {
        Some(path) => (path.clone(), None),
        None => {
            let dir = kubeconfig::private_dir().context("failed to create a private temporary folder")?;
            (dir.join("kubeconfig"), Some(dir))
        }
    };
    kubeconfig::write_private(&kubeconfig_path, &config)
        .with_context(|| format!("failed to write the kubeconfig {}", kubeconfig_path.display()))?;
    let tls_config = identity.server_config().context("failed to set up TLS")?;
    runtime.spawn(server::serve(listener, tls_config, api, token));
    if !args.quiet {
        let _ = writeln!(
            std::io::stderr().lock(),
            "kubesnap-analyze: serving {} read-only at {server_url} (ages as at capture time)\n  export KUBECONFIG={}",
            args.bundle.display(),
            kubeconfig_path.display()
        );
    }
    let outcome = if !args.command.is_empty() || args.shell {
        let mut command = if args.shell {
            Command::new(std::env::var_os("SHELL").unwrap_or_else(|| "/bin/sh".into()))
        } else {
            let mut command = Command::new(&args.command[0]);
            command.args(&args.command[1..]);
            command
        };
        command.env("KUBECONFIG", &kubeconfig_path);
        let program = if args.shell { "the shell".to_owned() } else { format!("`{}`", args.command[0]) };
        match command.status() {
            Ok(status) => {
                Ok(status.code().and_then(|code| u8::try_from(code).ok()).unwrap_or(exit_codes::ERROR))
            }
            Err(error) => Err(anyhow::Error::new(error).context(format!("failed to run {program}"))),
        }
    } else {
        runtime.block_on(async {
            tokio::signal::ctrl_c().await.context("failed to wait for Ctrl-C")?;
            Ok(exit_codes::OK)
        })
    };
    if let Some(dir) = temporary {
        let _ = std::fs::remove_dir_all(dir);
    }
    runtime.shutdown_background();
    outcome
}
