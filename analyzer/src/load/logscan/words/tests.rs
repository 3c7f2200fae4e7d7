//! The prefilter against the automaton: its words are necessary for every family pattern
//! (proved on the patterns' syntax trees), and a scan with it equals the scan without it, on
//! every real log of `../shared/realdata` and on generated lines.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use regex_syntax::hir::{Class, Hir, HirKind};

use super::super::{Patterns, Segment, scan_chunk, scan_chunk_unfiltered};
use super::{WORDS, klog_letter};
use crate::facts::logs::families::FAMILIES;
use kubesnap_shared::import::LogLayout;

/// The most strings [`strings`] enumerates for one subexpression.
const MAX_STRINGS: usize = 4_096;

/// Every string `hir` matches, when they are few: literals, small classes, alternations,
/// bounded repetitions, and their concatenations (a look-around matches the empty string).
fn strings(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let product = |left: Vec<Vec<u8>>, right: &[Vec<u8>]| {
        let all: Vec<Vec<u8>> =
            left.iter().flat_map(|l| right.iter().map(move |r| [l.as_slice(), r].concat())).collect();
        (all.len() <= MAX_STRINGS).then_some(all)
    };
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(vec![Vec::new()]),
        HirKind::Literal(literal) => Some(vec![literal.0.to_vec()]),
        HirKind::Class(Class::Bytes(class)) => {
            let bytes: Vec<Vec<u8>> =
                class.iter().flat_map(|range| range.start()..=range.end()).map(|byte| vec![byte]).collect();
            (bytes.len() <= 16).then_some(bytes)
        }
        HirKind::Class(Class::Unicode(class)) => {
            let chars: Vec<char> =
                class.iter().flat_map(|range| range.start()..=range.end()).take(17).collect();
            (chars.len() <= 16 && chars.iter().all(char::is_ascii))
                .then(|| chars.iter().map(|c| c.to_string().into_bytes()).collect())
        }
        HirKind::Capture(capture) => strings(&capture.sub),
        HirKind::Concat(parts) => {
            parts.iter().try_fold(vec![Vec::new()], |all, part| product(all, &strings(part)?))
        }
        HirKind::Alternation(alternatives) => {
            let all: Vec<Vec<u8>> = alternatives.iter().map(strings).collect::<Option<Vec<_>>>()?.concat();
            (all.len() <= MAX_STRINGS).then_some(all)
        }
        HirKind::Repetition(repetition) => {
            let max = repetition.max.filter(|&max| max <= 4)?;
            let sub = strings(&repetition.sub)?;
            let mut all = Vec::new();
            let mut power = vec![Vec::new()];
            for count in 0..=max {
                if count >= repetition.min {
                    all.extend(power.iter().cloned());
                }
                power = product(power, &sub)?;
            }
            (all.len() <= MAX_STRINGS).then_some(all)
        }
    }
}

/// Whether every string `hir` matches holds one of `words`, ASCII case-insensitively: all of
/// its strings do, or (a concatenation) one of its parts or a run of them does, or (an
/// alternation) each alternative does.
fn holds_a_word(hir: &Hir, words: &[&str]) -> bool {
    let all_hold = |all: Vec<Vec<u8>>| {
        all.iter().all(|text| {
            words
                .iter()
                .any(|word| text.to_ascii_lowercase().windows(word.len()).any(|w| w == word.as_bytes()))
        })
    };
    if strings(hir).is_some_and(all_hold) {
        return true;
    }
    match hir.kind() {
        HirKind::Capture(capture) => holds_a_word(&capture.sub, words),
        HirKind::Repetition(repetition) => repetition.min >= 1 && holds_a_word(&repetition.sub, words),
        HirKind::Alternation(alternatives) => {
            alternatives.iter().all(|alternative| holds_a_word(alternative, words))
        }
        HirKind::Concat(parts) => {
            parts.iter().any(|part| holds_a_word(part, words))
                || (0..parts.len()).any(|from| {
                    (from + 2..=parts.len())
                        .any(|to| strings(&Hir::concat(parts[from..to].to_vec())).is_some_and(all_hold))
                })
        }
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => false,
    }
}

/// The patterns the prefilter answers for (the combined automaton but its klog alternative),
/// as the automaton reads them (ASCII classes, bytes), but case-sensitively: a
/// case-insensitive match is a match of the same pattern on the text with some letters' case
/// changed, and the words are compared lowercase.
fn prefiltered_patterns() -> Vec<Hir> {
    FAMILIES
        .iter()
        .map(|family| family.pattern)
        .chain(["error", "fatal"])
        .map(|pattern| {
            regex_syntax::ParserBuilder::new().unicode(false).utf8(false).build().parse(pattern).unwrap()
        })
        .collect()
}

#[test]
fn every_family_match_holds_a_word() {
    for (pattern, hir) in
        FAMILIES.iter().map(|f| f.pattern).chain(["error", "fatal"]).zip(prefiltered_patterns())
    {
        assert!(holds_a_word(&hir, &WORDS), "a match of {pattern} may hold none of the words");
    }
    // The proof is not vacuous, and no word is there for nothing: without any one of them,
    // some pattern has a match without a word.
    for word in WORDS {
        let others: Vec<&str> = WORDS.iter().copied().filter(|other| *other != word).collect();
        assert!(
            prefiltered_patterns().iter().any(|hir| !holds_a_word(hir, &others)),
            "{word:?} is not needed"
        );
    }
    assert!(WORDS.iter().all(|word| word.bytes().all(|byte| !byte.is_ascii_uppercase() && byte != b'\n')));
}

#[test]
fn the_klog_letter_is_where_the_automaton_finds_it() {
    for line in ["E0809 21:08:25.1 1 x.go:1] m", "2025-08-09T21:08:25Z F0809 21:08:25", "F1234 "] {
        assert!(klog_letter(line.as_bytes()), "{line}");
    }
    for line in ["I0809 21:08:25.1 1 x.go:1] m", "E080 9", "a b E0809 x", "E0809", "e0809 x", " E12345 x"] {
        assert!(!klog_letter(line.as_bytes()), "{line}");
    }
}

/// Scans `text` in chunks cut at line ends of about `chunk_size` bytes, with and without the
/// prefilter, and says where they differ.
fn same_scan(patterns: &Patterns, text: &[u8], chunk_size: usize, layout: LogLayout) -> Result<(), String> {
    let mut start = 0;
    while start < text.len() {
        let want = (start + chunk_size).min(text.len());
        let end = memchr::memchr(b'\n', &text[want..]).map_or(text.len(), |at| want + at + 1);
        let chunk = &text[start..end];
        let filtered: Vec<Segment> = scan_chunk(patterns, chunk, layout);
        let unfiltered: Vec<Segment> = scan_chunk_unfiltered(patterns, chunk, layout);
        if filtered != unfiltered {
            let lines = chunk.split(|&byte| byte == b'\n');
            let differs = lines
                .filter(|line| {
                    let one =
                        |scan: fn(&Patterns, &[u8], LogLayout) -> Vec<Segment>| scan(patterns, line, layout);
                    one(scan_chunk) != one(scan_chunk_unfiltered)
                })
                .map(|line| String::from_utf8_lossy(line).into_owned())
                .take(3)
                .collect::<Vec<_>>();
            return Err(format!("the scans differ at byte {start}, on lines {differs:?}"));
        }
        start = end;
    }
    Ok(())
}

fn realdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata")
}

/// Every plain-text log of the real data: container logs of the bundles, loghub's systems.
fn real_logs() -> Vec<PathBuf> {
    let mut logs: Vec<PathBuf> = walkdir::WalkDir::new(realdata())
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .filter(|path| {
            let text = path.to_string_lossy();
            (text.ends_with(".log") || text.contains("/podlogs/") || text.contains("/logs/"))
                && ![".gz", ".json", ".csv", ".yaml", ".zip"]
                    .iter()
                    .any(|extension| text.ends_with(extension))
        })
        .collect();
    logs.sort();
    logs
}

#[test]
fn the_prefilter_changes_nothing_on_real_logs() {
    let patterns = Patterns::new().unwrap();
    let logs = real_logs();
    assert!(logs.len() > 200, "{} logs", logs.len());
    let mut hits = 0;
    for path in &logs {
        let text = std::fs::read(path).unwrap();
        // The whole log, chunks of 64 KiB, and its lines ended by `\r\n`.
        for chunk_size in [usize::MAX / 2, 64 << 10] {
            same_scan(&patterns, &text, chunk_size, LogLayout::Plain)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        }
        let crlf: Vec<u8> = text.split(|&byte| byte == b'\n').collect::<Vec<_>>().join(&b"\r\n"[..]);
        same_scan(&patterns, &crlf, usize::MAX / 2, LogLayout::Markers)
            .unwrap_or_else(|error| panic!("{} with CRLF: {error}", path.display()));
        hits += scan_chunk(&patterns, &text, LogLayout::Plain)
            .iter()
            .map(|s| s.counts.iter().sum::<u64>())
            .sum::<u64>();
    }
    assert!(hits > 10_000, "{hits} family hits");
}

/// Pieces of lines: the words, near misses, klog prefixes, case changes, separators.
const PIECES: [&str; 41] = [
    "E0809 ",
    "F1234 ",
    "I0809 ",
    "W0101 ",
    "2025-08-09T21:08:25Z ",
    "ERROR",
    "error",
    "Fatal",
    "TLS",
    "x509: ",
    "Certificate",
    "ssl",
    "SSLv3 alert",
    "cpu",
    " limit",
    "throttl",
    "DataBase",
    "sql",
    "connection",
    " failed",
    "\r",
    " ",
    "\t",
    "db",
    "ORA-12345",
    "pq: ",
    "Memory",
    "pressure",
    "retry",
    "attempt",
    "slow",
    " response",
    "deadline exceeded",
    "time",
    "out",
    "could not connect to the postgres",
    "e0809",
    "OOMKilled",
    "no route to host",
    "x",
    "\u{e9}",
];

proptest! {
    #[test]
    fn the_prefilter_changes_nothing_on_generated_lines(
        lines in prop::collection::vec(prop::collection::vec(0..PIECES.len(), 0..8), 1..40)
    ) {
        let patterns = Patterns::new().unwrap();
        let text: String = lines
            .iter()
            .map(|line| line.iter().map(|&piece| PIECES[piece]).collect::<String>() + "\n")
            .collect();
        prop_assert_eq!(same_scan(&patterns, text.as_bytes(), usize::MAX / 2, LogLayout::Plain), Ok(()));
        let unended = text.trim_end().as_bytes();
        prop_assert_eq!(same_scan(&patterns, unended, usize::MAX / 2, LogLayout::Plain), Ok(()));
    }
}
