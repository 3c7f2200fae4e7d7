//! Pattern hits counted per 5-minute window while the scan streams, so that the log error
//! timeline and `cascading-failures` count every hit of a log, not the latest ones it keeps.
//!
//! A window is five minutes aligned to the Unix epoch, as `K8sLogAnalyzer` aligns them
//! (`minute // 5 * 5`). Memory is bounded by the windows with hits, not by the hits: a series
//! is a sorted `Vec` of windows, and log lines come in time order, so a hit almost always lands
//! in the last window and costs a comparison and an addition.

use jiff::Timestamp;
use kubesnap_shared::model::{FamilyHits, WindowHits};

use kubesnap_shared::log_time::Ts;

/// `K8sLogAnalyzer`'s window: five minutes.
pub(crate) const WINDOW_SECONDS: i64 = 300;

/// The start of the 5-minute window (aligned to the Unix epoch, in UTC) holding `at`. A
/// year-less time's window is year-less too: a day is a whole number of windows, so the year
/// [`Ts::resolve`] picks later moves the window with the time.
pub(crate) fn window_of(at: Ts) -> Ts {
    match at {
        Ts::At(at) => {
            let second = at.as_second();
            Ts::At(Timestamp::from_second(second - second.rem_euclid(WINDOW_SECONDS)).unwrap_or(at))
        }
        Ts::YearLess(datetime) => {
            let start = datetime.date().at(datetime.hour(), datetime.minute() - datetime.minute() % 5, 0, 0);
            Ts::YearLess(start)
        }
    }
}

/// Windows a series keeps: two weeks of five minutes. The oldest beyond are dropped and their
/// hits counted as unwindowed; bounds memory against logs whose times are scattered.
pub(crate) const MAX_WINDOWS: usize = 4_032;

/// The hits of one window, before the year of a year-less time is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cell {
    /// The window's start ([`window_of`]).
    pub(crate) window: Ts,
    pub(crate) count: u64,
    pub(crate) first: Ts,
}

/// The timed hits of one family (or of the ERROR and FATAL lines) in one run of lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Series {
    /// Sorted by window, one cell a window.
    pub(crate) cells: Vec<Cell>,
    pub(crate) unwindowed: u64,
    pub(crate) first: Option<Ts>,
    pub(crate) last: Option<Ts>,
}

impl Series {
    /// Counts one hit at `at`.
    pub(crate) fn add(&mut self, at: Ts) {
        self.put(Cell { window: window_of(at), count: 1, first: at });
        self.last = Some(self.last.map_or(at, |last| last.max(at)));
    }

    /// Adds the hits of a later run of lines.
    pub(crate) fn merge(&mut self, other: Series) {
        self.unwindowed += other.unwindowed;
        if let Some(last) = other.last {
            self.last = Some(self.last.map_or(last, |mine| mine.max(last)));
        }
        if let Some(first) = other.first {
            self.first = Some(self.first.map_or(first, |mine| mine.min(first)));
        }
        for cell in other.cells {
            self.put(cell);
        }
    }

    fn put(&mut self, cell: Cell) {
        self.first = Some(self.first.map_or(cell.first, |first| first.min(cell.first)));
        let at = match self.cells.last_mut() {
            Some(last) if last.window == cell.window => {
                last.count += cell.count;
                last.first = last.first.min(cell.first);
                return;
            }
            Some(last) if last.window > cell.window => {
                match self.cells.binary_search_by_key(&cell.window, |mine| mine.window) {
                    Ok(found) => {
                        let mine = &mut self.cells[found];
                        mine.count += cell.count;
                        mine.first = mine.first.min(cell.first);
                        return;
                    }
                    Err(at) => at,
                }
            }
            _ => self.cells.len(),
        };
        self.cells.insert(at, cell);
        if self.cells.len() > MAX_WINDOWS {
            let dropped = self.cells.remove(0);
            self.unwindowed += dropped.count;
        }
    }

    /// The model's form, year-less times given their year by `reference`: the windows, first,
    /// last and unwindowed of a [`FamilyHits`] whose count, error level and samples the caller
    /// sets.
    pub(crate) fn resolve(self, reference: Option<Timestamp>) -> FamilyHits {
        let mut unwindowed = self.unwindowed;
        let mut windows: Vec<WindowHits> = Vec::with_capacity(self.cells.len());
        for cell in self.cells {
            match (cell.window.resolve(reference), cell.first.resolve(reference)) {
                (Some(start), Some(first)) => windows.push(WindowHits {
                    window: start.as_second().div_euclid(WINDOW_SECONDS),
                    count: cell.count,
                    first,
                }),
                _ => unwindowed += cell.count,
            }
        }
        // Absolute and year-less windows sort apart until resolved; they may meet now.
        windows.sort_by_key(|hits| hits.window);
        let windows = merge_windows(windows, Vec::new(), &mut unwindowed);
        FamilyHits {
            first: self.first.and_then(|ts| ts.resolve(reference)),
            last: self.last.and_then(|ts| ts.resolve(reference)),
            windows,
            unwindowed,
            ..FamilyHits::default()
        }
    }
}

/// Two sorted lists of windows (of two files of one container, or a list with equal windows
/// side by side) as one sorted list with one entry a window, at most [`MAX_WINDOWS`] (the
/// oldest beyond are counted in `unwindowed`).
pub(crate) fn merge_windows(
    older: Vec<WindowHits>,
    newer: Vec<WindowHits>,
    unwindowed: &mut u64,
) -> Vec<WindowHits> {
    let mut all = older;
    all.extend(newer);
    all.sort_by_key(|hits| hits.window);
    let mut merged: Vec<WindowHits> = Vec::with_capacity(all.len());
    for hits in all {
        match merged.last_mut() {
            Some(last) if last.window == hits.window => {
                last.count += hits.count;
                last.first = last.first.min(hits.first);
            }
            _ => merged.push(hits),
        }
    }
    let excess = merged.len().saturating_sub(MAX_WINDOWS);
    *unwindowed += merged.drain(..excess).map(|hits| hits.count).sum::<u64>();
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Ts {
        Ts::At(text.parse().unwrap())
    }

    fn windows(series: Series) -> Vec<String> {
        let hits = series.resolve(None);
        hits.windows.iter().map(|w| format!("{} {} {}", w.start(), w.count, w.first)).collect()
    }

    #[test]
    fn windows_start_at_multiples_of_five_minutes_with_or_without_a_year() {
        let reader = kubesnap_shared::log_time::TimeReader::new().unwrap();
        let reference: Timestamp = "2026-01-02T00:00:00Z".parse().unwrap();
        let window = |line: &str| {
            let ts = reader.read(line.as_bytes()).unwrap();
            window_of(ts).resolve(Some(reference)).unwrap().to_string()
        };
        assert_eq!(window("2025-06-01T11:57:59.5Z x"), "2025-06-01T11:55:00Z");
        assert_eq!(window("2025-06-01T12:00:00Z x"), "2025-06-01T12:00:00Z");
        assert_eq!(window("1969-12-31T23:59:59Z before the epoch"), "1969-12-31T23:55:00Z");
        // A December klog line read in January: the window resolves into last year with its time.
        assert_eq!(window("E1231 23:59:59.9 1 x.go:1] late"), "2025-12-31T23:55:00Z");
        assert_eq!(window("Dec 31 00:04:59 host unit[1]: x"), "2025-12-31T00:00:00Z");
    }

    #[test]
    fn hits_count_in_their_window_in_any_order_and_runs_merge_as_one() {
        let times = [
            "2025-06-01T11:51:00Z",
            "2025-06-01T11:54:59Z",
            "2025-06-01T11:41:00Z",
            "2025-06-01T11:50:30Z",
            "2025-06-01T11:55:00Z",
        ];
        let mut whole = Series::default();
        for time in times {
            whole.add(at(time));
        }
        let (mut older, mut newer) = (Series::default(), Series::default());
        for time in &times[..2] {
            older.add(at(time));
        }
        for time in &times[2..] {
            newer.add(at(time));
        }
        older.merge(newer);
        assert_eq!(older, whole);
        assert_eq!(whole.first, Some(at("2025-06-01T11:41:00Z")));
        assert_eq!(whole.last, Some(at("2025-06-01T11:55:00Z")));
        assert_eq!(
            windows(whole),
            [
                "2025-06-01T11:40:00Z 1 2025-06-01T11:41:00Z",
                "2025-06-01T11:50:00Z 3 2025-06-01T11:50:30Z",
                "2025-06-01T11:55:00Z 1 2025-06-01T11:55:00Z",
            ]
        );
    }

    #[test]
    fn the_oldest_windows_beyond_the_bound_are_counted_unwindowed() {
        let start: Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
        let mut series = Series::default();
        for window in 0..MAX_WINDOWS as i64 + 2 {
            let time = start + jiff::SignedDuration::from_secs(window * WINDOW_SECONDS);
            series.add(Ts::At(time));
            series.add(Ts::At(time));
        }
        let hits = series.resolve(None);
        assert_eq!((hits.windows.len(), hits.unwindowed), (MAX_WINDOWS, 4));
        assert_eq!(hits.windows[0].start(), start + jiff::SignedDuration::from_secs(2 * WINDOW_SECONDS));
        assert_eq!(hits.first, Some(start), "the first hit stays the first, its window dropped or not");
    }
}
