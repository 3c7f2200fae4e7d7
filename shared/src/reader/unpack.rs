//! Safe extraction of a bundle into a folder.
//!
//! Every path has already passed the gate (no `..`, not absolute, no control characters, never
//! both a file and a folder), links are not recreated, the target starts empty, and files are
//! created with `create_new`, so nothing inside the target is overwritten. A stream error
//! leaves the files written before it in place (the outcome says so); a refused entry is simply
//! not written.
//!
//! On Unix nothing is opened by path: the target is opened once, and every folder and file is
//! created and opened relative to the handle of its parent (`mkdirat`, `openat` with
//! `O_NOFOLLOW`), so there is no moment between a check and an open for another process to
//! swap a folder for a link. A folder that has become a link is refused; a folder moved away
//! while it is open keeps receiving its files wherever it went, which is still inside the
//! target's file system and never through a link. Elsewhere the parent folder is canonicalized
//! and checked to stay inside the target before each file is created.

use std::fs;
use std::path::Path;

use super::{Bundle, ReadOutcome};
use crate::error::{Error, Result};

pub(super) fn unpack(bundle: &Bundle, target: &Path) -> Result<ReadOutcome> {
    unpack_with(bundle, target, &mut |_| {})
}

/// [`unpack`], calling `before_create` with each entry's path once its folder is open and
/// before its file is created: the window the tests use to swap folders under the unpacker.
fn unpack_with(bundle: &Bundle, target: &Path, before_create: &mut dyn FnMut(&str)) -> Result<ReadOutcome> {
    if target.exists() {
        let mut items = fs::read_dir(target).map_err(|source| Error::io(target, source))?;
        if items.next().is_some() {
            return Err(Error::TargetNotEmpty { path: target.to_owned() });
        }
    } else {
        fs::create_dir_all(target).map_err(|source| Error::io(target, source))?;
    }
    let mut folders = imp::Folders::open(target)?;
    bundle.read(|mut entry| {
        let path = entry.path().to_owned();
        let (parent, name) = match path.rsplit_once('/') {
            Some((parent, name)) => (parent, name),
            None => ("", path.as_str()),
        };
        let mut file = folders.create_file(parent, name, &mut || before_create(&path))?;
        std::io::copy(&mut entry, &mut file).map_err(|source| Error::io(target.join(&path), source))?;
        Ok::<(), Error>(())
    })
}

#[cfg(unix)]
mod imp {
    use std::fs::File;
    use std::io;
    use std::os::fd::OwnedFd;
    use std::path::{Path, PathBuf};

    use rustix::fs::{CWD, Mode, OFlags, mkdirat, openat};
    use rustix::io::Errno;

    use crate::error::{Error, Result};

    const FOLDER: OFlags =
        OFlags::DIRECTORY.union(OFlags::NOFOLLOW).union(OFlags::RDONLY).union(OFlags::CLOEXEC);

    /// The target's handle, and the handle of the last folder a file was created in (entries
    /// come folder by folder, so most files reuse it).
    pub(super) struct Folders {
        target: PathBuf,
        root: OwnedFd,
        last: Option<(String, OwnedFd)>,
    }

    impl Folders {
        pub(super) fn open(target: &Path) -> Result<Folders> {
            let root = openat(CWD, target, FOLDER, Mode::empty())
                .map_err(|errno| Error::io(target, io::Error::from(errno)))?;
            Ok(Folders { target: target.to_owned(), root, last: None })
        }

        /// Creates the new file `name` in the folder `parent` (`""` for the target itself),
        /// creating the folders on the way, each relative to its parent's handle.
        pub(super) fn create_file(
            &mut self,
            parent: &str,
            name: &str,
            before: &mut dyn FnMut(),
        ) -> Result<File> {
            let reuse = matches!(&self.last, Some((path, _)) if path == parent);
            if !reuse {
                let folder = self.walk(parent)?;
                self.last = Some((parent.to_owned(), folder));
            }
            let folder = match &self.last {
                Some((_, folder)) => folder,
                None => &self.root,
            };
            before();
            let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let file = openat(folder, name, flags, Mode::from_raw_mode(0o644))
                .map_err(|errno| self.error(&format!("{parent}/{name}"), errno))?;
            Ok(File::from(file))
        }

        /// Opens (creating where needed) each folder of `path` relative to the one before; a
        /// folder that is a link fails with `ELOOP` or `ENOTDIR`, and is refused.
        fn walk(&self, path: &str) -> Result<OwnedFd> {
            let mut folder = self.root.try_clone().map_err(|source| Error::io(&self.target, source))?;
            let mut walked = String::new();
            for part in path.split('/').filter(|part| !part.is_empty()) {
                if !walked.is_empty() {
                    walked.push('/');
                }
                walked.push_str(part);
                match mkdirat(&folder, part, Mode::from_raw_mode(0o755)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(errno) => return Err(self.error(&walked, errno)),
                }
                folder = openat(&folder, part, FOLDER, Mode::empty()).map_err(|errno| match errno {
                    Errno::LOOP | Errno::NOTDIR => Error::io(
                        self.target.join(&walked),
                        io::Error::other("a folder of the target was replaced by a link or a file; refused"),
                    ),
                    errno => self.error(&walked, errno),
                })?;
            }
            Ok(folder)
        }

        fn error(&self, path: &str, errno: Errno) -> Error {
            Error::io(self.target.join(path.trim_start_matches('/')), io::Error::from(errno))
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use std::fs::{self, File, OpenOptions};
    use std::io;
    use std::path::{Path, PathBuf};

    use crate::error::{Error, Result};

    /// Without handle-relative calls: each parent is canonicalized and checked before use.
    pub(super) struct Folders {
        target: PathBuf,
    }

    impl Folders {
        pub(super) fn open(target: &Path) -> Result<Folders> {
            let target = fs::canonicalize(target).map_err(|source| Error::io(target, source))?;
            Ok(Folders { target })
        }

        pub(super) fn create_file(
            &mut self,
            parent: &str,
            name: &str,
            before: &mut dyn FnMut(),
        ) -> Result<File> {
            let folder = self.target.join(parent);
            fs::create_dir_all(&folder).map_err(|source| Error::io(&folder, source))?;
            let canonical = fs::canonicalize(&folder).map_err(|source| Error::io(&folder, source))?;
            if !canonical.starts_with(&self.target) {
                return Err(Error::io(&folder, io::Error::other("folder resolves outside the target")));
            }
            before();
            let path = canonical.join(name);
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|source| Error::io(&path, source))
        }
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::io::Write;
    use std::path::Path;

    use super::*;
    use crate::Limits;

    /// A `.tar` of the given files.
    fn tar_bundle(dir: &Path, files: &[(&str, &str)]) -> Bundle {
        let path = dir.join("bundle.tar");
        let mut builder = tar::Builder::new(fs::File::create(&path).unwrap());
        for (name, content) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, content.as_bytes()).unwrap();
        }
        builder.into_inner().unwrap().flush().unwrap();
        Bundle::open(&path, Limits::default()).unwrap()
    }

    fn files_under(dir: &Path) -> Vec<String> {
        let mut files: Vec<String> = walkdir::WalkDir::new(dir)
            .into_iter()
            .flatten()
            .filter(|entry| entry.file_type().is_file())
            .map(|entry| entry.path().strip_prefix(dir).unwrap().display().to_string())
            .collect();
        files.sort();
        files
    }

    #[test]
    fn a_folder_swapped_for_a_link_mid_unpack_writes_nothing_outside() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        fs::create_dir(&outside).unwrap();
        let target = dir.path().join("target");
        let bundle = tar_bundle(dir.path(), &[("b/a/one", "1"), ("b/a/two", "2"), ("b/a/c/three", "3")]);
        // Right after `b/a` was opened for `two` and before `two` is created, `b/a` is moved away
        // and a link to `outside` takes its place, as a process with write access to the
        // target could do between a check and an open.
        let mut swapped = false;
        let result = unpack_with(&bundle, &target, &mut |path| {
            if path == "b/a/two" && !swapped {
                swapped = true;
                fs::rename(target.join("b/a"), target.join("b/moved")).unwrap();
                std::os::unix::fs::symlink(&outside, target.join("b/a")).unwrap();
            }
        });
        assert!(swapped);
        assert_eq!(files_under(&outside), Vec::<String>::new(), "a file was written through the link");
        // `two` went to the folder it was opened in, wherever that went; `c/three` would need
        // the link followed, and is refused.
        assert_eq!(files_under(&target), ["b/moved/one", "b/moved/two"]);
        let error = result.unwrap_err().to_string();
        assert!(error.contains("b/a"), "{error}");
    }

    #[test]
    fn a_link_planted_before_a_folder_is_created_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        fs::create_dir(&outside).unwrap();
        let target = dir.path().join("target");
        let bundle = tar_bundle(dir.path(), &[("b/one", "1"), ("b/x/two", "2")]);
        let result = unpack_with(&bundle, &target, &mut |path| {
            if path == "b/one" {
                std::os::unix::fs::symlink(&outside, target.join("b/x")).unwrap();
            }
        });
        assert!(result.is_err());
        assert_eq!(files_under(&outside), Vec::<String>::new());
        assert_eq!(files_under(&target), ["b/one"]);
    }

    #[test]
    fn unpacks_nested_folders_in_any_order() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        let bundle =
            tar_bundle(dir.path(), &[("b/x/1", "1"), ("b/y/z/2", "2"), ("b/x/3", "3"), ("top", "4")]);
        let outcome = unpack(&bundle, &target).unwrap();
        assert_eq!(outcome.entries, 4);
        assert_eq!(files_under(&target), ["b/x/1", "b/x/3", "b/y/z/2", "top"]);
        assert_eq!(fs::read_to_string(target.join("b/y/z/2")).unwrap(), "2");
    }
}
