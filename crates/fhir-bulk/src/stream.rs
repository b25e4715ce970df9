//! The streams: files downloaded in parallel into a bounded channel of batches, then checked
//! ([`BulkClient::lines`]) or decoded ([`BulkClient::records`]) on the blocking pool. A byte
//! budget (a semaphore of bytes) bounds what is held between the downloads and the consumer,
//! however long the lines.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use fhir_core::Resource;
use futures::stream::{self, BoxStream, Stream, StreamExt as _};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinHandle;

use crate::download::{Batch, BatchSink, FilePolicy, Resume, download};
use crate::error::BulkError;
use crate::event::Event;
use crate::job::BulkClient;
use crate::manifest::Manifest;
use crate::record::{Line, Record, check_batch, decode_batch};

/// Batches decoded at once on the blocking pool (two cores: two, and one queued).
const DECODE_AHEAD: usize = 3;

/// A batch and its share of the byte budget, given back when its lines are consumed.
type Held = (Batch, OwnedSemaphorePermit);

/// Batches of every file, as downloads produce them; dropping it stops the downloads.
struct Batches {
    receiver: mpsc::Receiver<Result<Held, BulkError>>,
    driver: Option<JoinHandle<()>>,
}

impl Drop for Batches {
    fn drop(&mut self) {
        if let Some(driver) = &self.driver {
            driver.abort();
        }
    }
}

impl Stream for Batches {
    type Item = Result<Held, BulkError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.receiver.poll_recv(cx)
    }
}

struct ChannelSink {
    sender: mpsc::Sender<Result<Held, BulkError>>,
    budget: Arc<Semaphore>,
    limit: usize,
}

impl BatchSink for ChannelSink {
    async fn accept(&mut self, batch: Batch) -> Result<(), BulkError> {
        let stopped = || BulkError::Stopped {
            reason: "the stream was dropped".to_owned(),
        };
        // A batch over the whole budget takes all of it: it waits until nothing else is held.
        let share = u32::try_from(batch.bytes.min(self.limit)).unwrap_or(u32::MAX);
        let permit = Arc::clone(&self.budget)
            .acquire_many_owned(share)
            .await
            .map_err(|_| stopped())?;
        self.sender
            .send(Ok((batch, permit)))
            .await
            .map_err(|_| stopped())
    }
}

/// The items of one batch; holding the batch's permit until the last is taken.
struct Release<T> {
    items: std::vec::IntoIter<T>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl<T> Iterator for Release<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.items.next()
    }
}

fn release<T>(items: Vec<T>, permit: Option<OwnedSemaphorePermit>) -> Release<T> {
    Release {
        items: items.into_iter(),
        _permit: permit,
    }
}

impl BulkClient {
    fn batches(&self, manifest: &Manifest) -> Batches {
        let (sender, receiver) = mpsc::channel(self.config.channel_batches);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // Not inside a runtime: the stream says so instead of panicking.
            let _ = sender.try_send(Err(BulkError::Stopped {
                reason: "the streams must be created inside a Tokio runtime".to_owned(),
            }));
            return Batches {
                receiver,
                driver: None,
            };
        };
        let files = manifest.files();
        let policy = FilePolicy::new(self, manifest);
        let bulk = self.clone();
        let concurrency = self.config.concurrency;
        let limit = self.config.max_buffered_bytes;
        let budget = Arc::new(Semaphore::new(limit));
        let driver = runtime.spawn(async move {
            stream::iter(files)
                .for_each_concurrent(concurrency, |file| {
                    let sender = sender.clone();
                    let bulk = &bulk;
                    let policy = &policy;
                    let budget = &budget;
                    async move {
                        let mut sink = ChannelSink {
                            sender: sender.clone(),
                            budget: Arc::clone(budget),
                            limit,
                        };
                        if let Err(err) =
                            download(bulk, &file, policy, Resume::default(), &mut sink).await
                        {
                            if matches!(err, BulkError::Stopped { .. }) {
                                return;
                            }
                            tracing::warn!(error = %err, "file failed");
                            bulk.config.emit(Event::Error {
                                file: Some(file.clone()),
                                message: err.to_string(),
                            });
                            let _ = sender.send(Err(err)).await;
                        }
                    }
                })
                .await;
        });
        Batches {
            receiver,
            driver: Some(driver),
        }
    }

    /// Every line of every file of `manifest` (outputs, then deleted and error files, up to
    /// [`concurrency`](crate::BulkConfig::concurrency) at a time and interleaved), each
    /// checked to be JSON with the file's `resourceType`. A failed file yields its error
    /// and the others go on; drop the stream to stop.
    ///
    /// Create and poll it inside a Tokio runtime (downloads are spawned on it); outside one,
    /// the stream yields [`BulkError::Stopped`].
    pub fn lines(&self, manifest: &Manifest) -> BoxStream<'static, Result<Line, BulkError>> {
        self.batches(manifest)
            .map(|item| async move {
                match item {
                    Ok((batch, permit)) => {
                        let lines = tokio::task::spawn_blocking(move || check_batch(batch))
                            .await
                            .unwrap_or_else(|err| vec![Err(stopped(&err))]);
                        release(lines, Some(permit))
                    }
                    Err(err) => release(vec![Err(err)], None),
                }
            })
            .buffered(DECODE_AHEAD)
            .flat_map(stream::iter)
            .boxed()
    }

    /// Every line of every file of `manifest` decoded: output lines as `T` (any
    /// [`Resource`]: `serde_json::Value`, `fhir_core::RawJson`, an `fhir-r4` model) with
    /// their `resourceType` checked, deleted files' Bundles as one [`Record::Deleted`] per
    /// entry, error files' lines as [`Record::Outcome`].
    ///
    /// Lines are decoded in batches on Tokio's blocking pool, a few batches ahead of the
    /// consumer; downloads wait when the bounded channel is full, so memory stays flat
    /// however large the export.
    pub fn records<T: Resource + Send + 'static>(
        &self,
        manifest: &Manifest,
    ) -> BoxStream<'static, Result<Record<T>, BulkError>> {
        self.batches(manifest)
            .map(|item| async move {
                match item {
                    Ok((batch, permit)) => {
                        let records = tokio::task::spawn_blocking(move || decode_batch::<T>(batch))
                            .await
                            .unwrap_or_else(|err| vec![Err(stopped(&err))]);
                        release(records, Some(permit))
                    }
                    Err(err) => release(vec![Err(err)], None),
                }
            })
            .buffered(DECODE_AHEAD)
            .flat_map(stream::iter)
            .boxed()
    }
}

fn stopped(err: &tokio::task::JoinError) -> BulkError {
    BulkError::Stopped {
        reason: format!("a decoding task stopped: {err}"),
    }
}
