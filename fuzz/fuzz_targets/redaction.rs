//! Redaction of any text, in both modes: it never panics, it is idempotent (a second pass
//! changes nothing), and it never grows a secret back: what a first pass removed, a second
//! pass does not bring back, and a text that holds no marker gains none without a count. JSON
//! input also goes through the object path.
#![no_main]

use std::sync::LazyLock;

use kubesnap_shared::redact::{Counts, Redactor, Tokens};
use libfuzzer_sys::fuzz_target;

static MASK: LazyLock<Redactor> = LazyLock::new(Redactor::builtin);
static TOKENS: LazyLock<Redactor> =
    LazyLock::new(|| Redactor::builtin().with_tokens(Tokens::new([0x2a; 32], false)));

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let redactor: &Redactor = if selector & 1 == 0 { &MASK } else { &TOKENS };
    let mut counts = Counts::default();
    let once = redactor.redact_bytes(bytes, &mut counts).into_owned();
    let n_markers = |text: &[u8]| text.windows(9).filter(|window| window == b"<redacted").count();
    if once != bytes {
        assert!(!counts.is_empty(), "the text changed without a count");
        assert!(n_markers(&once) > 0, "the text changed without a marker");
    }
    let mut again = Counts::default();
    let twice = redactor.redact_bytes(&once, &mut again).into_owned();
    assert!(
        twice == once,
        "a second pass changed the text:\n{:?}\n{:?}",
        String::from_utf8_lossy(&once),
        String::from_utf8_lossy(&twice)
    );
    assert!(again.is_empty(), "a second pass counted redactions");
    if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(bytes) {
        let mut counts = Counts::default();
        redactor.redact_object(&mut value, &mut counts);
        let first = value.clone();
        redactor.redact_object(&mut value, &mut Counts::default());
        assert!(value == first, "a second pass over the object changed it");
    }
});
