//! The few lines `kubesnap-analyze` prints on stderr when it is done: counts per severity, the
//! most severe findings, and where the reports went. The reports are the data; this is a
//! pointer to them.

use std::fmt::Write as _;

use crate::engine::Analysis;
use crate::finding::Severity;

/// How many findings the summary names.
const TOP: usize = 5;

/// The summary text, with ANSI colours when `color`.
pub(crate) fn render(analysis: &Analysis, destination: &str, color: bool) -> String {
    let paint = |severity: Severity, text: &str| {
        if !color {
            return text.to_owned();
        }
        let code = match severity {
            Severity::P0 => "1;31",
            Severity::P1 => "31",
            Severity::P2 => "33",
            Severity::P3 => "36",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    };
    let mut out = String::new();
    let counts: Vec<String> = Severity::ALL
        .iter()
        .map(|severity| {
            let count = analysis.findings.iter().filter(|finding| finding.severity == *severity).count();
            let text = format!("{count} {severity}");
            if count > 0 { paint(*severity, &text) } else { text }
        })
        .collect();
    let skipped = match analysis.skipped.len() {
        0 => String::new(),
        n => format!(", {n} skipped"),
    };
    let _ = writeln!(
        out,
        "kubesnap-analyze: {} findings ({}) from {} diagnostics{skipped}",
        analysis.findings.len(),
        counts.join(", "),
        analysis.ran.len()
    );
    for finding in analysis.findings.iter().take(TOP) {
        let _ = writeln!(out, "  {} {}", paint(finding.severity, finding.severity.name()), finding.title);
    }
    if analysis.findings.len() > TOP {
        let _ = writeln!(out, "  ... and {} more", analysis.findings.len() - TOP);
    }
    let _ = writeln!(out, "reports: {destination}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Category, Finding};

    #[test]
    fn counts_top_findings_and_destination() {
        let analysis = Analysis {
            findings: vec![
                Finding::new("a", Category::Pods, Severity::P0, "api down"),
                Finding::new("b", Category::Security, Severity::P3, "runs as root"),
            ],
            skipped: Vec::new(),
            ran: vec!["a", "b", "c"],
        };
        assert_eq!(
            render(&analysis, "out/report.html", false),
            "kubesnap-analyze: 2 findings (1 P0, 0 P1, 0 P2, 1 P3) from 3 diagnostics\n  P0 api down\n  P3 runs as root\nreports: out/report.html\n"
        );
        assert!(render(&analysis, "x", true).contains("\x1b[1;31m1 P0\x1b[0m"));
    }
}
