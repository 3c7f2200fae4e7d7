//! The reports: the HTML page and the Markdown ticket text rendered with minijinja from one
//! view-model, `findings.json` serialized directly, and the short summary for the terminal.
//!
//! Templates are compiled in (`include_str!`), rendered with strict undefined behaviour (a
//! misspelt field is an error, not an empty string) and HTML autoescape, so everything that came
//! from the cluster is text in the page, never markup.

pub(crate) mod charts;
pub(crate) mod json;
pub(crate) mod model;
pub(crate) mod performance;
pub(crate) mod rollup;
pub(crate) mod summary;

use minijinja::{Environment, UndefinedBehavior};

use model::Report;

const HTML_TEMPLATE: &str = include_str!("../../../templates/report.html.j2");
const MARKDOWN_TEMPLATE: &str = include_str!("../../../templates/report.md.j2");

/// The CSS of report.html, for other pages that should look the same (the diff's).
pub(crate) fn style() -> &'static str {
    let start = HTML_TEMPLATE.find("<style>").map_or(0, |at| at + "<style>".len());
    let end = HTML_TEMPLATE[start..].find("</style>").map_or(start, |at| start + at);
    &HTML_TEMPLATE[start..end]
}

/// The template environment: both templates, strict, with the Markdown escaping filters.
pub(crate) fn environment() -> Result<Environment<'static>, minijinja::Error> {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    // Block tags on their own lines leave no blank lines behind: Markdown is whitespace-sensitive.
    environment.set_trim_blocks(true);
    environment.set_lstrip_blocks(true);
    environment.add_filter("md", markdown_text);
    environment.add_filter("cell", markdown_cell);
    environment.add_filter("fence", code_fence);
    environment.add_template("report.html.j2", HTML_TEMPLATE)?;
    environment.add_template("report.md.j2", MARKDOWN_TEMPLATE)?;
    Ok(environment)
}

/// The self-contained HTML page.
pub(crate) fn html(report: &Report) -> Result<String, minijinja::Error> {
    environment()?.get_template("report.html.j2")?.render(report)
}

/// The Markdown report.
pub(crate) fn markdown(report: &Report) -> Result<String, minijinja::Error> {
    let mut text = environment()?.get_template("report.md.j2")?.render(report)?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// Text from the cluster in Markdown prose: characters that would start markup are escaped, and
/// `<`, `>`, `&` become entities so no HTML reaches the ticket system.
fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Text in a Markdown table cell: prose escaping, on one line.
fn markdown_cell(text: &str) -> String {
    markdown_text(text)
}

/// A backtick fence longer than any run of backticks in `text`, so code blocks cannot be closed
/// by the content they hold.
fn code_fence(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escaping_keeps_cluster_text_inert() {
        assert_eq!(markdown_text("<script>a|b</script> *x*"), r"&lt;script&gt;a\|b&lt;/script&gt; \*x\*");
        assert_eq!(code_fence("plain"), "```");
        assert_eq!(code_fence("a ```` b"), "`````");
    }
}
