//! The redaction corpus (`../shared/redaction`): every positive text through `redact_text` (what
//! logs and `kubesnap-collect redact` use) and, for JSON and YAML objects, through
//! `redact_object` (what the collector uses for resources) must leak no secret, also under the
//! scorer's `--strict` check (no 16-character window of a long secret survives); every negative
//! must come back unchanged.
//!
//! Every check runs in both modes: plain markers and consistent tokens (`<redacted:RULE:tok-…>`).
//!
//! The shared corpus is read-only; the project's own cases (`testdata/redaction/`: credential
//! files of infrastructure software, password hashes, JDBC/ODBC URLs, config dumps in logs,
//! more key formats, and their near misses) are read beside it, in the same format.

use std::path::PathBuf;

use kubesnap_shared::redact::{Counts, Redactor, Tokens};
use serde_json::Value;

struct Item {
    id: String,
    format: String,
    text: String,
    secrets: Vec<String>,
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/redaction")
}

fn project_corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/redaction")
}

/// The shared corpus's `name` and the project's.
fn load(name: &str) -> Result<Vec<Item>, String> {
    let mut items = load_file(corpus_dir().join(name))?;
    let own = load_file(project_corpus_dir().join(name))?;
    assert!(own.len() >= 15, "the project's corpus looks truncated: {} items in {name}", own.len());
    items.extend(own);
    Ok(items)
}

fn load_file(path: PathBuf) -> Result<Vec<Item>, String> {
    let text =
        std::fs::read_to_string(&path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let value: Value =
                serde_json::from_str(line).map_err(|error| format!("bad corpus line: {error}"))?;
            let field = |name: &str| value[name].as_str().unwrap_or_default().to_owned();
            Ok(Item {
                id: field("id"),
                format: field("format"),
                text: field("text"),
                secrets: value["secrets"]
                    .as_array()
                    .map(|secrets| secrets.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// Each mode's name and redactor.
type Modes = [(&'static str, Redactor); 2];

/// The redactor in each mode: plain markers, and tokens (with the map kept, as the collector's
/// `--redaction-map` does).
fn modes() -> Modes {
    [
        ("mask", Redactor::builtin()),
        ("tokens", Redactor::builtin().with_tokens(Tokens::new([0x5a; 32], true))),
    ]
}

/// The scorer's leak test, `--strict` included.
fn leaked(secret: &str, out: &str) -> bool {
    if out.contains(secret) {
        return true;
    }
    let chars: Vec<char> = secret.chars().collect();
    chars.len() >= 24
        && (0..chars.len() - 15)
            .step_by(8)
            .any(|i| out.contains(&chars[i..i + 16].iter().collect::<String>()))
}

/// The object path: a JSON document, or a YAML document with a `kind`, as the API server
/// would return it.
fn as_object(item: &Item) -> Option<Value> {
    match item.format.as_str() {
        "json" | "dockerconfig" => serde_json::from_str(item.text.trim()).ok(),
        "yaml" | "kubeconfig" => {
            let value: Value = kubesnap_shared::yaml::from_str(&item.text).ok()?;
            value.get("kind").is_some().then_some(value)
        }
        _ => None,
    }
}

fn leaks(items: &[Item], mut redact: impl FnMut(&Item) -> Option<String>) -> Vec<String> {
    let mut leaked_ids = Vec::new();
    for item in items {
        let Some(out) = redact(item) else { continue };
        if item.secrets.iter().any(|secret| leaked(secret, &out)) {
            leaked_ids.push(item.id.clone());
        }
    }
    leaked_ids
}

#[test]
fn no_positive_leaks_through_redact_text() -> Result<(), String> {
    let positives = load("positives.jsonl")?;
    assert!(positives.len() >= 100, "the corpus looks truncated: {} positives", positives.len());
    for (mode, redactor) in modes() {
        let leaked_ids = leaks(&positives, |item| {
            Some(redactor.redact_text(&item.text, &mut Counts::default()).into_owned())
        });
        assert_eq!(leaked_ids, Vec::<String>::new(), "items with a leak through redact_text ({mode})");
    }
    Ok(())
}

#[test]
fn no_positive_leaks_through_redact_object() -> Result<(), String> {
    let positives = load("positives.jsonl")?;
    for (mode, redactor) in modes() {
        let mut n_objects = 0;
        let leaked_ids = leaks(&positives, |item| {
            let mut object = as_object(item)?;
            n_objects += 1;
            redactor.redact_object(&mut object, &mut Counts::default());
            Some(object.to_string())
        });
        assert_eq!(leaked_ids, Vec::<String>::new(), "items with a leak through redact_object ({mode})");
        assert!(n_objects >= 15, "only {n_objects} corpus texts parsed as objects");
    }
    Ok(())
}

#[test]
fn every_redaction_is_counted() -> Result<(), String> {
    let redactor = Redactor::builtin();
    for item in load("positives.jsonl")? {
        let mut counts = Counts::default();
        let out = redactor.redact_text(&item.text, &mut counts);
        let n_markers = out.matches("<redacted").count() as u64;
        assert!(counts.total() >= n_markers.min(1), "{}: redacted without a count", item.id);
        assert!(!counts.is_empty(), "{}: nothing counted", item.id);
    }
    Ok(())
}

#[test]
fn no_negative_changes() -> Result<(), String> {
    let negatives = load("negatives.jsonl")?;
    assert!(negatives.len() >= 40, "the corpus looks truncated: {} negatives", negatives.len());
    let mut changed = Vec::new();
    for ((_, redactor), item) in
        modes().iter().flat_map(|mode| negatives.iter().map(move |item| (mode, item)))
    {
        let mut counts = Counts::default();
        let out = redactor.redact_text(&item.text, &mut counts);
        if out != item.text {
            changed.push(format!("{}: {}", item.id, out));
        }
        assert_eq!(counts.is_empty(), out == item.text, "{}: counts disagree with the output", item.id);
        if let Some(mut object) = as_object(item) {
            let before = object.clone();
            redactor.redact_object(&mut object, &mut Counts::default());
            if object != before {
                changed.push(format!("{} (object): {}", item.id, object));
            }
        }
    }
    assert_eq!(changed, Vec::<String>::new(), "negatives that changed");
    Ok(())
}

/// Redacting what was redacted changes nothing: a bundle can be re-redacted (with more rules)
/// without its markers being redacted again or a secret coming back.
#[test]
fn redaction_is_idempotent_on_every_corpus_text() -> Result<(), String> {
    let mut changed = Vec::new();
    let items: Vec<Item> = load("positives.jsonl")?.into_iter().chain(load("negatives.jsonl")?).collect();
    for (mode, redactor) in modes() {
        for item in &items {
            let once = redactor.redact_text(&item.text, &mut Counts::default()).into_owned();
            let twice = redactor.redact_text(&once, &mut Counts::default()).into_owned();
            if once != twice {
                changed.push(format!("{} ({mode}): {once:?} then {twice:?}", item.id));
            }
        }
    }
    assert_eq!(changed, Vec::<String>::new(), "texts that a second redaction changed");
    Ok(())
}

/// The redactor and the positives, built once for every generated case.
static MANGLE: std::sync::LazyLock<(Modes, Vec<Item>)> =
    std::sync::LazyLock::new(|| (modes(), load("positives.jsonl").unwrap_or_default()));

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

    /// Corpus texts cut, joined and sprinkled with arbitrary characters: redaction never
    /// panics, is idempotent, and never grows a secret back (every secret of a positive whose
    /// text survives whole stays out).
    #[test]
    fn redaction_of_mangled_corpus_text_is_idempotent(
        first in 0usize..1000,
        second in 0usize..1000,
        cut in 0usize..4000,
        noise in "[ -~\n\t\u{e9}\u{2028}]{0,40}",
        tokens in proptest::bool::ANY,
    ) {
        let (modes, positives) = &*MANGLE;
        let (_, redactor) = &modes[usize::from(tokens)];
        let a = &positives[first % positives.len()];
        let b = &positives[second % positives.len()];
        let mut end = cut.min(a.text.len());
        while !a.text.is_char_boundary(end) {
            end -= 1;
        }
        let text = format!("{}{noise}\n{}", &a.text[..end], b.text);
        let once = redactor.redact_text(&text, &mut Counts::default()).into_owned();
        let twice = redactor.redact_text(&once, &mut Counts::default()).into_owned();
        proptest::prop_assert_eq!(&once, &twice);
        for secret in &b.secrets {
            proptest::prop_assert!(!once.contains(secret.as_str()), "{} leaked from {:?}", secret, text);
        }
    }
}
