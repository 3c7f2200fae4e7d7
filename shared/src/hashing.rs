//! Readers and writers that compute a SHA-256 and a byte count as data passes through, so a
//! checksum never costs a second pass over an entry.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

/// Lower-case hex of a finished digest.
pub(crate) fn hex(digest: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(digest.len() * 2);
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// SHA-256 of a byte slice, as lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Wraps a reader; counts what is read through it and, when asked to, hashes it.
///
/// The reader hashes only the entries of native bundles: foreign bundles carry no checksums,
/// and SHA-256 would otherwise cost about as much as decompressing.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Option<Sha256>,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        HashingReader { inner, hasher: Some(Sha256::new()), count: 0 }
    }

    /// Counts without hashing.
    pub(crate) fn counting(inner: R) -> Self {
        HashingReader { inner, hasher: None, count: 0 }
    }

    /// Reads what the consumer left unread, then returns the hex digest (when hashing) and the
    /// byte count.
    pub(crate) fn drain_and_finish(mut self) -> io::Result<(Option<String>, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((self.hasher.map(|hasher| hex(&hasher.finalize())), self.count))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..n]);
        }
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn reader_hashes_unread_rest() -> io::Result<()> {
        let mut reader = HashingReader::new(&b"abcdef"[..]);
        let mut first = [0u8; 2];
        reader.read_exact(&mut first)?;
        let (digest, count) = reader.drain_and_finish()?;
        assert_eq!(count, 6);
        assert_eq!(digest, Some(sha256_hex(b"abcdef")));
        let (digest, count) = HashingReader::counting(&b"abc"[..]).drain_and_finish()?;
        assert_eq!((digest, count), (None, 3));
        Ok(())
    }
}
