//! Benchmark tools: a deterministic generator of realistic native bundles, and the decode-only
//! floor the analyzer is measured against.
//!
//! `kubesnap-gen-bundle` ([`gen_cli`]) writes a bundle of any size; `kubesnap-decode-floor`
//! (`src/bin/decode_floor.rs`) only decompresses one; `bench/run` measures both beside gzip,
//! the reference Python log analysis (`bench/reference_log_analyzer.py`) and `kubesnap-analyze`. See
//! `docs/benchmarks.md`.

pub mod gen_cli;
pub mod generate;
pub mod prng;
