//! `kubectl-kubesnap`: kubesnap through kubectl's plugin mechanism.

use std::process::ExitCode;

fn main() -> ExitCode {
    kubesnap_kubectl_plugin::main()
}
