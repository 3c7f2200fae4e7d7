//! Real bundles from `realdata/` pass the gate whole: the hostile-archive checks refuse
//! nothing that real tools write (GNU and PAX tars, xz must-gathers, symlinked folders).
//! Expected counts are those `tar tvf` and `find` give for the same files.

use std::path::PathBuf;

use kubesnap_shared::reader::{Container, Limits};

use crate::support::{TestResult, read_all};

fn realdata(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata").join(path)
}

/// Reads one real bundle and returns (files delivered, links) after checking that nothing
/// was refused and the stream ended cleanly.
fn read_clean(path: &str, container: Container) -> TestResult<(u64, usize)> {
    let path = realdata(path);
    let bundle = kubesnap_shared::Bundle::open(&path, Limits::default())?;
    assert_eq!(bundle.container(), container, "{}", path.display());
    let read = read_all(&path, Limits::default())?;
    assert!(read.outcome.stream_error.is_none(), "{}: {:?}", path.display(), read.outcome.stream_error);
    assert_eq!(read.outcome.rejected, Vec::new(), "{}", path.display());
    assert!(read.entries.iter().all(|(_, content)| content.is_ok()));
    assert_eq!(read.outcome.native_root, None, "foreign bundles are not native");
    Ok((read.outcome.entries, read.outcome.links.len()))
}

#[test]
fn troubleshoot_bundles_read_whole_with_their_links() -> TestResult {
    assert_eq!(
        read_clean(
            "replicatedhq__troubleshoot/testdata/supportbundle/support-bundle.tar.gz",
            Container::TarGz
        )?,
        (102, 19)
    );
    assert_eq!(
        read_clean(
            "replicatedhq__troubleshoot/test/baselines/supportbundle/baseline.tar.gz",
            Container::TarGz
        )?,
        (147, 2)
    );
    assert_eq!(
        read_clean("replicatedhq__embedded-cluster/e2e/support-bundle-host-0.tar.gz", Container::TarGz)?,
        (116, 0)
    );
    let folder = "replicatedhq__troubleshoot/_history/6e08a811ef60f0ccdb92fa0762845ccbb1cc6141/support-bundle-2025-08-09T21_08_25";
    assert_eq!(read_clean(folder, Container::Folder)?, (228, 0));
    Ok(())
}

#[test]
fn must_gathers_and_sonobuoy_results_read_whole() -> TestResult {
    assert_eq!(
        read_clean("openshift__must-gather-clean/test/files/must-gather-metal.tar.xz", Container::TarXz)?,
        (3605, 0)
    );
    assert_eq!(
        read_clean(
            "vmware-tanzu__sonobuoy/test/integration/testdata/results-quick-no-failures.tar.gz",
            Container::TarGz
        )?,
        (103, 0)
    );
    assert_eq!(
        read_clean(
            "vmware-tanzu__sonobuoy/pkg/client/results/testdata/results-0.10.tar.gz",
            Container::TarGz
        )?,
        (60, 0)
    );
    Ok(())
}
