//! Validation of the paths of bundle entries: the one gate every name passes, whether it comes
//! from a tar header, a folder walk or the writer.

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
}
