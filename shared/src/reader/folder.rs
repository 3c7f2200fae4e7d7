//! Unpacked bundles (a folder) as a source of entries for the gate.
//!
//! Links are never followed: one that stays inside the folder is reported as a link, one that
//! leaves it is refused. A file is opened only after the walk saw it as a regular file, and
//! the opened file must be the one the walk saw (same device and inode), so a file swapped for
//! a link between the two is refused rather than read through the link. Entries come in a
//! stable order: `format.json` first, `manifest.json` last, the rest depth first with siblings
//! sorted by name, so a folder reads like the archive it came from.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use walkdir::WalkDir;

use super::Entry;
use super::gate::{Gate, Kind, Stop};
use crate::error::{Error, RejectReason};
use crate::layout::{FORMAT_FILE, MANIFEST_FILE};

pub(super) fn read<E: From<Error>>(
    root: &Path,
    gate: &mut Gate,
    visit: &mut impl FnMut(Entry<'_>) -> Result<(), E>,
) -> Result<(), Stop<E>> {
    let limit = gate.limits().max_entries;
    let mut items = Vec::new();
    for item in WalkDir::new(root).follow_links(false).sort_by_file_name().min_depth(1) {
        let item = item.map_err(|error| {
            let path = error.path().unwrap_or(root).to_owned();
            Stop::Stream(Error::io(path, error.into()))
        })?;
        // The listing is held to sort it: bound it before it grows past the limit.
        if items.len() as u64 >= limit {
            return Err(Stop::Stream(Error::TooManyEntries { limit }));
        }
        items.push(item);
    }
    // format.json first and manifest.json last, wherever the native root is.
    items.sort_by_key(|item| {
        let name = item.file_name();
        if name == FORMAT_FILE && item.depth() <= 2 {
            0
        } else if name == MANIFEST_FILE && item.depth() <= 2 {
            2
        } else {
            1
        }
    });
    for item in items {
        let Ok(relative) = item.path().strip_prefix(root) else { continue };
        let name = relative.as_os_str().as_encoded_bytes();
        let file_type = item.file_type();
        // Walked without following links: the link itself, never its target.
        let metadata = item.metadata().map_err(|error| Stop::Stream(Error::io(item.path(), error.into())))?;
        let size = if file_type.is_file() { metadata.len() } else { 0 };
        gate.account(name, size)?;
        if file_type.is_dir() {
            gate.admit(name, Kind::Directory, 0, &mut std::io::empty(), visit)?;
        } else if file_type.is_symlink() {
            let target = std::fs::read_link(item.path())
                .map_err(|source| Stop::Stream(Error::io(item.path(), source)))?;
            let target = target.as_os_str().as_encoded_bytes();
            gate.admit(name, Kind::Symlink(target), 0, &mut std::io::empty(), visit)?;
        } else if !file_type.is_file() {
            gate.admit(name, Kind::Special(special_kind(&file_type)), 0, &mut std::io::empty(), visit)?;
        } else {
            let file =
                File::open(item.path()).map_err(|source| Stop::Stream(Error::io(item.path(), source)))?;
            let opened = file.metadata().map_err(|source| Stop::Stream(Error::io(item.path(), source)))?;
            if !opened.is_file() || !same_file(&metadata, &opened) {
                gate.reject(name, RejectReason::ChangedWhileReading);
                continue;
            }
            let mut reader = BufReader::with_capacity(256 << 10, file);
            gate.admit(name, Kind::File, size, &mut reader, visit)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(walked: &std::fs::Metadata, opened: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    walked.dev() == opened.dev() && walked.ino() == opened.ino()
}

#[cfg(not(unix))]
fn same_file(walked: &std::fs::Metadata, opened: &std::fs::Metadata) -> bool {
    walked.len() == opened.len()
}

#[cfg(unix)]
fn special_kind(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        "fifo"
    } else if file_type.is_char_device() {
        "character device"
    } else if file_type.is_block_device() {
        "block device"
    } else if file_type.is_socket() {
        "socket"
    } else {
        "unknown type"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "unknown type"
}
