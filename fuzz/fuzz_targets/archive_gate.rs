//! The archive gate: any bytes as a bundle file (gzip, xz or tar, told apart by their first
//! bytes) are opened and every entry streamed to its end. Never a panic, never more than the
//! limits allow; refusals and stream errors are outcomes, not crashes.
#![no_main]

use std::sync::LazyLock;

use kubesnap_shared::{Bundle, Limits};
use libfuzzer_sys::fuzz_target;

/// One file, rewritten for every input: a fresh temporary file per run would cost more than the
/// read.
static DIR: LazyLock<Option<tempfile::TempDir>> = LazyLock::new(|| tempfile::tempdir().ok());

const LIMITS: Limits = Limits { max_entry_size: 1 << 20, max_total_size: 16 << 20, max_entries: 4096 };

fuzz_target!(|data: &[u8]| {
    let Some(dir) = DIR.as_ref() else { return };
    let path = dir.path().join("bundle");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let Ok(bundle) = Bundle::open(&path, LIMITS) else { return };
    let mut total = 0u64;
    let outcome = bundle.read::<kubesnap_shared::Error>(|mut entry| {
        let declared = entry.size();
        if let Ok(bytes) = entry.read_to_vec() {
            // The gate enforces the declared size and the per-entry limit.
            assert!(bytes.len() as u64 <= LIMITS.max_entry_size, "an entry above the limit was read");
            assert!(bytes.len() as u64 <= declared, "an entry longer than it declared");
            total += bytes.len() as u64;
        }
        Ok(())
    });
    let _ = outcome;
    assert!(total <= LIMITS.max_total_size, "more than the total limit was read");
});
