//! Redaction of arbitrary text (logs, YAML, env files, config files), line by line.
//!
//! One Aho-Corasick pass over the whole text finds the lines that hold a trigger (a secret-ish
//! key word, a token prefix, `://`, `-----BEGIN`); every other line costs nothing more. A
//! candidate line goes through the shape rules (one `RegexSet` pass, then only the rules that
//! matched), PEM and base64 detection, and the pair finder. A little state crosses lines: the
//! body of a PEM private key, a YAML block scalar under a secret key, the `data` of a YAML
//! `kind: Secret`, and an env entry whose `name` is secret-ish waiting for its `value`.
//!
//! The result is a list of spans (absolute byte ranges) that [`apply`] replaces with
//! `<redacted:RULE>`; a span may cross lines (a PEM body becomes one marker).

use std::ops::Range;

use super::keys::{self, KeyClass};
use super::pairs::{self, Head, Pair};
use super::{Counts, Redactor};

/// What replaces a span.
#[derive(Debug, Clone)]
pub(crate) enum Replacement<'r> {
    /// `<redacted:RULE>`, counted once.
    Marker(&'r str),
    /// Re-serialized embedded JSON whose own redactions are in the counts.
    Text(String, Counts),
}

#[derive(Debug, Clone)]
pub(crate) struct Span<'r> {
    pub(crate) range: Range<usize>,
    pub(crate) replacement: Replacement<'r>,
}

/// How deep base64 and embedded JSON may nest before the scanner stops decoding.
const MAX_DEPTH: u8 = 3;

/// A multi-line region being redacted as one span.
#[derive(Debug)]
struct Region<'r> {
    rule: &'r str,
    /// Lines indented deeper than this column belong to the region (YAML blocks); `None` for
    /// a PEM body, which ends at its `-----END` line.
    column: Option<usize>,
    start: Option<usize>,
    end: usize,
}

/// A `name` (or `key`) field that named a secret; its `value` field is expected next.
#[derive(Debug)]
struct Pending<'r> {
    class: KeyClass,
    name: String,
    rule: &'r str,
    pattern: Option<&'r regex::Regex>,
    indent: usize,
    lines_left: u8,
}

pub(crate) struct Scan<'r, 't> {
    redactor: &'r Redactor,
    text: &'t str,
    depth: u8,
    spans: Vec<Span<'r>>,
    region: Option<Region<'r>>,
    pending: Option<Pending<'r>>,
    secret_data: Vec<Range<usize>>,
    secret_child_indent: Option<usize>,
    /// The `-----END … PRIVATE KEY-----` lines that closed a redacted body; see [`Armor`].
    armors: Vec<Armor>,
}

/// Where a line stands with respect to the open region.
enum RegionLine {
    /// The line is part of the region.
    Inside,
    /// The line, from this byte on, is outside any region.
    Outside(usize),
}

/// The armor line that closes a PEM private-key body, and where the body began. The armor is
/// public; a span starting inside the body must not swallow it (`Bearer x-----END PRIVATE KEY`),
/// or redacting the output again would find the body running on to the next `-----END`.
#[derive(Debug)]
struct Armor {
    body_start: usize,
    range: Range<usize>,
}

impl std::fmt::Debug for Scan<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scan").field("spans", &self.spans.len()).finish()
    }
}

impl<'r, 't> Scan<'r, 't> {
    pub(crate) fn new(redactor: &'r Redactor, text: &'t str, depth: u8) -> Self {
        Scan {
            redactor,
            text,
            depth,
            spans: Vec::new(),
            region: None,
            pending: None,
            secret_data: Vec::new(),
            secret_child_indent: None,
            armors: Vec::new(),
        }
    }

    /// Scans the whole text and returns the spans to replace, sorted and not overlapping.
    pub(crate) fn run(mut self) -> Vec<Span<'r>> {
        let text = self.text;
        if let Some(secret_kind) = &self.redactor.secret_kind {
            self.secret_data = super::yaml_secret::data_ranges(secret_kind, text);
        }
        let mut next_trigger: Option<usize> = None;
        let mut searched_to = 0;
        let mut line_start = 0;
        let mut data_index = 0;
        loop {
            let line_end = text[line_start..].find('\n').map_or(text.len(), |n| line_start + n);
            let mut line = &text[line_start..line_end];
            if let Some(stripped) = line.strip_suffix('\r') {
                line = stripped;
            }
            if next_trigger.is_none_or(|at| at < line_start) && searched_to <= line_start {
                // Without an automaton every line is a candidate: slower, never less safe.
                next_trigger = match &self.redactor.prefilter {
                    Some(prefilter) => prefilter.find(&text[line_start..]).map(|m| line_start + m.start()),
                    None => Some(line_start),
                };
                searched_to = next_trigger.unwrap_or(text.len());
            }
            let candidate = next_trigger.is_some_and(|at| at < line_end);
            while data_index < self.secret_data.len() && self.secret_data[data_index].end <= line_start {
                data_index += 1;
                // A new block's children set their own indent, whether or not the lines
                // between the blocks were scanned.
                self.secret_child_indent = None;
            }
            let in_secret_data =
                self.secret_data.get(data_index).is_some_and(|range| range.contains(&line_start));
            if candidate || in_secret_data || self.region.is_some() || self.pending.is_some() {
                self.line(line_start, line, candidate, in_secret_data);
            }
            if line_end >= text.len() {
                break;
            }
            line_start = line_end + 1;
        }
        self.close_region();
        self.custom_patterns();
        merge(spare_armors(self.spans, &self.armors))
    }

    fn push(&mut self, range: Range<usize>, rule: &'r str) {
        // A span that is already a marker (a second pass over redacted text) is left as it is:
        // replacing it would change nothing but the counts.
        let marker = self.text.get(range.clone()).is_some_and(is_marker);
        if range.start < range.end && !marker {
            self.spans.push(Span { range, replacement: Replacement::Marker(rule) });
        }
    }

    fn close_region(&mut self) {
        if let Some(region) = self.region.take()
            && let Some(start) = region.start
        {
            self.push(start..region.end, region.rule);
        }
    }

    /// Extends the current region with a line's content, when the line belongs to it, and says
    /// from where the rest of the line is scanned like any line.
    fn continue_region(&mut self, at: usize, line: &str) -> RegionLine {
        let Some(region) = self.region.as_mut() else { return RegionLine::Outside(0) };
        let trimmed = line.trim();
        let indent = line.len() - line.trim_start().len();
        match region.column {
            Some(column) => {
                if trimmed.is_empty() {
                    return RegionLine::Inside;
                }
                if indent <= column {
                    self.close_region();
                    return RegionLine::Outside(0);
                }
            }
            None => {
                if let Some(end) = line.find("-----END") {
                    // The END line stays on its own line unless body text shares it.
                    let before = line[..end].trim_end();
                    if !before.trim_start().is_empty() {
                        region.start.get_or_insert(at + indent);
                        region.end = at + before.len();
                    }
                    let body_start = region.start.unwrap_or(at);
                    let armor = armor(line, end);
                    self.armors.push(Armor { body_start, range: shift(at, armor.clone()) });
                    self.close_region();
                    // What follows the END marker on its line is scanned like any line; the
                    // body before it is not structure (a `}` there closes nothing).
                    return RegionLine::Outside(armor.end);
                }
                let pem_line = trimmed.is_empty()
                    || trimmed.starts_with("Proc-Type:")
                    || trimmed.starts_with("DEK-Info:")
                    || trimmed
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\\'));
                if !pem_line {
                    self.close_region();
                    return RegionLine::Outside(0);
                }
            }
        }
        if !trimmed.is_empty() {
            region.start.get_or_insert(at + indent);
            region.end = at + line.trim_end().len();
        }
        RegionLine::Inside
    }

    fn line(&mut self, at: usize, line: &str, candidate: bool, in_secret_data: bool) {
        let (at, line) = match self.continue_region(at, line) {
            RegionLine::Inside => return,
            RegionLine::Outside(from) => (at + from, &line[from..]),
        };
        if in_secret_data {
            if self.secret_data_line(at, line) {
                return;
            }
        } else {
            self.secret_child_indent = None;
        }
        if !candidate && self.pending.is_none() {
            return;
        }
        if self.depth == 0 && line.contains("Secret") && self.embedded_secret_object(at, line) {
            return;
        }
        self.pem(at, line);
        self.shapes(at, line);
        self.base64(at, line);
        self.pairs(at, line);
    }

    /// A line inside the `data` or `stringData` of a YAML Secret: every value is secret.
    fn secret_data_line(&mut self, at: usize, line: &str) -> bool {
        let start = pairs::line_start(line);
        if line.trim().is_empty() {
            return true;
        }
        let child = *self.secret_child_indent.get_or_insert(start.indent);
        if start.indent > child {
            let indent = start.indent;
            self.push(at + indent..at + line.trim_end().len(), "secret-data");
            return true;
        }
        match start.head {
            Some(Head::Pair { pair, .. }) => {
                let value = &line[pair.value.clone()];
                if !value.is_empty() && !value.starts_with("<redacted") {
                    self.push(at + pair.value.start..at + pair.value.end, "secret-data");
                }
                true
            }
            Some(Head::Block { column, .. }) => {
                self.region = Some(Region { rule: "secret-data", column: Some(column), start: None, end: 0 });
                true
            }
            _ => false,
        }
    }

    /// A whole JSON object on one line that holds a Secret (the last-applied configuration of
    /// a Secret in YAML output, a JSON log line): redacted as an object.
    fn embedded_secret_object(&mut self, at: usize, line: &str) -> bool {
        let trimmed = line.trim();
        if !(trimmed.starts_with('{') && trimmed.ends_with('}')) {
            return false;
        }
        let Ok(mut value) = serde_json::from_str::<serde_json::Value>(trimmed) else { return false };
        let mut counts = Counts::default();
        super::object::redact_value(self.redactor, &mut value, &mut counts, self.depth + 1);
        if counts.is_empty() {
            return false;
        }
        let offset = at + (line.len() - line.trim_start().len());
        let text = serde_json::to_string(&value).unwrap_or_default();
        self.spans.push(Span {
            range: offset..offset + trimmed.len(),
            replacement: Replacement::Text(text, counts),
        });
        true
    }

    /// `-----BEGIN … PRIVATE KEY-----`: the body up to `-----END`, on this line (escaped
    /// newlines in JSON or a log) or across the following lines.
    fn pem(&mut self, at: usize, line: &str) {
        let mut from = 0;
        while let Some(body) = pem_private_key_begin(line, from) {
            match line[body..].find("-----END") {
                Some(end) => {
                    self.push(at + body..at + body + end, "pem-private-key");
                    let armor = armor(line, body + end);
                    self.armors.push(Armor { body_start: at + body, range: shift(at, armor.clone()) });
                    from = body + end + 8;
                }
                None => {
                    let rest = line[body..].trim_end();
                    let mut region = Region { rule: "pem-private-key", column: None, start: None, end: 0 };
                    if !rest.is_empty() {
                        region.start = Some(at + body);
                        region.end = at + body + rest.len();
                    }
                    self.region = Some(region);
                    return;
                }
            }
        }
    }

    fn shapes(&mut self, at: usize, line: &str) {
        let redactor = self.redactor;
        for index in redactor.shapes_for(line) {
            let shape = &redactor.shapes[index];
            for captures in shape.regex.captures_iter(line) {
                let secret = ["s", "s2", "s3", "s4", "s5"]
                    .iter()
                    .find_map(|name| captures.name(name))
                    .or_else(|| captures.get(0));
                let Some(secret) = secret else { continue };
                if shape.accepts(secret.as_str()) {
                    self.push(at + secret.start()..at + secret.end(), shape.rule.name);
                }
            }
        }
    }

    /// Base64 that decodes to text holding a secret (a PEM key, a docker config, a connection
    /// string): the whole encoded value is replaced.
    fn base64(&mut self, at: usize, line: &str) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        let Some(base64) = &self.redactor.base64 else { return };
        for found in base64.find_iter(line) {
            let Some(decoded) = super::decode_base64_text(found.as_str()) else { continue };
            let inner = Scan::new(self.redactor, &decoded, self.depth + 1).run();
            if !inner.is_empty() {
                self.push(at + found.start()..at + found.end(), "base64-encoded-secret");
            }
        }
    }

    fn pairs(&mut self, at: usize, line: &str) {
        let start = pairs::line_start(line);
        self.age_pending(&start, line);
        let mut resume = 0;
        match start.head.clone() {
            Some(Head::Pair { pair, rest }) => {
                resume = rest;
                if self.env_value(at, line, &pair) || self.decide(at, line, &pair) {
                    resume = pair.value.end;
                }
            }
            Some(Head::Block { key, column }) => {
                if let Some((_, rule, _)) = self.redactor.key_verdict(key) {
                    self.region = Some(Region { rule, column: Some(column), start: None, end: 0 });
                }
                return;
            }
            Some(Head::Open { rest, .. }) => resume = rest,
            None => {
                if let Some(pair) = pairs::directive(line) {
                    let strong =
                        matches!(pair.key.to_ascii_lowercase().as_str(), "requirepass" | "masterauth");
                    if self.decide(at, line, &Pair { strong, ..pair }) {
                        return;
                    }
                }
            }
        }
        let mut found: Vec<Pair<'_>> = Vec::new();
        pairs::inline_pairs(line, resume, |pair| {
            found.push(pair);
            false
        });
        // Pairs inside a value that was taken (`password=a=b`) are not pairs of their own.
        let mut taken: Vec<Range<usize>> = Vec::new();
        let overlaps = |taken: &[Range<usize>], value: &Range<usize>| {
            taken.iter().any(|range| value.start < range.end && range.start < value.end)
        };
        let mut line_name: Option<(KeyClass, String)> = None;
        for pair in found {
            if overlaps(&taken, &pair.value) {
                continue;
            }
            let lower = pair.key.to_ascii_lowercase();
            let value = unescape(&line[pair.value.clone()], pair.json_string);
            if lower == "name" || lower == "key" {
                line_name =
                    (!value.contains("<redacted")).then(|| (keys::classify(&value), value.into_owned()));
                continue;
            }
            let took = if lower == "value" {
                let redact = line_name
                    .as_ref()
                    .is_some_and(|(class, name)| keys::should_redact(*class, name, &value, true));
                if redact {
                    self.push(at + pair.value.start..at + pair.value.end, "name-value-pair");
                }
                redact
            } else {
                self.decide(at, line, &pair)
            };
            if took {
                taken.push(pair.value.clone());
            }
        }
        if line.contains("</") {
            let mut elements = Vec::new();
            pairs::xml_elements(line, |pair| elements.push(pair));
            for pair in elements {
                self.decide(at, line, &pair);
            }
        }
        let mut spaced = Vec::new();
        pairs::spaced_pairs(line, |pair| spaced.push(pair));
        for pair in spaced {
            let strong_key =
                self.redactor.key_verdict(pair.key).is_some_and(|(class, _, _)| class == KeyClass::Strong);
            if strong_key && !overlaps(&taken, &pair.value) && self.decide(at, line, &pair) {
                taken.push(pair.value.clone());
            }
        }
        if line.contains('-') {
            let mut flags = Vec::new();
            pairs::flag_pairs(line, |pair| flags.push(pair));
            for pair in flags {
                if !overlaps(&taken, &pair.value) {
                    self.decide(at, line, &pair);
                }
            }
        }
    }

    /// Keeps or drops the pending env name as the YAML or JSON structure moves on.
    fn age_pending(&mut self, start: &pairs::LineStart<'_>, line: &str) {
        let Some(pending) = self.pending.as_mut() else { return };
        let trimmed = line.trim_start();
        let left_item = (start.item && start.indent <= pending.indent)
            || (!trimmed.is_empty() && start.indent < pending.indent)
            || trimmed.starts_with('}');
        if left_item || pending.lines_left == 0 {
            self.pending = None;
        } else {
            pending.lines_left -= 1;
        }
    }

    /// `- name: DB_PASSWORD` then `value: …`, or `"name": "X"` then `"value": "…"`.
    fn env_value(&mut self, at: usize, line: &str, pair: &Pair<'_>) -> bool {
        let lower = pair.key.to_ascii_lowercase();
        if lower == "name" || lower == "key" {
            let name = unescape(&line[pair.value.clone()], pair.json_string);
            // A marker names nothing: `<redacted:github-token>` is not a token's name.
            if name.contains("<redacted") {
                self.pending = None;
                return false;
            }
            self.pending = self.redactor.key_verdict(&name).map(|(class, rule, pattern)| Pending {
                class,
                name: name.clone().into_owned(),
                rule: if rule == "key-name" { "name-value-pair" } else { rule },
                pattern,
                indent: line.len() - line.trim_start().len(),
                lines_left: 8,
            });
            return false;
        }
        if lower != "value" {
            return false;
        }
        let Some(pending) = self.pending.take() else { return false };
        let value = unescape(&line[pair.value.clone()], pair.json_string);
        if keys::redacts(pending.class, pending.pattern, &pending.name, &value, true) {
            self.push(at + pair.value.start..at + pair.value.end, pending.rule);
            return true;
        }
        false
    }

    /// Whether the key of `pair` calls for redacting `value`.
    fn verdict_redacts(&self, key: &str, value: &str, strong: bool) -> Option<&'r str> {
        let (class, rule, pattern) = self.redactor.key_verdict(key)?;
        let value = auth_credential(key, value).map_or(value, |offset| &value[offset..]);
        let redact = keys::redacts(class, pattern, key, value, strong);
        redact.then_some(rule)
    }

    /// Redacts the value of `pair` when its key calls for it, or the secrets of the JSON it
    /// holds; returns whether anything was taken.
    fn decide(&mut self, at: usize, line: &str, pair: &Pair<'_>) -> bool {
        let raw = &line[pair.value.clone()];
        let value = unescape(raw, pair.json_string);
        if pair.json_string
            && (value.starts_with('{') || value.starts_with('['))
            && self.embedded_json(at, pair, &value)
        {
            return true;
        }
        let key_start = (pair.key.as_ptr() as usize).saturating_sub(line.as_ptr() as usize).min(line.len());
        let key_prefix = line
            .get(..key_start)
            .unwrap_or_default()
            .rsplit([' ', '\t', '"', '\''])
            .next()
            .unwrap_or_default();
        if keys::names_a_secret(key_prefix, pair.key, &value) {
            return false;
        }
        let Some(rule) = self.verdict_redacts(pair.key, &value, pair.strong) else { return false };
        let offset = auth_credential(pair.key, raw).unwrap_or(0);
        self.push(at + pair.value.start + offset..at + pair.value.end, rule);
        true
    }

    /// A JSON string that holds JSON (`last-applied-configuration`, a Helm value): redacted as
    /// an object and written back escaped.
    fn embedded_json(&mut self, at: usize, pair: &Pair<'_>, value: &str) -> bool {
        if self.depth >= MAX_DEPTH {
            return false;
        }
        let Ok(mut parsed) = serde_json::from_str::<serde_json::Value>(value) else {
            // Not JSON after all (or cut short): scan it as text.
            let inner = Scan::new(self.redactor, value, self.depth + 1).run();
            if inner.is_empty() {
                return false;
            }
            let rule = inner.first().map_or("key-name", |span| match span.replacement {
                Replacement::Marker(rule) => rule,
                Replacement::Text(..) => "key-name",
            });
            self.push(at + pair.value.start..at + pair.value.end, rule);
            return true;
        };
        let mut counts = Counts::default();
        super::object::redact_value(self.redactor, &mut parsed, &mut counts, self.depth + 1);
        if counts.is_empty() {
            return false;
        }
        let mut text = serde_json::to_string(&parsed).unwrap_or_default();
        if value.ends_with('\n') {
            text.push('\n');
        }
        let escaped = if pair.json_string {
            let quoted = serde_json::to_string(&text).unwrap_or_default();
            quoted[1..quoted.len().saturating_sub(1)].to_owned()
        } else {
            text
        };
        let range = at + pair.value.start..at + pair.value.end;
        self.spans.push(Span { range, replacement: Replacement::Text(escaped, counts) });
        true
    }

    /// User rules with a pattern and no keys apply to the whole text.
    fn custom_patterns(&mut self) {
        let redactor = self.redactor;
        for rule in &redactor.custom {
            let (Some(pattern), true) = (&rule.pattern, rule.keys.is_empty()) else { continue };
            for captures in pattern.captures_iter(self.text) {
                let secret = captures.name("secret").or_else(|| captures.get(1)).or_else(|| captures.get(0));
                if let Some(secret) = secret {
                    self.push(secret.range(), &rule.name);
                }
            }
        }
    }
}

/// The end of the next `-----BEGIN … PRIVATE KEY-----` (or `… PRIVATE KEY BLOCK-----`) marker
/// at or after `from`.
fn pem_private_key_begin(line: &str, mut from: usize) -> Option<usize> {
    while let Some(found) = line[from..].find("-----BEGIN ") {
        let label_start = from + found + "-----BEGIN ".len();
        let label_len = line[label_start..].find("-----")?;
        let label = &line[label_start..label_start + label_len];
        let private = label.ends_with("PRIVATE KEY") || label.ends_with("PRIVATE KEY BLOCK");
        if private && label.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ') {
            return Some(label_start + label_len + "-----".len());
        }
        from = label_start;
    }
    None
}

/// The content of a JSON string, unescaped; other values as they are.
fn unescape(raw: &str, json_string: bool) -> std::borrow::Cow<'_, str> {
    if json_string
        && raw.contains('\\')
        && let Ok(unescaped) = serde_json::from_str::<String>(&format!("\"{raw}\""))
    {
        return std::borrow::Cow::Owned(unescaped);
    }
    std::borrow::Cow::Borrowed(raw)
}

/// `Authorization: Bearer x`: the offset of the credential after the scheme, so the report
/// still says which scheme was used.
fn auth_credential(key: &str, value: &str) -> Option<usize> {
    if !key.to_ascii_lowercase().contains("authorization") {
        return None;
    }
    let (scheme, _) = value.split_once(' ')?;
    let known = [
        "bearer",
        "basic",
        "token",
        "digest",
        "negotiate",
        "apikey",
        "sso-key",
        "key",
        "ntlm",
        "aws4-hmac-sha256",
    ];
    known.contains(&scheme.to_ascii_lowercase().as_str()).then(|| {
        let rest = &value[scheme.len()..];
        scheme.len() + (rest.len() - rest.trim_start().len())
    })
}

/// The `-----END …-----` armor that starts at `end` in `line`: up to its closing dashes, or the
/// end of the line when they are missing.
fn armor(line: &str, end: usize) -> Range<usize> {
    let label = end + "-----END".len();
    match line[label..].find("-----") {
        Some(close) => end..label + close + "-----".len(),
        None => end..line.len(),
    }
}

/// Whether `text` is one marker this redactor wrote, `<redacted:rule>`.
fn is_marker(text: &str) -> bool {
    text.strip_prefix("<redacted")
        .and_then(|rest| rest.strip_suffix('>'))
        .is_some_and(|rest| !rest.contains('>'))
}

fn shift(at: usize, range: Range<usize>) -> Range<usize> {
    at + range.start..at + range.end
}

/// Cuts the armor out of every marker span that starts inside a PEM body (or on its armor)
/// and overlaps the armor that closes it: what the span covers before and after the armor stays redacted.
/// Spans that start before the body (a whole escaped PEM as a JSON value, a YAML block) are
/// left whole.
fn spare_armors<'r>(spans: Vec<Span<'r>>, armors: &[Armor]) -> Vec<Span<'r>> {
    if armors.is_empty() {
        return spans;
    }
    let mut out = Vec::with_capacity(spans.len());
    for span in spans {
        let Replacement::Marker(rule) = span.replacement else {
            out.push(span);
            continue;
        };
        let range = span.range;
        let cut = armors.iter().find(|armor| {
            armor.body_start <= range.start && range.start < armor.range.end && armor.range.start < range.end
        });
        let Some(armor) = cut else {
            out.push(Span { range, replacement: Replacement::Marker(rule) });
            continue;
        };
        if range.start < armor.range.start {
            out.push(Span { range: range.start..armor.range.start, replacement: Replacement::Marker(rule) });
        }
        if armor.range.end < range.end {
            out.push(Span { range: armor.range.end..range.end, replacement: Replacement::Marker(rule) });
        }
    }
    out
}

/// Sorts spans and merges overlapping ones, and markers that touch: the union is replaced by a
/// marker (the first span's, or the inner one's when the first was re-serialized JSON).
fn merge(mut spans: Vec<Span<'_>>) -> Vec<Span<'_>> {
    spans.sort_by(|a, b| a.range.start.cmp(&b.range.start).then(b.range.end.cmp(&a.range.end)));
    let mut merged: Vec<Span<'_>> = Vec::with_capacity(spans.len());
    for span in spans {
        // Two markers that touch become one: a second pass would see them as one value.
        let touching_markers = |last: &Span<'_>| {
            span.range.start == last.range.end
                && matches!(last.replacement, Replacement::Marker(_))
                && matches!(span.replacement, Replacement::Marker(_))
        };
        if let Some(last) = merged.last_mut()
            && (span.range.start < last.range.end || touching_markers(last))
        {
            if span.range.end > last.range.end {
                last.range.end = span.range.end;
                if matches!(last.replacement, Replacement::Text(..)) {
                    last.replacement = match span.replacement {
                        Replacement::Marker(rule) => Replacement::Marker(rule),
                        Replacement::Text(..) => Replacement::Marker("key-name"),
                    };
                }
            }
            continue;
        }
        merged.push(span);
    }
    merged
}

/// Replaces the spans in `text`, adding to `counts`.
pub(crate) fn apply(redactor: &Redactor, text: &str, spans: Vec<Span<'_>>, counts: &mut Counts) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&text[at..span.range.start]);
        match span.replacement {
            Replacement::Marker(rule) => {
                out.push_str("<redacted:");
                out.push_str(rule);
                redactor.push_token(&mut out, rule, text[span.range.clone()].as_bytes());
                out.push('>');
                counts.add(rule, 1);
            }
            Replacement::Text(text, inner) => {
                out.push_str(&text);
                counts.merge(&inner);
            }
        }
        at = span.range.end;
    }
    out.push_str(&text[at..]);
    out
}
