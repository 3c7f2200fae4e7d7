//! `kubesnap-collect`: capture a whole Kubernetes cluster into one support bundle.

use std::process::ExitCode;

fn main() -> ExitCode {
    kubesnap_collector::main_impl()
}
