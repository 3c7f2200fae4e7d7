//! `kubesnap-analyze`: every diagnostic, offline, over a support bundle.

use std::process::ExitCode;

// glibc's malloc keeps what the loader's threads free in their own arenas, which the threads of
// the later phases never reuse: about a fifth of the peak RSS on a 10,000-pod bundle. jemalloc
// lowers the peak at no cost in time (analyzer/Cargo.toml has the figures).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    kubesnap_analyzer::main()
}
