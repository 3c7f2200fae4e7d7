//! Ages relative to the capture (`model.captured_at`, never the wall clock) and how findings
//! write them: `45s`, `12m`, `3h12m`, `4d3h`.

use kubesnap_shared::model::ClusterModel;

/// Seconds from `then` to the capture; `None` when either is unknown. Negative when `then` is
/// after the capture (clock skew between nodes and the collector).
pub(crate) fn seconds_since(model: &ClusterModel, then: Option<jiff::Timestamp>) -> Option<i64> {
    let now = model.captured_at?;
    Some(now.as_second() - then?.as_second())
}

/// A duration in the largest two units that matter.
pub(crate) fn human(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let seconds = seconds.unsigned_abs();
    let (days, hours, minutes) = (seconds / 86_400, seconds % 86_400 / 3_600, seconds % 3_600 / 60);
    let text = match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds}s"),
        (0, 0, minutes) => format!("{minutes}m"),
        (0, hours, 0) => format!("{hours}h"),
        (0, hours, minutes) => format!("{hours}h{minutes}m"),
        (days, 0, _) => format!("{days}d"),
        (days, hours, _) => format!("{days}d{hours}h"),
    };
    format!("{sign}{text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_two_largest_units() {
        assert_eq!(human(45), "45s");
        assert_eq!(human(720), "12m");
        assert_eq!(human(3 * 3600 + 12 * 60 + 5), "3h12m");
        assert_eq!(human(7200), "2h");
        assert_eq!(human(4 * 86_400 + 3 * 3600 + 59), "4d3h");
        assert_eq!(human(-90), "-1m");
    }
}
