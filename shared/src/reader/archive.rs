//! Tar streams (plain, or decoded from gzip or xz) as a source of entries for the gate.

use std::io::Read;

use super::{Entry, Gate, Kind, Stop};
use crate::error::Error;

/// Reads every entry of a tar stream through the gate.
pub(super) fn read<E: From<Error>>(
    stream: impl Read,
    gate: &mut Gate,
    visit: &mut impl FnMut(Entry<'_>) -> Result<(), E>,
) -> Result<(), Stop<E>> {
    let mut archive = tar::Archive::new(stream);
    let entries = archive.entries().map_err(|source| Stop::Stream(gate.truncated(source)))?;
    for entry in entries {
        let mut entry = entry.map_err(|source| Stop::Stream(gate.truncated(source)))?;
        // The raw name, with GNU long names and PAX paths already applied by tar-rs, but not
        // yet interpreted as a path: the gate validates it.
        let name = entry.path_bytes().into_owned();
        let size = entry.header().entry_size().map_err(|source| Stop::Stream(gate.truncated(source)))?;
        let link = entry.link_name_bytes().map(|target| target.into_owned()).unwrap_or_default();
        let kind = match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => Kind::File,
            tar::EntryType::Directory => Kind::Directory,
            tar::EntryType::Symlink => Kind::Symlink(&link),
            tar::EntryType::Link => Kind::HardLink(&link),
            tar::EntryType::Char => Kind::Special("character device"),
            tar::EntryType::Block => Kind::Special("block device"),
            tar::EntryType::Fifo => Kind::Special("fifo"),
            tar::EntryType::GNUSparse => Kind::Special("sparse file"),
            _ => Kind::Special("unknown type"),
        };
        gate.admit(&name, kind, size, &mut entry, visit)?;
    }
    Ok(())
}
