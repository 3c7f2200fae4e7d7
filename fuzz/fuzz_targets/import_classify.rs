//! Every importer's path classifier and the format detector: any path, under any format and
//! root, is classified without a panic; detection over a list of paths (and heads) ends in an
//! importer, a refusal or nothing.
//!
//! Input: a format byte, a root line, then one path per line; a line `@head` makes the next
//! line the head of the previous path.
#![no_main]

use kubesnap_shared::import::{Detector, Importer};
use kubesnap_shared::model::SourceFormat;
use libfuzzer_sys::fuzz_target;

const FORMATS: [SourceFormat; 7] = [
    SourceFormat::Native,
    SourceFormat::Troubleshoot,
    SourceFormat::MustGather,
    SourceFormat::Sonobuoy,
    SourceFormat::ClusterInfoDump,
    SourceFormat::SupportBundleKit,
    SourceFormat::Rke2LogCollector,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let mut lines = text.lines();
    let root = lines.next().unwrap_or_default();
    let format = FORMATS[usize::from(selector) % FORMATS.len()];
    let importer =
        Importer::new(format, root).opened_as_folder((selector & 0x80 != 0).then(|| root.to_owned()));
    let _ = importer.capture_time();
    let mut detector = Detector::new();
    let paths: Vec<&str> = lines.collect();
    let mut index = 0;
    while index < paths.len() {
        let path = paths[index];
        let head = paths.get(index + 1).and_then(|next| next.strip_prefix("@head"));
        let _ = importer.classify(path);
        let wants = Detector::wants_head(path);
        let _ = detector.observe(path, if wants { head.map(str::as_bytes) } else { None });
        index += if head.is_some() { 2 } else { 1 };
    }
    let _ = detector.conclude();
});
