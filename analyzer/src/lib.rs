//! The analyzer: loads a bundle into the cluster model in one streaming pass, runs every
//! diagnostic in parallel and renders the reports.
//!
//! `main` is the whole program; the library API is [`analyze`] (the findings of a model) for
//! the integration tests and benchmarks, and the loader.

pub mod diff;
pub mod exit_codes;
pub mod finding;
pub mod load;

mod advisories;
mod catalog;
mod cli;
mod diagnostics;
mod engine;
mod facts;
pub(crate) mod incident;
mod report;
mod serve;
pub(crate) mod stats;
mod symptoms;
#[cfg(test)]
mod testing;
mod text_fields;

use std::process::ExitCode;

use kubesnap_shared::model::ClusterModel;

pub use engine::Skipped;
use finding::Finding;

/// Runs every diagnostic over a finished model on the current rayon pool: the findings in
/// report order, and the diagnostics the bundle could not feed.
pub fn analyze(model: &ClusterModel) -> (Vec<Finding>, Vec<Skipped>) {
    let diagnostics: Vec<_> = diagnostics::registry().collect();
    let analysis = engine::run(&facts::Facts::new(model), &diagnostics);
    (analysis.findings, analysis.skipped)
}

/// Entry point of `kubesnap-analyze`.
pub fn main() -> ExitCode {
    cli::main()
}
