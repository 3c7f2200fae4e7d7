//! The catalog of diagnostics, rendered from the registry: `docs/diagnostics.md` (generated,
//! and checked by a test) and the `--list-diagnostics` table.

use std::fmt::Write as _;

use crate::diagnostics::{Diagnostic, Need, registry};
use crate::engine::{self, PANICKED};
use crate::finding::{Category, Severity};

/// `P0–P1`, or `P2` for a single severity.
fn severity_range(severities: &[Severity]) -> String {
    match (severities.first(), severities.last()) {
        (Some(first), Some(last)) if first != last => format!("{first}–{last}"),
        (Some(first), _) => first.to_string(),
        _ => String::new(),
    }
}

fn needs(diagnostic: &Diagnostic) -> String {
    if diagnostic.needs.is_empty() {
        return "objects only".to_owned();
    }
    diagnostic.needs.iter().map(|need| engine::need_name(*need)).collect::<Vec<_>>().join(", ")
}

/// `docs/diagnostics.md`.
pub(crate) fn markdown() -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Diagnostics\n");
    let _ = writeln!(
        out,
        "<!-- Generated from the registry (analyzer/src/diagnostics); do not edit. \
         Regenerate with `KUBESNAP_BLESS=1 cargo test -p kubesnap-analyzer catalog`. -->\n"
    );
    let _ = writeln!(
        out,
        "Every diagnostic `kubesnap-analyze` runs, by category. The code is stable: use it with \
         `--only` and `--skip` (a category name selects all of its diagnostics). Severities follow \
         the incident playbook: {}.\n",
        Severity::ALL.iter().map(|s| format!("{s} {}", s.meaning())).collect::<Vec<_>>().join("; ")
    );
    let _ = writeln!(out, "| Code | Category | Severity | Needs |\n|---|---|---|---|");
    for diagnostic in registry() {
        let _ = writeln!(
            out,
            "| [`{}`](#{}) | {} | {} | {} |",
            diagnostic.code,
            diagnostic.code,
            diagnostic.category,
            severity_range(diagnostic.severities),
            needs(diagnostic)
        );
    }
    for category in Category::ALL {
        let diagnostics: Vec<&Diagnostic> = registry().filter(|d| d.category == category).collect();
        if diagnostics.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n## {category}");
        for diagnostic in diagnostics {
            let _ = writeln!(out, "\n### {}\n", diagnostic.code);
            let _ = writeln!(
                out,
                "**{}** · severity {} · needs {}\n",
                diagnostic.title,
                severity_range(diagnostic.severities),
                needs(diagnostic)
            );
            let _ = writeln!(out, "- **What it checks.** {}", diagnostic.what);
            let _ = writeln!(out, "- **Why it matters.** {}", diagnostic.why);
            let _ = writeln!(out, "- **How to fix it.** {}", diagnostic.fix);
            let _ = writeln!(out, "- **Example.** {}", diagnostic.example);
        }
    }
    let _ = writeln!(
        out,
        "\n## Needs\n\nA diagnostic whose needs the bundle does not meet is skipped, and the report's \
         \"What this bundle does not show\" says so (`skipped: the bundle lacks ...`). The needs:\n"
    );
    for need in Need::LEGEND {
        let _ = writeln!(out, "- {}", engine::need_name(*need));
    }
    let _ = writeln!(
        out,
        "\nA `<Kind> objects` need is met when the bundle captured the kind: it holds some, or it listed \
         the kind and found none, in which case the diagnostic runs and sees that none exist (no \
         StorageClass at all is a finding). It is not met when the list failed (`listing \
         storageclasses failed with 403 forbidden`), when the bundle's format never holds the kind, or \
         when nothing says the kind was listed; the reason says which."
    );
    let _ = writeln!(
        out,
        "\n## Engine findings\n\n### {PANICKED}\n\n**A diagnostic failed** · severity P2\n\n\
         A diagnostic that panics on a bundle becomes this finding, naming it; every other diagnostic \
         still runs. Its checks were not made, so the report may miss problems of that kind: report \
         the message with the bundle."
    );
    out
}

/// The `--list-diagnostics` table.
pub(crate) fn table() -> String {
    let rows: Vec<[String; 4]> = registry()
        .map(|d| {
            [d.code.to_owned(), d.category.to_string(), severity_range(d.severities), d.title.to_owned()]
        })
        .collect();
    let width = |column: usize| rows.iter().map(|row| row[column].chars().count()).max().unwrap_or(0);
    let (code, category, severity) = (width(0).max(4), width(1).max(8), width(2).max(8));
    let mut out = format!("{:code$}  {:category$}  {:severity$}  TITLE\n", "CODE", "CATEGORY", "SEVERITY");
    for [c, g, s, t] in rows {
        let _ = writeln!(out, "{c:code$}  {g:category$}  {s:severity$}  {t}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/diagnostics.md` is the registry rendered; `KUBESNAP_BLESS=1` rewrites it.
    #[test]
    fn docs_diagnostics_md_is_up_to_date() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/diagnostics.md");
        let expected = markdown();
        if std::env::var_os("KUBESNAP_BLESS").is_some() {
            std::fs::write(&path, &expected).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "docs/diagnostics.md differs from the registry; run `KUBESNAP_BLESS=1 cargo test -p kubesnap-analyzer catalog`"
        );
    }

    #[test]
    fn the_legend_names_every_need() {
        let catalog = markdown();
        for need in [Need::ServerVersion, Need::Kind("<Kind>"), Need::CaptureTime] {
            assert!(catalog.contains(&format!("\n- {}\n", engine::need_name(need))), "{need:?} missing");
        }
        assert!(catalog.contains(
            "| [`kubelet-version-skew`](#kubelet-version-skew) | nodes | P1–P2 | the API server's version |"
        ));
    }

    #[test]
    fn severity_ranges_read_naturally() {
        assert_eq!(severity_range(&[Severity::P0, Severity::P1]), "P0–P1");
        assert_eq!(severity_range(&[Severity::P2]), "P2");
    }

    #[test]
    fn the_table_lists_every_diagnostic() {
        let table = table();
        assert_eq!(table.lines().count(), registry().count() + 1);
        assert!(table.lines().any(|line| line.starts_with("crash-loop-backoff ") && line.contains("P0–P1")));
    }
}
