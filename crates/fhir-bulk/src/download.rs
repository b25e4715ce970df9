//! Downloading one file: the token rule, retries with backoff honouring `Retry-After`,
//! `Range` resume, size caps, and lines handed on in batches.
//!
//! One file: one download's state (`Downloader`): an attempt, its refusals, `Range` resume
//! and the hand-off of lines change the same offsets and counters, and read as one loop.

use std::future::Future;

use bytes::Bytes;
use fhir_core::exchange::{CredentialScope, HttpRequest};
use http::StatusCode;
use tracing::Instrument as _;

use crate::error::BulkError;
use crate::event::{Correlation, Event, RetryTarget};
use crate::file::{FileKind, FileRef};
use crate::job::BulkClient;
use crate::lines::{Split, Splitter};
use crate::manifest::Manifest;
use crate::requested::{Requested, is_subsetted};

/// Complete lines of one file, in order.
#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) file: FileRef,
    /// The number (1-based) of the first line.
    pub(crate) first_line: u64,
    pub(crate) lines: Vec<Bytes>,
    /// The byte offset in the file after the last line of the batch.
    pub(crate) end_offset: u64,
    /// The bytes of the lines.
    pub(crate) bytes: usize,
}

/// Where lines go; a failure stops the download.
pub(crate) trait BatchSink: Send {
    fn accept(&mut self, batch: Batch) -> impl Future<Output = Result<(), BulkError>> + Send;
}

/// Where a download starts: 0, or where an earlier run stopped.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Resume {
    pub(crate) offset: u64,
    pub(crate) lines: u64,
}

/// What a finished download read.
#[derive(Debug)]
pub(crate) struct FileStats {
    pub(crate) bytes: u64,
    pub(crate) lines: u64,
    pub(crate) correlation: Correlation,
}

/// Why an attempt failed and whether another may succeed.
enum Failure {
    Retry {
        reason: String,
        retry_after: Option<std::time::Duration>,
        source: Option<fhir_core::Error>,
    },
    Fatal(BulkError),
}

/// What every file of one manifest is fetched and checked with.
#[derive(Debug, Clone)]
pub(crate) struct FilePolicy {
    /// The credential scope (F1, F2): the token only when the manifest requires it, and
    /// then only on the FHIR server's origin or an allowed one; never to storage hosts.
    scope: CredentialScope,
    /// What the kick-off asked, to report parameters the server ignored (K7).
    requested: Requested,
    /// The manifest's `requiresAccessToken`.
    requires_token: bool,
}

impl FilePolicy {
    pub(crate) fn new(bulk: &BulkClient, manifest: &Manifest) -> Self {
        Self {
            scope: if manifest.requires_access_token {
                bulk.server_scope()
            } else {
                CredentialScope::Never
            },
            requested: manifest.requested(),
            requires_token: manifest.requires_access_token,
        }
    }
}

/// Downloads `file` into `sink`, then checks its line count against `count`.
pub(crate) async fn download<S: BatchSink>(
    bulk: &BulkClient,
    file: &FileRef,
    policy: &FilePolicy,
    start: Resume,
    sink: &mut S,
) -> Result<FileStats, BulkError> {
    let span = tracing::info_span!(
        "bulk.download",
        kind = file.kind().as_str(),
        index = file.index(),
        resource_type = file.resource_type()
    );
    async {
        bulk.config.emit(Event::FileStarted {
            file: file.clone(),
            offset: start.offset,
        });
        let output = file.kind() == FileKind::Output;
        if output && policy.requested.excludes_type(file.resource_type()) {
            ignored(bulk, "_type", file, None);
        }
        let check_subset = output && policy.requested.subsets(file.resource_type());
        let stats = Downloader::new(bulk, file, policy, start, check_subset)
            .run(sink)
            .await?;
        if let Some(expected) = file.count()
            && expected != stats.lines
        {
            let mismatch = BulkError::CountMismatch {
                file: file.clone(),
                expected,
                actual: stats.lines,
            };
            if bulk.config.strict_counts {
                return Err(mismatch);
            }
            tracing::warn!(%mismatch, "count mismatch");
            bulk.config.emit(Event::Warning {
                file: Some(file.clone()),
                message: mismatch.to_string(),
            });
        }
        tracing::info!(bytes = stats.bytes, resources = stats.lines, correlation = %stats.correlation, "file downloaded");
        bulk.config.emit(Event::FileFinished {
            file: file.clone(),
            bytes: stats.bytes,
            resources: stats.lines,
            correlation: stats.correlation.clone(),
        });
        Ok(stats)
    }
    .instrument(span)
    .await
}

/// Reports a parameter the server seems to have ignored.
fn ignored(bulk: &BulkClient, parameter: &'static str, file: &FileRef, line: Option<u64>) {
    tracing::warn!(
        parameter,
        ?line,
        "the server seems to have ignored {parameter}"
    );
    bulk.config.emit(Event::ParameterIgnored {
        parameter,
        file: file.clone(),
        line,
    });
}

struct Downloader<'a> {
    bulk: &'a BulkClient,
    file: &'a FileRef,
    policy: &'a FilePolicy,
    /// Lines are checked for the `SUBSETTED` tag until one lacks it.
    check_subset: bool,
    /// Bytes and lines handed to the sink.
    delivered: Resume,
    /// Bytes read in this run (decompressed).
    bytes: u64,
    correlation: Correlation,
    short_retried: bool,
}

impl<'a> Downloader<'a> {
    fn new(
        bulk: &'a BulkClient,
        file: &'a FileRef,
        policy: &'a FilePolicy,
        start: Resume,
        check_subset: bool,
    ) -> Self {
        Self {
            bulk,
            file,
            policy,
            check_subset,
            delivered: start,
            bytes: 0,
            correlation: Correlation::default(),
            short_retried: false,
        }
    }

    async fn run<S: BatchSink>(mut self, sink: &mut S) -> Result<FileStats, BulkError> {
        let config = &self.bulk.config;
        let mut retry = 0u32;
        loop {
            let before = self.delivered.offset;
            let failure = match self.attempt(sink).await {
                Ok(()) => {
                    return Ok(FileStats {
                        bytes: self.bytes,
                        lines: self.delivered.lines,
                        correlation: self.correlation,
                    });
                }
                Err(Failure::Fatal(err)) => return Err(err),
                Err(Failure::Retry {
                    reason,
                    retry_after,
                    source,
                }) => (reason, retry_after, source),
            };
            let (reason, retry_after, source) = failure;
            // The retries count failures in a row: an attempt that delivered lines resets them.
            if self.delivered.offset > before {
                retry = 0;
            }
            if retry >= config.download_retries {
                return Err(match source {
                    Some(source) => BulkError::Download {
                        file: self.file.clone(),
                        source,
                    },
                    None => BulkError::Truncated {
                        file: self.file.clone(),
                        reason,
                    },
                });
            }
            let wait = config.wait(retry, retry_after);
            retry += 1;
            tracing::warn!(%reason, ?wait, retry, "download retried");
            config.emit(Event::Retry {
                target: RetryTarget::File(self.file.clone()),
                attempt: retry,
                wait,
                reason,
            });
            config.timer.sleep(wait).await;
        }
    }

    async fn attempt<S: BatchSink>(&mut self, sink: &mut S) -> Result<(), Failure> {
        let config = &self.bulk.config;
        let offset = self.delivered.offset;
        let fatal = |err: fhir_core::Error| Failure::Fatal(BulkError::Http(err));
        let mut request = HttpRequest::get(self.file.url().clone())
            .header("accept", "application/fhir+ndjson")
            .map_err(fatal)?
            .credentials(self.policy.scope.clone())
            .no_retries()
            // Error answers are read whole: they need not be large.
            .max_response_bytes(ERROR_BODY_LIMIT)
            .timeout(config.download_timeout);
        if offset > 0 {
            // Offsets count decompressed bytes: ask for the identity encoding.
            request = request
                .header("range", &format!("bytes={offset}-"))
                .and_then(|request| request.header("accept-encoding", "identity"))
                .map_err(fatal)?;
        }
        let response = match self.bulk.client.send_streaming(request).await {
            Ok(response) => response,
            Err(err) => return Err(self.retry_or_fatal(err, None)),
        };
        let response = match response {
            Ok(response) => response,
            Err(refused) => {
                let status = refused.status();
                self.correlation = Correlation::from_headers(refused.headers());
                return match status {
                    StatusCode::NOT_FOUND | StatusCode::GONE => {
                        Err(Failure::Fatal(BulkError::FileExpired {
                            file: self.file.clone(),
                            status: status.as_u16(),
                            source: Some(refused.into_error()),
                        }))
                    }
                    // Nothing after the offset: the earlier attempt had it all, if the
                    // server's length (`bytes */LENGTH`) says so.
                    StatusCode::RANGE_NOT_SATISFIABLE if offset > 0 => {
                        let length = refused
                            .headers()
                            .get(http::header::CONTENT_RANGE)
                            .and_then(|value| value.to_str().ok())
                            .and_then(|value| value.trim().strip_prefix("bytes */"))
                            .and_then(|length| length.trim().parse::<u64>().ok());
                        match length {
                            Some(length) if length != offset => {
                                Err(Failure::Fatal(BulkError::Truncated {
                                    file: self.file.clone(),
                                    reason: format!(
                                        "the server's file has {length} bytes where {offset} were already read: it changed"
                                    ),
                                }))
                            }
                            _ => Ok(()),
                        }
                    }
                    StatusCode::TOO_MANY_REQUESTS
                    | StatusCode::REQUEST_TIMEOUT
                    | StatusCode::INTERNAL_SERVER_ERROR
                    | StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT => {
                        let retry_after = refused.retry_after();
                        Err(Failure::Retry {
                            reason: format!("the server answered {status}"),
                            retry_after,
                            source: Some(refused.into_error()),
                        })
                    }
                    // A storage host's answer to a signed link past its lifetime.
                    StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN
                        if self.expired_link(refused.body()) =>
                    {
                        Err(Failure::Fatal(BulkError::FileExpired {
                            file: self.file.clone(),
                            status: status.as_u16(),
                            source: Some(refused.into_error()),
                        }))
                    }
                    // The file wanted the token this client would not send it: say so
                    // instead of a bare 401.
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN if self.token_withheld() => {
                        Err(Failure::Fatal(BulkError::TokenWithheld {
                            file: self.file.clone(),
                            status: status.as_u16(),
                            origin: self.file.url().origin().ascii_serialization(),
                            source: refused.into_error(),
                        }))
                    }
                    _ => Err(Failure::Fatal(BulkError::Download {
                        file: self.file.clone(),
                        source: refused.into_error(),
                    })),
                };
            }
        };
        self.correlation = Correlation::from_headers(response.headers());
        // A server that ignores Range sends the file from its start: skip what we have.
        let mut skip = offset;
        // The file's length as a 206 states it: a partial answer that stops short of it is
        // continued, not taken for the whole file.
        let mut range_total = None;
        if response.status() == StatusCode::PARTIAL_CONTENT {
            let content_range = response
                .headers()
                .get(http::header::CONTENT_RANGE)
                .and_then(|value| value.to_str().ok());
            let start = content_range.and_then(range_start);
            range_total = content_range.and_then(range_total_length);
            if start != Some(offset) {
                return Err(Failure::Fatal(BulkError::Truncated {
                    file: self.file.clone(),
                    reason: "the server resumed at another offset than asked".to_owned(),
                }));
            }
            skip = 0;
        }
        let mut body = response.into_body();
        let mut splitter = Splitter::new(config.max_line_bytes);
        let mut splits = Vec::new();
        let mut batch = self.new_batch();
        let mut position = offset;
        // A UTF-8 byte order mark opening the file is not part of its first line.
        let mut bom_left = if offset == 0 { BOM.len() } else { 0 };
        loop {
            let chunk = match body.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(err) => {
                    self.flush(&mut batch, sink).await?;
                    return Err(self.retry_or_fatal(err, None));
                }
            };
            self.bytes = self.bytes.saturating_add(chunk.len() as u64);
            let mut chunk: &[u8] = &chunk;
            if skip > 0 {
                let skipped = usize::try_from(skip).unwrap_or(usize::MAX).min(chunk.len());
                chunk = &chunk[skipped..];
                skip -= skipped as u64;
            }
            if bom_left > 0 && !chunk.is_empty() {
                let expected = &BOM[BOM.len() - bom_left..];
                let matched = expected
                    .iter()
                    .zip(chunk)
                    .take_while(|(want, got)| want == got)
                    .count();
                if matched == bom_left.min(chunk.len()) {
                    chunk = &chunk[matched..];
                    bom_left -= matched;
                    position += matched as u64;
                    batch.end_offset += matched as u64;
                } else {
                    bom_left = 0;
                }
            }
            if position.saturating_add(chunk.len() as u64) > config.max_file_bytes {
                return Err(Failure::Fatal(BulkError::FileTooLarge {
                    file: self.file.clone(),
                    limit: config.max_file_bytes,
                }));
            }
            position += chunk.len() as u64;
            let pushed = splitter.push(chunk, &mut splits);
            for split in splits.drain(..) {
                self.add(&mut batch, split);
            }
            if let Err(limit) = pushed {
                return Err(Failure::Fatal(BulkError::LineTooLong {
                    file: self.file.clone(),
                    line: batch.first_line + batch.lines.len() as u64,
                    limit,
                }));
            }
            if batch.bytes >= config.batch_bytes {
                self.flush(&mut batch, sink).await?;
            }
        }
        if let Some(total) = range_total
            && position < total
        {
            // The part ended before the file: keep the complete lines, ask for the rest.
            self.flush(&mut batch, sink).await?;
            return Err(Failure::Retry {
                reason: format!("the server sent {position} of {total} bytes"),
                retry_after: None,
                source: None,
            });
        }
        if let Some(last) = splitter.finish() {
            let complete = last
                .line
                .as_ref()
                .is_none_or(|line| serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok());
            if !complete {
                // The body ended inside a line: a truncated download, resumed from the last
                // complete line.
                self.flush(&mut batch, sink).await?;
                splitter.reset();
                return Err(Failure::Retry {
                    reason: "the file ended inside a line".to_owned(),
                    retry_after: None,
                    source: None,
                });
            }
            self.add(&mut batch, last);
        }
        self.flush(&mut batch, sink).await?;
        if let Some(count) = self.file.count()
            && self.delivered.lines < count
            && !self.short_retried
        {
            // Fewer lines than announced may be a connection cut at a line end: try once more
            // from here before reporting the mismatch.
            self.short_retried = true;
            return Err(Failure::Retry {
                reason: format!(
                    "{} lines where the manifest says {count}",
                    self.delivered.lines
                ),
                retry_after: None,
                source: None,
            });
        }
        Ok(())
    }

    /// Whether a 400 or 403 for the file says its signed link expired: only for a file no
    /// token went to (a storage host), and only in the words object stores use (S3 "Request
    /// has expired", GCS `ExpiredToken`, Azure "Signed expiry time"). The FHIR server's own
    /// refusals ("access token expired") and past `Expires` headers (an anti-cache habit)
    /// are not taken for it.
    fn expired_link(&self, body: &[u8]) -> bool {
        if self.token_allowed() {
            return false;
        }
        let head = body[..body.len().min(EXPIRY_SNIFF_BYTES)].to_ascii_lowercase();
        EXPIRED_LINK_WORDS
            .iter()
            .any(|words| memchr::memmem::find(&head, words.as_bytes()).is_some())
    }

    /// Whether this file's URL may receive the token (the manifest requires it and the
    /// origin is allowed).
    fn token_allowed(&self) -> bool {
        self.policy
            .scope
            .allows(self.bulk.client.base_url(), self.file.url())
    }

    /// Whether the manifest requires the token for files but this file's origin may not
    /// receive it.
    fn token_withheld(&self) -> bool {
        self.policy.requires_token && !self.token_allowed()
    }

    fn retry_or_fatal(
        &self,
        err: fhir_core::Error,
        retry_after: Option<std::time::Duration>,
    ) -> Failure {
        if err.is_transport() || err.is_timeout() {
            Failure::Retry {
                reason: err.to_string(),
                retry_after,
                source: Some(err),
            }
        } else {
            Failure::Fatal(BulkError::Download {
                file: self.file.clone(),
                source: err,
            })
        }
    }

    fn new_batch(&self) -> Batch {
        Batch {
            file: self.file.clone(),
            first_line: self.delivered.lines + 1,
            lines: Vec::new(),
            end_offset: self.delivered.offset,
            bytes: 0,
        }
    }

    fn add(&mut self, batch: &mut Batch, split: Split) {
        batch.end_offset += split.consumed;
        if let Some(line) = split.line {
            if self.check_subset && !is_subsetted(&line) {
                self.check_subset = false;
                let number = batch.first_line + batch.lines.len() as u64;
                ignored(self.bulk, "_elements", self.file, Some(number));
            }
            batch.bytes += line.len();
            batch.lines.push(line);
        }
    }

    /// Hands the batch to the sink; what it held now counts as delivered.
    async fn flush<S: BatchSink>(
        &mut self,
        batch: &mut Batch,
        sink: &mut S,
    ) -> Result<(), Failure> {
        if batch.end_offset == self.delivered.offset {
            return Ok(());
        }
        let next = Batch {
            file: self.file.clone(),
            first_line: batch.first_line + batch.lines.len() as u64,
            lines: Vec::new(),
            end_offset: batch.end_offset,
            bytes: 0,
        };
        let full = std::mem::replace(batch, next);
        let delivered = Resume {
            offset: full.end_offset,
            lines: self.delivered.lines + full.lines.len() as u64,
        };
        sink.accept(full).await.map_err(Failure::Fatal)?;
        self.delivered = delivered;
        Ok(())
    }
}

/// The most of an error answer to a file request that is read (its OperationOutcome).
const ERROR_BODY_LIMIT: usize = 1 << 20;

/// What object stores say about a signed link past its lifetime (lowercase).
const EXPIRED_LINK_WORDS: [&str; 5] = [
    "request has expired",
    "<code>expiredtoken</code>",
    "signed expiry time",
    "signature has expired",
    "url has expired",
];

/// How much of a refusal's body is searched for words of expiry.
const EXPIRY_SNIFF_BYTES: usize = 4096;

/// The UTF-8 byte order mark.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// The `LENGTH` of a `Content-Range: bytes START-END/LENGTH` (not `*`).
fn range_total_length(value: &str) -> Option<u64> {
    value.rsplit_once('/')?.1.trim().parse().ok()
}

/// The first byte of a `Content-Range: bytes START-END/LENGTH`.
fn range_start(value: &str) -> Option<u64> {
    let range = value.trim().strip_prefix("bytes")?.trim_start();
    range.split('-').next()?.trim().parse().ok()
}
