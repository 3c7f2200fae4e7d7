//! Helpers shared by the integration tests: paths of the repository, of `../shared/realdata`,
//! and the real control plane of `tests/cluster/`.

pub mod cluster;
pub mod replay;

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}
