//! `kubesnap-gen-bundle`: writes a realistic native bundle of N pods, deterministic from a seed.

use std::process::ExitCode;

fn main() -> ExitCode {
    kubesnap_bench::gen_cli::main()
}
