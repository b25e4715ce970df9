//! The streams: files downloaded in parallel into a bounded channel of batches, then checked
//! ([`BulkClient::lines`]) or decoded ([`BulkClient::records`]) on the blocking pool.

use std::pin::Pin;
use std::task::{Context, Poll};

use fhir_core::Resource;
use futures::stream::{self, BoxStream, Stream, StreamExt as _};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::download::{Batch, BatchSink, Resume, download, file_scope};
use crate::error::BulkError;
use crate::event::Event;
use crate::job::BulkClient;
use crate::manifest::Manifest;
use crate::record::{Line, Record, check_batch, decode_batch};

/// Batches decoded at once on the blocking pool (two cores: two, and one queued).
const DECODE_AHEAD: usize = 3;

/// Batches of every file, as downloads produce them; dropping it stops the downloads.
struct Batches {
    receiver: mpsc::Receiver<Result<Batch, BulkError>>,
    driver: JoinHandle<()>,
}

impl Drop for Batches {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl Stream for Batches {
    type Item = Result<Batch, BulkError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.receiver.poll_recv(cx)
    }
}

struct ChannelSink(mpsc::Sender<Result<Batch, BulkError>>);

impl BatchSink for ChannelSink {
    async fn accept(&mut self, batch: Batch) -> Result<(), BulkError> {
        self.0
            .send(Ok(batch))
            .await
            .map_err(|_| BulkError::Stopped {
                reason: "the stream was dropped".to_owned(),
            })
    }
}

impl BulkClient {
    fn batches(&self, manifest: &Manifest) -> Batches {
        let (sender, receiver) = mpsc::channel(self.config.channel_batches);
        let files = manifest.files();
        let scope = file_scope(self, manifest);
        let bulk = self.clone();
        let concurrency = self.config.concurrency;
        let driver = tokio::spawn(async move {
            stream::iter(files)
                .for_each_concurrent(concurrency, |file| {
                    let sender = sender.clone();
                    let bulk = &bulk;
                    let scope = &scope;
                    async move {
                        let mut sink = ChannelSink(sender.clone());
                        if let Err(err) =
                            download(bulk, &file, scope, Resume::default(), &mut sink).await
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
        Batches { receiver, driver }
    }

    /// Every line of every file of `manifest` (outputs, then deleted and error files, up to
    /// [`concurrency`](crate::BulkConfig::concurrency) at a time and interleaved), each
    /// checked to be JSON with the file's `resourceType`. A failed file yields its error
    /// and the others go on; drop the stream to stop.
    ///
    /// Must be polled inside a Tokio runtime (downloads are spawned on it).
    pub fn lines(&self, manifest: &Manifest) -> BoxStream<'static, Result<Line, BulkError>> {
        self.batches(manifest)
            .map(|item| async move {
                match item {
                    Ok(batch) => tokio::task::spawn_blocking(move || check_batch(batch))
                        .await
                        .unwrap_or_else(|err| vec![Err(stopped(&err))]),
                    Err(err) => vec![Err(err)],
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
                    Ok(batch) => tokio::task::spawn_blocking(move || decode_batch::<T>(batch))
                        .await
                        .unwrap_or_else(|err| vec![Err(stopped(&err))]),
                    Err(err) => vec![Err(err)],
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
