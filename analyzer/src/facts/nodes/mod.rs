//! Ages relative to the capture, and Kubernetes versions.

pub(crate) mod age;
pub(crate) mod version;
