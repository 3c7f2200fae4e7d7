//! The finding of a log-family group, shared by the two pattern diagnostics: the family's hits
//! per log, sample lines, and the family's suggestion made specific by what the bundle says.

use crate::diagnostics::Diagnostic;
use crate::facts::Facts;
use crate::facts::kubectl;
use crate::facts::logs::families;
use crate::facts::logs::hints;
use crate::facts::logs::patterns::Group;
use crate::facts::logs::recency::Recency;
use crate::facts::logs::sources::{self, Source};
use crate::finding::{Evidence, Finding, Severity};

/// How many sample lines a finding quotes, over all of its logs.
const SAMPLES_SHOWN: usize = 5;

/// The finding of one group at `severity`.
pub(crate) fn finding(
    diagnostic: &Diagnostic,
    facts: &Facts<'_>,
    group: &Group<'_>,
    severity: Severity,
    kind: &str,
) -> Finding {
    let family = group.family;
    let sources: Vec<&Source<'_>> = group.logs.iter().map(|hits| &hits.source).collect();
    let members = sources::members_phrase(&sources);
    let total = group.total();
    let history = group.is_history();
    let resolved = match (history, group.last()) {
        (true, Some(last)) => format!(", history: the last at {last}"),
        (true, None) => ", history".to_owned(),
        (false, _) => String::new(),
    };
    let title = format!(
        "{}: {} {kind} in logs ({total} {}, {members}){resolved}",
        sources::label(&group.subject),
        family.title,
        if total == 1 { "line" } else { "lines" }
    );
    // Resolved before the capture: history, at most P3 (the timeline keeps the errors).
    let severity = if history { Severity::P3 } else { severity };
    let mut finding = diagnostic.finding(severity, title).object(group.subject.clone());
    for source in &sources {
        finding = finding.object(source.member.clone());
    }
    for hits in &group.logs {
        let span = match (hits.first, hits.last) {
            (Some(first), Some(last)) if first != last => format!(", {first} to {last}"),
            (Some(first), _) => format!(", at {first}"),
            _ => String::new(),
        };
        let recency = match &hits.recency {
            Recency::History(why) => format!(" (history: {why})"),
            Recency::Ongoing => String::new(),
        };
        finding = finding.evidence(Evidence::note(format!(
            "{}: {} {}{span}{recency}",
            hits.source.describe(),
            hits.count,
            if hits.count == 1 { "line" } else { "lines" }
        )));
    }
    let mut shown = 0;
    for hits in &group.logs {
        for line in &hits.samples {
            if shown < SAMPLES_SHOWN {
                finding = finding.evidence(Evidence::log_line(&hits.source.log.path, line));
                shown += 1;
            }
        }
    }
    let client_lines: u64 = group.logs.iter().map(|hits| hits.client_lines).sum();
    if client_lines > 0 {
        finding = finding.evidence(Evidence::note(format!(
            "{client_lines} of these {} a database client's or server's own error (PostgreSQL's `password \
             authentication failed` and `too many clients`, `database connection failed`, ...), which the \
             core pattern misses: kubesnap's `database_client_error` extension, counted over every line \
             of the logs",
            if client_lines == 1 { "lines carries" } else { "lines carry" }
        )));
    }
    let hints = hints::for_family(facts, family.code, &sources);
    for note in &hints.notes {
        finding = finding.evidence(Evidence::note(note.clone()));
    }

    let pattern = match (client_lines, families::extension_of(family.code)) {
        (1.., Some(extension)) => {
            format!("the `{}` pattern or kubesnap's `{extension}` extension of it", family.code)
        }
        _ => format!("the `{}` pattern", family.code),
    };
    let mut explanation = format!(
        "{total} log {} of {} {} {pattern}. {}",
        if total == 1 { "line" } else { "lines" },
        sources::label(&group.subject),
        if total == 1 { "matches" } else { "match" },
        family.suggestion
    );
    if let Some(summary) = &hints.summary {
        explanation.push_str(&format!(" In this bundle: {summary}."));
    }
    if history {
        explanation.insert_str(
            0,
            "Resolved before the capture: every pod (or node) these lines come from is healthy now and the \
             lines end before it became so, or long before the capture (see each log's note). History, not a \
             current problem. ",
        );
    } else if kind == "errors" && !group.error_level() {
        explanation.push_str(
            " None of these lines is at ERROR or FATAL level, so this is ranked one step lower: they may \
             be mentions rather than failures.",
        );
    }
    finding = finding.explanation(explanation);
    if let Some(first) = group.logs.first() {
        let source = &first.source;
        finding = match source.is_node() {
            true => finding.remediation(kubectl::describe(&source.member)),
            false => finding.remediation(kubectl::logs(
                &source.member,
                &source.log.key.container,
                source.log.key.previous,
            )),
        };
    }
    for command in hints.commands {
        finding = finding.remediation(command);
    }
    finding
}

/// The severity of an error group: the family's, one step milder when no line is at ERROR level.
pub(crate) fn error_severity(group: &Group<'_>) -> Severity {
    if group.error_level() { group.family.severity } else { families::milder(group.family.severity) }
}
