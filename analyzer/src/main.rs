//! `kubesnap-analyze`: every diagnostic of the seeds, offline, over a support bundle.

use std::process::ExitCode;

fn main() -> ExitCode {
    kubesnap_analyzer::main()
}
