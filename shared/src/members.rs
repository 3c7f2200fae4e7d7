//! Indexed gzip members: how a native bundle is compressed so that it decodes on every core.
//!
//! A gzip file may hold several members one after another; `gzip -dc`, `tar xzf` and every
//! gzip library read them as one stream. The writer cuts the tar stream into blocks of
//! [`BLOCK_SIZE`] bytes and compresses each block as a member of its own, in the manner of
//! BGZF (SAM/BAM's blocked gzip). Each member's header carries, in an extra field, the
//! member's own length, so a reader finds where every member starts by reading headers alone,
//! and decodes members on several threads (`reader::parallel`).
//!
//! A member, byte by byte (RFC 1952; integers little-endian):
//!
//! | bytes | value |
//! |---|---|
//! | 0–3 | `1f 8b 08 04`: gzip, deflate, only the FEXTRA flag |
//! | 4–9 | mtime 0, XFL 0, OS 255 (unknown): the same input gives the same bytes |
//! | 10–11 | XLEN = 8 |
//! | 12–13 | `K` `S`: the subfield's id |
//! | 14–15 | its length, 4 |
//! | 16–19 | the whole member's length in bytes, this header and the trailer included |
//! | 20– | raw deflate of the block |
//! | last 8 | CRC-32 and length of the block |

use std::io::{self, Write};

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// Uncompressed bytes per member. Large enough that resetting the 32 KiB deflate window costs
/// under 1% of the compressed size; small enough that a few members per thread in flight stay
/// in a few MiB.
pub const BLOCK_SIZE: usize = 1 << 20;

/// Length of a member's header.
pub const HEADER_LEN: usize = 20;
/// Length of a member's trailer (CRC-32, size).
pub const TRAILER_LEN: usize = 8;
/// The extra subfield's id.
const SUBFIELD: [u8; 2] = *b"KS";

/// The header of a member whose whole length is `length`.
fn header(length: u32) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[..4].copy_from_slice(&[0x1f, 0x8b, 0x08, 0x04]);
    header[9] = 0xff;
    header[10..12].copy_from_slice(&8u16.to_le_bytes());
    header[12..14].copy_from_slice(&SUBFIELD);
    header[14..16].copy_from_slice(&4u16.to_le_bytes());
    header[16..20].copy_from_slice(&length.to_le_bytes());
    header
}

/// The whole length of the member whose header `bytes` starts with, if it is an indexed member
/// as written here; `None` for any other gzip header (or anything else).
pub fn member_length(bytes: &[u8]) -> Option<u32> {
    let found = bytes.get(..HEADER_LEN)?;
    // Everything but the length must be exactly as written here.
    if found[..16] != header(0)[..16] {
        return None;
    }
    Some(u32::from_le_bytes([found[16], found[17], found[18], found[19]]))
}

/// A `Write` that compresses what it is given as a sequence of indexed members.
///
/// Memory is one block of input and one of output. Dropped unfinished, it writes what it holds
/// as a last member, best effort; [`MemberWriter::finish`] does so and reports errors.
pub struct MemberWriter<W: Write> {
    /// `None` once finished.
    out: Option<W>,
    block: Vec<u8>,
    compressed: Vec<u8>,
    compress: Compress,
    /// Whether any member was written: an empty stream still gets one (empty) member, so that
    /// the output is a gzip file.
    wrote: bool,
}

impl<W: Write> std::fmt::Debug for MemberWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberWriter").field("buffered", &self.block.len()).finish()
    }
}

impl<W: Write> MemberWriter<W> {
    pub fn new(out: W, level: Compression) -> Self {
        MemberWriter {
            out: Some(out),
            block: Vec::with_capacity(BLOCK_SIZE),
            compressed: Vec::new(),
            // Raw deflate: the gzip framing is written here.
            compress: Compress::new(level, false),
            wrote: false,
        }
    }

    /// Writes what is buffered as a last member and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.block.is_empty() || !self.wrote {
            self.emit()?;
        }
        let mut out =
            self.out.take().ok_or_else(|| io::Error::other("the gzip stream was already finished"))?;
        out.flush()?;
        Ok(out)
    }

    /// Compresses the buffered block into one member and writes it.
    fn emit(&mut self) -> io::Result<()> {
        let out =
            self.out.as_mut().ok_or_else(|| io::Error::other("the gzip stream was already finished"))?;
        self.compress.reset();
        self.compressed.clear();
        // Deflate's worst case is a few bytes per 16 KiB stored block over the input.
        self.compressed.reserve(self.block.len() + self.block.len() / 1000 + 64);
        loop {
            let consumed = usize::try_from(self.compress.total_in()).unwrap_or(usize::MAX);
            let input = self.block.get(consumed..).unwrap_or_default();
            let status = self
                .compress
                .compress_vec(input, &mut self.compressed, FlushCompress::Finish)
                .map_err(io::Error::other)?;
            match status {
                Status::StreamEnd => break,
                Status::Ok | Status::BufError => self.compressed.reserve(64 << 10),
            }
        }
        let length = HEADER_LEN + self.compressed.len() + TRAILER_LEN;
        let length = u32::try_from(length).map_err(|_| io::Error::other("a gzip member over 4 GiB"))?;
        let mut crc = Crc::new();
        crc.update(&self.block);
        out.write_all(&header(length))?;
        out.write_all(&self.compressed)?;
        out.write_all(&crc.sum().to_le_bytes())?;
        out.write_all(&(self.block.len() as u32).to_le_bytes())?;
        self.block.clear();
        self.wrote = true;
        Ok(())
    }
}

impl<W: Write> Write for MemberWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.out.is_none() {
            return Err(io::Error::other("the gzip stream was already finished"));
        }
        let room = BLOCK_SIZE - self.block.len();
        let n = room.min(buf.len());
        self.block.extend_from_slice(&buf[..n]);
        if self.block.len() == BLOCK_SIZE {
            self.emit()?;
        }
        Ok(n)
    }

    /// Writes the buffered bytes as a member (a short one) and flushes the output: what was
    /// written so far is then a readable gzip file.
    fn flush(&mut self) -> io::Result<()> {
        if !self.block.is_empty() {
            self.emit()?;
        }
        match self.out.as_mut() {
            Some(out) => out.flush(),
            None => Ok(()),
        }
    }
}

impl<W: Write> Drop for MemberWriter<W> {
    fn drop(&mut self) {
        if self.out.is_some() && !self.block.is_empty() {
            // Best effort, as flate2's encoders do: an error here has nowhere to go.
            let _ = self.emit();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn compress(data: &[u8]) -> Vec<u8> {
        let mut writer = MemberWriter::new(Vec::new(), Compression::new(6));
        // Odd-sized writes, so that blocks are filled across calls.
        for piece in data.chunks(70_001) {
            writer.write_all(piece).unwrap();
        }
        writer.finish().unwrap()
    }

    /// Splits a stream into its members by their length fields alone.
    fn members(mut bytes: &[u8]) -> Vec<&[u8]> {
        let mut members = Vec::new();
        while !bytes.is_empty() {
            let length = member_length(bytes).expect("an indexed member") as usize;
            let (member, rest) = bytes.split_at(length);
            members.push(member);
            bytes = rest;
        }
        members
    }

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| b"kubelet pod log line 0123456789\n"[i % 32] ^ (i / 4099) as u8).collect()
    }

    #[test]
    fn any_gzip_reader_reads_the_members_as_one_stream() {
        let data = sample(3 * BLOCK_SIZE + 12_345);
        let compressed = compress(&data);
        let mut decoded = Vec::new();
        flate2::read::MultiGzDecoder::new(compressed.as_slice()).read_to_end(&mut decoded).unwrap();
        assert_eq!(decoded, data);
    }

    #[test]
    fn every_member_holds_one_block_and_says_its_own_length() {
        let data = sample(2 * BLOCK_SIZE + 1);
        let compressed = compress(&data);
        let members = members(&compressed);
        assert_eq!(members.len(), 3);
        for (member, block) in members.iter().zip(data.chunks(BLOCK_SIZE)) {
            // Each member is a gzip file on its own.
            let mut decoded = Vec::new();
            flate2::read::GzDecoder::new(*member).read_to_end(&mut decoded).unwrap();
            assert_eq!(decoded, block);
        }
    }

    #[test]
    fn an_empty_stream_is_one_empty_member_and_the_same_input_gives_the_same_bytes() {
        let empty = compress(b"");
        assert_eq!(members(&empty).len(), 1);
        let mut decoded = Vec::new();
        flate2::read::MultiGzDecoder::new(empty.as_slice()).read_to_end(&mut decoded).unwrap();
        assert!(decoded.is_empty());
        let data = sample(BLOCK_SIZE + 7);
        assert_eq!(compress(&data), compress(&data));
    }

    #[test]
    fn other_gzip_headers_are_not_taken_for_indexed_members() {
        let mut plain = flate2::write::GzEncoder::new(Vec::new(), Compression::fast());
        plain.write_all(b"hello").unwrap();
        let plain = plain.finish().unwrap();
        assert_eq!(member_length(&plain), None);
        assert_eq!(member_length(&header(77)[..19]), None);
        assert_eq!(member_length(&header(77)), Some(77));
    }

    #[test]
    fn flush_makes_what_was_written_readable() {
        let mut writer = MemberWriter::new(Vec::new(), Compression::fast());
        writer.write_all(b"first").unwrap();
        writer.flush().unwrap();
        let so_far = writer.out.clone().unwrap();
        let mut decoded = Vec::new();
        flate2::read::MultiGzDecoder::new(so_far.as_slice()).read_to_end(&mut decoded).unwrap();
        assert_eq!(decoded, b"first");
    }
}
