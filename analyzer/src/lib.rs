//! The analyzer: loads a bundle into the cluster model in one streaming pass, runs every
//! diagnostic in parallel and renders the reports.

pub mod finding;
pub mod load;

mod diagnostics;
mod engine;

use std::process::ExitCode;

use kubesnap_shared::model::ClusterModel;

pub use engine::Skipped;
use finding::Finding;

/// Runs every diagnostic over a finished model on the current rayon pool: the findings in
/// report order, and the diagnostics the bundle could not feed.
pub fn analyze(model: &ClusterModel) -> (Vec<Finding>, Vec<Skipped>) {
    let diagnostics: Vec<_> = diagnostics::registry().collect();
    let analysis = engine::run(model, &diagnostics);
    (analysis.findings, analysis.skipped)
}

/// Entry point of `kubesnap-analyze`.
pub fn main() -> ExitCode {
    ExitCode::from(2)
}
