//! The time of a log line (`shared/src/log_time.rs`): any bytes as a line are read without a
//! panic; a line read as timed is timed by the cheap shape check too; a time read back from its
//! RFC 3339 form is the same instant; and a long line (the input repeated to 1 MiB, for one
//! input in sixteen) is read in linear work (libFuzzer's `-timeout` catches anything slower).
#![no_main]

use std::sync::OnceLock;

use kubesnap_shared::log_time::TimeReader;
use libfuzzer_sys::fuzz_target;

fn reader() -> &'static TimeReader {
    static READER: OnceLock<TimeReader> = OnceLock::new();
    READER.get_or_init(|| TimeReader::new().expect("the time patterns compile"))
}

/// A capture time for year-less times: 2026-01-01.
const CAPTURED: i64 = 1_767_225_600;

fuzz_target!(|line: &[u8]| {
    let reader = reader();
    if line.len() % 16 == 1 {
        // One input in sixteen, so that the rest keep their speed.
        let mut long = line.repeat((1 << 20) / line.len());
        long.truncate(1 << 20);
        let _ = reader.read(&long);
        let _ = reader.has(&long);
    }
    let Some(ts) = reader.read(line) else { return };
    assert!(reader.has(line), "read a time from a line `has` calls untimed: {:?}", String::from_utf8_lossy(line));
    let captured = jiff::Timestamp::from_second(CAPTURED).ok();
    // RFC 3339 writes years 1 to 9999 only; an offset can carry a time of year 0 out of them.
    let writable = |at: jiff::Timestamp| (1..=9999).contains(&at.to_zoned(jiff::tz::TimeZone::UTC).year());
    if let Some(at) = ts.resolve(captured).filter(|&at| writable(at)) {
        let written = at.to_string();
        let again = reader.read(written.as_bytes()).and_then(|again| again.resolve(captured));
        assert_eq!(again, Some(at), "{written} read back differently");
    }
});
