//! `kubectl-kubesnap` built inside the test crate, so that the plugin test can install it with
//! krew through `env!("CARGO_BIN_EXE_kubectl-kubesnap-dup")`.

use std::process::ExitCode;

fn main() -> ExitCode {
    kubesnap_kubectl_plugin::main()
}
