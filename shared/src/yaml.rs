//! Reading YAML: foreign bundles' entries (must-gathers, support-bundle-kit), redaction rules
//! files and test fixtures all go through [`options`], so one text reads one way everywhere.
//!
//! The parser is serde-saphyr: pure Rust without `unsafe`, maintained, and the YAML crate
//! kube-client itself uses. Its defaults are tuned for configuration files; a bundle's YAML is
//! neither small nor written by hand, so the options below say how a Kubernetes object reads:
//!
//! - Scalars resolve by YAML 1.2's core schema, as serde_json would read the same object
//!   written as JSON: only `true` and `false` are booleans (`yes`, `on` stay text), and `0755`
//!   or `1_000` stay text, as no JSON number is spelled so.
//! - A key given twice keeps its last value, as in JSON ([`crate::json::Value`] keeps the last).
//! - `.nan` and `.inf` reach the value, which holds them as null, as serde_json does.
//! - Merge keys (`<<`) expand, as the Go YAML reader kubectl uses expands them.
//! - Size: an entry is already capped by the reader (`--max-parse-size`), and without aliases
//!   the nodes, events, documents and scalar bytes of a text are bounded by its length, so
//!   they are not counted again. Aliases are what multiplies an input: they replay at most
//!   [`MAX_REPLAYED_EVENTS`] events in all, and all scalars read, replayed ones included, hold
//!   at most twice the input's length plus 1 MiB (a "billion laughs" file is an error, not
//!   gigabytes). Nesting stops at [`MAX_DEPTH`] levels, well before the stack does.

use serde::de::DeserializeOwned;

/// Why a YAML text could not be read: the message names the line and column. Boxed: the
/// parser's error is large, and it travels inside every parse result.
pub type Error = Box<serde_saphyr::Error>;

/// The deepest nesting of sequences and mappings read: serde-saphyr's own default, chosen for the
/// stack. The deepest YAML of the real bundles (CRD schemas in a must-gather) nests 33 to 40
/// levels; serde_json's 128 overflows a 2 MiB thread stack in a debug build of the YAML reader.
pub const MAX_DEPTH: usize = 64;

/// The most events all aliases of one text may replay.
pub const MAX_REPLAYED_EVENTS: usize = 1_000_000;

/// The options every YAML text of `len` bytes is read with (see the module's doc).
pub fn options(len: usize) -> serde_saphyr::Options {
    let budget = serde_saphyr::budget! {
        max_events: usize::MAX,
        max_nodes: usize::MAX,
        max_documents: usize::MAX,
        max_total_scalar_bytes: len.saturating_mul(2).saturating_add(1 << 20),
        max_total_comment_bytes: usize::MAX,
        max_reader_input_bytes: None,
        max_depth: MAX_DEPTH,
    };
    let alias_limits = serde_saphyr::alias_limits! {
        max_total_replayed_events: MAX_REPLAYED_EVENTS,
    };
    serde_saphyr::options! {
        budget: budget,
        alias_limits: alias_limits,
        emit_comments: false,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::PassThrough,
        // One line with the position, not a rendered excerpt of the input.
        with_snippet: false,
    }
}

/// Reads one YAML document.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    serde_saphyr::from_slice_with_options(bytes, options(bytes.len())).map_err(Box::new)
}

/// Reads one YAML document.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    serde_saphyr::from_str_with_options(text, options(text.len())).map_err(Box::new)
}

/// Reads every document of a YAML stream (`---` separated), in order; empty and `null`
/// documents are left out.
pub fn documents<T: DeserializeOwned>(bytes: &[u8]) -> Result<Vec<T>, Error> {
    serde_saphyr::from_slice_multiple_with_options(bytes, options(bytes.len())).map_err(Box::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Value;

    fn read(text: &str) -> String {
        from_str::<Value>(text)
            .map(|value| value.to_string())
            .unwrap_or_else(|error| format!("error: {error}"))
    }

    #[test]
    fn scalars_resolve_as_the_same_object_in_json_would() {
        assert_eq!(
            read(
                "a: yes\nb: on\nc: true\nd: False\ne: 0755\nf: 1_000\ng: 12\nh: -3\ni: 1.5\nj: ~\nk: '12'\n"
            ),
            r#"{"a":"yes","b":"on","c":true,"d":false,"e":"0755","f":"1_000","g":12,"h":-3,"i":1.5,"j":null,"k":"12"}"#
        );
        assert_eq!(read("a: .nan\nb: -.inf\n"), r#"{"a":null,"b":null}"#);
        assert_eq!(read("a: 1\nb: 2\na: 3\n"), r#"{"a":3,"b":2}"#, "the last of duplicate keys wins");
        assert_eq!(
            read("base: &b {x: 1, y: 2}\nover:\n  <<: *b\n  y: 3\n"),
            r#"{"base":{"x":1,"y":2},"over":{"x":1,"y":3}}"#
        );
    }

    #[test]
    fn documents_come_in_order_without_empty_ones() {
        let values: Vec<Value> = documents(b"---\na: 1\n---\n---\nnull\n---\n- 2\n").unwrap();
        let texts: Vec<String> = values.iter().map(Value::to_string).collect();
        assert_eq!(texts, [r#"{"a":1}"#, "[2]"]);
    }

    #[test]
    fn an_alias_bomb_is_an_error_not_gigabytes() {
        // Each level doubles: 2^40 leaves if replayed in full.
        let mut text = String::from("l0: &l0 [x, x]\n");
        for level in 1..40 {
            text.push_str(&format!("l{level}: &l{level} [*l{}, *l{}]\n", level - 1, level - 1));
        }
        let error = from_str::<Value>(&text).err().map(|error| error.to_string());
        assert!(error.as_deref().is_some_and(|e| e.contains("budget")), "{error:?}");
        // A long scalar replayed many times trips the scalar budget before the event budget.
        let big = "y".repeat(1 << 20);
        let text = format!("a: &a {big}\nb: [{}]\n", vec!["*a"; 64].join(", "));
        assert!(from_str::<Value>(&text).is_err());
        // Aliases within the budget read as the anchored value.
        assert_eq!(read("a: &a {k: v}\nb: *a\n"), r#"{"a":{"k":"v"},"b":{"k":"v"}}"#);
    }

    #[test]
    fn nesting_stops_at_the_depth_limit() {
        let deep = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        assert!(from_str::<Value>(&deep(MAX_DEPTH - 1)).is_ok());
        assert!(from_str::<Value>(&deep(MAX_DEPTH + 1)).is_err());
        assert!(from_str::<Value>(&deep(100_000)).is_err());
    }

    #[test]
    fn errors_name_the_position_on_one_line() {
        let error = from_slice::<Value>(b"a: 1\nb: [\n").unwrap_err().to_string();
        assert!(error.contains("line"), "{error}");
        assert!(!error.contains('\n'), "{error}");
    }
}
