//! The exit codes of `kubesnap-collect`, named once so that `--help`, the docs and the code agree.

/// The bundle was written and everything the options asked for was attempted. Failures of
/// single requests (a 403, a gone pod) are recorded in the manifest and still exit 0.
pub(crate) const COMPLETE: u8 = 0;
/// Nothing useful could be written: bad options, no cluster, the output not writable. clap
/// also exits 2 on a usage error.
pub(crate) const FATAL: u8 = 2;
/// The bundle was written but cut short (`--deadline`, Ctrl-C, the writer failed mid-way);
/// its manifest says `"complete": false` and why.
pub(crate) const INCOMPLETE: u8 = 3;

/// The table shown at the end of `--help`.
pub(crate) const HELP: &str = "\
Exit codes:
  0  the bundle is complete (single failed requests are recorded in its manifest)
  2  fatal error: nothing useful was written (also: invalid command line)
  3  the bundle was written but is incomplete (--deadline, Ctrl-C); its manifest says why";
