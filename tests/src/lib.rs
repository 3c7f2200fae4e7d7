//! Helpers shared by the integration tests: paths of the repository, of `../shared/realdata`,
//! and the real control plane of `tests/cluster/`.
