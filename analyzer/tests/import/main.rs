//! The loader on real bundles of every format (read in place from `../shared/realdata`) and on
//! native bundles written by the project's writer: one test binary, so the shared helpers
//! link once.

#![cfg(test)]

mod kubectl_objects;
mod kubectl_text;
mod listed;
mod must_gather;
mod native_and_dump;
mod refused_and_empty;
mod rke2;
mod sonobuoy;
mod support;
mod support_bundle_kit;
mod troubleshoot;
