//! Helpers of the bundle format tests: raw tar records crafted byte by byte (tar-rs's builder
//! refuses the hostile ones), small native bundles, and a visitor that keeps what it was given.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use kubesnap_shared::manifest::{ClusterInfo, Tool};
use kubesnap_shared::reader::{Bundle, Limits, ReadOutcome};
use kubesnap_shared::writer::{BundleHeader, BundleWriter};

pub(crate) type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// A tar stream built record by record, with nothing checked.
#[derive(Default)]
pub(crate) struct RawTar {
    bytes: Vec<u8>,
}

impl RawTar {
    pub(crate) fn new() -> RawTar {
        RawTar::default()
    }

    /// One record: a GNU header with `name` and `link` written into the raw name fields (at
    /// most 100 bytes each), then `data` padded to a block.
    pub(crate) fn record(
        mut self,
        name: &[u8],
        entry_type: tar::EntryType,
        size: u64,
        link: &[u8],
        data: &[u8],
    ) -> RawTar {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(entry_type);
        header.set_size(size);
        header.set_mode(0o644);
        header.set_mtime(0);
        let old = header.as_old_mut();
        old.name = [0; 100];
        old.name[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
        old.linkname = [0; 100];
        old.linkname[..link.len().min(100)].copy_from_slice(&link[..link.len().min(100)]);
        header.set_cksum();
        self.bytes.extend_from_slice(header.as_bytes());
        self.bytes.extend_from_slice(data);
        let padding = (512 - data.len() % 512) % 512;
        self.bytes.extend(std::iter::repeat_n(0u8, padding));
        self
    }

    pub(crate) fn file(self, name: &[u8], data: &[u8]) -> RawTar {
        self.record(name, tar::EntryType::Regular, data.len() as u64, b"", data)
    }

    pub(crate) fn dir(self, name: &[u8]) -> RawTar {
        self.record(name, tar::EntryType::Directory, 0, b"", b"")
    }

    pub(crate) fn symlink(self, name: &[u8], target: &[u8]) -> RawTar {
        self.record(name, tar::EntryType::Symlink, 0, target, b"")
    }

    pub(crate) fn hard_link(self, name: &[u8], target: &[u8]) -> RawTar {
        self.record(name, tar::EntryType::Link, 0, target, b"")
    }

    /// A GNU long name record for the next entry (its name may exceed 100 bytes).
    pub(crate) fn gnu_long_name(self, name: &[u8]) -> RawTar {
        let mut data = name.to_vec();
        data.push(0);
        self.record(b"././@LongLink", tar::EntryType::GNULongName, data.len() as u64, b"", &data)
    }

    /// A PAX header for the next entry, from `key=value` records.
    pub(crate) fn pax(self, records: &[(&str, &[u8])]) -> RawTar {
        let mut data = Vec::new();
        for (key, value) in records {
            // The length prefix counts itself: find the fixed point.
            let body = key.len() + value.len() + 3;
            let mut length = body + 1;
            while length != body + length.to_string().len() {
                length = body + length.to_string().len();
            }
            data.extend_from_slice(format!("{length} {key}=").as_bytes());
            data.extend_from_slice(value);
            data.push(b'\n');
        }
        self.record(b"PaxHeaders/x", tar::EntryType::XHeader, data.len() as u64, b"", &data)
    }

    /// The stream without its end-of-archive marker.
    pub(crate) fn unfinished(self) -> Vec<u8> {
        self.bytes
    }

    /// The stream with its end-of-archive marker.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.bytes.extend_from_slice(&[0; 1024]);
        self.bytes
    }
}

pub(crate) fn gzip(bytes: &[u8]) -> TestResult<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

pub(crate) fn gunzip(bytes: &[u8]) -> TestResult<Vec<u8>> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(bytes), &mut out)?;
    Ok(out)
}

pub(crate) fn xz(bytes: &[u8]) -> TestResult<Vec<u8>> {
    let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 1);
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

pub(crate) fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> TestResult<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, bytes)?;
    Ok(path)
}

/// What one read delivered: each entry's path and content (or the error reading it gave).
#[derive(Debug)]
pub(crate) struct Delivered {
    pub(crate) entries: Vec<(String, Result<Vec<u8>, String>)>,
    pub(crate) outcome: ReadOutcome,
}

impl Delivered {
    /// Paths whose content was read whole.
    pub(crate) fn paths(&self) -> Vec<&str> {
        self.entries.iter().filter(|(_, content)| content.is_ok()).map(|(path, _)| path.as_str()).collect()
    }

    /// Content of the entries read whole, by path.
    pub(crate) fn contents(&self) -> BTreeMap<String, Vec<u8>> {
        self.entries
            .iter()
            .filter_map(|(path, content)| Some((path.clone(), content.as_ref().ok()?.clone())))
            .collect()
    }

    /// Whether the visitor was ever handed `path`.
    pub(crate) fn saw(&self, path: &str) -> bool {
        self.entries.iter().any(|(seen, _)| seen == path)
    }
}

/// Reads every entry of the bundle at `path`; a read error of an entry is kept, not raised,
/// so that the gate's own verdict is what the test sees.
pub(crate) fn read_all(path: &Path, limits: Limits) -> TestResult<Delivered> {
    let bundle = Bundle::open(path, limits)?;
    let mut entries = Vec::new();
    let outcome = bundle.read(|mut entry| {
        let content = entry.read_to_vec().map_err(|error| error.to_string());
        entries.push((entry.path().to_owned(), content));
        Ok::<(), kubesnap_shared::Error>(())
    })?;
    Ok(Delivered { entries, outcome })
}

/// Writes `bytes` into a fresh folder and reads them as a bundle.
pub(crate) fn read_bytes(bytes: &[u8], limits: Limits) -> TestResult<Delivered> {
    let dir = tempfile::tempdir()?;
    let path = write_file(dir.path(), "bundle", bytes)?;
    read_all(&path, limits)
}

/// The header of the test bundles: fixed times, so bundles are reproducible.
pub(crate) fn bundle_header(root: &str) -> TestResult<BundleHeader> {
    let mut options = BTreeMap::new();
    options.insert("namespaces".to_owned(), serde_json::json!(["default"]));
    Ok(BundleHeader {
        root: root.to_owned(),
        tool: Tool { name: "kubesnap-collect".to_owned(), version: "0.1.0".to_owned() },
        cluster: ClusterInfo::default(),
        options,
        started_at: "2026-11-21T10:34:00Z".parse()?,
        compression: 6,
    })
}

/// A finished native `.tar.gz` holding `entries` under the root `root`.
pub(crate) fn native_bundle(root: &str, entries: &[(&str, &[u8])]) -> TestResult<Vec<u8>> {
    let mut writer = BundleWriter::new(Vec::new(), bundle_header(root)?)?;
    writer.set_finished_at("2026-11-21T10:35:00Z".parse()?);
    for (path, data) in entries {
        writer.add(path, data)?;
    }
    Ok(writer.finish()?)
}

/// Every file, folder or link under `sandbox` that is not `target` or inside it.
pub(crate) fn outside(sandbox: &Path, target: &Path) -> TestResult<Vec<PathBuf>> {
    let mut found = Vec::new();
    for item in walkdir::WalkDir::new(sandbox).follow_links(false).min_depth(1) {
        let item = item?;
        if !item.path().starts_with(target) {
            found.push(item.path().to_owned());
        }
    }
    Ok(found)
}
