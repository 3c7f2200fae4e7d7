//! `kubesnap-analyze` built inside the test crate, so that integration tests can spawn it
//! through `env!("CARGO_BIN_EXE_kubesnap-analyze-dup")` (nextest's `-dup` pattern): the
//! replay of the diagnosis classes reads the root causes of its `findings.json`.

use std::process::ExitCode;

fn main() -> ExitCode {
    kubesnap_analyzer::main()
}
