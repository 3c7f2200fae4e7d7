//! The prefilter of the family scan: which lines of a chunk the combined automaton
//! ([`Patterns::any`]) matches, without running it over every byte.
//!
//! Every match of the automaton holds one of [`WORDS`] (ASCII case-insensitively), except
//! matches of its klog alternative, `^(?:\S+ )?[EF]\d{4} `, which holds a level letter at the
//! line's start or after its first word. So the chunk is lowercased into a buffer once and
//! searched for the words with a packed SIMD searcher (Teddy), and a line is let through when a
//! word starts in it or when [`klog_letter`] finds the letter; the automaton then runs on that
//! line alone, and decides. A line's hit is therefore exactly the whole-chunk automaton's: the
//! words are proved necessary from the family patterns themselves (the tests), and a line is
//! bounded by `\n`, which no alternative matches, so the automaton's match in the chunk and in
//! the line are the same.

use std::cell::RefCell;

use aho_corasick::Span;
use aho_corasick::packed::Searcher;

use super::Patterns;

/// Lowercase words: every match of a family pattern, of `error` and of `fatal` holds one of
/// them, whatever its case (`tests::every_family_match_holds_a_word` proves it from the
/// patterns). At most 64 (the packed searcher's bound), the rarer the better: a word that
/// is only part of an alternative (`cpu` for `cpu.*limit`) lets lines through that the
/// automaton then turns down.
pub(super) const WORDS: [&str; 44] = [
    "error",
    "fatal",
    "oomkilled",
    "memory",
    "imagepull",
    "pull image",
    "no such host",
    "dns resolution",
    "no route to",
    "getaddrinfo",
    "unreachable",
    "refused",
    "timeout",
    "timed out",
    "exceeded",
    "denied",
    "unauthorized",
    "pressure",
    "no space left",
    "disk full",
    "certificate",
    "x509",
    "tls",
    "ssl",
    "cert_has_expired",
    "unable_to_verify",
    "pkix path",
    "database",
    "sql",
    "cpu",
    "slow",
    "response time",
    "retry",
    "attempt",
    "deprecated",
    "will be removed",
    "obsolete",
    "password authentication",
    "db connection",
    "connect to ",
    "ora-",
    "too many c",
    "communications link",
    "pq: ",
];

thread_local! {
    /// The lowercase copy of the chunk a worker scans, kept between chunks.
    static LOWER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Which lines of one chunk the automaton matches, asked line by line in order.
pub(super) enum Hits<'a> {
    /// The automaton over the whole chunk: where its next match starts.
    Automaton { next: Option<usize> },
    /// The prefilter: the lowercase chunk, and where the next word in it starts.
    Words { words: &'a Searcher, lower: Vec<u8>, next: Option<usize> },
}

impl<'a> Hits<'a> {
    pub(super) fn new(patterns: &'a Patterns, chunk: &[u8]) -> Hits<'a> {
        match &patterns.words {
            Some(words) => {
                let mut lower = LOWER.with_borrow_mut(std::mem::take);
                lower.clear();
                lower.extend(chunk.iter().map(u8::to_ascii_lowercase));
                let next = words.find(&lower).map(|found| found.start());
                Hits::Words { words, lower, next }
            }
            None => Hits::automaton(patterns, chunk),
        }
    }

    /// The automaton over the whole chunk, without the prefilter.
    pub(super) fn automaton(patterns: &Patterns, chunk: &[u8]) -> Hits<'a> {
        Hits::Automaton { next: patterns.any.find(chunk).map(|found| found.start()) }
    }

    /// Whether the automaton matches the line `chunk[start..end]` (`end`: its `\n`, or the
    /// chunk's end); `line` is it without a final `\r`. Lines are asked in order.
    pub(super) fn line(
        &mut self,
        patterns: &Patterns,
        chunk: &[u8],
        start: usize,
        end: usize,
        line: &[u8],
    ) -> bool {
        let from = (end + 1).min(chunk.len());
        match self {
            Hits::Automaton { next } => {
                let hit = matches!(*next, Some(position) if position < end);
                if hit {
                    *next = patterns.any.find_at(chunk, from).map(|found| found.start());
                }
                hit
            }
            Hits::Words { words, lower, next } => {
                let word = matches!(*next, Some(position) if position < end);
                if word {
                    *next = words.find_in(&*lower, Span::from(from..lower.len())).map(|found| found.start());
                }
                (word || klog_letter(line)) && patterns.any.is_match(&chunk[start..end])
            }
        }
    }
}

impl Drop for Hits<'_> {
    fn drop(&mut self) {
        if let Hits::Words { lower, .. } = self {
            let lower = std::mem::take(lower);
            LOWER.with_borrow_mut(|kept| *kept = lower);
        }
    }
}

/// Whether a klog level letter `E` or `F` (a letter, four digits, a space) opens the line or
/// follows its first space: every line the automaton's klog alternative matches.
pub(super) fn klog_letter(line: &[u8]) -> bool {
    let at = |text: &[u8]| {
        text.len() >= 6
            && matches!(text[0], b'E' | b'F')
            && text[1..5].iter().all(u8::is_ascii_digit)
            && text[5] == b' '
    };
    at(line) || memchr::memchr(b' ', line).is_some_and(|space| at(&line[space + 1..]))
}

#[cfg(test)]
mod tests;
