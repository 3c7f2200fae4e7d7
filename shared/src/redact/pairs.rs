//! Finds `key`/`value` pairs in one line of text, whatever the syntax: YAML (`key: value`,
//! `- name: X`), env files and shell (`KEY=value`, `export KEY="value"`), ini and properties
//! (`key = value`), JSON (`"key": "value"`, also escaped inside another string), logfmt and
//! query strings (`a=1&token=x`), Go maps (`Authorization:[Bearer x]`), CLI flags
//! (`--password x`) and config directives (`requirepass x`).
//!
//! Only syntax lives here; whether a key names a secret is decided by the caller.

use std::ops::Range;

/// One pair found in a line. `value` is a byte range of the line, inside any quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pair<'a> {
    pub(crate) key: &'a str,
    pub(crate) value: Range<usize>,
    /// Whether the syntax leaves no doubt that `value` is the whole value of `key` (a line that
    /// starts with the key, a quoted value, `key=value`), rather than a word that follows
    /// `key:` in prose.
    pub(crate) strong: bool,
    /// The value is the content of a double-quoted string: JSON escapes apply.
    pub(crate) json_string: bool,
}

/// What the start of a line holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Head<'a> {
    /// A key and its scalar value; inline scanning resumes at `rest` when it is not redacted.
    Pair { pair: Pair<'a>, rest: usize },
    /// `key: |`: a block scalar follows, indented deeper than `column`.
    Block { key: &'a str, column: usize },
    /// `key:` and nothing (a nested mapping or list follows), or a flow collection at `rest`.
    Open { key: &'a str, rest: usize },
}

/// The start of a line: its indentation, whether it opens a YAML list item, and its head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineStart<'a> {
    pub(crate) indent: usize,
    pub(crate) item: bool,
    pub(crate) head: Option<Head<'a>>,
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

fn skip_blanks(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t') {
        pos += 1;
    }
    pos
}

/// The index of the `"` that closes a JSON string whose content starts at `start`.
pub(crate) fn json_string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// The index of the `'` that closes a single-quoted YAML string (`''` is an escaped quote).
fn single_quote_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Parses the start of a line.
pub(crate) fn line_start(line: &str) -> LineStart<'_> {
    let bytes = line.as_bytes();
    let indent = skip_blanks(bytes, 0);
    let mut pos = indent;
    let mut item = false;
    while bytes.get(pos) == Some(&b'-') && matches!(bytes.get(pos + 1), Some(b' ') | None) {
        item = true;
        pos = skip_blanks(bytes, pos + 1);
    }
    for prefix in ["export ", "declare -x ", "ENV ", "set "] {
        if line[pos..].starts_with(prefix) {
            pos = skip_blanks(bytes, pos + prefix.len());
        }
    }
    let head = head(line, pos);
    LineStart { indent, item, head }
}

fn head(line: &str, column: usize) -> Option<Head<'_>> {
    let bytes = line.as_bytes();
    let first = *bytes.get(column)?;
    let (key, key_end, quoted_key) = if first == b'"' || first == b'\'' {
        let end = column + 1 + line[column + 1..].find(first as char)?;
        (&line[column + 1..end], end + 1, true)
    } else {
        if !(first.is_ascii_alphanumeric() || matches!(first, b'_' | b'.' | b'$' | b'@' | b'/')) {
            return None;
        }
        let mut end = column;
        while end < bytes.len() {
            let b = bytes[end];
            let yaml_colon = b == b':' && matches!(bytes.get(end + 1), None | Some(b' ' | b'\t'));
            if b.is_ascii_whitespace() || b == b'=' || yaml_colon {
                break;
            }
            // Keys are names (`kubernetes.io/x`, `f:password`, `$HOME`); `user@h?x=1` is not one.
            if !(is_key_byte(b) || matches!(b, b'/' | b':' | b'$')) {
                return None;
            }
            end += 1;
        }
        (&line[column..end], end, false)
    };
    if key.is_empty() {
        return None;
    }
    let sep = skip_blanks(bytes, key_end);
    let separator = *bytes.get(sep)?;
    let yaml = separator == b':' && (quoted_key || matches!(bytes.get(sep + 1), None | Some(b' ' | b'\t')));
    let env = separator == b'=' && bytes.get(sep + 1) != Some(&b'=');
    if !yaml && !env {
        return None;
    }
    let start = skip_blanks(bytes, sep + 1);
    let Some(&c) = bytes.get(start) else {
        return Some(Head::Open { key, rest: start });
    };
    if yaml && (c == b'|' || c == b'>') && is_block_indicator(&line[start..]) {
        return Some(Head::Block { key, column });
    }
    if c == b'{' || c == b'[' {
        return Some(Head::Open { key, rest: start });
    }
    let (value, json_string) = match c {
        b'"' => match json_string_end(bytes, start + 1) {
            Some(end) => (start + 1..end, true),
            None => (start + 1..line.len(), true),
        },
        b'\'' => match single_quote_end(bytes, start + 1) {
            Some(end) => (start + 1..end, false),
            None => (start + 1..line.len(), false),
        },
        _ if quoted_key && yaml => {
            // A JSON literal: number, boolean, null.
            let end = line[start..].find([',', '}', ']', ' ']).map_or(line.len(), |n| start + n);
            (start..end, false)
        }
        _ => {
            let mut end = line.len();
            if yaml && let Some(comment) = line[start..].find(" #") {
                end = start + comment;
            }
            (start..start + line[start..end].trim_end().len(), false)
        }
    };
    Some(Head::Pair { pair: Pair { key, value, strong: true, json_string }, rest: sep + 1 })
}

fn is_block_indicator(rest: &str) -> bool {
    let rest = rest.split(" #").next().unwrap_or_default().trim_end();
    let mut chars = rest.chars();
    matches!(chars.next(), Some('|' | '>')) && chars.all(|c| matches!(c, '-' | '+') || c.is_ascii_digit())
}

/// Reads the value that starts at `start`, after a separator.
/// `stop` is a delimiter that also ends an unquoted value (`&` in a query string, `;` and `,`
/// in connection strings), given by what preceded the key.
fn inline_value(
    line: &str,
    start: usize,
    stop: Option<u8>,
    json_literal: bool,
) -> Option<(Range<usize>, bool, usize)> {
    let bytes = line.as_bytes();
    let c = *bytes.get(start)?;
    match c {
        b'"' => {
            let end = json_string_end(bytes, start + 1).unwrap_or(line.len());
            Some((start + 1..end, true, end + 1))
        }
        b'\\' if bytes.get(start + 1) == Some(&b'"') => {
            let end = line[start + 2..].find("\\\"").map_or(line.len(), |n| start + 2 + n);
            Some((start + 2..end, false, end + 2))
        }
        b'\'' => {
            let end = line[start + 1..].find('\'').map_or(line.len(), |n| start + 1 + n);
            Some((start + 1..end, false, end + 1))
        }
        b'{' => None,
        b'[' => {
            let end = line[start + 1..].find(']').map_or(line.len(), |n| start + 1 + n);
            Some((start + 1..end, false, end + 1))
        }
        _ => {
            let mut end = start;
            while end < bytes.len() {
                let b = bytes[end];
                let next_blank = matches!(bytes.get(end + 1), None | Some(b' ' | b'\t'));
                if b.is_ascii_whitespace()
                    || matches!(b, b'"' | b'\'' | b'`')
                    || Some(b) == stop
                    || (json_literal && matches!(b, b',' | b'}' | b']'))
                    || (matches!(b, b',' | b';') && next_blank)
                    || (b == b'&' && starts_query_pair(&bytes[end + 1..]))
                {
                    break;
                }
                end += 1;
            }
            let mut value_end = end;
            while value_end > start && matches!(bytes[value_end - 1], b',' | b';') {
                value_end -= 1;
            }
            for (open, close) in [(b'(', b')'), (b'[', b']'), (b'{', b'}')] {
                if value_end > start
                    && bytes[value_end - 1] == close
                    && !bytes[start..value_end].contains(&open)
                {
                    value_end -= 1;
                }
            }
            (value_end > start).then_some((start..value_end, false, end))
        }
    }
}

/// `name=` after an `&`: the next parameter of a query string.
fn starts_query_pair(rest: &[u8]) -> bool {
    let n_key = rest.iter().take_while(|&&b| is_key_byte(b)).count();
    n_key > 0 && rest.get(n_key) == Some(&b'=')
}

/// Calls `decide` on every pair after `from`; when it returns true (the value was taken),
/// scanning resumes after the value, otherwise right after the separator, so that pairs
/// nested in a value (`--from-literal=DB_PASSWORD=x`, `DSN=host=a password=b`) are seen.
pub(crate) fn inline_pairs<'a>(line: &'a str, from: usize, mut decide: impl FnMut(Pair<'a>) -> bool) {
    let bytes = line.as_bytes();
    let mut i = from;
    while let Some(found) = bytes.get(i..).and_then(|rest| rest.iter().position(|&b| b == b'=' || b == b':'))
    {
        let p = i + found;
        i = p + 1;
        let found = if bytes[p] == b'=' { equals_pair(line, p) } else { colon_pair(line, p) };
        if let Some((pair, resume)) = found
            && decide(pair)
        {
            i = resume.max(p + 1);
        }
    }
}

fn key_left(bytes: &[u8], end: usize) -> usize {
    let mut start = end;
    while start > 0 && is_key_byte(bytes[start - 1]) {
        start -= 1;
    }
    start
}

fn equals_pair(line: &str, p: usize) -> Option<(Pair<'_>, usize)> {
    let bytes = line.as_bytes();
    if bytes.get(p + 1) == Some(&b'=') || (p > 0 && matches!(bytes[p - 1], b'=' | b'!' | b'<' | b'>')) {
        return None;
    }
    let key_start = key_left(bytes, p);
    let key = line[key_start..p].trim_start_matches('-');
    if key.is_empty() {
        return None;
    }
    let stop = match key_start.checked_sub(1).map(|k| bytes[k]) {
        Some(b'&' | b'?') => Some(b'&'),
        Some(b';') => Some(b';'),
        Some(b',') => Some(b','),
        _ => None,
    };
    let (value, json_string, resume) = inline_value(line, p + 1, stop, false)?;
    Some((Pair { key, value, strong: true, json_string }, resume))
}

fn colon_pair(line: &str, p: usize) -> Option<(Pair<'_>, usize)> {
    let bytes = line.as_bytes();
    let before = p.checked_sub(1).map(|k| bytes[k]);
    let (key, quoted) = match before {
        Some(quote @ (b'"' | b'\'')) => {
            let escaped = quote == b'"' && p >= 2 && bytes[p - 2] == b'\\';
            let close = if escaped { p - 2 } else { p - 1 };
            let open = line[..close].rfind(quote as char)?;
            let open_content = open + 1;
            let key = &line[open_content..close];
            let key = if escaped { key.trim_start_matches('\\').trim_end_matches('\\') } else { key };
            (key, true)
        }
        _ => {
            // A bare key needs a blank, a quote or a Go map bracket after the colon: this keeps
            // `https://`, `10:14:22`, `host:5432` and `sha256:…` out.
            if !matches!(bytes.get(p + 1), Some(b' ' | b'\t' | b'[' | b'"' | b'\'')) {
                return None;
            }
            let key_start = key_left(bytes, p);
            (&line[key_start..p], false)
        }
    };
    if key.is_empty() || key.len() > 128 {
        return None;
    }
    let start = skip_blanks(bytes, p + 1);
    let (value, json_string, resume) = inline_value(line, start, None, quoted)?;
    let value_quoted = matches!(bytes.get(start), Some(b'"' | b'\'' | b'\\'));
    Some((Pair { key, value, strong: quoted || value_quoted, json_string }, resume))
}

/// `--password s3cret`, `-token x`: a flag whose value is the next word.
pub(crate) fn flag_pairs<'a>(line: &'a str, mut found: impl FnMut(Pair<'a>)) {
    let mut tokens = line
        .split_ascii_whitespace()
        .map(|token| (token, token.as_ptr() as usize - line.as_ptr() as usize))
        .peekable();
    while let Some((token, _)) = tokens.next() {
        let token = token.trim_matches(|c| c == '"' || c == '\'' || c == ',');
        let name = if let Some(name) = token.strip_prefix("--") {
            name
        } else if let Some(name) = token.strip_prefix('-').filter(|name| name.len() >= 4) {
            name
        } else {
            continue;
        };
        if name.is_empty() || !name.bytes().all(is_key_byte) {
            continue;
        }
        let Some(&(value, offset)) = tokens.peek() else { break };
        if value.starts_with('-') || value == "\\" {
            continue;
        }
        let trimmed = value.trim_matches(|c| c == '"' || c == '\'');
        let lead = value.find(trimmed).unwrap_or(0);
        let value_start = offset + lead;
        found(Pair {
            key: name,
            value: value_start..value_start + trimmed.len(),
            strong: true,
            json_string: false,
        });
    }
}

/// `<password>s3cret</password>`: an XML element whose content is its value.
pub(crate) fn xml_elements<'a>(line: &'a str, mut found: impl FnMut(Pair<'a>)) {
    let mut from = 0;
    while let Some(open) = line[from..].find('<').map(|n| from + n) {
        from = open + 1;
        let name_len = line[open + 1..].bytes().take_while(|&b| is_key_byte(b) || b == b':').count();
        let close_bracket = open + 1 + name_len;
        if name_len == 0 || line.as_bytes().get(close_bracket) != Some(&b'>') {
            continue;
        }
        let name = &line[open + 1..close_bracket];
        let content = close_bracket + 1;
        let Some(end) = line[content..].find("</").map(|n| content + n) else { continue };
        if line[end + 2..].starts_with(name) && end > content {
            found(Pair { key: name, value: content..end, strong: true, json_string: false });
        }
    }
}

/// `password s3cret`, `token eyJ…` in free text: a key word and the word after it. Only taken
/// when the word looks generated (the caller's weak-context rule), so that
/// `password authentication failed` stays.
pub(crate) fn spaced_pairs<'a>(line: &'a str, mut found: impl FnMut(Pair<'a>)) {
    let mut tokens = line
        .split_ascii_whitespace()
        .map(|token| (token, token.as_ptr() as usize - line.as_ptr() as usize))
        .peekable();
    while let Some((key, _)) = tokens.next() {
        if key.is_empty() || !key.bytes().all(is_key_byte) {
            continue;
        }
        let Some(&(value, offset)) = tokens.peek() else { break };
        let trimmed = value.trim_end_matches([',', ';', '.', ')']);
        if trimmed.is_empty() || trimmed.starts_with(['-', '=', ':']) {
            continue;
        }
        // `secret "db-credentials" not found`: Kubernetes messages name a Secret by its kind
        // and its quoted name, which is no secret.
        if key.eq_ignore_ascii_case("secret")
            && let Some(name) = trimmed.strip_prefix('"').and_then(|rest| rest.strip_suffix('"'))
            && super::keys::is_object_name(name)
        {
            continue;
        }
        found(Pair { key, value: offset..offset + trimmed.len(), strong: false, json_string: false });
    }
}

/// `requirepass s3cret`, `password s3cret`: a line of exactly a key and one word.
pub(crate) fn directive(line: &str) -> Option<Pair<'_>> {
    let mut tokens = line.split_ascii_whitespace();
    let key = tokens.next()?;
    let value = tokens.next()?;
    if tokens.next().is_some() || !key.bytes().all(is_key_byte) {
        return None;
    }
    let start = value.as_ptr() as usize - line.as_ptr() as usize;
    Some(Pair { key, value: start..start + value.len(), strong: false, json_string: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(line: &str) -> Vec<(&str, &str)> {
        let mut found = Vec::new();
        inline_pairs(line, 0, |pair| {
            found.push((pair.key, &line[pair.value.clone()]));
            false
        });
        found
    }

    fn head_value(line: &str) -> Option<(&str, &str)> {
        match line_start(line).head? {
            Head::Pair { pair, .. } => Some((pair.key, &line[pair.value])),
            _ => None,
        }
    }

    #[test]
    fn line_heads_of_every_syntax() {
        assert_eq!(head_value("    - name: DB_PASSWORD"), Some(("name", "DB_PASSWORD")));
        assert_eq!(head_value("  password: \"a\\\"b\" # c"), Some(("password", "a\\\"b")));
        assert_eq!(head_value("  password: 'it''s' "), Some(("password", "it''s")));
        assert_eq!(head_value("export ELASTIC_PASSWORD=\"x y\""), Some(("ELASTIC_PASSWORD", "x y")));
        assert_eq!(
            head_value("admin_password = w.vGR!wN~DY46-1%"),
            Some(("admin_password", "w.vGR!wN~DY46-1%"))
        );
        assert_eq!(head_value("  \"token\": \"abc\","), Some(("token", "abc")));
        assert_eq!(head_value("  \"port\": 8080,"), Some(("port", "8080")));
        assert_eq!(head_value("  f:password: {}"), None);
        assert_eq!(line_start("  tls.key: |-").head, Some(Head::Block { key: "tls.key", column: 2 }));
        assert_eq!(line_start("- tls.key: >").head, Some(Head::Block { key: "tls.key", column: 2 }));
        assert!(matches!(line_start("  auth:").head, Some(Head::Open { key: "auth", .. })));
        assert_eq!(line_start("2026-01-01T00:00:00Z level=info").head, None);
    }

    #[test]
    fn inline_pairs_of_every_syntax() {
        assert_eq!(values("a=1&token=x%2F&b=2"), [("a", "1"), ("token", "x%2F"), ("b", "2")]);
        assert_eq!(values("host:6380,password=p,w=,ssl=True"), [("password", "p"), ("ssl", "True")]);
        assert_eq!(values("msg=\"a b\" path=/x"), [("msg", "a b"), ("path", "/x")]);
        assert_eq!(values("headers={\"X-Api-Key\": \"k1\", \"n\": 2}"), [("X-Api-Key", "k1"), ("n", "2")]);
        assert_eq!(values("{\\\"name\\\":\\\"X\\\"}"), [("name", "X")]);
        assert_eq!(
            values("map[Authorization:[Bearer t] x:[y]]"),
            [("Authorization", "Bearer t"), ("x", "y")]
        );
        assert_eq!(
            values("set-cookie: session=abc; Path=/"),
            [("set-cookie", "session=abc"), ("session", "abc"), ("Path", "/")]
        );
        assert_eq!(values("https://h:5432/x 10:14:22 sha256:ab"), []);
        assert_eq!(values("if a == b"), []);
    }

    #[test]
    fn nested_pairs_are_seen_when_the_outer_is_not_taken() {
        let line = "--from-literal=DB_PASSWORD=s3cr=t more";
        assert_eq!(values(line)[..2], [("from-literal", "DB_PASSWORD=s3cr=t"), ("DB_PASSWORD", "s3cr=t")]);
    }

    #[test]
    fn flags_and_directives() {
        let mut found = Vec::new();
        let line = "kubeadm join x --token abc.def --discovery-token-ca-cert-hash sha256:1 -v 2";
        flag_pairs(line, |pair| found.push((pair.key, &line[pair.value])));
        assert_eq!(found, [("token", "abc.def"), ("discovery-token-ca-cert-hash", "sha256:1")]);
        let line = "requirepass 'x y'";
        assert_eq!(directive(line).map(|pair| pair.key), None);
        let line = "  requirepass s3cret";
        assert_eq!(directive(line).map(|pair| &line[pair.value]), Some("s3cret"));
    }
}
