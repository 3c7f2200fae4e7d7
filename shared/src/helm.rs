//! `helm/releases.json`: the metadata of every Helm release revision the collector found in
//! Helm's storage objects, never their values, manifests, notes or hooks.
//!
//! An on-disk type: every field is documented in `docs/bundle-format.md`.

use serde::{Deserialize, Serialize};

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelmReleases {
    /// One entry per stored revision, sorted by (namespace, name, revision).
    pub releases: Vec<HelmRelease>,
}

/// Which Helm storage driver kept the revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HelmStorage {
    /// A Secret of type `helm.sh/release.v1` (Helm's default driver).
    Secret,
    /// A ConfigMap labelled `owner: helm` (`HELM_DRIVER=configmap`).
    Configmap,
}

/// One revision of one release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelmRelease {
    /// The release name.
    pub name: String,
    /// The namespace the release is installed in.
    pub namespace: String,
    /// The revision (Helm's `version`), from 1.
    pub revision: u64,
    /// `deployed`, `superseded`, `failed`, `pending-upgrade`, … as Helm wrote it.
    pub status: String,
    /// The chart's name, when the release records it.
    #[serde(default)]
    pub chart: Option<String>,
    /// The chart's version.
    #[serde(default)]
    pub chart_version: Option<String>,
    /// The chart's `appVersion`.
    #[serde(default)]
    pub app_version: Option<String>,
    /// When the release was first deployed, RFC 3339 as Helm wrote it.
    #[serde(default)]
    pub first_deployed: Option<String>,
    /// When this revision was deployed.
    #[serde(default)]
    pub last_deployed: Option<String>,
    /// When the revision was uninstalled (`helm uninstall --keep-history`).
    #[serde(default)]
    pub deleted: Option<String>,
    /// Helm's description of the revision ("Upgrade complete", or the error of a failed
    /// one), redacted like every text of the bundle.
    #[serde(default)]
    pub description: Option<String>,
    /// Where Helm kept it.
    pub storage: HelmStorage,
    /// The name of the Secret or ConfigMap that holds it (`sh.helm.release.v1.NAME.vN`).
    pub object: String,
}

impl HelmRelease {
    /// Whether this revision's status says it did not deploy: `failed`, or still pending (an
    /// install, upgrade or rollback that never finished).
    pub fn is_failed_or_stuck(&self) -> bool {
        matches!(self.status.as_str(), "failed" | "pending-install" | "pending-upgrade" | "pending-rollback")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_round_trips_with_its_documented_names() -> Result<(), serde_json::Error> {
        let text = r#"{"releases": [{"name": "shop", "namespace": "web", "revision": 3,
            "status": "failed", "chart": "shop", "chart_version": "0.1.0", "app_version": "1.0.0",
            "first_deployed": "2026-01-01T00:00:00Z", "last_deployed": "2026-01-02T00:00:00Z",
            "deleted": null, "description": "Upgrade \"shop\" failed", "storage": "secret",
            "object": "sh.helm.release.v1.shop.v3"}]}"#;
        let file: HelmReleases = serde_json::from_str(text)?;
        assert_eq!(file.releases[0].storage, HelmStorage::Secret);
        assert!(file.releases[0].is_failed_or_stuck());
        let again: HelmReleases = serde_json::from_str(&serde_json::to_string(&file)?)?;
        assert_eq!(again, file);
        Ok(())
    }
}
