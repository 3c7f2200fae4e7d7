//! Unpacked bundles (a folder) as a source of entries for the gate.
//!
//! Links are never followed: one that stays inside the folder is reported as a link, one that
//! leaves it is refused. Entries come in a stable order: `format.json` first, `manifest.json`
//! last, the rest sorted by path, so a folder reads like the archive it came from.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use walkdir::WalkDir;

use super::{Entry, Gate, Kind, Stop};
use crate::error::Error;
use crate::layout::{FORMAT_FILE, MANIFEST_FILE};

pub(super) fn read<E: From<Error>>(
    root: &Path,
    gate: &mut Gate,
    visit: &mut impl FnMut(Entry<'_>) -> Result<(), E>,
) -> Result<(), Stop<E>> {
    let mut paths = Vec::new();
    for item in WalkDir::new(root).follow_links(false).sort_by_file_name().min_depth(1) {
        let item = item.map_err(|error| {
            let path = error.path().unwrap_or(root).to_owned();
            Stop::Stream(Error::io(path, error.into()))
        })?;
        paths.push(item);
    }
    // format.json first and manifest.json last, wherever the native root is.
    paths.sort_by_key(|item| {
        let name = item.file_name();
        if name == FORMAT_FILE && item.depth() <= 2 {
            0
        } else if name == MANIFEST_FILE && item.depth() <= 2 {
            2
        } else {
            1
        }
    });
    for item in paths {
        let Ok(relative) = item.path().strip_prefix(root) else { continue };
        let name = relative.as_os_str().as_encoded_bytes().to_vec();
        let file_type = item.file_type();
        if file_type.is_dir() {
            continue;
        }
        if file_type.is_symlink() {
            let target = std::fs::read_link(item.path())
                .map_err(|source| Stop::Stream(Error::io(item.path(), source)))?;
            let target = target.as_os_str().as_encoded_bytes().to_vec();
            gate.admit(&name, Kind::Symlink(&target), 0, &mut std::io::empty(), visit)?;
            continue;
        }
        if !file_type.is_file() {
            gate.admit(&name, Kind::Special(special_kind(&file_type)), 0, &mut std::io::empty(), visit)?;
            continue;
        }
        let metadata = item.metadata().map_err(|error| Stop::Stream(Error::io(item.path(), error.into())))?;
        let file = File::open(item.path()).map_err(|source| Stop::Stream(Error::io(item.path(), source)))?;
        let mut reader = BufReader::with_capacity(256 << 10, file);
        gate.admit(&name, Kind::File, metadata.len(), &mut reader, visit)?;
    }
    Ok(())
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
