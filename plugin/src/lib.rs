//! `kubectl kubesnap …`: kubesnap through kubectl's plugin mechanism.
//!
//! kubectl runs `kubectl-kubesnap` (found on PATH, where krew links it) with every argument after
//! `kubesnap`. This program turns the command into a run of the real programs installed beside
//! it — `kubesnap-collect` and `kubesnap-analyze` — so a plugin install and a plain install behave
//! the same, and replaces itself with that program (exit code, signals and terminal pass through).
//!
//! kubectl's global flags (`--kubeconfig`, `--context`, `-n`/`--namespace`) may come before the
//! command, as a kubectl user types them: `collect` connects with them; `analyze`, `serve` and
//! `diff` read a bundle offline, so a connection flag given to them is refused with the reason
//! rather than silently ignored.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// What `kubectl kubesnap --help` prints.
pub const HELP: &str = "\
kubesnap as a kubectl plugin: capture a cluster into one support bundle, analyze it offline,
serve it to kubectl, compare two captures.

Usage: kubectl kubesnap [--kubeconfig FILE] [--context NAME] [-n NAMESPACE] COMMAND [ARGS...]

Commands:
  collect   capture the cluster into one redacted bundle (kubesnap-collect)
  analyze   analyze a bundle offline and write the reports (kubesnap-analyze)
  serve     serve a bundle as a read-only API to kubectl (kubesnap-analyze serve)
  diff      what changed between two bundles (kubesnap-analyze diff)
  version   the version of the plugin

kubectl's global flags --kubeconfig, --context and -n/--namespace apply to `collect`, which
connects to the cluster like kubectl does (KUBECONFIG is honoured too). The other commands work
offline on a bundle and take no connection flag.

`kubectl kubesnap COMMAND --help` prints the command's own flags.
";

/// The programs the plugin hands its commands to; installed in the same folder.
const COLLECT: &str = "kubesnap-collect";
const ANALYZE: &str = "kubesnap-analyze";

/// What a command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// Print [`HELP`].
    Help,
    /// Print the plugin's version.
    Version,
    /// Run `program` with `args`.
    Run { program: &'static str, args: Vec<OsString> },
}

/// A command line the plugin refuses, with the reason for the user.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal(pub String);

/// kubectl's connection flags given before the command.
#[derive(Debug, Default)]
struct Connection {
    /// As flags for `kubesnap-collect`, in the order given.
    args: Vec<OsString>,
    /// The first one's name, to say which flag a command refuses.
    first: Option<&'static str>,
}

/// Reads the command line (without the program name) into a [`Plan`].
pub fn plan(args: &[OsString]) -> Result<Plan, Refusal> {
    let mut connection = Connection::default();
    let mut rest = args.iter();
    let command = loop {
        let Some(arg) = rest.next() else { return Ok(Plan::Help) };
        let Some(text) = arg.to_str() else {
            return Err(Refusal(format!("{} is not a command of kubectl kubesnap", arg.to_string_lossy())));
        };
        match text {
            "-h" | "--help" | "help" => return Ok(Plan::Help),
            "--version" | "version" => return Ok(Plan::Version),
            _ if text.starts_with('-') => connection.take(text, &mut rest)?,
            _ => break text,
        }
    };
    let rest: Vec<OsString> = rest.cloned().collect();
    let offline = |subcommand: Option<&str>| -> Result<Plan, Refusal> {
        if let Some(flag) = connection.first {
            return Err(Refusal(format!(
                "`kubectl kubesnap {command}` works offline on a bundle: {flag} has no meaning for it \
                 (only `collect` connects to a cluster)"
            )));
        }
        let mut args: Vec<OsString> = subcommand.map(OsString::from).into_iter().collect();
        args.extend(rest.iter().cloned());
        Ok(Plan::Run { program: ANALYZE, args })
    };
    match command {
        "collect" => {
            let mut args = connection.args;
            args.extend(rest.iter().cloned());
            Ok(Plan::Run { program: COLLECT, args })
        }
        "analyze" => offline(None),
        "serve" => offline(Some("serve")),
        "diff" => offline(Some("diff")),
        other => Err(Refusal(format!(
            "`{other}` is not a command of kubectl kubesnap: use collect, analyze, serve, diff or version"
        ))),
    }
}

impl Connection {
    /// Takes one global flag (and its value) from the front of the command line: `--name VALUE`,
    /// `--name=VALUE`, and for the namespace `-n VALUE`, `-nVALUE`, `-n=VALUE`, as kubectl reads them.
    fn take<'a>(&mut self, flag: &str, rest: &mut impl Iterator<Item = &'a OsString>) -> Result<(), Refusal> {
        let (name, inline) = match flag.strip_prefix("--") {
            Some(long) => long.split_once('=').map_or((long, None), |(name, value)| (name, Some(value))),
            None => match flag.strip_prefix("-n") {
                Some("") => ("namespace", None),
                Some(value) => ("namespace", Some(value.strip_prefix('=').unwrap_or(value))),
                None => (flag, None),
            },
        };
        let spelling = match name {
            "kubeconfig" => "--kubeconfig",
            "context" => "--context",
            "namespace" => "--namespace",
            _ => {
                return Err(Refusal(format!(
                    "{flag} is not one of the kubectl flags kubesnap understands before a command \
                     (--kubeconfig, --context, -n/--namespace); put command flags after the command"
                )));
            }
        };
        let value = match inline {
            Some(value) => OsString::from(value),
            None => rest.next().cloned().ok_or_else(|| Refusal(format!("{spelling} needs a value")))?,
        };
        self.first.get_or_insert(spelling);
        self.args.push(spelling.into());
        self.args.push(value);
        Ok(())
    }
}

/// Where `program` is installed: beside this plugin (a krew install or a release archive), else
/// on PATH.
pub fn locate(program: &str) -> Option<PathBuf> {
    let beside = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join(program)));
    beside.filter(|path| path.is_file()).or_else(|| {
        std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    })
}

/// The plugin: plan, then hand over to the program.
pub fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match plan(&args) {
        Ok(Plan::Help) => say(io::stdout(), HELP, ExitCode::SUCCESS),
        Ok(Plan::Version) => {
            say(io::stdout(), &format!("kubectl-kubesnap {}\n", env!("CARGO_PKG_VERSION")), ExitCode::SUCCESS)
        }
        Ok(Plan::Run { program, args }) => run(program, &args),
        Err(Refusal(reason)) => say(io::stderr(), &format!("error: {reason}\n"), ExitCode::from(2)),
    }
}

fn say(mut to: impl Write, text: &str, code: ExitCode) -> ExitCode {
    let _ = to.write_all(text.as_bytes());
    code
}

fn run(program: &str, args: &[OsString]) -> ExitCode {
    let Some(path) = locate(program) else {
        let here = std::env::current_exe().ok();
        let here = here.as_deref().and_then(Path::parent).map(Path::display);
        let here = here.map(|dir| format!(" ({dir})")).unwrap_or_default();
        return say(
            io::stderr(),
            &format!(
                "error: {program} is not installed beside kubectl-kubesnap{here} nor on PATH; \
                 install the whole kubesnap archive\n"
            ),
            ExitCode::from(2),
        );
    };
    let mut command = Command::new(&path);
    command.args(args);
    hand_over(command, &path)
}

/// Replaces this process with the program (Unix): its exit code, signals and terminal are the
/// user's directly.
#[cfg(unix)]
fn hand_over(mut command: Command, path: &Path) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let error = command.exec();
    failed_to_start(path, &error)
}

/// Runs the program and returns its exit code (no `exec` outside Unix).
#[cfg(not(unix))]
fn hand_over(mut command: Command, path: &Path) -> ExitCode {
    match command.status() {
        Ok(status) => ExitCode::from(status.code().and_then(|code| u8::try_from(code).ok()).unwrap_or(1)),
        Err(error) => failed_to_start(path, &error),
    }
}

fn failed_to_start(path: &Path, error: &io::Error) -> ExitCode {
    say(io::stderr(), &format!("error: failed to run {}: {error}\n", path.display()), ExitCode::from(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(items: &[&str]) -> Vec<OsString> {
        items.iter().map(OsString::from).collect()
    }

    fn run_of(args: &[&str]) -> (&'static str, Vec<OsString>) {
        match plan(&os(args)) {
            Ok(Plan::Run { program, args }) => (program, args),
            other => panic!("expected a run, got {other:?}"),
        }
    }

    #[test]
    fn collect_receives_kubectls_connection_flags_in_every_spelling() {
        let (program, args) = run_of(&[
            "--kubeconfig",
            "/k",
            "--context=prod",
            "-nshop",
            "-n=web",
            "--namespace",
            "db",
            "collect",
            "-o",
            "b.tar.gz",
        ]);
        assert_eq!(program, "kubesnap-collect");
        assert_eq!(
            args,
            os(&[
                "--kubeconfig",
                "/k",
                "--context",
                "prod",
                "--namespace",
                "shop",
                "--namespace",
                "web",
                "--namespace",
                "db",
                "-o",
                "b.tar.gz"
            ])
        );
    }

    #[test]
    fn flags_after_the_command_pass_through_untouched() {
        let (program, args) = run_of(&["collect", "--context", "x", "-n", "y"]);
        assert_eq!(program, "kubesnap-collect");
        assert_eq!(args, os(&["--context", "x", "-n", "y"]));
    }

    #[test]
    fn offline_commands_go_to_the_analyzer_and_refuse_connection_flags() {
        assert_eq!(run_of(&["analyze", "b.tgz", "-o", "r"]), ("kubesnap-analyze", os(&["b.tgz", "-o", "r"])));
        assert_eq!(run_of(&["serve", "b.tgz"]), ("kubesnap-analyze", os(&["serve", "b.tgz"])));
        assert_eq!(run_of(&["diff", "a", "b"]), ("kubesnap-analyze", os(&["diff", "a", "b"])));
        let refused = plan(&os(&["--context", "prod", "analyze", "b.tgz"])).unwrap_err();
        assert!(refused.0.contains("--context has no meaning"), "{}", refused.0);
    }

    #[test]
    fn help_version_and_mistakes() {
        assert_eq!(plan(&[]), Ok(Plan::Help));
        assert_eq!(plan(&os(&["-n", "x", "--help"])), Ok(Plan::Help));
        assert_eq!(plan(&os(&["version"])), Ok(Plan::Version));
        let unknown = plan(&os(&["analyse"])).unwrap_err();
        assert!(unknown.0.contains("`analyse` is not a command"), "{}", unknown.0);
        let foreign = plan(&os(&["--cluster", "c", "collect"])).unwrap_err();
        assert!(foreign.0.starts_with("--cluster is not one of"), "{}", foreign.0);
        let dangling = plan(&os(&["--context"])).unwrap_err();
        assert_eq!(dangling.0, "--context needs a value");
    }
}
