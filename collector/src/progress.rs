//! Progress on stderr: one indicatif bar per phase plus a status line with the bytes written
//! and the failures met. Hidden under `-q`, `-v`, `--no-progress` and when stderr is not a
//! terminal (indicatif's stderr target hides itself there).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The progress display; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    multi: MultiProgress,
    status: ProgressBar,
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    bytes: AtomicU64,
    failures: AtomicU64,
}

impl Progress {
    /// A display drawn on stderr (which hides itself when stderr is not a terminal).
    pub(crate) fn stderr() -> Self {
        Self::with_target(ProgressDrawTarget::stderr_with_hz(8))
    }

    /// A display that draws nothing.
    pub(crate) fn hidden() -> Self {
        Self::with_target(ProgressDrawTarget::hidden())
    }

    fn with_target(target: ProgressDrawTarget) -> Self {
        let multi = MultiProgress::with_draw_target(target);
        let status = multi.add(ProgressBar::new_spinner());
        status.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        status.enable_steady_tick(Duration::from_millis(250));
        let progress = Progress { multi, status, counters: Arc::new(Counters::default()) };
        progress.refresh_status();
        progress
    }

    /// A bar for one phase; `total` is the number of steps when it is known.
    pub(crate) fn phase(&self, name: &str, total: Option<u64>) -> ProgressBar {
        let bar = match total {
            Some(total) => {
                let bar = ProgressBar::new(total);
                bar.set_style(
                    ProgressStyle::with_template("  {prefix:<10} [{bar:30}] {pos}/{len} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                bar
            }
            None => {
                let bar = ProgressBar::new_spinner();
                bar.set_style(
                    ProgressStyle::with_template("  {prefix:<10} {pos} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar
            }
        };
        bar.set_prefix(name.to_owned());
        self.multi.insert_before(&self.status, bar)
    }

    /// Counts bytes handed to the bundle writer.
    pub(crate) fn wrote(&self, bytes: u64) {
        self.counters.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.refresh_status();
    }

    /// Counts a recorded failure.
    pub(crate) fn failed(&self) {
        self.counters.failures.fetch_add(1, Ordering::Relaxed);
        self.refresh_status();
    }

    /// Removes every bar (before the summary is printed).
    pub(crate) fn finish(&self) {
        self.status.finish_and_clear();
        // Errors here only mean the terminal went away; the summary follows anyway.
        let _ = self.multi.clear();
    }

    fn refresh_status(&self) {
        let bytes = self.counters.bytes.load(Ordering::Relaxed);
        let failures = self.counters.failures.load(Ordering::Relaxed);
        self.status.set_message(format!("{} written, {failures} failures recorded", HumanBytes(bytes)));
    }
}
