//! One crafted archive or folder per hostile case the reader must refuse: each test asserts the
//! exact reason, that the bad entry never reached the visitor, and, for unpack, that nothing
//! exists outside the target.

use std::path::Path;

use crate::support::{RawTar, TestResult, gzip, outside, read_all, read_bytes, write_file, xz};
use kubesnap_shared::Error;
use kubesnap_shared::error::RejectReason;
use kubesnap_shared::reader::{Bundle, Limits, Link, Rejection};

fn rejection(entry: &str, reason: RejectReason) -> Rejection {
    Rejection { entry: entry.to_owned(), reason }
}

/// Unpacks `bytes` into `<sandbox>/target` and returns what exists outside the target.
fn unpack_outside(bytes: &[u8]) -> TestResult<Vec<std::path::PathBuf>> {
    let sandbox = tempfile::tempdir()?;
    let archive = write_file(sandbox.path(), "bundle.tar", bytes)?;
    let target = sandbox.path().join("work").join("target");
    Bundle::open(&archive, Limits::default())?.unpack(&target)?;
    let found = outside(sandbox.path(), &target)?;
    Ok(found.into_iter().filter(|path| path != &archive && path != &sandbox.path().join("work")).collect())
}

#[test]
fn parent_components_are_refused_and_never_written() -> TestResult {
    for name in [&b"root/../../escape.txt"[..], b"../escape.txt", b"root/a/../../../escape.txt"] {
        let tar = RawTar::new().file(b"root/ok.txt", b"ok").file(name, b"evil").finish();
        let read = read_bytes(&tar, Limits::default())?;
        let name = String::from_utf8_lossy(name);
        assert_eq!(read.outcome.rejected, vec![rejection(&name, RejectReason::ParentComponent)]);
        assert_eq!(read.paths(), vec!["root/ok.txt"]);
        assert!(read.outcome.stream_error.is_none());
        assert_eq!(unpack_outside(&tar)?, Vec::<std::path::PathBuf>::new());
    }
    Ok(())
}

#[test]
fn parent_components_in_pax_and_gnu_long_names_are_refused() -> TestResult {
    let long = format!("root/{}/../../../escape.txt", "d".repeat(120));
    let tar = RawTar::new()
        .pax(&[("path", b"root/../../pax-escape.txt")])
        .file(b"root/harmless.txt", b"evil")
        .gnu_long_name(long.as_bytes())
        .file(b"root/harmless2.txt", b"evil")
        .finish();
    let read = read_bytes(&tar, Limits::default())?;
    assert_eq!(
        read.outcome.rejected,
        vec![
            rejection("root/../../pax-escape.txt", RejectReason::ParentComponent),
            rejection(&long, RejectReason::ParentComponent),
        ]
    );
    assert!(read.entries.is_empty());
    assert!(read.outcome.stream_error.is_none());
    assert_eq!(unpack_outside(&tar)?, Vec::<std::path::PathBuf>::new());
    Ok(())
}

#[test]
fn absolute_paths_are_refused_and_never_written() -> TestResult {
    let sandbox = tempfile::tempdir()?;
    let escape = sandbox.path().join("absolute-escape.txt");
    let name = escape.to_string_lossy().into_owned();
    let tar = RawTar::new().file(name.as_bytes(), b"evil").file(b"C:/windows.txt", b"evil").finish();
    let read = read_bytes(&tar, Limits::default())?;
    assert_eq!(
        read.outcome.rejected,
        vec![
            rejection(&name, RejectReason::AbsolutePath),
            rejection("C:/windows.txt", RejectReason::AbsolutePath)
        ]
    );
    assert!(read.entries.is_empty());
    assert_eq!(unpack_outside(&tar)?, Vec::<std::path::PathBuf>::new());
    assert!(!escape.exists());
    Ok(())
}

#[test]
fn symlinks_that_leave_are_refused_and_nothing_is_written_through_them() -> TestResult {
    // The classic two-step: a link out of the bundle, then a file "inside" the link.
    let tar = RawTar::new()
        .symlink(b"root/up", b"../../..")
        .symlink(b"root/abs", b"/etc/passwd")
        .file(b"root/up/planted.txt", b"evil")
        .finish();
    let read = read_bytes(&tar, Limits::default())?;
    assert_eq!(
        read.outcome.rejected,
        vec![
            rejection("root/up", RejectReason::LinkLeavesBundle { target: "../../..".to_owned() }),
            rejection("root/abs", RejectReason::LinkLeavesBundle { target: "/etc/passwd".to_owned() }),
        ]
    );
    assert!(read.outcome.links.is_empty());
    // The file is an ordinary file of the bundle, never a write through the refused link.
    assert_eq!(read.paths(), vec!["root/up/planted.txt"]);
    assert_eq!(unpack_outside(&tar)?, Vec::<std::path::PathBuf>::new());
    Ok(())
}

#[test]
fn symlinks_inside_are_reported_not_followed_and_block_paths_through_them() -> TestResult {
    let tar = RawTar::new()
        .file(b"root/real/a.txt", b"a")
        .symlink(b"root/alias", b"real")
        .file(b"root/alias/b.txt", b"through the link")
        .finish();
    let read = read_bytes(&tar, Limits::default())?;
    assert_eq!(
        read.outcome.links,
        vec![Link { path: "root/alias".to_owned(), target: "root/real".to_owned() }]
    );
    assert_eq!(
        read.outcome.rejected,
        vec![rejection("root/alias/b.txt", RejectReason::PathConflict { existing: "root/alias".to_owned() })]
    );
    assert_eq!(read.paths(), vec!["root/real/a.txt"]);
    let sandbox = tempfile::tempdir()?;
    let archive = write_file(sandbox.path(), "bundle.tar", &tar)?;
    let target = sandbox.path().join("target");
    Bundle::open(&archive, Limits::default())?.unpack(&target)?;
    assert!(std::fs::symlink_metadata(target.join("root/alias")).is_err(), "links are never recreated");
    Ok(())
}

#[test]
fn hard_links_that_leave_or_precede_their_target_are_refused() -> TestResult {
    let tar = RawTar::new()
        .hard_link(b"root/passwd", b"../../etc/passwd")
        .hard_link(b"root/early", b"root/later.txt")
        .file(b"root/later.txt", b"x")
        .hard_link(b"root/ok", b"root/later.txt")
        .finish();
    let read = read_bytes(&tar, Limits::default())?;
    assert_eq!(
        read.outcome.rejected,
        vec![
            rejection(
                "root/passwd",
                RejectReason::HardLinkLeavesBundle { target: "../../etc/passwd".to_owned() }
            ),
            rejection(
                "root/early",
                RejectReason::HardLinkLeavesBundle { target: "root/later.txt".to_owned() }
            ),
        ]
    );
    assert_eq!(
        read.outcome.links,
        vec![Link { path: "root/ok".to_owned(), target: "root/later.txt".to_owned() }]
    );
    assert_eq!(read.paths(), vec!["root/later.txt"]);
    assert_eq!(unpack_outside(&tar)?, Vec::<std::path::PathBuf>::new());
    Ok(())
}

#[test]
fn devices_and_fifos_are_refused() -> TestResult {
    let tar = RawTar::new()
        .record(b"root/char", tar::EntryType::Char, 0, b"", b"")
        .record(b"root/block", tar::EntryType::Block, 0, b"", b"")
        .record(b"root/fifo", tar::EntryType::Fifo, 0, b"", b"")
        .file(b"root/ok.txt", b"ok")
        .finish();
    let read = read_bytes(&tar, Limits::default())?;
    assert_eq!(
        read.outcome.rejected,
        vec![
            rejection("root/char", RejectReason::SpecialFile { kind: "character device" }),
            rejection("root/block", RejectReason::SpecialFile { kind: "block device" }),
            rejection("root/fifo", RejectReason::SpecialFile { kind: "fifo" }),
        ]
    );
    assert_eq!(read.paths(), vec!["root/ok.txt"]);
    assert_eq!(unpack_outside(&tar)?, Vec::<std::path::PathBuf>::new());
    Ok(())
}

#[test]
fn entries_over_the_size_limit_are_refused_and_skipped() -> TestResult {
    let limits = Limits { max_entry_size: 100, ..Limits::default() };
    let tar =
        RawTar::new().file(b"root/big.log", &[b'x'; 101]).file(b"root/small.log", &[b'y'; 100]).finish();
    let read = read_bytes(&gzip(&tar)?, limits)?;
    assert_eq!(
        read.outcome.rejected,
        vec![rejection("root/big.log", RejectReason::TooLarge { size: 101, limit: 100 })]
    );
    assert!(!read.saw("root/big.log"));
    assert_eq!(read.paths(), vec!["root/small.log"]);
    assert!(read.outcome.stream_error.is_none());
    Ok(())
}

#[test]
fn total_expansion_past_the_limit_stops_the_read() -> TestResult {
    let limits = Limits { max_total_size: 1000, ..Limits::default() };
    let tar = RawTar::new().file(b"root/a", &[1; 600]).file(b"root/b", &[2; 600]).finish();
    let read = read_bytes(&gzip(&tar)?, limits)?;
    assert!(matches!(
        read.outcome.stream_error,
        Some(Error::TotalSizeExceeded { ref entry, limit: 1000 }) if entry == "root/b"
    ));
    assert_eq!(read.paths(), vec!["root/a"]);
    assert!(!read.saw("root/b"));
    Ok(())
}

#[test]
fn a_decompression_bomb_is_stopped_before_it_expands() -> TestResult {
    // 64 MiB of zeros in one entry compress to about 64 KiB.
    let size = 64u64 << 20;
    let mut tar = RawTar::new().record(b"root/bomb", tar::EntryType::Regular, size, b"", b"").unfinished();
    tar.resize(tar.len() + size as usize + 1024, 0);
    let bomb = gzip(&tar)?;
    drop(tar);
    assert!(bomb.len() < 1 << 20);
    let limits = Limits { max_total_size: 16 << 20, ..Limits::default() };
    let read = read_bytes(&bomb, limits)?;
    assert!(
        matches!(read.outcome.stream_error, Some(Error::TotalSizeExceeded { ref entry, .. }) if entry == "root/bomb")
    );
    assert!(read.entries.is_empty());
    Ok(())
}

#[test]
fn oversized_gnu_long_names_and_pax_headers_are_refused_before_being_read() -> TestResult {
    // tar-rs's default mode reads these whole into memory, whatever size they declare.
    for (entry_type, kind) in
        [(tar::EntryType::GNULongName, "GNU long name"), (tar::EntryType::XHeader, "PAX")]
    {
        let size = 64u64 << 20;
        let mut tar = RawTar::new()
            .file(b"root/first.txt", b"1")
            .record(b"././@LongLink", entry_type, size, b"", b"")
            .unfinished();
        tar.resize(tar.len() + size as usize, b'a');
        let read = read_bytes(&gzip(&tar)?, Limits::default())?;
        assert!(
            matches!(
                read.outcome.stream_error,
                Some(Error::ExtensionTooLarge { ref last_entry, kind: found, size: 67108864, limit: 1048576 })
                    if last_entry == "root/first.txt" && found == kind
            ),
            "{:?}",
            read.outcome.stream_error
        );
        assert_eq!(read.paths(), vec!["root/first.txt"]);
    }
    Ok(())
}

#[test]
fn truncated_gzip_and_xz_streams_are_reported() -> TestResult {
    let tar = RawTar::new().file(b"root/a.txt", &[b'a'; 3000]).file(b"root/b.txt", &[b'b'; 3000]).finish();
    for compressed in [gzip(&tar)?, xz(&tar)?] {
        // Cut inside the data, and cut only the last bytes (the gzip or xz trailer, after
        // the tar stream itself is complete).
        for cut in [compressed.len() / 2, compressed.len() - 4] {
            let read = read_bytes(&compressed[..cut], Limits::default())?;
            assert!(
                matches!(
                    read.outcome.stream_error,
                    Some(Error::Truncated { .. }) | Some(Error::SizeMismatch { .. })
                ),
                "cut at {cut}: {:?}",
                read.outcome.stream_error
            );
            if cut == compressed.len() - 4 {
                assert!(matches!(read.outcome.stream_error, Some(Error::Truncated { .. })));
                assert_eq!(read.paths(), vec!["root/a.txt", "root/b.txt"]);
            }
        }
    }
    Ok(())
}

#[test]
fn a_tar_cut_between_entries_is_reported_as_truncated() -> TestResult {
    // tar-rs alone ends such a stream silently, as if it were complete.
    let tar = RawTar::new().file(b"root/a.txt", b"a").file(b"root/b.txt", b"b").unfinished();
    let read = read_bytes(&tar, Limits::default())?;
    match &read.outcome.stream_error {
        Some(Error::Truncated { entries: 2, last_entry, source }) => {
            assert_eq!(last_entry, "root/b.txt");
            assert_eq!(source.kind(), std::io::ErrorKind::UnexpectedEof);
            assert_eq!(source.to_string(), "the archive ends without its end-of-archive marker");
        }
        other => panic!("expected a truncation, got {other:?}"),
    }
    assert_eq!(read.paths(), vec!["root/a.txt", "root/b.txt"]);
    Ok(())
}

#[test]
fn a_size_header_that_claims_more_than_the_stream_holds_is_a_size_mismatch() -> TestResult {
    let tar = RawTar::new()
        .file(b"root/a.txt", b"a")
        .record(b"root/liar.log", tar::EntryType::Regular, 10_000, b"", &[b'x'; 100])
        .unfinished();
    let read = read_bytes(&tar, Limits::default())?;
    assert!(matches!(
        read.outcome.stream_error,
        Some(Error::SizeMismatch { ref entry, declared: 10_000, .. }) if entry == "root/liar.log"
    ));
    // The visitor was handed the entry but its read failed: it never got it as whole.
    assert_eq!(read.paths(), vec!["root/a.txt"]);
    assert!(matches!(read.entries.last(), Some((path, Err(_))) if path == "root/liar.log"));
    Ok(())
}

#[test]
fn a_size_header_that_claims_less_than_the_data_breaks_the_framing() -> TestResult {
    // The data after the declared size is read as the next header, whose checksum fails.
    let tar = RawTar::new()
        .record(b"root/liar.log", tar::EntryType::Regular, 10, b"", &[b'x'; 2000])
        .file(b"root/after.txt", b"after")
        .finish();
    let read = read_bytes(&tar, Limits::default())?;
    assert!(
        matches!(read.outcome.stream_error, Some(Error::Truncated { ref last_entry, .. }) if last_entry == "root/liar.log"),
        "{:?}",
        read.outcome.stream_error
    );
    assert!(!read.saw("root/after.txt"));
    Ok(())
}

#[test]
fn a_pax_size_override_is_refused() -> TestResult {
    let tar = RawTar::new().pax(&[("size", b"20000000000")]).file(b"root/huge.bin", b"0123").finish();
    let read = read_bytes(&tar, Limits::default())?;
    assert!(matches!(read.outcome.stream_error, Some(Error::Truncated { .. })));
    assert!(read.entries.is_empty());
    Ok(())
}

#[test]
fn duplicate_paths_and_file_folder_conflicts_are_refused() -> TestResult {
    let tar = RawTar::new()
        .file(b"root/a.txt", b"first")
        .file(b"root/a.txt", b"second")
        .file(b"root/./a.txt", b"third")
        .file(b"root/b", b"file")
        .file(b"root/b/c.txt", b"under a file")
        .file(b"root/d/e.txt", b"in a folder")
        .file(b"root/d", b"over a folder")
        .finish();
    let read = read_bytes(&tar, Limits::default())?;
    assert_eq!(
        read.outcome.rejected,
        vec![
            rejection("root/a.txt", RejectReason::Duplicate),
            rejection("root/./a.txt", RejectReason::Duplicate),
            rejection("root/b/c.txt", RejectReason::PathConflict { existing: "root/b".to_owned() }),
            rejection("root/d", RejectReason::PathConflict { existing: "root/d/".to_owned() }),
        ]
    );
    assert_eq!(read.paths(), vec!["root/a.txt", "root/b", "root/d/e.txt"]);
    assert_eq!(read.contents().get("root/a.txt").map(Vec::as_slice), Some(&b"first"[..]));
    assert_eq!(unpack_outside(&tar)?, Vec::<std::path::PathBuf>::new());
    Ok(())
}

#[test]
fn invalid_utf8_control_characters_and_backslashes_in_names_are_refused() -> TestResult {
    let tar = RawTar::new()
        .file(b"root/bad\xff.txt", b"x")
        .file(b"root/\x1b[2Jclear.txt", b"x")
        .file(b"root\\..\\..\\escape.txt", b"x")
        .finish();
    let read = read_bytes(&tar, Limits::default())?;
    assert_eq!(
        read.outcome.rejected,
        vec![
            rejection("root/bad\u{fffd}.txt", RejectReason::InvalidUtf8),
            rejection("root/\x1b[2Jclear.txt", RejectReason::ForbiddenCharacter),
            rejection("root\\..\\..\\escape.txt", RejectReason::ForbiddenCharacter),
        ]
    );
    assert!(read.entries.is_empty());
    assert_eq!(unpack_outside(&tar)?, Vec::<std::path::PathBuf>::new());
    Ok(())
}

#[test]
fn too_many_entries_stop_the_read() -> TestResult {
    let limits = Limits { max_entries: 3, ..Limits::default() };
    let tar =
        RawTar::new().dir(b"root/").file(b"root/1", b"").file(b"root/2", b"").file(b"root/3", b"").finish();
    let read = read_bytes(&tar, limits)?;
    assert!(matches!(read.outcome.stream_error, Some(Error::TooManyEntries { limit: 3 })));
    assert_eq!(read.paths(), vec!["root/1", "root/2"]);
    Ok(())
}

#[test]
fn the_archive_own_top_folder_is_accepted_but_an_empty_file_name_is_not() -> TestResult {
    // `tar -C dir -cf x.tar .` starts with the folder `./`; sonobuoy results do.
    let tar = RawTar::new().dir(b"./").file(b"./a.txt", b"a").file(b".", b"nameless").finish();
    let read = read_bytes(&tar, Limits::default())?;
    assert_eq!(read.outcome.rejected, vec![rejection(".", RejectReason::EmptyPath)]);
    assert_eq!(read.paths(), vec!["a.txt"]);
    Ok(())
}

#[test]
fn pax_global_headers_are_read_and_ignored() -> TestResult {
    // `git archive` starts with one, holding the commit id.
    let comment = b"52 comment=2b5ae1a5e51b8b6b3c3b9c3d1c6bd29b8a1d3e44\n";
    let tar = RawTar::new()
        .record(b"pax_global_header", tar::EntryType::XGlobalHeader, comment.len() as u64, b"", comment)
        .file(b"root/a.txt", b"a")
        .finish();
    let read = read_bytes(&tar, Limits::default())?;
    assert!(read.outcome.rejected.is_empty() && read.outcome.stream_error.is_none(), "{:?}", read.outcome);
    assert_eq!(read.paths(), vec!["root/a.txt"]);
    Ok(())
}

#[test]
fn garbage_is_not_a_bundle() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = write_file(dir.path(), "notes.bin", b"\x7fELF\x02\x01\x01\x00\x00")?;
    assert!(matches!(Bundle::open(&path, Limits::default()), Err(Error::UnknownContainer { .. })));
    // A text file is a bundle of one entry (whose format the analyzer decides from its text).
    let path = write_file(dir.path(), "notes.txt", b"just text")?;
    let bundle = Bundle::open(&path, Limits::default())?;
    assert_eq!(bundle.container(), kubesnap_shared::reader::Container::Text);
    let mut paths = Vec::new();
    bundle.read(|entry| {
        paths.push(entry.path().to_owned());
        Ok::<(), Error>(())
    })?;
    assert_eq!(paths, ["notes.txt"]);
    // A gzip stream of something that is not a tar.
    let read = read_bytes(&gzip(&[0x42; 4096])?, Limits::default())?;
    assert!(matches!(read.outcome.stream_error, Some(Error::Truncated { .. })));
    assert!(read.entries.is_empty());
    Ok(())
}

/// Folders: real links, fifos, sockets and badly named files on disk.
#[cfg(unix)]
mod folders {
    use std::os::unix::ffi::OsStrExt;

    use super::*;

    fn folder_bundle() -> TestResult<(tempfile::TempDir, std::path::PathBuf)> {
        let sandbox = tempfile::tempdir()?;
        let root = sandbox.path().join("bundle");
        std::fs::create_dir_all(root.join("root/logs"))?;
        std::fs::write(root.join("root/logs/ok.log"), b"ok")?;
        std::fs::write(sandbox.path().join("secret.txt"), b"outside")?;
        Ok((sandbox, root))
    }

    fn unpack_folder(sandbox: &Path, root: &Path) -> TestResult<Vec<std::path::PathBuf>> {
        let target = sandbox.join("target");
        Bundle::open(root, Limits::default())?.unpack(&target)?;
        let found = outside(sandbox, &target)?;
        Ok(found
            .into_iter()
            .filter(|path| !path.starts_with(root) && !path.ends_with("secret.txt"))
            .collect())
    }

    #[test]
    fn folder_symlinks_that_leave_are_refused_and_not_followed() -> TestResult {
        let (sandbox, root) = folder_bundle()?;
        std::os::unix::fs::symlink("../../../secret.txt", root.join("root/logs/up.log"))?;
        std::os::unix::fs::symlink(sandbox.path(), root.join("root/outside-dir"))?;
        std::os::unix::fs::symlink("ok.log", root.join("root/logs/alias.log"))?;
        let read = read_all(&root, Limits::default())?;
        let absolute = sandbox.path().to_string_lossy().into_owned();
        assert_eq!(
            read.outcome.rejected,
            vec![
                rejection(
                    "root/logs/up.log",
                    RejectReason::LinkLeavesBundle { target: "../../../secret.txt".to_owned() }
                ),
                rejection("root/outside-dir", RejectReason::LinkLeavesBundle { target: absolute }),
            ]
        );
        assert_eq!(
            read.outcome.links,
            vec![Link { path: "root/logs/alias.log".to_owned(), target: "root/logs/ok.log".to_owned() }]
        );
        // Nothing of the secret, and nothing under the linked folder, was delivered.
        assert_eq!(read.paths(), vec!["root/logs/ok.log"]);
        assert_eq!(unpack_folder(sandbox.path(), &root)?, Vec::<std::path::PathBuf>::new());
        Ok(())
    }

    #[test]
    fn folder_fifos_and_sockets_are_refused_without_blocking() -> TestResult {
        let (sandbox, root) = folder_bundle()?;
        let status = std::process::Command::new("mkfifo").arg(root.join("root/pipe")).status()?;
        assert!(status.success());
        let _socket = std::os::unix::net::UnixListener::bind(root.join("root/sock"))?;
        let read = read_all(&root, Limits::default())?;
        assert_eq!(
            read.outcome.rejected,
            vec![
                rejection("root/pipe", RejectReason::SpecialFile { kind: "fifo" }),
                rejection("root/sock", RejectReason::SpecialFile { kind: "socket" }),
            ]
        );
        assert_eq!(read.paths(), vec!["root/logs/ok.log"]);
        assert_eq!(unpack_folder(sandbox.path(), &root)?, Vec::<std::path::PathBuf>::new());
        Ok(())
    }

    #[test]
    fn folder_names_that_are_not_utf8_are_refused() -> TestResult {
        let (_sandbox, root) = folder_bundle()?;
        let name = std::ffi::OsStr::from_bytes(b"bad\xff.log");
        std::fs::write(root.join("root/logs").join(name), b"x")?;
        let read = read_all(&root, Limits::default())?;
        assert_eq!(
            read.outcome.rejected,
            vec![rejection("root/logs/bad\u{fffd}.log", RejectReason::InvalidUtf8)]
        );
        assert_eq!(read.paths(), vec!["root/logs/ok.log"]);
        Ok(())
    }

    #[test]
    fn folder_files_over_the_size_limit_are_refused() -> TestResult {
        let (_sandbox, root) = folder_bundle()?;
        std::fs::write(root.join("root/logs/big.log"), [b'x'; 101])?;
        let read = read_all(&root, Limits { max_entry_size: 100, ..Limits::default() })?;
        assert_eq!(
            read.outcome.rejected,
            vec![rejection("root/logs/big.log", RejectReason::TooLarge { size: 101, limit: 100 })]
        );
        assert_eq!(read.paths(), vec!["root/logs/ok.log"]);
        Ok(())
    }
}

/// A native bundle of several MiB: indexed gzip members, decoded on several threads.
fn multi_member_bundle() -> TestResult<(Vec<u8>, Vec<Vec<u8>>)> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let logs: Vec<Vec<u8>> = (0..7)
        .map(|_| {
            (0..600_000)
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    if i % 5 == 0 { state as u8 } else { b"GET /healthz 200\n"[i % 17] }
                })
                .collect()
        })
        .collect();
    let paths: Vec<String> = (0..logs.len()).map(|i| format!("logs/default/web-{i}/nginx.log")).collect();
    let entries: Vec<(&str, &[u8])> =
        paths.iter().map(String::as_str).zip(logs.iter().map(Vec::as_slice)).collect();
    Ok((crate::support::native_bundle("snap", &entries)?, logs))
}

#[test]
fn an_indexed_bundle_cut_anywhere_keeps_the_entries_before_the_cut_and_says_so() -> TestResult {
    let (bundle, logs) = multi_member_bundle()?;
    let whole = read_bytes(&bundle, Limits::default())?;
    assert!(whole.outcome.verified(), "{:?}", whole.outcome);
    assert_eq!(whole.paths().len(), logs.len() + 2);
    // Every member boundary, the middle of a member, and the last trailer's bytes.
    let mut boundaries = Vec::new();
    let mut offset = 0;
    while let Some(length) = bundle.get(offset..).and_then(kubesnap_shared::members::member_length) {
        offset += length as usize;
        boundaries.push(offset);
    }
    assert_eq!(offset, bundle.len(), "the members cover the whole file");
    assert!(boundaries.len() >= 4, "{} members", boundaries.len());
    let cuts = [boundaries[0], boundaries[1] + 1000, boundaries[2], bundle.len() - 3];
    for cut in cuts {
        let read = read_bytes(&bundle[..cut], Limits::default())?;
        assert!(
            matches!(
                read.outcome.stream_error,
                Some(Error::Truncated { .. }) | Some(Error::SizeMismatch { .. })
            ),
            "cut at {cut}: {:?}",
            read.outcome.stream_error
        );
        assert!(!read.outcome.verified());
        // What was delivered whole is exactly what was written.
        for (path, data) in read.contents() {
            if let Some(index) =
                path.strip_prefix("snap/logs/default/web-").and_then(|rest| rest.split('/').next())
            {
                let index: usize = index.parse()?;
                assert!(data == logs[index], "{path} differs after a cut at {cut}");
            }
        }
    }
    Ok(())
}

#[test]
fn a_corrupt_member_in_the_middle_is_an_error_at_its_place() -> TestResult {
    let (mut bundle, _) = multi_member_bundle()?;
    let first = kubesnap_shared::members::member_length(&bundle).ok_or("not indexed")? as usize;
    let second = kubesnap_shared::members::member_length(&bundle[first..]).ok_or("not indexed")? as usize;
    // A byte of the second member's deflate data.
    bundle[first + second / 2] ^= 0x55;
    let read = read_bytes(&bundle, Limits::default())?;
    let Some(Error::Truncated { source, .. }) = &read.outcome.stream_error else {
        panic!("expected the stream to fail, got {:?}", read.outcome.stream_error);
    };
    assert_eq!(source.kind(), std::io::ErrorKind::InvalidData, "{source}");
    // The first member's block (1 MiB) held format.json and the first log whole.
    assert!(read.paths().contains(&"snap/logs/default/web-0/nginx.log"), "{:?}", read.paths());
    assert!(!read.paths().contains(&"snap/logs/default/web-6/nginx.log"));
    Ok(())
}

#[test]
fn a_bundle_of_one_member_cut_inside_it_keeps_what_came_before_the_cut() -> TestResult {
    let log = b"2026-11-21T10:34:01Z started\n".repeat(2_000);
    let bundle = crate::support::native_bundle(
        "snap",
        &[("cluster/version.json", br#"{"gitVersion": "v1.33.1"}"#), ("logs/default/web-0/nginx.log", &log)],
    )?;
    let length = kubesnap_shared::members::member_length(&bundle).ok_or("not indexed")? as usize;
    assert_eq!(length, bundle.len(), "one member");
    let read = read_bytes(&bundle[..bundle.len() * 2 / 3], Limits::default())?;
    assert!(matches!(read.outcome.stream_error, Some(Error::Truncated { .. })), "{:?}", read.outcome);
    assert_eq!(read.paths()[..2], ["snap/format.json", "snap/cluster/version.json"]);
    Ok(())
}
