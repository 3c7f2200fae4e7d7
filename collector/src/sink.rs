//! The writer thread: the only owner of the [`BundleWriter`], fed by a bounded channel.
//!
//! Compression and hashing are blocking CPU work, so they run on their own OS thread instead of
//! a tokio worker. The channel holds at most `capacity` messages, each one finished entry (a
//! list, a log, a metrics series), so the collector's memory is bounded by the concurrency and
//! the caps, not by the size of the cluster: a fast API server simply waits for the disk.

use std::io::Write;
use std::thread::JoinHandle;

use kubesnap_shared::BundleWriter;
use kubesnap_shared::manifest::Failure;
use tokio::sync::mpsc;

use crate::progress::Progress;

/// What one entry counts towards in the final summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tally {
    /// A resource list holding this many objects.
    Objects(u64),
    /// A container log.
    Log,
    /// A metrics series holding this many samples.
    Samples(u64),
    /// Anything else (version, discovery, kubelet stats, watched events).
    Other,
}

/// One instruction for the writer thread.
#[derive(Debug)]
enum Message {
    Entry {
        path: String,
        data: Vec<u8>,
        truncation: Option<String>,
        tally: Tally,
    },
    Failure(Failure),
    Redaction {
        rule: String,
        file: String,
        count: u64,
    },
    /// No more messages will be accepted; those already queued are still written.
    Close,
}

/// The writer thread stopped (it failed to write, and said why in [`SinkOutcome::error`]).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the bundle writer stopped")]
pub(crate) struct SinkClosed;

/// The sending side; cheap to clone, one per task.
#[derive(Debug, Clone)]
pub(crate) struct Sink {
    tx: mpsc::Sender<Message>,
}

/// Counts for the final summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) objects: u64,
    pub(crate) logs: u64,
    pub(crate) samples: u64,
    pub(crate) entries: u64,
    pub(crate) failures: u64,
    pub(crate) redactions: u64,
    /// Uncompressed bytes of the entries.
    pub(crate) bytes: u64,
}

/// What the writer thread hands back: the writer (to be finished by the caller, who knows
/// whether the bundle is complete), the totals, and the write error that stopped it, if any.
#[derive(Debug)]
pub(crate) struct SinkOutcome<W: Write> {
    pub(crate) writer: BundleWriter<W>,
    pub(crate) totals: Totals,
    pub(crate) error: Option<kubesnap_shared::Error>,
}

/// The writer thread, to be joined once every [`Sink`] is dropped.
#[derive(Debug)]
pub(crate) struct SinkThread<W: Write> {
    handle: JoinHandle<SinkOutcome<W>>,
}

/// Starts the writer thread with room for `capacity` messages in flight.
pub(crate) fn spawn<W: Write + Send + 'static>(
    writer: BundleWriter<W>,
    capacity: usize,
    progress: Progress,
) -> std::io::Result<(Sink, SinkThread<W>)> {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let handle = std::thread::Builder::new()
        .name("bundle-writer".to_owned())
        .spawn(move || run(writer, rx, &progress))?;
    Ok((Sink { tx }, SinkThread { handle }))
}

fn run<W: Write>(
    mut writer: BundleWriter<W>,
    mut rx: mpsc::Receiver<Message>,
    progress: &Progress,
) -> SinkOutcome<W> {
    let mut totals = Totals::default();
    let mut error = None;
    while let Some(message) = rx.blocking_recv() {
        match message {
            Message::Entry { path, data, truncation, tally } => {
                let result = match &truncation {
                    Some(why) => writer.add_truncated(&path, &data, why),
                    None => writer.add(&path, &data),
                };
                if let Err(err) = result {
                    error = Some(err);
                    // Dropping the receiver makes every sender fail, which stops the
                    // collection instead of filling a channel nobody drains.
                    break;
                }
                totals.entries += 1;
                totals.bytes += data.len() as u64;
                progress.wrote(data.len() as u64);
                match tally {
                    Tally::Objects(n_objects) => totals.objects += n_objects,
                    Tally::Log => totals.logs += 1,
                    Tally::Samples(n_samples) => totals.samples += n_samples,
                    Tally::Other => {}
                }
            }
            Message::Failure(failure) => {
                totals.failures += 1;
                progress.failed();
                writer.record_failure(failure);
            }
            Message::Redaction { rule, file, count } => {
                totals.redactions += count;
                writer.record_redactions(&rule, &file, count);
            }
            // Tasks that outlived the grace period of a cancelled run may still hold a
            // sender; closing lets the thread end without waiting for them.
            Message::Close => rx.close(),
        }
    }
    SinkOutcome { writer, totals, error }
}

impl Sink {
    /// Queues a complete entry.
    pub(crate) async fn add(&self, path: String, data: Vec<u8>, tally: Tally) -> Result<(), SinkClosed> {
        self.send(Message::Entry { path, data, truncation: None, tally }).await
    }

    /// Queues an entry a cap cut short; `truncation` says which cap.
    pub(crate) async fn add_truncated(
        &self,
        path: String,
        data: Vec<u8>,
        truncation: String,
        tally: Tally,
    ) -> Result<(), SinkClosed> {
        self.send(Message::Entry { path, data, truncation: Some(truncation), tally }).await
    }

    /// Records something that could not be collected.
    pub(crate) async fn failure(&self, failure: Failure) -> Result<(), SinkClosed> {
        tracing::info!(what = %failure.what, scope = %failure.scope, namespace = ?failure.namespace, kind = ?failure.kind, "{}", failure.message);
        self.send(Message::Failure(failure)).await
    }

    /// Records what redaction replaced in one file.
    pub(crate) async fn redactions(&self, file: &str, counts: Vec<(String, u64)>) -> Result<(), SinkClosed> {
        for (rule, count) in counts {
            self.send(Message::Redaction { rule, file: file.to_owned(), count }).await?;
        }
        Ok(())
    }

    /// Tells the thread to write what is queued and stop accepting more.
    pub(crate) async fn close(&self) -> Result<(), SinkClosed> {
        self.send(Message::Close).await
    }

    async fn send(&self, message: Message) -> Result<(), SinkClosed> {
        self.tx.send(message).await.map_err(|_| SinkClosed)
    }
}

impl<W: Write> SinkThread<W> {
    /// Waits for the thread to drain the channel (every [`Sink`] must be dropped first).
    pub(crate) fn join(self) -> anyhow::Result<SinkOutcome<W>> {
        self.handle.join().map_err(|_| anyhow::anyhow!("the bundle writer thread panicked"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use kubesnap_shared::manifest::{ClusterInfo, FailureKind, Tool};
    use kubesnap_shared::writer::BundleHeader;
    use kubesnap_shared::{Bundle, Limits};

    use super::*;

    fn header() -> BundleHeader {
        BundleHeader {
            root: "kubesnap-test".to_owned(),
            tool: Tool { name: "kubesnap-collect".to_owned(), version: "0".to_owned() },
            cluster: ClusterInfo::default(),
            options: BTreeMap::new(),
            started_at: jiff::Timestamp::UNIX_EPOCH,
            compression: 1,
        }
    }

    #[test]
    fn entries_from_many_tasks_land_in_one_readable_bundle() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("b.tar.gz");
        let writer = BundleWriter::new(std::fs::File::create(&path)?, header())?;
        // Capacity 1: every sender waits for the thread, which is what bounds memory.
        let (sink, thread) = spawn(writer, 1, Progress::hidden())?;
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        runtime.block_on(async {
            let mut tasks = Vec::new();
            for task in 0..8 {
                let sink = sink.clone();
                tasks.push(tokio::spawn(async move {
                    for i in 0..25 {
                        let path = format!("logs/ns/pod-{task}/c{i}.log");
                        sink.add(path, vec![b'x'; 100], Tally::Log).await?;
                    }
                    sink.failure(Failure {
                        what: "logs".into(),
                        scope: format!("pod-{task}"),
                        namespace: None,
                        kind: FailureKind::Timeout,
                        status: None,
                        message: "slow".into(),
                    })
                    .await?;
                    sink.redactions("logs/ns/x.log", vec![("jwt".to_owned(), 2)]).await
                }));
            }
            for task in tasks {
                task.await??;
            }
            Ok::<_, anyhow::Error>(())
        })?;
        drop(sink);
        let outcome = thread.join()?;
        assert!(outcome.error.is_none());
        assert_eq!(outcome.totals.logs, 200);
        assert_eq!(outcome.totals.failures, 8);
        assert_eq!(outcome.totals.bytes, 20_000);
        outcome.writer.finish()?;

        let read =
            Bundle::open(&path, Limits::default())?.read(|_entry| Ok::<_, kubesnap_shared::Error>(()))?;
        let read = read.into_strict()?;
        let manifest = read.manifest.ok_or_else(|| anyhow::anyhow!("no manifest"))?;
        assert!(manifest.complete);
        // The 200 logs and format.json.
        assert_eq!(manifest.files.len(), 201);
        assert_eq!(manifest.failures.len(), 8);
        assert_eq!(manifest.redactions.len(), 1);
        assert_eq!(manifest.redactions[0].count, 16);
        Ok(())
    }

    #[test]
    fn a_write_error_stops_the_thread_and_fails_the_senders() -> anyhow::Result<()> {
        let writer = BundleWriter::new(Vec::new(), header())?;
        let (sink, thread) = spawn(writer, 1, Progress::hidden())?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let second = runtime.block_on(async {
            sink.add("a.json".to_owned(), b"{}".to_vec(), Tally::Other).await?;
            // A duplicate path is refused by the writer, which stops the thread.
            sink.add("a.json".to_owned(), b"{}".to_vec(), Tally::Other).await?;
            // Give the thread time to stop, then the next send must fail.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            sink.add("b.json".to_owned(), b"{}".to_vec(), Tally::Other).await
        });
        assert!(second.is_err());
        drop(sink);
        let outcome = thread.join()?;
        assert!(matches!(outcome.error, Some(kubesnap_shared::Error::DuplicateWrite { .. })));
        assert_eq!(outcome.totals.entries, 1);
        Ok(())
    }
}
