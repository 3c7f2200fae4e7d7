//! Integration tests of the bundle format, in one test binary (one link instead of five):
//! round trips, hostile archives, the golden archive of each format version, and the format
//! document kept in step with the code.

mod format_doc;
mod golden;
mod hostile;
mod real_archives;
mod roundtrip;
mod support;
