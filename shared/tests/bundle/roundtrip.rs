//! Write then read: the same entries come back from every container, the manifest verifies,
//! a writer dropped early still leaves a readable bundle, tampering is detected, a newer
//! format is refused, and (property tests) no name or cut archive makes the reader escape,
//! panic or take a broken archive for a whole one.

use std::collections::BTreeMap;
use std::io::Read;

use kubesnap_shared::Error;
use kubesnap_shared::layout::{FORMAT_FILE, MANIFEST_FILE};
use kubesnap_shared::manifest::{FORMAT_VERSION, Failure, FailureKind};
use kubesnap_shared::reader::{Bundle, ChecksumProblem, Container, Limits};
use kubesnap_shared::writer::{BundleWriter, DROPPED_REASON};
use proptest::prelude::*;

use crate::support::{
    RawTar, TestResult, bundle_header, gunzip, gzip, native_bundle, outside, read_all, read_bytes,
    write_file, xz,
};

/// Entries of a read, without the two control files, with the root stripped.
fn payload(contents: BTreeMap<String, Vec<u8>>, root: &str) -> BTreeMap<String, Vec<u8>> {
    contents
        .into_iter()
        .filter_map(|(path, data)| Some((path.strip_prefix(root)?.strip_prefix('/')?.to_owned(), data)))
        .filter(|(path, _)| path != FORMAT_FILE && path != MANIFEST_FILE)
        .collect()
}

#[test]
fn every_container_reads_the_same_verified_entries() -> TestResult {
    let entries: &[(&str, &[u8])] = &[
        ("cluster/version.json", br#"{"gitVersion": "v1.33.1"}"#),
        ("resources/core/v1/pods/default.json", br#"{"kind": "PodList", "items": []}"#),
        ("logs/default/web-0/nginx.log", b"2026-11-21T10:34:01Z started\n"),
    ];
    let gz = native_bundle("snap", entries)?;
    let tar = gunzip(&gz)?;
    let expected: BTreeMap<String, Vec<u8>> =
        entries.iter().map(|(path, data)| ((*path).to_owned(), data.to_vec())).collect();
    let dir = tempfile::tempdir()?;
    let folder = dir.path().join("unpacked");
    Bundle::open(&write_file(dir.path(), "b.tar.gz", &gz)?, Limits::default())?.unpack(&folder)?;
    for (bytes, container) in [
        (Some(gz.clone()), Container::TarGz),
        (Some(tar.clone()), Container::Tar),
        (Some(xz(&tar)?), Container::TarXz),
        (None, Container::Folder),
    ] {
        let path = match bytes {
            Some(bytes) => write_file(dir.path(), "bundle", &bytes)?,
            None => folder.clone(),
        };
        assert_eq!(Bundle::open(&path, Limits::default())?.container(), container);
        let read = read_all(&path, Limits::default())?;
        assert!(read.outcome.verified(), "{container:?}: {:?}", read.outcome);
        assert_eq!(read.outcome.native_root.as_deref(), Some("snap"));
        assert_eq!(payload(read.contents(), "snap"), expected, "{container:?}");
        assert_eq!(read.paths().first(), Some(&"snap/format.json"));
        assert_eq!(read.paths().last(), Some(&"snap/manifest.json"));
        let manifest = read.outcome.manifest.as_ref().ok_or("no manifest")?;
        assert!(manifest.complete);
        assert_eq!(manifest.format_version, FORMAT_VERSION);
        // Every file but the manifest itself is listed, format.json included.
        let listed: Vec<&str> = manifest.files.iter().map(|file| file.path.as_str()).collect();
        assert_eq!(
            listed,
            vec![
                "cluster/version.json",
                FORMAT_FILE,
                "logs/default/web-0/nginx.log",
                "resources/core/v1/pods/default.json"
            ]
        );
        read.outcome.into_strict()?;
    }
    Ok(())
}

#[test]
fn a_writer_dropped_early_leaves_a_readable_incomplete_bundle() -> TestResult {
    let mut out = Vec::new();
    {
        let mut writer = BundleWriter::new(&mut out, bundle_header("snap")?)?;
        writer.add("resources/core/v1/pods/default.json", b"{}")?;
        writer.record_failure(Failure {
            what: "logs".to_owned(),
            scope: "default/web-0/nginx".to_owned(),
            namespace: Some("default".to_owned()),
            kind: FailureKind::Cancelled,
            status: None,
            message: "deadline reached".to_owned(),
        });
        // Dropped here, as on a deadline or Ctrl-C unwinding the collector.
    }
    let read = read_bytes(&out, Limits::default())?;
    assert!(read.outcome.stream_error.is_none(), "{:?}", read.outcome.stream_error);
    assert!(read.outcome.verified());
    let manifest = read.outcome.manifest.as_ref().ok_or("no manifest")?;
    assert!(!manifest.complete);
    assert_eq!(manifest.incomplete_reasons, vec![DROPPED_REASON.to_owned()]);
    assert_eq!(manifest.failures.len(), 1);
    assert_eq!(
        payload(read.contents(), "snap").keys().collect::<Vec<_>>(),
        vec!["resources/core/v1/pods/default.json"]
    );
    Ok(())
}

#[test]
fn finish_incomplete_records_the_reasons() -> TestResult {
    let mut writer = BundleWriter::new(Vec::new(), bundle_header("snap")?)?;
    writer.add("cluster/version.json", b"{}")?;
    let out = writer.finish_incomplete(vec!["deadline of 5m reached during logs".to_owned()])?;
    let read = read_bytes(&out, Limits::default())?;
    let manifest = read.outcome.manifest.as_ref().ok_or("no manifest")?;
    assert!(!manifest.complete);
    assert_eq!(manifest.incomplete_reasons, vec!["deadline of 5m reached during logs".to_owned()]);
    assert!(read.outcome.verified());
    Ok(())
}

#[test]
fn streamed_entries_that_end_or_fail_early_are_padded_and_marked_truncated() -> TestResult {
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("connection reset"));
            }
            let n = self.0.min(buf.len());
            buf[..n].fill(b'l');
            self.0 -= n;
            Ok(n)
        }
    }
    let mut writer = BundleWriter::new(Vec::new(), bundle_header("snap")?)?;
    writer.add_reader("logs/a/p/short.log", 100, &b"only forty bytes.......................!"[..])?;
    writer.add_reader("logs/a/p/failing.log", 50, Failing(20))?;
    writer.add_reader("logs/a/p/exact.log", 3, &b"abcdef"[..])?;
    let out = writer.finish()?;
    let read = read_bytes(&out, Limits::default())?;
    assert!(read.outcome.verified(), "{:?}", read.outcome);
    let contents = payload(read.contents(), "snap");
    let mut short = b"only forty bytes.......................!".to_vec();
    short.resize(100, 0);
    assert_eq!(contents.get("logs/a/p/short.log"), Some(&short));
    let mut failing = vec![b'l'; 20];
    failing.resize(50, 0);
    assert_eq!(contents.get("logs/a/p/failing.log"), Some(&failing));
    assert_eq!(contents.get("logs/a/p/exact.log").map(Vec::as_slice), Some(&b"abc"[..]));
    let manifest = read.outcome.manifest.as_ref().ok_or("no manifest")?;
    let record = |path: &str| manifest.file(path).map(|file| (file.truncated, file.truncation.clone()));
    assert_eq!(
        record("logs/a/p/short.log"),
        Some((true, Some("the source ended 60 bytes early; zero-padded".to_owned())))
    );
    assert_eq!(
        record("logs/a/p/failing.log"),
        Some((
            true,
            Some("the source failed 30 bytes before the end (connection reset); zero-padded".to_owned())
        ))
    );
    assert_eq!(record("logs/a/p/exact.log"), Some((false, None)));
    Ok(())
}

#[test]
fn the_writer_refuses_escapes_duplicates_and_conflicts() -> TestResult {
    let mut writer = BundleWriter::new(Vec::new(), bundle_header("snap")?)?;
    writer.add("logs/ns/pod/c.log", b"x")?;
    assert!(matches!(writer.add("../escape", b"x"), Err(Error::InvalidPath { .. })));
    assert!(matches!(writer.add("/abs", b"x"), Err(Error::InvalidPath { .. })));
    assert!(matches!(writer.add("logs/ns/pod/c.log", b"x"), Err(Error::DuplicateWrite { .. })));
    assert!(matches!(writer.add("./logs//ns/pod/c.log", b"x"), Err(Error::DuplicateWrite { .. })));
    assert!(matches!(writer.add("logs/ns/pod", b"x"), Err(Error::InvalidPath { .. })));
    assert!(matches!(writer.add("logs/ns/pod/c.log/x", b"x"), Err(Error::InvalidPath { .. })));
    assert!(matches!(writer.add(FORMAT_FILE, b"x"), Err(Error::DuplicateWrite { .. })));
    assert!(matches!(writer.add(MANIFEST_FILE, b"x"), Err(Error::DuplicateWrite { .. })));
    let mut bad_root = bundle_header("a/b")?;
    assert!(matches!(BundleWriter::new(Vec::new(), bad_root.clone()), Err(Error::InvalidPath { .. })));
    bad_root.root = "..".to_owned();
    assert!(matches!(BundleWriter::new(Vec::new(), bad_root), Err(Error::InvalidPath { .. })));
    // The refused writes left the bundle whole.
    let read = read_bytes(&writer.finish()?, Limits::default())?;
    assert!(read.outcome.verified());
    Ok(())
}

#[test]
fn the_same_collection_gives_the_same_bytes() -> TestResult {
    let build = || -> TestResult<Vec<u8>> {
        let mut writer = BundleWriter::new(Vec::new(), bundle_header("snap")?)?;
        writer.set_finished_at("2026-11-21T10:35:00Z".parse()?);
        // Failures and redactions recorded in a different order each time come out sorted.
        for (scope, rule) in [("b", "password-key"), ("a", "bearer-token")] {
            writer.record_failure(Failure {
                what: "list".to_owned(),
                scope: scope.to_owned(),
                namespace: None,
                kind: FailureKind::Forbidden,
                status: Some(403),
                message: "forbidden".to_owned(),
            });
            writer.record_redactions(rule, "resources/core/v1/configmaps/default.json", 2);
        }
        writer.add("resources/core/v1/configmaps/default.json", b"{}")?;
        Ok(writer.finish()?)
    };
    let first = build()?;
    assert_eq!(first, build()?);
    let read = read_bytes(&first, Limits::default())?;
    let manifest = read.outcome.manifest.ok_or("no manifest")?;
    assert_eq!(manifest.failures.iter().map(|f| f.scope.as_str()).collect::<Vec<_>>(), vec!["a", "b"]);
    assert_eq!(
        manifest.redactions.iter().map(|r| r.rule.as_str()).collect::<Vec<_>>(),
        vec!["bearer-token", "password-key"]
    );
    Ok(())
}

#[test]
fn a_newer_format_version_is_refused_naming_both_versions() -> TestResult {
    let newer = FORMAT_VERSION + 1;
    let format = format!(r#"{{"format": "kubesnap-bundle", "format_version": {newer}, "something": "new"}}"#);
    let tar = RawTar::new().file(b"snap/format.json", format.as_bytes()).file(b"snap/a.txt", b"a").finish();
    let dir = tempfile::tempdir()?;
    let bundle = Bundle::open(&write_file(dir.path(), "b.tar.gz", &gzip(&tar)?)?, Limits::default())?;
    let mut visited = Vec::new();
    let result = bundle.read(|entry| {
        visited.push(entry.path().to_owned());
        Ok::<(), Error>(())
    });
    match result {
        Err(error @ Error::UnsupportedFormatVersion { found, supported }) => {
            assert_eq!((found, supported), (newer, FORMAT_VERSION));
            let message = error.to_string();
            assert!(
                message.contains(&format!("version {newer}"))
                    && message.contains(&format!("version {FORMAT_VERSION}"))
            );
        }
        other => panic!("expected the newer version to be refused, got {other:?}"),
    }
    assert!(visited.is_empty(), "nothing is delivered from a newer format: {visited:?}");
    Ok(())
}

#[test]
fn tampering_is_detected_as_mismatched_missing_and_unlisted_files() -> TestResult {
    let gz = native_bundle("snap", &[("a.json", b"{\"value\": \"AAAA\"}"), ("b.json", b"{}")])?;
    // In the archive: one byte of a.json changed, same size.
    let mut tar = gunzip(&gz)?;
    let at = tar.windows(4).position(|window| window == b"AAAA").ok_or("marker not found")?;
    tar[at] = b'B';
    let read = read_bytes(&gzip(&tar)?, Limits::default())?;
    assert!(
        matches!(read.outcome.checksum_problems.as_slice(), [ChecksumProblem::Mismatch { path, .. }] if path == "a.json")
    );
    assert!(!read.outcome.verified());
    assert!(matches!(
        read.outcome.into_strict(),
        Err(Error::Checksum { problem: ChecksumProblem::Mismatch { .. } })
    ));

    // In an unpacked folder: one file gone, one added.
    let dir = tempfile::tempdir()?;
    let folder = dir.path().join("unpacked");
    Bundle::open(&write_file(dir.path(), "b.tar.gz", &gz)?, Limits::default())?.unpack(&folder)?;
    std::fs::remove_file(folder.join("snap/b.json"))?;
    std::fs::write(folder.join("snap/planted.json"), b"{}")?;
    std::fs::write(folder.join("beside-the-root.json"), b"{}")?;
    let read = read_all(&folder, Limits::default())?;
    assert_eq!(
        read.outcome.checksum_problems,
        vec![
            ChecksumProblem::Missing { path: "b.json".to_owned() },
            ChecksumProblem::Unlisted { path: "planted.json".to_owned() },
            ChecksumProblem::Unlisted { path: "beside-the-root.json".to_owned() },
        ]
    );
    Ok(())
}

#[test]
fn a_native_bundle_without_manifest_is_not_verified() -> TestResult {
    let format = br#"{"format": "kubesnap-bundle", "format_version": 1, "tool": {"name": "kubesnap-collect", "version": "0.1.0"}, "started_at": "2026-11-21T10:34:00Z"}"#;
    let tar = RawTar::new().file(b"snap/format.json", format).file(b"snap/a.txt", b"a").finish();
    let read = read_bytes(&tar, Limits::default())?;
    assert_eq!(read.outcome.native_root.as_deref(), Some("snap"));
    assert!(!read.outcome.verified());
    assert!(matches!(read.outcome.into_strict(), Err(Error::MissingManifest)));
    Ok(())
}

#[test]
fn a_foreign_format_json_does_not_make_a_native_bundle() -> TestResult {
    let tar = RawTar::new().file(b"other/format.json", br#"{"format": "something-else"}"#).finish();
    let read = read_bytes(&tar, Limits::default())?;
    assert_eq!(read.outcome.native_root, None);
    assert_eq!(read.paths(), vec!["other/format.json"]);
    read.outcome.into_strict()?;
    Ok(())
}

#[test]
fn a_visitor_error_stops_the_read_and_is_returned() -> TestResult {
    let gz = native_bundle("snap", &[("a.json", b"{}"), ("b.json", b"{}")])?;
    let dir = tempfile::tempdir()?;
    let bundle = Bundle::open(&write_file(dir.path(), "b.tar.gz", &gz)?, Limits::default())?;
    let mut seen = 0;
    let result = bundle.read(|entry| {
        seen += 1;
        if entry.path() == "snap/a.json" {
            return Err(Error::Rejected {
                entry: entry.path().to_owned(),
                reason: kubesnap_shared::error::RejectReason::Duplicate,
            });
        }
        Ok(())
    });
    assert!(matches!(result, Err(Error::Rejected { ref entry, .. }) if entry == "snap/a.json"));
    assert_eq!(seen, 2, "format.json, then a.json, then the stop");
    Ok(())
}

/// One path segment: mostly plain, sometimes the dots and odd characters names may hold.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9][a-z0-9.-]{0,11}",
        "[a-zA-Z0-9 _~%+=,@()-]{1,8}",
        "\\PC{1,4}"
            .prop_filter("no separators or controls", |s| !s.contains(['/', '\\']) && s != "." && s != ".."),
    ]
    // `C:` is a Windows drive: absolute to the tools that may unpack the bundle later.
    .prop_filter("no drive prefixes", |s| !(s.chars().count() == 2 && s.ends_with(':')))
}

/// Distinct paths where none is a folder of another.
fn payload_entries() -> impl Strategy<Value = BTreeMap<String, Vec<u8>>> {
    prop::collection::vec(
        (prop::collection::vec(segment(), 1..4), prop::collection::vec(any::<u8>(), 0..1500)),
        0..12,
    )
    .prop_map(|entries| {
        let mut kept: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for (segments, data) in entries {
            let path = segments.join("/");
            let conflicts = kept.keys().any(|other| {
                other == &path
                    || other.starts_with(&format!("{path}/"))
                    || path.starts_with(&format!("{other}/"))
            });
            if !conflicts && path != FORMAT_FILE && path != MANIFEST_FILE {
                kept.insert(path, data);
            }
        }
        kept
    })
}

/// A raw entry of a hostile archive: a name of arbitrary bytes and a type.
fn hostile_entry() -> impl Strategy<Value = (Vec<u8>, u8, Vec<u8>)> {
    let byte = prop_oneof![
        4 => Just(b'a'),
        3 => Just(b'/'),
        3 => Just(b'.'),
        1 => Just(b'\\'),
        1 => Just(b':'),
        1 => Just(0u8),
        1 => Just(0xffu8),
        1 => Just(b'\n'),
        2 => any::<u8>(),
    ];
    let name = prop::collection::vec(byte.clone(), 0..140);
    let link = prop::collection::vec(byte, 0..40);
    (name, 0u8..6, link)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn write_then_read_gives_the_same_entries(entries in payload_entries()) {
        let pairs: Vec<(&str, &[u8])> = entries.iter().map(|(path, data)| (path.as_str(), data.as_slice())).collect();
        let gz = native_bundle("root", &pairs).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let read = read_bytes(&gz, Limits::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(read.outcome.verified(), "{:?}", read.outcome);
        prop_assert_eq!(payload(read.contents(), "root"), entries);
    }

    #[test]
    fn hostile_names_never_escape_nor_panic((entries, as_gzip) in (prop::collection::vec(hostile_entry(), 1..10), any::<bool>())) {
        let mut tar = RawTar::new();
        for (name, kind, link) in &entries {
            if name.len() > 100 {
                tar = tar.gnu_long_name(name);
            }
            tar = match kind {
                0 | 1 => tar.file(name, b"content"),
                2 => tar.dir(name),
                3 => tar.symlink(name, link),
                4 => tar.hard_link(name, link),
                _ => tar.record(name, tar::EntryType::Fifo, 0, b"", b""),
            };
        }
        let tar = tar.finish();
        let bytes = if as_gzip { gzip(&tar).map_err(|e| TestCaseError::fail(e.to_string()))? } else { tar };
        let read = read_bytes(&bytes, Limits::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(read.outcome.stream_error.is_none(), "{:?}", read.outcome.stream_error);
        for (path, _) in &read.entries {
            prop_assert!(!path.is_empty() && !path.starts_with('/'));
            prop_assert!(path.split('/').all(|part| !part.is_empty() && part != "." && part != ".."), "{}", path);
            prop_assert!(!path.contains(|c: char| c.is_control() || c == '\\'), "{:?}", path);
        }
        let sandbox = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let archive = write_file(sandbox.path(), "bundle", &bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let target = sandbox.path().join("work/target");
        let unpacked = Bundle::open(&archive, Limits::default()).and_then(|bundle| bundle.unpack(&target));
        prop_assert!(unpacked.is_ok(), "{:?}", unpacked.err());
        let found = outside(sandbox.path(), &target).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let expected = vec![archive.clone(), sandbox.path().join("work")];
        let mut found = found;
        found.sort();
        let mut expected = expected;
        expected.sort();
        prop_assert_eq!(found, expected);
    }

    #[test]
    fn a_cut_archive_is_never_read_as_whole(cut in 0.0f64..1.0, plain in any::<bool>()) {
        let gz = native_bundle("root", &[("a.log", &[b'a'; 700]), ("b.json", b"{}")]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let bytes = if plain { gunzip(&gz).map_err(|e| TestCaseError::fail(e.to_string()))? } else { gz };
        let cut = ((bytes.len() as f64) * cut) as usize;
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let path = write_file(dir.path(), "cut", &bytes[..cut]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Too short to even tell the container: refused at open.
        let Ok(bundle) = Bundle::open(&path, Limits::default()) else { return Ok(()) };
        let outcome = bundle.read(|mut entry| {
            let _ = entry.read_to_vec();
            Ok::<(), Error>(())
        }).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(outcome.stream_error.is_some(), "cut at {} of {}", cut, bytes.len());
        prop_assert!(!outcome.verified());
    }
}
