//! `kubesnap-collect` built inside the test crate, so that integration tests can spawn it
//! through `env!("CARGO_BIN_EXE_kubesnap-collect-dup")` (nextest's `-dup` pattern).

use std::process::ExitCode;

fn main() -> ExitCode {
    kubesnap_collector::main_impl()
}
