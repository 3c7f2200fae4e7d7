//! Consistent tokens: in token mode a redacted value becomes `<redacted:RULE:tok-HEX>` instead
//! of `<redacted:RULE>`, where HEX is the first 8 bytes of HMAC-SHA256 of the value under a key
//! made for one bundle and never written. The same value gets the same token everywhere in the
//! bundle (a Secret's decoded value, the env variable that repeats it, the URL in a log), so a
//! reader sees which workloads share a credential without seeing it; without the key a token
//! cannot be tested against a guess, and another bundle's key gives other tokens.
//!
//! When asked to, [`Tokens`] also keeps the map from token to value, for the customer to keep
//! (the collector writes it encrypted, never into the bundle).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of a token in a marker.
pub const TOKEN_PREFIX: &str = "tok-";

/// Rules whose values are whole documents (a Helm release, a `last-applied-configuration` that
/// could not be parsed), not secrets of their own: they keep the plain marker in token mode.
const WHOLE_DOCUMENT_RULES: &[&str] = &["helm-release", "last-applied-configuration"];

/// The token maker of one bundle: a keyed hash, and the token → value map when it is kept.
pub struct Tokens {
    mac: Hmac<Sha256>,
    map: Option<Mutex<BTreeMap<String, Vec<u8>>>>,
}

impl std::fmt::Debug for Tokens {
    // The keyed state never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("keeps_map", &self.map.is_some()).finish_non_exhaustive()
    }
}

impl Tokens {
    /// Tokens under `key` (32 random bytes, made for this bundle only); `keep_map` keeps every
    /// token's value for [`Tokens::take_map`].
    pub fn new(key: [u8; 32], keep_map: bool) -> Tokens {
        // HMAC pads a key shorter than the hash's block with zeros; padding it here makes the
        // infallible block-sized constructor usable (the same key, RFC 2104).
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&key);
        let mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
        Tokens { mac, map: keep_map.then(|| Mutex::new(BTreeMap::new())) }
    }

    /// The token of `value`: `tok-` and 16 hex digits.
    pub fn token(&self, value: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(value);
        let digest = mac.finalize().into_bytes();
        let mut token = String::with_capacity(TOKEN_PREFIX.len() + 16);
        token.push_str(TOKEN_PREFIX);
        for byte in &digest[..8] {
            token.push(char::from(HEX[usize::from(byte >> 4)]));
            token.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        if let Some(map) = &self.map {
            let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
            if !map.contains_key(&token) {
                map.insert(token.clone(), value.to_vec());
            }
        }
        token
    }

    /// Whether the map is kept.
    pub fn keeps_map(&self) -> bool {
        self.map.is_some()
    }

    /// The map so far (token → value), emptied; empty when it is not kept.
    pub fn take_map(&self) -> BTreeMap<String, Vec<u8>> {
        match &self.map {
            Some(map) => std::mem::take(&mut *map.lock().unwrap_or_else(PoisonError::into_inner)),
            None => BTreeMap::new(),
        }
    }

    /// Whether values of `rule` get a token.
    pub(crate) fn applies_to(rule: &str) -> bool {
        !WHOLE_DOCUMENT_RULES.contains(&rule)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_same_token_and_other_values_or_keys_other_tokens() {
        let tokens = Tokens::new([7; 32], true);
        let a = tokens.token(b"hunter2");
        assert_eq!(a, tokens.token(b"hunter2"));
        assert_ne!(a, tokens.token(b"hunter3"));
        assert_ne!(a, Tokens::new([8; 32], false).token(b"hunter2"));
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == 20, "{a}");
        assert!(a[4..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        let map = tokens.take_map();
        assert_eq!(map.len(), 2);
        assert_eq!(map.get(&a).map(Vec::as_slice), Some(&b"hunter2"[..]));
        assert!(tokens.take_map().is_empty());
    }

    #[test]
    fn the_token_is_hmac_sha256_of_the_value() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?" gives
        // 5bdcc146bf60754e…; a 32-byte key is the same key padded with zeros.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        assert_eq!(Tokens::new(key, false).token(b"what do ya want for nothing?"), "tok-5bdcc146bf60754e");
    }

    #[test]
    fn debug_shows_no_key() {
        let shown = format!("{:?}", Tokens::new([0x41; 32], false));
        assert!(!shown.contains("41") && !shown.contains('A'), "{shown}");
    }
}
