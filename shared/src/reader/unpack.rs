//! Safe extraction of a bundle into a folder.
//!
//! Every path has already passed the gate (no `..`, not absolute, no control characters, never
//! both a file and a folder), links are not recreated, the target starts empty, and files are
//! created with `create_new`, so nothing outside `target` is written and nothing inside it is
//! overwritten. A stream error leaves the files written before it in place (the outcome says
//! so); a refused entry is simply not written.

use std::fs::{self, OpenOptions};
use std::io;
use std::path::Path;

use super::{Bundle, ReadOutcome};
use crate::error::{Error, Result};

pub(super) fn unpack(bundle: &Bundle, target: &Path) -> Result<ReadOutcome> {
    if target.exists() {
        let mut items = fs::read_dir(target).map_err(|source| Error::io(target, source))?;
        if items.next().is_some() {
            return Err(Error::TargetNotEmpty { path: target.to_owned() });
        }
    } else {
        fs::create_dir_all(target).map_err(|source| Error::io(target, source))?;
    }
    let target = fs::canonicalize(target).map_err(|source| Error::io(target, source))?;
    bundle.read(|mut entry| {
        let path = target.join(entry.path());
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|source| Error::io(parent, source))?;
            // A folder created by an earlier entry is ours; anything else (a link planted by a
            // concurrent process) would make the canonical parent leave the target.
            let canonical = fs::canonicalize(parent).map_err(|source| Error::io(parent, source))?;
            if !canonical.starts_with(&target) {
                return Err(Error::io(parent, io::Error::other("folder resolves outside the target")));
            }
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| Error::io(&path, source))?;
        io::copy(&mut entry, &mut file).map_err(|source| Error::io(&path, source))?;
        Ok::<(), Error>(())
    })
}
