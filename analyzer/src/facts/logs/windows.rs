//! `K8sLogAnalyzer`'s 5-minute windows, and the log error timeline built on them: error-family hits per
//! pod (or node) per window, for the incident view's timeline.
//!
//! A window starts at a multiple of five minutes (UTC), as `K8sLogAnalyzer`'s
//! `ts.replace(minute=ts.minute // 5 * 5, second=0, microsecond=0)` does.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use kubesnap_shared::model::{ClusterModel, ObjectRef};

use super::families;
use super::sources;

/// `K8sLogAnalyzer`'s window length.
pub(crate) const WINDOW: SignedDuration = SignedDuration::from_secs(300);

/// The start of the 5-minute window holding `at`.
pub(crate) fn window_of(at: Timestamp) -> Timestamp {
    let seconds = at.as_second();
    Timestamp::from_second(seconds - seconds.rem_euclid(WINDOW.as_secs())).unwrap_or(at)
}

/// Error-family hits of one pod (or node) in one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Burst {
    pub(crate) window: Timestamp,
    /// The first hit in the window.
    pub(crate) first: Timestamp,
    pub(crate) member: ObjectRef,
    pub(crate) count: u64,
    /// Hits per family code.
    pub(crate) families: BTreeMap<String, u64>,
    /// The member's first window with an error hit: where its trouble starts.
    pub(crate) onset: bool,
}

impl Burst {
    /// `connection_refused ×8, timeout_error ×2`, most first.
    pub(crate) fn families_phrase(&self) -> String {
        let mut families: Vec<(&String, &u64)> = self.families.iter().collect();
        families.sort_by(|(a, x), (b, y)| y.cmp(x).then_with(|| a.cmp(b)));
        families.iter().map(|(family, count)| format!("{family} ×{count}")).collect::<Vec<_>>().join(", ")
    }
}

/// How many hits in a window make a burst (`K8sLogAnalyzer`'s cascade threshold).
pub(crate) const BURST: u64 = 3;

/// The log error timeline: every window where a pod has at least [`BURST`] error-family hits
/// with a time, and each pod's first window with any, in (window, member) order. Built from the
/// loader's counts per family and window, over every line of every log.
pub(crate) fn bursts(model: &ClusterModel) -> Vec<Burst> {
    let sources = sources::sources(model);
    // (member, window) -> (first hit, hits per family).
    type Counts<'a> = BTreeMap<(&'a ObjectRef, Timestamp), (Timestamp, BTreeMap<&'a str, u64>)>;
    let mut counts: Counts<'_> = BTreeMap::new();
    for source in &sources {
        for (code, hits) in &source.log.families {
            // An extension's hits count under the core family it completes; a refined family's
            // under its core family's code, from the refinement's hits (as the diagnostics report it).
            let refined = families::REFINEMENTS.iter().find(|family| family.code == code).and_then(
                |family| match family.kind {
                    families::Kind::Refines(core) => Some(core),
                    _ => None,
                },
            );
            let family = refined.unwrap_or_else(|| families::core_code(code));
            if !families::is_error_family(family)
                || (refined.is_none() && families::reported_code(code) != code)
            {
                continue;
            }
            for window in &hits.windows {
                let (first, by_family) =
                    counts.entry((&source.member, window.start())).or_insert((window.first, BTreeMap::new()));
                *first = (*first).min(window.first);
                *by_family.entry(family).or_default() += window.count;
            }
        }
    }
    let mut previous: Option<&ObjectRef> = None;
    let mut out = Vec::new();
    // Keys are (member, window): each member's windows come together, in time order, so its
    // first key is its onset.
    for ((member, window), (first, families)) in counts {
        let onset = previous != Some(member);
        previous = Some(member);
        let count = families.values().sum();
        if onset || count >= BURST {
            let families = families.into_iter().map(|(family, count)| (family.to_owned(), count)).collect();
            out.push(Burst { window, first, member: member.clone(), count, families, onset });
        }
    }
    out.sort_by(|a, b| (a.window, &a.member).cmp(&(b.window, &b.member)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::model_from_yaml;

    #[test]
    fn windows_align_like_the_reference() {
        let at: Timestamp = "2025-06-01T11:57:59.5Z".parse().unwrap();
        assert_eq!(window_of(at).to_string(), "2025-06-01T11:55:00Z");
        let at: Timestamp = "2025-06-01T12:00:00Z".parse().unwrap();
        assert_eq!(window_of(at).to_string(), "2025-06-01T12:00:00Z");
    }

    /// The loader keeps the latest 2,000 timed hits of a log as samples; the windows count every
    /// hit, so the oldest window of a long log is still a burst and still the pod's onset.
    #[test]
    fn hits_older_than_the_kept_ones_still_count_in_their_window() {
        let mut fixture =
            String::from("kind: ContainerLog\nnamespace: shop\npod: api-1\ncontainer: api\nlines:\n");
        for minute in 0..3 {
            fixture.push_str(&format!("- \"2025-06-01T11:0{minute}:00Z ERROR connection refused\"\n"));
        }
        let later = 2_100;
        for second in 0..later {
            fixture.push_str(&format!(
                "- \"2025-06-01T12:{:02}:{:02}Z ERROR connection refused\"\n",
                second / 60,
                second % 60
            ));
        }
        let model = model_from_yaml(&fixture);
        let bursts = bursts(&model);
        let first = &bursts[0];
        assert_eq!(
            (first.window.to_string(), first.first.to_string(), first.count, first.onset),
            ("2025-06-01T11:00:00Z".to_owned(), "2025-06-01T11:00:00Z".to_owned(), 3, true)
        );
        let counted: u64 = bursts.iter().map(|burst| burst.count).sum();
        assert_eq!(counted, later as u64 + 3, "every hit in a window");
        assert_eq!(bursts.len(), 8, "11:00, then 12:00 to 12:30 (2,100 seconds end in 12:34:59)");
    }

    /// A usage text that names TLS flags is no certificate error on the timeline either.
    #[test]
    fn certificate_mentions_are_not_on_the_timeline_and_failures_are() {
        let model = model_from_yaml(
            r#"
kind: ContainerLog
namespace: shop
pod: api-1
container: api
lines:
- "2025-06-01T11:51:00Z E0601 x.go:1] --tls-cert-file string   File containing the default x509 Certificate"
- "2025-06-01T11:52:00Z E0601 x.go:1] Get https://api: x509: certificate signed by unknown authority"
"#,
        );
        let phrases: Vec<String> = bursts(&model).iter().map(Burst::families_phrase).collect();
        assert_eq!(phrases, ["certificate_error ×1"]);
    }

    #[test]
    fn bursts_and_onsets_per_pod_and_window() {
        let model = model_from_yaml(
            r#"
kind: ContainerLog
namespace: shop
pod: api-1
container: api
lines:
- "2025-06-01T11:41:00Z ERROR connection refused"
- "2025-06-01T11:51:00Z ERROR connection refused"
- "2025-06-01T11:52:00Z ERROR connection refused"
- "2025-06-01T11:53:00Z ERROR lookup db: no such host"
- "2025-06-01T11:56:00Z ERROR connection refused"
- "2025-06-01T11:57:00Z WARN retrying"
"#,
        );
        let bursts: Vec<String> = bursts(&model)
            .iter()
            .map(|b| {
                format!(
                    "{} {} {} {} {} {}",
                    b.window,
                    b.first,
                    b.member,
                    b.count,
                    b.onset,
                    b.families_phrase()
                )
            })
            .collect();
        assert_eq!(
            bursts,
            [
                "2025-06-01T11:40:00Z 2025-06-01T11:41:00Z Pod/shop/api-1 1 true connection_refused ×1",
                "2025-06-01T11:50:00Z 2025-06-01T11:51:00Z Pod/shop/api-1 3 false connection_refused ×2, dns_resolution ×1",
            ]
        );
    }
}
