//! Helpers of the import tests: where the real bundles are, and reading them independently of
//! the importers (tar, flate2, liblzma, walkdir, serde_json, shared's YAML reader) to know what they hold.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use kubesnap_analyzer::load::{LoadOptions, load};
use kubesnap_shared::model::ClusterModel;
use serde_json::Value;

/// A path under `/work/shared/realdata`, from the repository root.
pub(crate) fn realdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata").join(relative)
}

pub(crate) fn load_real(relative: &str) -> ClusterModel {
    let path = realdata(relative);
    load(&path, &LoadOptions::default()).unwrap_or_else(|error| panic!("{}: {error:?}", path.display()))
}

/// Every regular file of an archive (`.tar.gz`, `.tar.xz`) or a folder, by path, with the
/// first folder level kept as it is in the archive.
pub(crate) fn files(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    if path.is_dir() {
        for item in walkdir::WalkDir::new(path).follow_links(false) {
            let item = item.unwrap();
            if item.file_type().is_file() {
                let relative = item.path().strip_prefix(path).unwrap().to_string_lossy().into_owned();
                files.insert(relative, std::fs::read(item.path()).unwrap());
            }
        }
        return files;
    }
    let raw = std::fs::read(path).unwrap();
    let stream: Box<dyn Read> = if raw.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(raw.as_slice()))
    } else {
        Box::new(liblzma::read::XzDecoder::new(raw.as_slice()))
    };
    let mut archive = tar::Archive::new(stream);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let name = entry.path().unwrap().to_string_lossy().trim_start_matches("./").to_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        files.insert(name, bytes);
    }
    files
}

/// Items of a JSON file: a List's `items`, an array's elements, one object, or none (`null`).
pub(crate) fn json_items(bytes: &[u8]) -> Vec<Value> {
    match serde_json::from_slice::<Value>(bytes).unwrap() {
        Value::Null => Vec::new(),
        Value::Array(items) => items,
        Value::Object(map) if map.contains_key("items") => {
            map["items"].as_array().cloned().unwrap_or_default()
        }
        object => vec![object],
    }
}

/// Items of a YAML file, over all its documents, the same way.
pub(crate) fn yaml_items(bytes: &[u8]) -> Vec<Value> {
    let mut items = Vec::new();
    for document in kubesnap_shared::yaml::documents::<Value>(bytes).unwrap() {
        match document {
            Value::Null => {}
            Value::Array(list) => items.extend(list),
            Value::Object(map) if map.contains_key("items") => {
                items.extend(map["items"].as_array().cloned().unwrap_or_default())
            }
            object => items.push(object),
        }
    }
    items
}

/// Newline-terminated lines of a text, plus a last line without one.
pub(crate) fn line_count(bytes: &[u8]) -> u64 {
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    newlines + u64::from(!bytes.is_empty() && !bytes.ends_with(b"\n"))
}

/// Number of objects of `kind` in the model.
pub(crate) fn count(model: &ClusterModel, kind: &str) -> usize {
    model.of_kind(kind).count()
}

/// Objects per kind, for messages.
pub(crate) fn kinds(model: &ClusterModel) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for object in &model.objects {
        *kinds.entry(object.kind.clone()).or_default() += 1;
    }
    kinds
}

/// A one-screen description of a model, printed when a test fails.
pub(crate) fn summary(model: &ClusterModel) -> String {
    format!(
        "format {:?}, version {:?}, captured {:?}\nkinds {:?}\nevents {}, logs {}, failures {}, kubelet stats {:?}\ngaps {:?}\nproblems {:?}",
        model.format,
        model.server_version,
        model.captured_at.map(|t| t.to_string()),
        kinds(model),
        model.events.len(),
        model.logs.len(),
        model.failures.len(),
        model.kubelet_stats.keys().collect::<Vec<_>>(),
        model.gaps.iter().map(|g| g.what.as_str()).collect::<Vec<_>>(),
        model.read_problems,
    )
}
