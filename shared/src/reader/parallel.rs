//! Decoding a bundle of indexed gzip members ([`crate::members`]) on several threads.
//!
//! The reading thread walks the members by their headers' length fields, without decoding,
//! and hands each member to a decoding thread; the decoded blocks come back tagged with their
//! number and are delivered in order, so the consumer sees exactly the stream one decoder
//! would give. A few members per thread are in flight at most: memory stays a few MiB whatever
//! the bundle's size.
//!
//! Each member is checked on the thread that decodes it, as a gzip decoder checks its stream:
//! the deflate data must end where the member does, and the block's length and CRC-32 must be
//! the trailer's. A member that fails is an error at its place in the stream: every block
//! before it is delivered first. A member that is not an indexed one (a foreign gzip member
//! appended to the file), or one the file ends inside, hands the rest of the stream to flate2's
//! sequential decoder after the members before it: a cut bundle delivers everything up to the
//! cut, then the decoder's error.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Cursor, Read};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use flate2::{Crc, Decompress, FlushDecompress, Status};

use crate::members::{HEADER_LEN, TRAILER_LEN, member_length};

/// Largest member, compressed, accepted: the writer's are about a quarter of
/// [`crate::members::BLOCK_SIZE`]; a hostile length is refused before its bytes are read.
const MAX_MEMBER: u32 = 64 << 20;
/// Largest block a member may decode to (the writer's are 1 MiB): the bound on what one
/// member can make a thread allocate, whatever its trailer says.
const MAX_BLOCK: u32 = 64 << 20;
/// Most decoding threads.
const MAX_THREADS: usize = 8;

/// A member to decode: its number in the stream and its bytes.
type Job = (u64, Vec<u8>);
/// A decoded block, or why its member is not valid.
type Done = (u64, io::Result<Vec<u8>>);

/// What comes after the members read so far.
enum Tail<R> {
    /// More indexed members, maybe.
    Members(R),
    /// The stream ended cleanly after the last member.
    End,
    /// Reading the next member failed; reported after the blocks before it.
    Error(io::Error),
    /// A member that is not indexed: the rest of the stream decodes sequentially.
    Sequential(Box<dyn Read>),
    /// An error was returned: nothing more is read.
    Failed,
}

/// A `Read` over the decoded stream of indexed gzip members.
pub(super) struct ParallelGz<R> {
    tail: Tail<R>,
    /// `None` once dropped: the decoding threads then finish their queue and stop.
    jobs: Option<mpsc::Sender<Job>>,
    results: mpsc::Receiver<Done>,
    workers: Vec<JoinHandle<()>>,
    /// Most members submitted and not yet delivered.
    window: u64,
    submitted: u64,
    delivered: u64,
    /// Blocks decoded ahead of the one the consumer waits for.
    ready: BTreeMap<u64, io::Result<Vec<u8>>>,
    block: Vec<u8>,
    position: usize,
}

impl<R: BufRead + 'static> ParallelGz<R> {
    /// Starts the decoding threads; `Err` gives the source back when the system refuses a
    /// thread, for the caller to decode it sequentially.
    pub(super) fn new(source: R) -> Result<ParallelGz<R>, R> {
        let threads = std::thread::available_parallelism().map_or(2, usize::from).clamp(1, MAX_THREADS);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let (done, results) = mpsc::channel::<Done>();
        let mut workers = Vec::with_capacity(threads);
        for _ in 0..threads {
            let queue = Arc::clone(&queue);
            let done = done.clone();
            let spawned = std::thread::Builder::new()
                .name("kubesnap-gunzip".to_owned())
                .spawn(move || decode_jobs(&queue, &done));
            match spawned {
                Ok(worker) => workers.push(worker),
                Err(_) if workers.is_empty() => return Err(source),
                Err(_) => break,
            }
        }
        let window = 2 * workers.len() as u64 + 2;
        Ok(ParallelGz {
            tail: Tail::Members(source),
            jobs: Some(jobs),
            results,
            workers,
            window,
            submitted: 0,
            delivered: 0,
            ready: BTreeMap::new(),
            block: Vec::new(),
            position: 0,
        })
    }

    /// Reads members and submits them until the window is full or the members end.
    fn top_up(&mut self) {
        while self.submitted - self.delivered < self.window {
            let Tail::Members(source) = &mut self.tail else { return };
            match next_member(source) {
                Ok(Next::Member(member)) => {
                    let sent =
                        self.jobs.as_ref().is_some_and(|jobs| jobs.send((self.submitted, member)).is_ok());
                    if !sent {
                        self.tail = Tail::Error(stopped());
                        return;
                    }
                    self.submitted += 1;
                }
                Ok(Next::End) => self.tail = Tail::End,
                Ok(Next::Foreign(prefix)) => {
                    let Tail::Members(source) = std::mem::replace(&mut self.tail, Tail::Failed) else {
                        return;
                    };
                    let rest = Cursor::new(prefix).chain(source);
                    self.tail = Tail::Sequential(Box::new(flate2::bufread::MultiGzDecoder::new(rest)));
                }
                Err(error) => self.tail = Tail::Error(error),
            }
        }
    }

    /// The decoded block of member `number`, waiting for it if need be.
    fn take(&mut self, number: u64) -> io::Result<Vec<u8>> {
        loop {
            if let Some(result) = self.ready.remove(&number) {
                return result;
            }
            let (done, result) = self.results.recv().map_err(|_| stopped())?;
            self.ready.insert(done, result);
        }
    }
}

impl<R: BufRead + 'static> Read for ParallelGz<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.position < self.block.len() {
                let n = buf.len().min(self.block.len() - self.position);
                buf[..n].copy_from_slice(&self.block[self.position..self.position + n]);
                self.position += n;
                return Ok(n);
            }
            if buf.is_empty() {
                return Ok(0);
            }
            self.top_up();
            if self.delivered < self.submitted {
                let number = self.delivered;
                self.delivered += 1;
                match self.take(number) {
                    Ok(block) => {
                        self.block = block;
                        self.position = 0;
                        continue;
                    }
                    Err(error) => {
                        self.tail = Tail::Failed;
                        return Err(error);
                    }
                }
            }
            return match &mut self.tail {
                Tail::Sequential(rest) => rest.read(buf),
                Tail::End => Ok(0),
                // The error once, then that the stream failed.
                Tail::Error(_) | Tail::Failed => match std::mem::replace(&mut self.tail, Tail::Failed) {
                    Tail::Error(error) => Err(error),
                    _ => Err(failed_before()),
                },
                // `top_up` submits a member or leaves this state whenever the window has room,
                // and all submitted members were delivered above.
                Tail::Members(_) => Err(io::Error::other("the gzip member reader made no progress")),
            };
        }
    }
}

impl<R> Drop for ParallelGz<R> {
    fn drop(&mut self) {
        // Closing the queue lets every thread finish the few members it holds and stop.
        self.jobs = None;
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// What the source holds next.
enum Next {
    Member(Vec<u8>),
    End,
    /// Not an indexed member, or one the file ends inside: the bytes read from it so far, for
    /// the sequential decoder to decode as far as they go.
    Foreign(Vec<u8>),
}

/// Reads the next member whole, by its header's length.
fn next_member(source: &mut impl BufRead) -> io::Result<Next> {
    let mut header = Vec::with_capacity(HEADER_LEN);
    source.by_ref().take(HEADER_LEN as u64).read_to_end(&mut header)?;
    if header.is_empty() {
        return Ok(Next::End);
    }
    let Some(length) = member_length(&header) else { return Ok(Next::Foreign(header)) };
    if !(HEADER_LEN + TRAILER_LEN..=MAX_MEMBER as usize).contains(&(length as usize)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a gzip member says it is {length} bytes long, which no kubesnap writer writes"),
        ));
    }
    let mut member = header;
    member.reserve_exact(length as usize - HEADER_LEN);
    source.by_ref().take(u64::from(length) - HEADER_LEN as u64).read_to_end(&mut member)?;
    if member.len() < length as usize {
        // Cut inside this member: what it holds up to the cut is still worth decoding.
        return Ok(Next::Foreign(member));
    }
    Ok(Next::Member(member))
}

/// A decoding thread: decodes members until the queue closes.
fn decode_jobs(queue: &Mutex<mpsc::Receiver<Job>>, done: &mpsc::Sender<Done>) {
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok((number, member)) = job else { return };
        if done.send((number, decode(&member))).is_err() {
            return;
        }
    }
}

/// Decodes one member and checks it against its trailer.
fn decode(member: &[u8]) -> io::Result<Vec<u8>> {
    let invalid = |message: String| io::Error::new(io::ErrorKind::InvalidData, message);
    let (body, trailer) = member[HEADER_LEN..].split_at(member.len() - HEADER_LEN - TRAILER_LEN);
    let expected_crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    if size > MAX_BLOCK {
        return Err(invalid(format!(
            "a gzip member says it decodes to {size} bytes, over the {MAX_BLOCK} accepted"
        )));
    }
    // One byte of room over the stated size: a member that decodes to more is caught, and
    // never allowed to grow the buffer.
    let mut block = Vec::with_capacity(size as usize + 1);
    let mut inflate = Decompress::new(false);
    let status = inflate
        .decompress_vec(body, &mut block, FlushDecompress::Finish)
        .map_err(|error| invalid(format!("corrupt deflate data in a gzip member: {error}")))?;
    if status != Status::StreamEnd || block.len() != size as usize {
        return Err(invalid(format!(
            "a gzip member decodes to more than the {size} bytes its trailer says, or its data ends early"
        )));
    }
    if inflate.total_in() != body.len() as u64 {
        return Err(invalid("a gzip member has bytes after its deflate data".to_owned()));
    }
    let mut crc = Crc::new();
    crc.update(&block);
    if crc.sum() != expected_crc {
        return Err(invalid("a gzip member's CRC-32 does not match its data".to_owned()));
    }
    Ok(block)
}

fn stopped() -> io::Error {
    io::Error::other("the gzip decoding threads stopped")
}

fn failed_before() -> io::Error {
    io::Error::other("the gzip stream failed earlier")
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;

    use super::*;
    use crate::members::{BLOCK_SIZE, MemberWriter};

    fn sample(len: usize) -> Vec<u8> {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        (0..len)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Mostly text, some noise: blocks compress, but not to nothing.
                if i % 7 == 0 { state as u8 } else { b"log line: ready\n"[i % 16] }
            })
            .collect()
    }

    fn indexed(data: &[u8]) -> Vec<u8> {
        let mut writer = MemberWriter::new(Vec::new(), Compression::fast());
        writer.write_all(data).unwrap();
        writer.finish().unwrap()
    }

    fn decode_all(bytes: Vec<u8>) -> (Vec<u8>, Option<io::Error>) {
        let mut reader = ParallelGz::new(Cursor::new(bytes)).ok().unwrap();
        let mut out = Vec::new();
        let mut buf = vec![0; 100_000];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(error) => return (out, Some(error)),
            }
        }
    }

    #[test]
    fn decodes_to_the_same_stream_in_order() {
        let data = sample(9 * BLOCK_SIZE + 4321);
        let (out, error) = decode_all(indexed(&data));
        assert!(error.is_none(), "{error:?}");
        assert!(out == data, "the decoded stream differs");
    }

    #[test]
    fn a_cut_stream_delivers_everything_up_to_the_cut_then_fails() {
        let data = sample(4 * BLOCK_SIZE);
        let whole = indexed(&data);
        let mut last_start = 0;
        while let Some(length) = member_length(&whole[last_start..]) {
            if last_start + length as usize == whole.len() {
                break;
            }
            last_start += length as usize;
        }
        // Cut in the middle of the last member, and in its trailer.
        for cut in [(last_start + whole.len()) / 2, whole.len() - 4] {
            let (out, error) = decode_all(whole[..cut].to_vec());
            assert!(out.len() > 3 * BLOCK_SIZE, "cut at {cut}: only the whole members' blocks came out");
            assert!(out == data[..out.len()], "cut at {cut}: not a prefix of the stream");
            assert!(error.is_some(), "cut at {cut}: the cut went unreported");
        }
    }

    #[test]
    fn a_corrupt_member_fails_at_its_place_after_the_blocks_before_it() {
        let data = sample(3 * BLOCK_SIZE);
        let mut bytes = indexed(&data);
        let first = member_length(&bytes).unwrap() as usize;
        let second = member_length(&bytes[first..]).unwrap() as usize;
        // The second member's CRC.
        bytes[first + second - TRAILER_LEN] ^= 0xff;
        let (out, error) = decode_all(bytes);
        assert!(out == data[..BLOCK_SIZE]);
        assert!(error.expect("an error").to_string().contains("CRC-32"));
    }

    #[test]
    fn a_member_whose_trailer_understates_its_data_is_refused_without_growing() {
        let mut bytes = indexed(&sample(1000));
        let length = bytes.len();
        // Claim 10 bytes where the data holds 1000.
        bytes[length - 4..].copy_from_slice(&10u32.to_le_bytes());
        let (out, error) = decode_all(bytes);
        assert!(out.is_empty());
        assert!(error.expect("an error").to_string().contains("more than the 10 bytes"));
    }

    #[test]
    fn a_hostile_length_is_refused_before_its_bytes_are_read() {
        let mut bytes = indexed(b"x");
        bytes[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        let (_, error) = decode_all(bytes);
        assert!(error.expect("an error").to_string().contains("no kubesnap writer"));
    }

    #[test]
    fn a_foreign_member_after_the_indexed_ones_is_decoded_in_turn() {
        let data = sample(2 * BLOCK_SIZE + 10);
        let mut bytes = indexed(&data);
        let mut foreign = flate2::write::GzEncoder::new(Vec::new(), Compression::fast());
        foreign.write_all(b"appended by another tool").unwrap();
        bytes.extend_from_slice(&foreign.finish().unwrap());
        let (out, error) = decode_all(bytes);
        assert!(error.is_none(), "{error:?}");
        assert!(out[..data.len()] == data);
        assert_eq!(&out[data.len()..], b"appended by another tool");
    }

    #[test]
    fn garbage_after_the_members_is_an_error_not_a_silent_end() {
        let data = sample(BLOCK_SIZE + 1);
        let mut bytes = indexed(&data);
        bytes.extend_from_slice(b"not gzip at all, and long enough to be a header");
        let (out, error) = decode_all(bytes);
        assert!(out == data);
        assert!(error.is_some());
    }
}
