//! The kubeconfig that points kubectl at the served bundle: the server, the run's CA, the
//! bearer token, and a context whose namespace is the bundle's most used one when `default`
//! holds nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::json;

/// The kubeconfig text (YAML).
pub(super) fn render(server: &str, ca_pem: &str, token: &str, namespace: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kubesnap-bundle", "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [{"name": "kubesnap-bundle", "user": {"token": token}}],
        "contexts": [{"name": "kubesnap-bundle", "context": {"cluster": "kubesnap-bundle", "user": "kubesnap-bundle", "namespace": namespace}}],
        "current-context": "kubesnap-bundle",
        "preferences": {},
    });
    // A JSON value always serializes to YAML; JSON itself is the fallback kubectl reads too.
    serde_saphyr::to_string(&config).unwrap_or_else(|_| config.to_string())
}

/// Writes `text` to `path`, readable and writable by its owner only (it holds the token).
pub(super) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(text.as_bytes())
}

/// A new folder only the current user can enter, in the temporary folder.
pub(super) fn private_dir() -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    for attempt in 0u32..100 {
        let suffix = super::tls::random_token().map_err(|_| std::io::Error::other("no randomness"))?;
        let dir = base.join(format!("kubesnap-serve-{}", &suffix[..12]));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists && attempt < 99 => {}
            Err(error) => return Err(error),
        }
    }
    Err(std::io::Error::other("no free temporary folder name"))
}
