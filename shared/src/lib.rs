//! The library both kubesnap programs stand on: the bundle format and its safe reader, the
//! cluster model the analyzer reads, and redaction.
//!
//! `shared` does no network I/O and runs no async runtime: it reads and writes bytes it is
//! handed, so that the offline analyzer and the collector agree on one format by construction.

pub mod bytesize;
pub mod error;
pub mod helm;
pub mod import;
pub mod json;
pub mod layout;
pub mod log_time;
pub mod manifest;
pub mod members;
pub mod model;
pub mod quantity;
pub mod reader;
pub mod redact;
pub mod writer;
pub mod yaml;

mod entry_path;
mod hashing;

pub use error::{Error, Result};
pub use hashing::sha256_hex;
pub use manifest::Manifest;
pub use reader::{Bundle, Entry, Limits, ReadOutcome};
pub use writer::BundleWriter;
