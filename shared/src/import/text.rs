//! kubectl's text output read back into objects: `get` tables (default, `-o wide`, `-A`).
//!
//! The kind of a table is found from its columns, never from the file's name (which only
//! settles two kinds that print the same columns). Each object carries only what its row shows,
//! and the fields shown are recorded per kind (`ClusterModel::text_fields`), so the analyzer
//! can tell a diagnostic that reads a pod's containers that the bundle does not show them.

mod objects;
mod table;

use std::collections::BTreeSet;

pub use objects::{TextObjects, age};
pub use table::{Table, tables};

/// Everything one text file gave.
#[derive(Debug, Default)]
pub struct TextRead {
    pub objects: TextObjects,
    /// Kinds whose list the file holds, even an empty one (`No resources found` under a file
    /// named for its kind).
    pub listed_kinds: BTreeSet<String>,
}

/// Reads the tables of one text file. `hint` is the kind the file's name says, `now` the
/// capture time that relative ages count back from.
pub fn read(
    bytes: &[u8],
    hint: Option<&'static str>,
    now: Option<jiff::Timestamp>,
    source: &str,
) -> TextRead {
    let text = String::from_utf8_lossy(bytes);
    let found = tables(&text);
    let objects = objects::from_tables(&found, hint, now, source);
    let mut listed_kinds: BTreeSet<String> = objects.fields.keys().cloned().collect();
    if found.is_empty() && text.lines().any(|line| line.trim().starts_with("No resources found")) {
        listed_kinds.extend(hint.map(str::to_owned));
    }
    TextRead { objects, listed_kinds }
}
