//! kubectl's text tables read back into objects (`shared/src/import/text`), and the relative ages
//! they hold (`5d3h`, `<invalid>`): any text, with or without a kind hint and a capture time,
//! is read without a panic.
#![no_main]

use kubesnap_shared::import::text;
use libfuzzer_sys::fuzz_target;

const HINTS: [Option<&str>; 5] = [None, Some("Pod"), Some("Node"), Some("Event"), Some("Deployment")];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let hint = HINTS[usize::from(selector) % HINTS.len()];
    let now = (selector & 0x80 != 0).then(|| jiff::Timestamp::from_second(1_767_225_600).ok()).flatten();
    let read = text::read(bytes, hint, now, "fuzz/get.txt");
    let _ = read.listed_kinds.len();
    let _ = text::tables(&String::from_utf8_lossy(bytes)).len();
    for word in String::from_utf8_lossy(bytes).split_whitespace().take(64) {
        let _ = text::age(word);
    }
});
