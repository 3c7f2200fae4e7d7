//! The redaction map of token mode: token → value, for the customer to keep, never in the
//! bundle. It is written encrypted with ChaCha20-Poly1305 (an AEAD: a changed or truncated file,
//! or another key, is refused rather than misread) under a 256-bit key kept in a key file, and
//! read back by `kubesnap-collect redaction-map show MAP --key KEY`.
//!
//! File layout: the 8 bytes `KSRMAP01`, a random 12-byte nonce, then the sealed JSON
//! `{"bundle": …, "tokens": [{"token": "tok-…", "value": "…"} or {"token": …, "base64": "…"}]}`
//! with its 16-byte tag; the 8-byte header is authenticated too. The key file is one line: the
//! key in base64, created with mode 0600 when it does not exist.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom as _, SystemRandom};
use serde_json::{Value, json};

const MAGIC: &[u8; 8] = b"KSRMAP01";

/// 32 random bytes from the operating system: a token key or a map key.
pub(crate) fn random_key() -> anyhow::Result<[u8; 32]> {
    let mut key = [0u8; 32];
    SystemRandom::new().fill(&mut key).map_err(|_| anyhow::anyhow!("the system random source failed"))?;
    Ok(key)
}

/// Where a map goes and the key it is sealed with; prepared before a collection starts, so
/// that a bad key file stops the run before it connects.
#[derive(Debug)]
pub(crate) struct MapTarget {
    path: PathBuf,
    key: LessSafeKey,
}

impl MapTarget {
    /// Reads the key file, or creates it with a new key; refuses a map path that exists.
    pub(crate) fn prepare(path: &Path, key_file: &Path) -> anyhow::Result<MapTarget> {
        if path.exists() {
            bail!("the redaction map {} already exists; give a new file", path.display());
        }
        let key = match fs::read_to_string(key_file) {
            Ok(text) => {
                parse_key(&text).with_context(|| format!("failed to read the key {}", key_file.display()))?
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => create_key_file(key_file)?,
            Err(error) => {
                return Err(error).with_context(|| format!("failed to read the key {}", key_file.display()));
            }
        };
        Ok(MapTarget { path: path.to_owned(), key: sealing_key(&key)? })
    }

    /// Seals and writes the map of `bundle` (a new file).
    pub(crate) fn write(&self, bundle: &str, map: &BTreeMap<String, Vec<u8>>) -> anyhow::Result<()> {
        let tokens: Vec<Value> = map
            .iter()
            .map(|(token, value)| match std::str::from_utf8(value) {
                Ok(text) => json!({"token": token, "value": text}),
                Err(_) => {
                    json!({"token": token, "base64": base64::engine::general_purpose::STANDARD.encode(value)})
                }
            })
            .collect();
        let mut sealed = serde_json::to_vec(&json!({"bundle": bundle, "tokens": tokens}))?;
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| anyhow::anyhow!("the system random source failed"))?;
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(MAGIC), &mut sealed)
            .map_err(|_| anyhow::anyhow!("failed to encrypt the redaction map"))?;
        let mut file = File::options()
            .write(true)
            .create_new(true)
            .open(&self.path)
            .with_context(|| format!("failed to create the redaction map {}", self.path.display()))?;
        file.write_all(MAGIC)
            .and_then(|()| file.write_all(&nonce))
            .and_then(|()| file.write_all(&sealed))
            .and_then(|()| file.sync_all())
            .with_context(|| format!("failed to write the redaction map {}", self.path.display()))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens a map with its key: token → value (text, or `base64:…` for bytes that are not UTF-8).
pub(crate) fn open(path: &Path, key_file: &Path) -> anyhow::Result<(String, BTreeMap<String, String>)> {
    let key_text = fs::read_to_string(key_file)
        .with_context(|| format!("failed to read the key {}", key_file.display()))?;
    let key =
        parse_key(&key_text).with_context(|| format!("failed to read the key {}", key_file.display()))?;
    let bytes =
        fs::read(path).with_context(|| format!("failed to read the redaction map {}", path.display()))?;
    open_bytes(&bytes, &key).with_context(|| format!("failed to open the redaction map {}", path.display()))
}

fn open_bytes(bytes: &[u8], key: &[u8; 32]) -> anyhow::Result<(String, BTreeMap<String, String>)> {
    let Some(rest) = bytes.strip_prefix(MAGIC) else {
        bail!("not a kubesnap redaction map (it does not start with {})", String::from_utf8_lossy(MAGIC));
    };
    if rest.len() < NONCE_LEN {
        bail!("the file is cut short");
    }
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let nonce =
        Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("the file is cut short"))?;
    let mut sealed = sealed.to_vec();
    let plain = sealing_key(key)?
        .open_in_place(nonce, Aad::from(MAGIC), &mut sealed)
        .map_err(|_| anyhow::anyhow!("this key does not open it (another key, or the file was changed)"))?;
    let document: Value = serde_json::from_slice(plain).context("the decrypted map is not JSON")?;
    let bundle = document["bundle"].as_str().unwrap_or_default().to_owned();
    let mut map = BTreeMap::new();
    for entry in document["tokens"].as_array().into_iter().flatten() {
        let Some(token) = entry["token"].as_str() else { continue };
        let value = match (entry["value"].as_str(), entry["base64"].as_str()) {
            (Some(text), _) => text.to_owned(),
            (None, Some(encoded)) => format!("base64:{encoded}"),
            (None, None) => continue,
        };
        map.insert(token.to_owned(), value);
    }
    Ok((bundle, map))
}

fn sealing_key(key: &[u8; 32]) -> anyhow::Result<LessSafeKey> {
    let unbound =
        UnboundKey::new(&CHACHA20_POLY1305, key).map_err(|_| anyhow::anyhow!("a bad key length"))?;
    Ok(LessSafeKey::new(unbound))
}

fn parse_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .context("a key file holds one line of base64")?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| anyhow::anyhow!("a key is 32 bytes; this one is {} bytes", bytes.len()))
}

/// Writes a new key file readable by its owner only.
fn create_key_file(path: &Path) -> anyhow::Result<[u8; 32]> {
    let key = random_key()?;
    let mut options = File::options();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file =
        options.open(path).with_context(|| format!("failed to create the key file {}", path.display()))?;
    writeln!(file, "{}", base64::engine::general_purpose::STANDARD.encode(key))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("failed to write the key file {}", path.display()))?;
    let _ = writeln!(
        io::stderr(),
        "created the redaction map key {} (keep it: the map cannot be read without it)",
        path.display()
    );
    Ok(key)
}

/// Read a redaction map (token mode's token → value map) with its key.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RedactionMapArgs {
    #[command(subcommand)]
    pub(crate) command: RedactionMapCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub(crate) enum RedactionMapCommand {
    /// Print the tokens of a map and their values (TOKEN<TAB>value as a JSON string).
    ///
    /// Only with the key file the map was written with; a map opened with another key, or
    /// changed since, is refused. Give tokens (`tok-…`, or whole markers as they appear in the
    /// bundle) to print only those.
    Show {
        /// The map written by --redaction-map.
        #[arg(value_name = "MAP")]
        map: PathBuf,

        /// The key file given as --redaction-map-key when the map was written.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,

        /// Only these tokens (`tok-0123456789abcdef` or `<redacted:key-name:tok-…>`).
        #[arg(value_name = "TOKEN")]
        tokens: Vec<String>,
    },
}

/// Runs `kubesnap-collect redaction-map`.
pub(crate) fn run(args: &RedactionMapArgs) -> anyhow::Result<ExitCode> {
    let RedactionMapCommand::Show { map, key, tokens } = &args.command;
    let (bundle, values) = open(map, key)?;
    let wanted: Vec<&str> = tokens.iter().map(|token| token_of(token)).collect();
    let mut out = String::new();
    let mut missing = Vec::new();
    if wanted.is_empty() {
        for (token, value) in &values {
            out.push_str(&format!("{token}\t{}\n", Value::from(value.as_str())));
        }
    } else {
        for token in wanted {
            match values.get(token) {
                Some(value) => out.push_str(&format!("{token}\t{}\n", Value::from(value.as_str()))),
                None => missing.push(token),
            }
        }
    }
    let mut stdout = io::stdout().lock();
    // A closed pipe (`| head`) is the reader's choice, not an error.
    match stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {}
        result => result.context("failed to write to stdout")?,
    }
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "{} token(s) in the map of {bundle}", values.len());
    if !missing.is_empty() {
        bail!("not in this map: {}", missing.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

/// `<redacted:key-name:tok-0123…>` → `tok-0123…`; a bare token as it is.
fn token_of(text: &str) -> &str {
    match text.find(kubesnap_shared::redact::TOKEN_PREFIX) {
        Some(at) => text[at..].trim_end_matches('>'),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_opens_with_its_key_and_not_with_another_or_when_changed() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let key_file = dir.path().join("map.key");
        let map_path = dir.path().join("bundle.map");
        let target = MapTarget::prepare(&map_path, &key_file)?;
        assert!(key_file.is_file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(fs::metadata(&key_file)?.permissions().mode() & 0o777, 0o600);
        }
        let map = BTreeMap::from([
            ("tok-00000000000000aa".to_owned(), b"S3cr3tPassw0rd!".to_vec()),
            ("tok-00000000000000bb".to_owned(), vec![0xff, 0x00, 0x01]),
        ]);
        target.write("kubesnap-test", &map)?;
        let sealed = fs::read(&map_path)?;
        assert!(!sealed.windows(6).any(|window| window == b"S3cr3t"), "the value is readable");

        let (bundle, values) = open(&map_path, &key_file)?;
        assert_eq!(bundle, "kubesnap-test");
        assert_eq!(values["tok-00000000000000aa"], "S3cr3tPassw0rd!");
        assert_eq!(values["tok-00000000000000bb"], "base64:/wAB");

        // Another key, even created the same way, does not open it.
        let other_key = dir.path().join("other.key");
        MapTarget::prepare(&dir.path().join("other.map"), &other_key)?;
        let error = open(&map_path, &other_key).err().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(error.contains("this key does not open it"), "{error}");

        // One changed byte, or a cut, is refused.
        let mut changed = sealed.clone();
        let last = changed.len() - 1;
        changed[last] ^= 1;
        let key = parse_key(&fs::read_to_string(&key_file)?)?;
        assert!(open_bytes(&changed, &key).is_err());
        assert!(open_bytes(&sealed[..sealed.len() - 20], &key).is_err());
        assert!(open_bytes(&sealed[..10], &key).is_err());
        assert!(open_bytes(b"not a map", &key).is_err());

        // The key file is reused when it exists; an existing map is never overwritten.
        let again = MapTarget::prepare(&dir.path().join("second.map"), &key_file)?;
        again.write("second", &map)?;
        assert_eq!(open(&dir.path().join("second.map"), &key_file)?.1.len(), 2);
        assert!(MapTarget::prepare(&map_path, &key_file).is_err());
        Ok(())
    }

    #[test]
    fn a_bad_key_file_is_refused() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let key_file = dir.path().join("bad.key");
        fs::write(&key_file, "c2hvcnQ=\n")?;
        let error = MapTarget::prepare(&dir.path().join("m"), &key_file).err().map(|e| format!("{e:#}"));
        assert!(error.is_some_and(|error| error.contains("a key is 32 bytes")));
        Ok(())
    }

    #[test]
    fn tokens_are_taken_from_markers() {
        assert_eq!(token_of("<redacted:key-name:tok-0123456789abcdef>"), "tok-0123456789abcdef");
        assert_eq!(token_of("<redacted: 9 bytes:tok-0123456789abcdef>"), "tok-0123456789abcdef");
        assert_eq!(token_of("tok-0123456789abcdef"), "tok-0123456789abcdef");
    }
}
