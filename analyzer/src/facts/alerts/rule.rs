//! Prometheus's `for:` over the bundle's samples: a rule's condition evaluated at each sample
//! time fires once it has held at every evaluation for the `for` duration, and is pending
//! before that. The bundle's window is often shorter than Prometheus's history, so an outcome
//! also says when the window itself was too short to decide.

use jiff::Timestamp;

use crate::facts::performance::units;
use crate::facts::performance::usage::minutes_between;
use crate::finding::Severity;

/// Consecutive evaluations where the condition held.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Run {
    pub(crate) start: Timestamp,
    pub(crate) end: Timestamp,
    /// How many evaluations it spans.
    pub(crate) points: usize,
}

impl Run {
    pub(crate) fn minutes(&self) -> f64 {
        minutes_between(self.start, self.end)
    }
}

/// How a rule ended over the window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Outcome {
    /// Held for `for` or longer; `resolved` when it stopped holding before the window ended.
    Fired { run: Run, resolved: bool },
    /// Holding at the end of the window, for less than `for`; `short_window` when the whole
    /// window is shorter than `for`, so the rule could not have fired in it.
    Pending { run: Run, short_window: bool },
}

impl Outcome {
    /// `firing`, `fired, resolved at ...`, `pending`.
    pub(crate) fn state(&self) -> String {
        match self {
            Outcome::Fired { resolved: false, .. } => "firing".to_owned(),
            Outcome::Fired { run, resolved: true } => format!("fired, resolved after {}", run.end),
            Outcome::Pending { .. } => "pending".to_owned(),
        }
    }

    pub(crate) fn run(&self) -> Run {
        match self {
            Outcome::Fired { run, .. } | Outcome::Pending { run, .. } => *run,
        }
    }

    /// The rule's severity when it fired, one level lower when it only was pending.
    pub(crate) fn severity(&self, fired: Severity, pending: Severity) -> Severity {
        match self {
            Outcome::Fired { .. } => fired,
            Outcome::Pending { .. } => pending,
        }
    }

    /// A sentence on what the window allowed, for explanations.
    pub(crate) fn caveat(&self, for_minutes: f64, window_minutes: f64) -> String {
        match self {
            Outcome::Pending { run, short_window: true } => format!(
                " The capture window ({}) is shorter than the rule's `for: {}`: the condition held for all {} of it, \
                 but the rule could not be fully evaluated.",
                units::span(window_minutes),
                units::span(for_minutes),
                units::span(run.minutes())
            ),
            Outcome::Pending { run, short_window: false } => format!(
                " The condition held for the last {} of the window, less than the rule's `for: {}`: Prometheus would \
                 show it pending.",
                units::span(run.minutes()),
                units::span(for_minutes)
            ),
            Outcome::Fired { .. } => String::new(),
        }
    }
}

/// The outcome of a condition evaluated at `points` (oldest first) with `for` in minutes;
/// `None` when it never fired and is not holding at the end.
pub(crate) fn evaluate(points: &[(Timestamp, bool)], for_minutes: f64) -> Option<Outcome> {
    let (first, last) = (points.first()?.0, points.last()?.0);
    let mut runs: Vec<Run> = Vec::new();
    let mut current: Option<Run> = None;
    for (at, holds) in points {
        match (&mut current, holds) {
            (Some(run), true) => {
                run.end = *at;
                run.points += 1;
            }
            (None, true) => current = Some(Run { start: *at, end: *at, points: 1 }),
            (Some(run), false) => {
                runs.push(*run);
                current = None;
            }
            (None, false) => {}
        }
    }
    runs.extend(current);
    // The longest run that fired, else the run holding at the end.
    if let Some(run) = runs
        .iter()
        .filter(|run| run.minutes() >= for_minutes)
        .max_by(|a, b| a.minutes().total_cmp(&b.minutes()))
    {
        return Some(Outcome::Fired { run: *run, resolved: run.end < last });
    }
    let run = runs.last().filter(|run| run.end == last)?;
    Some(Outcome::Pending { run: *run, short_window: minutes_between(first, last) < for_minutes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(pattern: &str) -> Vec<(Timestamp, bool)> {
        let start: Timestamp = "2025-06-01T11:50:00Z".parse().unwrap();
        pattern
            .chars()
            .enumerate()
            .map(|(index, c)| (start + jiff::SignedDuration::from_secs(60 * index as i64), c == '1'))
            .collect()
    }

    #[test]
    fn fires_after_holding_for_the_duration_at_every_evaluation() {
        // Minute samples: true from minute 2 to minute 8 is 6 minutes held.
        let outcome = evaluate(&points("0011111110"), 5.0).unwrap();
        assert!(matches!(outcome, Outcome::Fired { resolved: true, .. }), "{outcome:?}");
        assert_eq!(outcome.run().minutes(), 6.0);
        assert!(matches!(evaluate(&points("0000111111"), 5.0), Some(Outcome::Fired { resolved: false, .. })));
    }

    #[test]
    fn a_short_hold_at_the_end_is_pending_and_a_short_window_says_so() {
        assert!(matches!(
            evaluate(&points("0000000111"), 5.0),
            Some(Outcome::Pending { short_window: false, .. })
        ));
        assert!(matches!(evaluate(&points("1111"), 5.0), Some(Outcome::Pending { short_window: true, .. })));
        // Held for 3 minutes in the middle, then stopped: never fired, not pending.
        assert_eq!(evaluate(&points("0111100000"), 5.0), None);
        assert_eq!(evaluate(&[], 5.0), None);
    }
}
