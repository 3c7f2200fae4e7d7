//! The hits of one family in the logs of one subject (workload, lone pod or node): what the two
//! pattern diagnostics report (`diagnostics::logs::family_finding` writes their findings), and
//! the incident view's "pods with most errors".

use std::collections::BTreeMap;

use jiff::Timestamp;
use kubesnap_shared::model::{ClusterModel, LogLine, ObjectRef};

use super::families::{self, Family};
use super::level;
use super::recency::{self, Recency};
use super::sources::{self, Source};

/// One family's hits in one log.
#[derive(Debug)]
pub(crate) struct LogHits<'a> {
    pub(crate) family: &'static Family,
    pub(crate) source: Source<'a>,
    pub(crate) count: u64,
    /// Lines of kubesnap's extension of the family: the database client errors `K8sLogAnalyzer`'s
    /// pattern misses (`database_error` only).
    pub(crate) client_lines: u64,
    pub(crate) samples: Vec<&'a LogLine>,
    pub(crate) first: Option<Timestamp>,
    pub(crate) last: Option<Timestamp>,
    /// Some matching line is at ERROR or FATAL level.
    pub(crate) error_level: bool,
    /// Whether the hits are current at the capture; [`groups`] judges it ([`hits_in`] leaves
    /// it ongoing).
    pub(crate) recency: Recency,
}

/// One family in the logs of one subject.
#[derive(Debug)]
pub(crate) struct Group<'a> {
    pub(crate) family: &'static Family,
    pub(crate) subject: ObjectRef,
    pub(crate) logs: Vec<LogHits<'a>>,
}

impl Group<'_> {
    pub(crate) fn total(&self) -> u64 {
        self.logs.iter().map(|hits| hits.count).sum()
    }

    pub(crate) fn error_level(&self) -> bool {
        self.logs.iter().any(|hits| hits.error_level)
    }

    /// Every log's hits are history: the group is resolved at the capture.
    pub(crate) fn is_history(&self) -> bool {
        self.logs.iter().all(|hits| hits.recency.is_history())
    }

    /// The latest hit of the group.
    pub(crate) fn last(&self) -> Option<Timestamp> {
        self.logs.iter().filter_map(|hits| hits.last).max()
    }
}

/// The hits of `family` in one log, or `None` when it has none: the loader's counts over every
/// line, the core pattern and kubesnap's extension of it (`database_error` only) added up.
pub(crate) fn hits_in<'a>(family: &'static Family, source: &Source<'a>) -> Option<LogHits<'a>> {
    let log = source.log;
    // A refined family's hits are its refinement's (the core pattern there matches mentions).
    let core = log.families.get(families::reported_code(family.code));
    let extension_code = families::extension_of(family.code);
    let extension = extension_code.and_then(|code| log.families.get(code));
    let client_lines = extension.map_or(0, |hits| hits.count);
    let count = core.map_or(0, |hits| hits.count) + client_lines;
    if count == 0 {
        return None;
    }
    let mut samples: Vec<&LogLine> =
        core.into_iter().chain(extension).flat_map(|hits| &hits.samples).collect();
    samples.sort_by_key(|line| line.line);
    samples.dedup_by_key(|line| line.line);
    // Over every hit of the log: the loader counts them, however many lines it keeps.
    let both = || core.into_iter().chain(extension);
    let first = both().filter_map(|hits| hits.first).min();
    let last = both().filter_map(|hits| hits.last).max();
    let error_level =
        both().any(|hits| hits.error_level > 0) || samples.iter().any(|line| level::is_error(&line.text));
    Some(LogHits {
        family,
        source: source.clone(),
        count,
        client_lines,
        samples,
        first,
        last,
        error_level,
        recency: Recency::Ongoing,
    })
}

/// Every (family, subject) with hits, families in table order, subjects in order, each log's
/// hits judged ongoing or history ([`recency`]).
pub(crate) fn groups<'a>(model: &'a ClusterModel, table: &'static [Family]) -> Vec<Group<'a>> {
    let by_subject = sources::by_subject(sources::sources(model));
    let installed = recency::install_completed(model);
    let mut out = Vec::new();
    for family in table {
        for (subject, sources) in &by_subject {
            let logs: Vec<LogHits<'a>> = sources
                .iter()
                .filter_map(|source| hits_in(family, source))
                .map(|mut hits| {
                    hits.recency = recency::of_hits(model, &hits.source, hits.last, installed);
                    hits
                })
                .collect();
            if !logs.is_empty() {
                out.push(Group { family, subject: subject.clone(), logs });
            }
        }
    }
    out
}

/// Error-family lines per pod (or node), most first, then by name: `K8sLogAnalyzer`'s "Pods with Most
/// Errors" report section (it counts a line once per family it matches, and so does this).
pub(crate) fn pods_with_most_errors(model: &ClusterModel, limit: usize) -> Vec<(ObjectRef, u64)> {
    let mut counts: BTreeMap<ObjectRef, u64> = BTreeMap::new();
    for source in sources::sources(model) {
        let count: u64 =
            families::ERRORS.iter().filter_map(|family| hits_in(family, &source)).map(|h| h.count).sum();
        if count > 0 {
            *counts.entry(source.member).or_default() += count;
        }
    }
    let mut ranked: Vec<(ObjectRef, u64)> = counts.into_iter().collect();
    ranked.sort_by(|(a, x), (b, y)| y.cmp(x).then_with(|| a.cmp(b)));
    ranked.truncate(limit);
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    /// First seen, last seen and the ERROR level come from every hit of the log, not from the
    /// samples and the latest hits the loader keeps: here the one ERROR line is neither.
    #[test]
    fn first_last_and_level_are_over_every_hit_of_a_long_log() {
        let mut fixture =
            String::from("kind: ContainerLog\nnamespace: shop\npod: api-1\ncontainer: api\nlines:\n");
        let line = |fixture: &mut String, second: usize, level: &str| {
            let (hour, minute, second) = (10 + second / 3600, second / 60 % 60, second % 60);
            fixture.push_str(&format!(
                "- \"2025-06-01T{hour:02}:{minute:02}:{second:02}Z {level} dial tcp: connection refused\"\n"
            ));
        };
        for second in 0..6 {
            line(&mut fixture, second, "INFO");
        }
        line(&mut fixture, 6, "ERROR");
        for second in 7..2_200 {
            line(&mut fixture, second, "INFO");
        }
        let model = model_from_yaml(&fixture);
        let source = &sources::sources(&model)[0];
        let family = families::ERRORS.iter().find(|family| family.code == "connection_refused").unwrap();
        let hits = hits_in(family, source).unwrap();
        assert_eq!(hits.count, 2_200);
        assert_eq!(hits.first.map(|at| at.to_string()).as_deref(), Some("2025-06-01T10:00:00Z"));
        assert_eq!(hits.last.map(|at| at.to_string()).as_deref(), Some("2025-06-01T10:36:39Z"));
        assert!(hits.error_level, "the ERROR line is neither a sample nor among the latest hits");
    }
}
