//! The model's compact JSON value against serde_json's: whatever serde_json accepts, the compact
//! value accepts too and prints the same (keys sorted and unique, the last duplicate winning);
//! whatever it refuses, the compact value refuses.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let reference = serde_json::from_slice::<serde_json::Value>(data);
    let compact = serde_json::from_slice::<kubesnap_shared::json::Value>(data);
    match (reference, compact) {
        (Ok(reference), Ok(compact)) => {
            assert_eq!(reference.to_string(), compact.to_string(), "the compact value prints otherwise");
            let again: kubesnap_shared::json::Value = kubesnap_shared::json::Value::from(reference);
            assert!(again == compact, "From<serde_json::Value> disagrees with deserializing");
        }
        (Err(_), Err(_)) => {}
        (Ok(_), Err(error)) => panic!("serde_json reads it, the compact value does not: {error}"),
        (Err(error), Ok(_)) => panic!("the compact value reads what serde_json refuses: {error}"),
    }
});
