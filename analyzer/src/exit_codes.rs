//! The exit codes of `kubesnap-analyze`, named once and listed in `--help`.

/// The analysis ran and no finding reached `--fail-on`.
pub const OK: u8 = 0;
/// A finding is at or above the `--fail-on` severity.
pub const FINDINGS: u8 = 1;
/// The bundle could not be read, a report could not be written, or the command line is wrong
/// (clap uses 2 for usage errors too).
pub const ERROR: u8 = 2;
/// The bundle was read but holds no object, or lacks what its format always holds: nothing
/// found means nothing seen, so the run does not pass as healthy.
pub const NOTHING_TO_ANALYZE: u8 = 3;

/// The exit code table of `--help`.
pub(crate) const HELP: &str = "\
Exit codes:
  0  the analysis ran and no finding reached --fail-on
  1  a finding is at or above the --fail-on severity
  2  error: the bundle could not be read, a report could not be written, or a bad argument
  3  the bundle holds no Kubernetes object, or lacks what its format always holds (no pods)";
