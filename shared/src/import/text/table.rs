//! kubectl's tables, read back: `kubectl get` prints a header of upper-case column names and
//! one row per object, every column padded (Go's tabwriter, three spaces at least) so that a
//! column starts at the same character on every line. A cell is what lies under its header,
//! which keeps cells with spaces (`Ubuntu 22.04.4 LTS`, `kubelet, node-1`) and empty ones
//! (an event's `SUBOBJECT`) whole.

/// One table: its column names and the cells of each row, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// The position of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|column| column == name)
    }

    /// Whether the table has every one of `names`.
    pub fn has(&self, names: &[&str]) -> bool {
        names.iter().all(|name| self.column(name).is_some())
    }

    /// The cell of `row` under `name`; `None` when there is no such column, the cell is empty
    /// or it is kubectl's `<none>` / `<unknown>`.
    pub fn cell<'a>(&self, row: &'a [String], name: &str) -> Option<&'a str> {
        let value = row.get(self.column(name)?)?.as_str();
        (!value.is_empty() && value != "<none>" && value != "<unknown>").then_some(value)
    }
}

/// Whether `line` is a table header: at least two upper-case column names, the first `NAME`,
/// `NAMESPACE` or `LAST SEEN`.
fn header_columns(line: &str) -> Option<Vec<(usize, String)>> {
    let columns = split_columns(line);
    let first = columns.first()?.1.as_str();
    if columns.len() < 2 || !matches!(first, "NAME" | "NAMESPACE" | "LAST SEEN" | "POD") {
        return None;
    }
    let header_like = columns.iter().all(|(_, name)| {
        // `top` prints `CPU(cores)` and `MEMORY(bytes)`: the unit may be lower case.
        let name = name.strip_suffix("(cores)").or_else(|| name.strip_suffix("(bytes)")).unwrap_or(name);
        name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || " -()/%_.".contains(c))
    });
    header_like.then_some(columns)
}

/// Column names and their starting character: names are separated by two spaces or more
/// (`NOMINATED NODE` is one name).
pub(super) fn split_columns(line: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = line.chars().collect();
    let mut columns = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        if chars[at] == ' ' {
            at += 1;
            continue;
        }
        let start = at;
        while at < chars.len() && !(chars[at] == ' ' && chars.get(at + 1).is_none_or(|c| *c == ' ')) {
            at += 1;
        }
        columns.push((start, chars[start..at].iter().collect::<String>()));
    }
    columns
}

/// Every table in `text`: a header, then rows until a blank line, another header or a line that
/// does not fit under the header (a message, a prompt).
pub fn tables(text: &str) -> Vec<Table> {
    let mut found = Vec::new();
    let mut current: Option<(Vec<usize>, Table)> = None;
    for line in text.lines() {
        let line = line.trim_end();
        if let Some(columns) = header_columns(line) {
            found.extend(current.take().map(|(_, table)| table));
            let starts = columns.iter().map(|(start, _)| *start).collect();
            let names = columns.into_iter().map(|(_, name)| name).collect();
            current = Some((starts, Table { columns: names, rows: Vec::new() }));
            continue;
        }
        let Some((starts, table)) = &mut current else { continue };
        match row(line, starts) {
            Some(cells) => table.rows.push(cells),
            None => found.extend(current.take().map(|(_, table)| table)),
        }
    }
    found.extend(current.map(|(_, table)| table));
    found
}

/// The cells of `line` under columns starting at `starts`; `None` when the line is no row of
/// the table: blank, short of the second column (kubectl pads every cell, so each row reaches
/// its last column; a Markdown fence or a word of prose does not), or something other than a
/// space just before a column's start.
pub(super) fn row(line: &str, starts: &[usize]) -> Option<Vec<String>> {
    let chars: Vec<char> = line.chars().collect();
    if chars.is_empty() || chars[0] == ' ' || starts.get(1).is_some_and(|second| chars.len() <= *second) {
        return None;
    }
    let mut cells = Vec::with_capacity(starts.len());
    for (index, start) in starts.iter().enumerate() {
        let end = starts.get(index + 1).copied().unwrap_or(chars.len()).min(chars.len());
        let start = (*start).min(chars.len());
        // A cell ends with the padding before the next column; a character there means the
        // line is not aligned with this header.
        if index + 1 < starts.len() && end < chars.len() && end > 0 && chars[end - 1] != ' ' {
            return None;
        }
        cells.push(chars[start..end].iter().collect::<String>().trim().to_owned());
    }
    Some(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_with_spaces_and_empty_cells_stay_under_their_header() {
        let text = "\
NAME     STATUS   ROLES    AGE   VERSION   OS-IMAGE             KERNEL-VERSION
node-1   Ready    worker   7d    v1.32.7   Ubuntu 22.04.4 LTS   5.15.0-113-generic
node-2   NotReady <none>   7d    v1.32.7   Ubuntu 22.04.4 LTS   5.15.0-113-generic
Error from server (Forbidden): nodes is forbidden
";
        let tables = tables(text);
        assert_eq!(tables.len(), 1);
        let table = &tables[0];
        assert_eq!(table.columns[5], "OS-IMAGE");
        assert_eq!(table.cell(&table.rows[0], "OS-IMAGE"), Some("Ubuntu 22.04.4 LTS"));
        assert_eq!(table.cell(&table.rows[1], "STATUS"), Some("NotReady"));
        assert_eq!(table.cell(&table.rows[1], "ROLES"), None);
        // A message that does not fit under the header ends the table.
        assert_eq!(table.rows.len(), 2);
    }

    #[test]
    fn a_line_short_of_the_second_column_ends_the_table() {
        // A table pasted in Markdown, as in a ticket or a README.
        let text = "\
```
NAME           STATUS   ROLES           AGE     VERSION
datagen-1-35   Ready    control-plane   2m29s   v1.35.0
```
done
";
        let tables = tables(text);
        assert_eq!(tables.len(), 1);
        assert_eq!(tables[0].rows.len(), 1, "{:?}", tables[0].rows);
        assert_eq!(tables[0].rows[0][0], "datagen-1-35");
    }

    #[test]
    fn multi_word_headers_and_blank_cells() {
        let text = "\
NAMESPACE   LAST SEEN   TYPE      REASON   OBJECT      SUBOBJECT   MESSAGE
default     4m2s        Warning   BackOff  pod/web-1               Back-off restarting failed container
";
        let table = &tables(text)[0];
        assert_eq!(
            table.columns,
            ["NAMESPACE", "LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "MESSAGE"]
        );
        let row = &table.rows[0];
        assert_eq!(table.cell(row, "SUBOBJECT"), None);
        assert_eq!(table.cell(row, "MESSAGE"), Some("Back-off restarting failed container"));
    }

    #[test]
    fn prose_is_no_table() {
        assert!(tables("No resources found\nError from server (Forbidden): nodes is forbidden").is_empty());
        assert!(tables("Name:         web-1\nNamespace:    default\n").is_empty());
    }
}
