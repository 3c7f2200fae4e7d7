//! The compact value against serde_json: same data, same order, same text, same limits.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::{Map, Value};

fn realdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata")
}

/// Every file under `dir` whose name ends with `extension`, in path order.
fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .filter(|path| path.to_string_lossy().ends_with(extension))
        .collect();
    out.sort();
    out
}

#[test]
fn value_is_24_bytes() {
    assert_eq!(size_of::<Value>(), 24);
    assert_eq!(size_of::<Map>(), 16);
    assert_eq!(size_of::<Option<&Value>>(), 8);
}

#[test]
fn troubleshoot_cluster_resources_round_trip() {
    let dir = realdata().join("replicatedhq__sbctl/tests/support-bundle/cluster-resources");
    let paths = files(&dir, ".json");
    assert!(paths.len() > 50, "realdata missing: {} files under {}", paths.len(), dir.display());
    for path in paths {
        let bytes = std::fs::read(&path).unwrap();
        let original: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let compact: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(serde_json::to_value(&compact).unwrap(), original, "{}", path.display());
        assert_eq!(compact.to_string(), original.to_string(), "{}", path.display());
        assert_eq!(Value::from(original.clone()), compact, "{}", path.display());
        assert!(compact == original, "{}", path.display());
        assert_eq!(serde_json::Value::from(&compact), original, "{}", path.display());
    }
}

#[test]
fn must_gather_yaml_round_trips() {
    let paths = files(&realdata().join("gmeghnag__omc"), ".yaml");
    assert!(!paths.is_empty());
    for path in paths {
        let bytes = std::fs::read(&path).unwrap();
        let original: serde_json::Value = crate::yaml::from_slice(&bytes).unwrap();
        let compact: Value = crate::yaml::from_slice(&bytes).unwrap();
        assert_eq!(serde_json::to_value(&compact).unwrap(), original, "{}", path.display());
    }
}

#[test]
fn accessors_read_a_pod_as_serde_json_does() {
    let path =
        realdata().join("replicatedhq__sbctl/tests/support-bundle/cluster-resources/pods/kube-system.json");
    let bytes = std::fs::read(path).unwrap();
    let original: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let compact: Value = serde_json::from_slice(&bytes).unwrap();
    let pointers = [
        "",
        "/items/0/metadata/name",
        "/items/0/spec/containers/0/image",
        "/items/0/spec/containers/0/resources/limits",
        "/items/1/status/containerStatuses/0/restartCount",
        "/items/1/metadata/ownerReferences/0/controller",
        "/items/00/metadata",
        "/items/+1/metadata",
        "/items/999/metadata",
        "/nope",
        "items",
    ];
    for pointer in pointers {
        let expected = original.pointer(pointer);
        let got = compact.pointer(pointer);
        assert_eq!(got.map(serde_json::Value::from), expected.cloned(), "{pointer}");
        assert_eq!(got.and_then(Value::as_str), expected.and_then(serde_json::Value::as_str), "{pointer}");
        assert_eq!(got.and_then(Value::as_i64), expected.and_then(serde_json::Value::as_i64), "{pointer}");
        assert_eq!(got.and_then(Value::as_bool), expected.and_then(serde_json::Value::as_bool), "{pointer}");
    }
    let labels = compact.pointer("/items/0/metadata/labels").and_then(Value::as_object).unwrap();
    let expected =
        original.pointer("/items/0/metadata/labels").and_then(serde_json::Value::as_object).unwrap();
    assert_eq!(labels.keys().collect::<Vec<_>>(), expected.keys().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(labels.len(), expected.len());
    assert_eq!(compact["items"][0]["kind"], original["items"][0]["kind"].as_str().unwrap_or("absent"));
    assert!(compact["items"][9999]["nope"].is_null());
}

#[test]
fn duplicate_keys_keep_the_last_value_in_sorted_order() {
    let text = r#"{"b": 1, "a": 2, "b": 3, "c": {"x": 1, "x": [2]}, "a": 4}"#;
    let original: serde_json::Value = serde_json::from_str(text).unwrap();
    let compact: Value = serde_json::from_str(text).unwrap();
    assert_eq!(serde_json::to_value(&compact).unwrap(), original);
    assert_eq!(compact.to_string(), r#"{"a":4,"b":3,"c":{"x":[2]}}"#);
    assert_eq!(compact.as_object().map(Map::len), Some(3));
    assert!(compact == json!({"a": 4, "b": 3, "c": {"x": [2]}}));
    assert!(compact != json!({"a": 4, "b": 3, "c": {"x": [2], "y": 1}}));
    assert!(compact != json!({"a": 4.0, "b": 3, "c": {"x": [2]}}), "an integer is not a float");
}

#[test]
fn pointer_escapes() {
    let compact = Value::from(json!({"a/b": {"m~n": [10, 20]}, "": 1}));
    assert_eq!(compact.pointer("/a~1b/m~0n/1").and_then(Value::as_u64), Some(20));
    assert_eq!(compact.pointer("/").and_then(Value::as_u64), Some(1));
    assert_eq!(compact.pointer("/a~1b/m~0n/2"), None);
}

#[test]
fn hostile_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let error = serde_json::from_str::<Value>(&text).err().map(|error| error.to_string());
    assert!(error.as_deref().is_some_and(|e| e.contains("recursion limit")), "{error:?}");
    let objects = "{\"a\":".repeat(depth);
    assert!(serde_json::from_str::<Value>(&objects).is_err());
    let yaml = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    assert!(crate::yaml::from_str::<Value>(&yaml).is_err());
    // Nesting serde_json accepts is kept whole.
    let fine = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let value: Value = serde_json::from_str(&fine).unwrap();
    assert_eq!(value.to_string(), fine);
}

#[test]
fn numbers_keep_their_kind_and_precision() {
    let text =
        r#"[0, -1, 18446744073709551615, -9223372036854775808, 18446744073709551616, 1.5, 1e300, 3.0]"#;
    let original: serde_json::Value = serde_json::from_str(text).unwrap();
    let compact: Value = serde_json::from_str(text).unwrap();
    assert_eq!(serde_json::to_value(&compact).unwrap(), original);
    assert_eq!(compact.to_string(), original.to_string());
    assert_eq!(compact[2].as_u64(), Some(u64::MAX));
    assert_eq!(compact[2].as_i64(), None);
    assert_eq!(compact[3].as_i64(), Some(i64::MIN));
    assert_eq!(compact[0].as_i64(), Some(0));
    assert_eq!(compact[5].as_f64(), Some(1.5));
    assert_eq!(compact[5].as_i64(), None);
    assert!(compact[7].is_f64());
    assert!(serde_json::from_str::<Value>("1e400").is_err(), "out of range, as serde_json says");
    // A non-negative integer equals itself however it was built, as in serde_json.
    assert_eq!(Value::from(5_i64), Value::from(5_u64));
}

#[test]
fn unicode_escapes_decode_and_encode_as_serde_json() {
    let text = r#"{"k\u00e9y": "caf\u00e9 \ud83d\ude00 \"q\" \n \u0001", "long": "a string well beyond twenty-four bytes, ünïcödé"}"#;
    let original: serde_json::Value = serde_json::from_str(text).unwrap();
    let compact: Value = serde_json::from_str(text).unwrap();
    assert_eq!(compact.get("kéy").and_then(Value::as_str), Some("café 😀 \"q\" \n \u{1}"));
    assert_eq!(compact.to_string(), original.to_string());
    assert_eq!(format!("{compact:#}"), format!("{original:#}"));
    assert!(serde_json::from_str::<Value>(r#""\ud800""#).is_err(), "a lone surrogate is refused");
}

#[test]
fn debug_reads_like_serde_json() {
    let original = json!({"a": [1, "x", null, true, 2.5], "b": {}});
    assert_eq!(format!("{:?}", Value::from(original.clone())), format!("{original:?}"));
}

#[test]
fn removing_a_key_keeps_the_rest_sorted() {
    let mut compact = Value::from(json!({"metadata": {"name": "a", "managedFields": [], "uid": "u"}}));
    let metadata = compact.get("metadata").cloned();
    let removed = compact.as_object_mut().and_then(|map| map.remove("metadata"));
    assert_eq!(removed, metadata);
    let mut metadata = metadata.unwrap();
    assert!(metadata.as_object_mut().and_then(|map| map.remove("managedFields")).is_some());
    assert_eq!(metadata.to_string(), r#"{"name":"a","uid":"u"}"#);
    assert!(metadata.as_object_mut().and_then(|map| map.remove("managedFields")).is_none());
}
