//! Validation of the paths of bundle entries: the one gate every name passes, whether it comes
//! from a tar header, a folder walk or the writer.

use std::collections::HashSet;

use crate::error::RejectReason;

/// Turns the raw name of an entry into a normalized relative path (`a/b/c`, no `.` components,
/// no trailing slash) or says why it cannot be one.
///
/// Refused: invalid UTF-8, absolute paths, `..` anywhere, control characters and backslashes
/// (a backslash is a separator to Windows tools that may unpack the bundle later), and names
/// that are empty once normalized.
pub(crate) fn normalize(raw: &[u8]) -> Result<String, RejectReason> {
    let text = std::str::from_utf8(raw).map_err(|_| RejectReason::InvalidUtf8)?;
    if text.starts_with('/') {
        return Err(RejectReason::AbsolutePath);
    }
    if text.chars().any(|c| c.is_control() || c == '\\') {
        return Err(RejectReason::ForbiddenCharacter);
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(RejectReason::ParentComponent),
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err(RejectReason::EmptyPath);
    }
    // A drive prefix (`C:`) makes a path absolute on Windows.
    if parts[0].len() == 2 && parts[0].ends_with(':') {
        return Err(RejectReason::AbsolutePath);
    }
    Ok(parts.join("/"))
}

/// Resolves the target of a link entry at `entry` against the bundle root, without touching
/// the file system. Returns the normalized target path, or `None` when it leaves the root.
pub(crate) fn resolve_link(entry: &str, target: &[u8]) -> Option<String> {
    let target = std::str::from_utf8(target).ok()?;
    if target.starts_with('/') || target.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    let mut parts: Vec<&str> = entry.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(part),
        }
    }
    if parts.is_empty() { None } else { Some(parts.join("/")) }
}

/// The files and folders of one bundle, so that a path is never both a file and a folder and
/// never appears twice: `tar xf` and [`crate::reader::Bundle::unpack`] would fail on either.
///
/// Memory is O(entries + folders); every check is O(depth) hash lookups.
#[derive(Debug, Default)]
pub(crate) struct PathTree {
    files: HashSet<String>,
    folders: HashSet<String>,
}

impl PathTree {
    /// Records `path` (normalized) as a file, or says why it cannot be one.
    pub(crate) fn insert_file(&mut self, path: &str) -> Result<(), RejectReason> {
        if self.files.contains(path) {
            return Err(RejectReason::Duplicate);
        }
        if self.folders.contains(path) {
            return Err(RejectReason::PathConflict { existing: format!("{path}/") });
        }
        self.check_ancestors(path)?;
        self.add_ancestors(path);
        self.files.insert(path.to_owned());
        Ok(())
    }

    /// Records `path` (normalized) as a folder; a folder seen twice is fine.
    pub(crate) fn insert_folder(&mut self, path: &str) -> Result<(), RejectReason> {
        if self.files.contains(path) {
            return Err(RejectReason::PathConflict { existing: path.to_owned() });
        }
        self.check_ancestors(path)?;
        self.add_ancestors(path);
        self.folders.insert(path.to_owned());
        Ok(())
    }

    /// Whether `path` was recorded as a file (or link).
    pub(crate) fn has_file(&self, path: &str) -> bool {
        self.files.contains(path)
    }

    fn check_ancestors(&self, path: &str) -> Result<(), RejectReason> {
        for (index, _) in path.match_indices('/') {
            let ancestor = &path[..index];
            if self.files.contains(ancestor) {
                return Err(RejectReason::PathConflict { existing: ancestor.to_owned() });
            }
        }
        Ok(())
    }

    fn add_ancestors(&mut self, path: &str) {
        // Deepest first: once an ancestor is known, all of its own ancestors are too.
        for (index, _) in path.rmatch_indices('/') {
            if !self.folders.insert(path[..index].to_owned()) {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_dots_and_slashes() {
        assert_eq!(normalize(b"./a//b/./c/").as_deref(), Ok("a/b/c"));
    }

    #[test]
    fn refuses_escapes() {
        assert_eq!(normalize(b"a/../../etc/passwd"), Err(RejectReason::ParentComponent));
        assert_eq!(normalize(b"/etc/passwd"), Err(RejectReason::AbsolutePath));
        assert_eq!(normalize(b"C:/x"), Err(RejectReason::AbsolutePath));
        assert_eq!(normalize(b"a\\..\\b"), Err(RejectReason::ForbiddenCharacter));
        assert_eq!(normalize(b"a/\x1b[2Jb"), Err(RejectReason::ForbiddenCharacter));
        assert_eq!(normalize(b"a/\xff"), Err(RejectReason::InvalidUtf8));
        assert_eq!(normalize(b"./"), Err(RejectReason::EmptyPath));
    }

    #[test]
    fn resolves_links_inside_and_refuses_outside() {
        assert_eq!(resolve_link("b/logs/x", b"../pods/x").as_deref(), Some("b/pods/x"));
        assert_eq!(resolve_link("b/x", b"../../etc/passwd"), None);
        assert_eq!(resolve_link("b/x", b"/etc/passwd"), None);
        assert_eq!(resolve_link("x", b".."), None);
    }

    #[test]
    fn path_tree_refuses_duplicates_and_file_folder_conflicts() {
        let mut tree = PathTree::default();
        assert_eq!(tree.insert_file("r/a/b"), Ok(()));
        assert_eq!(tree.insert_file("r/a/b"), Err(RejectReason::Duplicate));
        assert_eq!(tree.insert_file("r/a"), Err(RejectReason::PathConflict { existing: "r/a/".to_owned() }));
        assert_eq!(
            tree.insert_file("r/a/b/c"),
            Err(RejectReason::PathConflict { existing: "r/a/b".to_owned() })
        );
        assert_eq!(
            tree.insert_folder("r/a/b"),
            Err(RejectReason::PathConflict { existing: "r/a/b".to_owned() })
        );
        assert_eq!(tree.insert_folder("r/a"), Ok(()));
        assert_eq!(tree.insert_file("r/ab"), Ok(()));
        assert!(tree.has_file("r/ab"));
        assert!(!tree.has_file("r/a"));
    }
}
