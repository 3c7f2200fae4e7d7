//! Tar streams (plain, or decoded from gzip or xz) as a source of entries for the gate.
//!
//! tar-rs iterates in raw mode: in its default mode it reads GNU long names and PAX headers
//! whole into memory, however large they claim to be, which is a decompression bomb that never
//! reaches the gate, and it lets a PAX `size` override the header's. Here every record counts
//! against the limits first, extension headers are bounded, and the end of the stream is
//! checked: the end-of-archive marker must be there and the compressed stream must end cleanly
//! (which verifies its checksum), so a cut archive is never mistaken for a whole one.

use std::borrow::Cow;
use std::io::{self, Read};

use super::Entry;
use super::gate::{Gate, Kind, Stop};
use crate::error::Error;

/// Largest GNU long name, long link or PAX header accepted; real ones hold one path or a few
/// attributes (PATH_MAX is 4 KiB).
const MAX_EXTENSION_SIZE: u64 = 1 << 20;
/// Most bytes accepted after the end-of-archive marker: tar pads archives to its record size
/// (10 KiB by default, 16 MiB with the largest blocking factor).
const MAX_TRAILER_SIZE: u64 = 16 << 20;
const BLOCK: u64 = 512;

/// Reads every entry of a tar stream through the gate.
pub(super) fn read<E: From<Error>>(
    stream: impl Read,
    gate: &mut Gate,
    visit: &mut impl FnMut(Entry<'_>) -> Result<(), E>,
) -> Result<(), Stop<E>> {
    let mut counted = Counted { inner: stream, count: 0 };
    // Where the last record's data ends, padded to a block: the end-of-archive marker follows.
    let mut end = 0;
    {
        let mut archive = tar::Archive::new(&mut counted);
        let entries = archive.entries().map_err(|source| Stop::Stream(gate.truncated(source)))?;
        let mut pending = Pending::default();
        for entry in entries.raw(true) {
            let mut entry = entry.map_err(|source| Stop::Stream(gate.truncated(source)))?;
            let size = entry.size();
            end = entry.raw_file_position().saturating_add(size.div_ceil(BLOCK).saturating_mul(BLOCK));
            let entry_type = entry.header().entry_type();
            let slot = match entry_type {
                tar::EntryType::GNULongName => Some((&mut pending.long_name, "GNU long name")),
                tar::EntryType::GNULongLink => Some((&mut pending.long_link, "GNU long link")),
                tar::EntryType::XHeader => Some((&mut pending.pax, "PAX")),
                tar::EntryType::XGlobalHeader => {
                    gate.account(&entry.header().path_bytes(), size)?;
                    // Read to keep the stream framed and bounded, then ignored: global records
                    // carry comments and defaults that say nothing about where an entry goes.
                    read_extension(&mut entry, "PAX global", gate)?;
                    continue;
                }
                _ => None,
            };
            if let Some((slot, kind)) = slot {
                gate.account(&entry.header().path_bytes(), size)?;
                let bytes = read_extension(&mut entry, kind, gate)?;
                // Two of a kind for one entry: readers would disagree on which one applies.
                if slot.replace(bytes).is_some() {
                    let message = format!("two {kind} headers describe the same entry");
                    return Err(Stop::Stream(gate.truncated(io::Error::other(message))));
                }
                continue;
            }
            let described = std::mem::take(&mut pending);
            let Described { name, link } =
                describe(&entry, &described, size).map_err(|source| Stop::Stream(gate.truncated(source)))?;
            // Counted under its full name, before a byte of it is read or skipped.
            gate.account(&name, size)?;
            let kind = match entry_type {
                // A v7 archive marks folders with a trailing slash only.
                tar::EntryType::Regular | tar::EntryType::Continuous if name.ends_with(b"/") => {
                    Kind::Directory
                }
                tar::EntryType::Regular | tar::EntryType::Continuous => Kind::File,
                tar::EntryType::Directory => Kind::Directory,
                tar::EntryType::Symlink => Kind::Symlink(&link),
                tar::EntryType::Link => Kind::HardLink(&link),
                tar::EntryType::Char => Kind::Special("character device"),
                tar::EntryType::Block => Kind::Special("block device"),
                tar::EntryType::Fifo => Kind::Special("fifo"),
                tar::EntryType::GNUSparse => Kind::Special("sparse file"),
                _ => Kind::Special("unknown type"),
            };
            gate.admit(&name, kind, size, &mut entry, visit)?;
        }
        if pending.long_name.is_some() || pending.long_link.is_some() || pending.pax.is_some() {
            let source = io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive ends after a header that describes a further entry",
            );
            return Err(Stop::Stream(gate.truncated(source)));
        }
    }
    check_end(&mut counted, end, gate)
}

/// An entry's raw name and link target (empty when it is not a link).
struct Described {
    name: Vec<u8>,
    link: Vec<u8>,
}

/// The entry's name and link target, with GNU long names and PAX `path`/`linkpath` applied.
fn describe<R: Read>(entry: &tar::Entry<'_, R>, pending: &Pending, size: u64) -> io::Result<Described> {
    let mut name = entry.header().path_bytes();
    let mut link = entry.header().link_name_bytes();
    if let Some(pax) = &pending.pax {
        for extension in tar::PaxExtensions::new(pax) {
            let extension = extension?;
            match extension.key_bytes() {
                b"path" => name = Cow::Borrowed(extension.value_bytes()),
                b"linkpath" => link = Some(Cow::Borrowed(extension.value_bytes())),
                // In raw mode the stream is framed by the header's size: an entry whose PAX
                // size differs (only needed past 8 GiB) cannot be read safely.
                b"size" if extension.value_bytes() != size.to_string().as_bytes() => {
                    return Err(io::Error::other(
                        "a PAX size that differs from the header's is not supported",
                    ));
                }
                _ => {}
            }
        }
    }
    // GNU long names win over PAX, as in tar-rs and GNU tar.
    if let Some(long_name) = &pending.long_name {
        name = Cow::Borrowed(trim_nuls(long_name));
    }
    if let Some(long_link) = &pending.long_link {
        link = Some(Cow::Borrowed(trim_nuls(long_link)));
    }
    Ok(Described { name: name.into_owned(), link: link.map(Cow::into_owned).unwrap_or_default() })
}

fn trim_nuls(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|byte| *byte != 0).map_or(0, |index| index + 1);
    &bytes[..end]
}

/// Reads one extension header's data, refusing one larger than any real one.
fn read_extension<E, R: Read>(
    entry: &mut tar::Entry<'_, R>,
    kind: &'static str,
    gate: &Gate,
) -> Result<Vec<u8>, Stop<E>> {
    let size = entry.size();
    if size > MAX_EXTENSION_SIZE {
        let last_entry = gate.last_entry().to_owned();
        return Err(Stop::Stream(Error::ExtensionTooLarge {
            last_entry,
            kind,
            size,
            limit: MAX_EXTENSION_SIZE,
        }));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    entry.read_to_end(&mut bytes).map_err(|source| Stop::Stream(gate.truncated(source)))?;
    if bytes.len() as u64 != size {
        let entry = format!("{kind} header after `{}`", gate.last_entry());
        return Err(Stop::Stream(Error::SizeMismatch { entry, declared: size, actual: bytes.len() as u64 }));
    }
    Ok(bytes)
}

/// After tar-rs saw the end: the marker must be there (tar-rs also stops, silently, when the
/// stream simply ends between entries), and the rest of the stream must decode cleanly.
fn check_end<E, R: Read>(counted: &mut Counted<R>, end: u64, gate: &Gate) -> Result<(), Stop<E>> {
    if counted.count < end.saturating_add(BLOCK) {
        let source = io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the archive ends without its end-of-archive marker",
        );
        return Err(Stop::Stream(gate.truncated(source)));
    }
    let mut rest = (&mut counted.inner).take(MAX_TRAILER_SIZE + 1);
    let trailer =
        io::copy(&mut rest, &mut io::sink()).map_err(|source| Stop::Stream(gate.truncated(source)))?;
    if trailer > MAX_TRAILER_SIZE {
        let message = format!("more than {MAX_TRAILER_SIZE} bytes follow the end-of-archive marker");
        return Err(Stop::Stream(gate.truncated(io::Error::other(message))));
    }
    // POSIX ends an archive with two zero blocks; tar-rs stopped at the first.
    if trailer < BLOCK {
        let source =
            io::Error::new(io::ErrorKind::UnexpectedEof, "the archive ends inside its end-of-archive marker");
        return Err(Stop::Stream(gate.truncated(source)));
    }
    Ok(())
}

/// Extension headers waiting for the entry they describe.
#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Option<Vec<u8>>,
}

/// Counts the bytes tar-rs pulls from the stream, to find the end-of-archive marker.
struct Counted<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}
