//! Finds the `data` and `stringData` blocks of `kind: Secret` objects in YAML text (manifests,
//! `kubectl get secret -o yaml`, Lists of them), so that every value there is redacted
//! whatever its key: a Secret's keys are names chosen by people (`config`, `DATABASE_URL`).
//!
//! Kubernetes prints keys in alphabetical order, so `data:` comes *before* `kind: Secret`: the
//! mapping that holds the `kind` line is found first, then its `data` keys.

use std::ops::Range;

use regex::Regex;

/// The pattern of a `kind: Secret` line; compiled once by the redactor.
pub(crate) const SECRET_KIND: &str =
    r#"(?m)^[ \t]*(?:- )?["']?kind["']?[ \t]*:[ \t]*["']?Secret["']?[ \t]*\r?$"#;

#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
    indent: usize,
    blank: bool,
    /// Starts with `- ` after its indentation.
    item: bool,
    separator: bool,
}

fn line_at(text: &str, start: usize) -> Line {
    let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
    let content = text[start..end].trim_end_matches('\r');
    let indent = content.len() - content.trim_start_matches([' ', '\t']).len();
    let rest = &content[indent..];
    Line {
        start,
        end,
        indent,
        blank: rest.trim().is_empty() || rest.starts_with('#'),
        item: rest.starts_with("- ") || rest == "-",
        separator: rest.trim_end() == "---",
    }
}

fn previous(text: &str, line: &Line) -> Option<Line> {
    let before = line.start.checked_sub(1)?;
    let start = text[..before].rfind('\n').map_or(0, |n| n + 1);
    Some(line_at(text, start))
}

fn next(text: &str, line: &Line) -> Option<Line> {
    (line.end < text.len()).then(|| line_at(text, line.end + 1))
}

/// Byte ranges of the lines inside every Secret's `data` and `stringData`, sorted.
pub(crate) fn data_ranges(secret_kind: &Regex, text: &str) -> Vec<Range<usize>> {
    if !text.contains("Secret") {
        return Vec::new();
    }
    let mut ranges = Vec::new();
    for found in secret_kind.find_iter(text) {
        let kind_line = line_at(text, found.start());
        let column = if kind_line.item { kind_line.indent + 2 } else { kind_line.indent };
        let (first, last) = mapping_extent(text, kind_line, column);
        let mut line = Some(first);
        while let Some(current) = line {
            if current.start > last.start {
                break;
            }
            if let Some(range) = data_block(text, &current, column) {
                ranges.push(range);
            }
            line = next(text, &current);
        }
    }
    ranges.sort_by_key(|range| range.start);
    ranges.dedup();
    ranges
}

/// The first and last line of the mapping whose keys sit at `column`.
fn mapping_extent(text: &str, kind_line: Line, column: usize) -> (Line, Line) {
    let mut first = kind_line;
    if !kind_line.item {
        let mut cursor = previous(text, &kind_line);
        while let Some(line) = cursor {
            if line.separator {
                break;
            }
            if line.blank || line.indent >= column {
                first = line;
                cursor = previous(text, &line);
                continue;
            }
            if line.item && line.indent + 2 == column {
                first = line;
            }
            break;
        }
    }
    let mut last = kind_line;
    let mut cursor = next(text, &kind_line);
    while let Some(line) = cursor {
        if line.separator || (!line.blank && line.indent < column) {
            break;
        }
        last = line;
        cursor = next(text, &line);
    }
    (first, last)
}

/// When `line` is the `data:` or `stringData:` key of the mapping at `column`, the range of
/// the lines of its block.
fn data_block(text: &str, line: &Line, column: usize) -> Option<Range<usize>> {
    let key_column = if line.item { line.indent + 2 } else { line.indent };
    if line.blank || key_column != column {
        return None;
    }
    // A bare `-` item line is shorter than its key column.
    let key_line = text.get(line.start + key_column..line.end)?.trim_end();
    let key_line = key_line.trim_start_matches("- ");
    let key = key_line.strip_suffix(':').or_else(|| key_line.strip_suffix("\":"))?;
    if !matches!(key.trim_matches(['"', '\'']), "data" | "stringData") {
        return None;
    }
    let first = next(text, line)?;
    let mut last = None;
    let mut cursor = Some(first);
    while let Some(current) = cursor {
        if !current.blank && current.indent <= column {
            break;
        }
        last = Some(current);
        cursor = next(text, &current);
    }
    last.map(|last| first.start..last.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(text: &str) -> Vec<&str> {
        let kind = Regex::new(SECRET_KIND).ok();
        kind.map(|kind| data_ranges(&kind, text).into_iter().map(|range| &text[range]).collect())
            .unwrap_or_default()
    }

    #[test]
    fn data_before_kind_is_found() {
        let text =
            "apiVersion: v1\ndata:\n  config: c2VjcmV0\n  other: eA==\nkind: Secret\nmetadata:\n  name: x\n";
        assert_eq!(blocks(text), ["  config: c2VjcmV0\n  other: eA=="]);
    }

    #[test]
    fn secrets_in_a_list_and_a_configmap_beside_them() {
        let text = "items:\n- apiVersion: v1\n  kind: ConfigMap\n  data:\n    a: b\n- apiVersion: v1\n  stringData:\n    c: d\n  kind: Secret\n";
        assert_eq!(blocks(text), ["    c: d"]);
    }

    #[test]
    fn a_bare_item_line_is_not_a_data_key() {
        // Found by the redaction proptest: the key column of `-` is past its end.
        assert!(blocks("-\n  kind: Secret\n").is_empty());
        assert_eq!(blocks("-\n  kind: Secret\n  data:\n    a: b"), ["    a: b"]);
    }

    #[test]
    fn documents_are_separate() {
        let text = "kind: Secret\ndata:\n  a: b\n---\nkind: ConfigMap\ndata:\n  c: d\n";
        assert_eq!(blocks(text), ["  a: b"]);
    }
}
