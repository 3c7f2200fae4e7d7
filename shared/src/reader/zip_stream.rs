//! A zip archive held in an entry of a bundle (support-bundle-kit's `nodes/<node>.zip`), read as
//! a stream of its members through a gate of its own, with the checks of every other entry.
//!
//! The members are read from their local headers, in archive order, with the zip crate's
//! streaming reader: nothing seeks and nothing is held but the member being decompressed, so
//! memory does not depend on the archive's size. The central directory, which a stream reaches
//! last, is not consulted. What that costs: a member whose sizes follow its data (a data
//! descriptor, as zips written to a pipe have) cannot be framed, and ends the archive with a
//! stream error naming it; Info-ZIP's `zip -r` into a file, which support-bundle-kit's node
//! agents run, never writes one.
//!
//! Each member is counted against the limits with its declared size before a byte of it is
//! read, refused when its declared size is more than its compressed bytes can expand to (a
//! bomb whose header lies), refused when it is encrypted, compressed otherwise than stored or
//! deflate, or a link, and its content is held to its declared size and CRC (the zip crate
//! checks both). A cut or corrupt archive stops at the member where it broke: the members
//! before it stay delivered.

use std::io::{self, Read};

use ::zip::CompressionMethod;
use ::zip::read::{ZipReadOptions, read_zipfile_from_stream_with_options};
use ::zip::result::ZipError;

use super::Entry;
use super::gate::{Gate, Kind, Stop};
use crate::error::{Error, RejectReason};

/// The most a deflate stream expands: 258 bytes from each 2-bit code, about 1,032 to 1; a
/// member that declares more than this times its compressed size (plus a margin for tiny
/// members) cannot hold it.
const MAX_DEFLATE_RATIO: u64 = 1_100;
const RATIO_MARGIN: u64 = 1 << 10;

/// Reads every member of the zip stream through `gate`.
pub(super) fn read<E: From<Error>>(
    mut stream: &mut dyn Read,
    gate: &mut Gate,
    visit: &mut impl FnMut(Entry<'_>) -> Result<(), E>,
) -> Result<(), Stop<E>> {
    loop {
        // Encrypted members are framed like any other and refused below, not an error that
        // would end the archive.
        let options = ZipReadOptions::new().ignore_encryption_flag(true);
        let mut member = match read_zipfile_from_stream_with_options(&mut stream, options) {
            Ok(Some(member)) => member,
            // The central directory: every member was read.
            Ok(None) => return Ok(()),
            Err(error) => return Err(Stop::Stream(gate.truncated(zip_error(error)))),
        };
        let name = member.name_raw().to_vec();
        let size = member.size();
        let compressed = member.compressed_size();
        // Counted under its name, before a byte of it is read or skipped.
        gate.account(&name, size)?;
        let refusal = if member.is_dir() {
            None
        } else if member.encrypted() {
            Some(RejectReason::UnreadableMember { what: "encrypted".into() })
        } else if member.is_symlink() {
            Some(RejectReason::SpecialFile { kind: "symbolic link" })
        } else {
            match member.compression() {
                CompressionMethod::Stored if size != compressed => {
                    Some(RejectReason::ImpossibleRatio { size, compressed })
                }
                CompressionMethod::Stored => None,
                CompressionMethod::Deflated
                    if size > compressed.saturating_mul(MAX_DEFLATE_RATIO).saturating_add(RATIO_MARGIN) =>
                {
                    Some(RejectReason::ImpossibleRatio { size, compressed })
                }
                CompressionMethod::Deflated => None,
                method => Some(RejectReason::UnreadableMember { what: format!("compressed with {method}") }),
            }
        };
        if let Some(reason) = refusal {
            // Dropping the member skips its compressed bytes without decompressing them.
            gate.reject(&name, reason);
            continue;
        }
        let kind = if member.is_dir() { Kind::Directory } else { Kind::File };
        gate.admit(&name, kind, size, &mut member, visit)?;
    }
}

/// The zip crate's error as the I/O error under a truncation, in words a reader of the report
/// can act on.
fn zip_error(error: ZipError) -> io::Error {
    match error {
        ZipError::Io(error) => error,
        ZipError::UnsupportedArchive(message) if message.contains("not available in the local header") => {
            io::Error::other(
                "a member stores its sizes after its data (a data descriptor), which an archive \
                 read as a stream cannot frame; the members after it are not read",
            )
        }
        error => io::Error::other(error.to_string()),
    }
}
