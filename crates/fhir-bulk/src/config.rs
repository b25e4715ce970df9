//! [`BulkConfig`]: waits, limits, parallelism and where the token may go.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use fhir_core::retry::{Timer, TokioTimer};
use url::Url;

use crate::event::Event;

/// A callback receiving every [`Event`] of an export.
pub type EventHandler = Arc<dyn Fn(&Event) + Send + Sync>;

/// How a Bulk Data export waits, retries and bounds itself.
///
/// The defaults: polls wait what the server's `Retry-After` asks, clamped to 1 s – 120 s,
/// otherwise back off exponentially from 1 s to 60 s; a job may take 24 h; 10 transient
/// failures in a row end it. Manifests: up to 32 MiB per page, 10,000 pages, 100,000 files.
/// Files: 4 in parallel, 5 retries each, lines up to 16 MiB, files up to 64 GiB
/// (decompressed), `count` checked; at most 64 MiB of lines held ahead of the consumer.
#[derive(Clone)]
#[must_use]
pub struct BulkConfig {
    pub(crate) min_wait: Duration,
    pub(crate) max_retry_after: Duration,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) max_wait: Option<Duration>,
    pub(crate) max_transient: u32,
    pub(crate) concurrency: usize,
    pub(crate) download_retries: u32,
    pub(crate) download_timeout: Duration,
    pub(crate) max_line_bytes: usize,
    pub(crate) max_file_bytes: u64,
    pub(crate) max_manifest_pages: usize,
    pub(crate) max_manifest_bytes: usize,
    pub(crate) max_manifest_files: usize,
    pub(crate) max_buffered_bytes: usize,
    pub(crate) token_origins: Vec<url::Origin>,
    pub(crate) strict_counts: bool,
    pub(crate) batch_bytes: usize,
    pub(crate) channel_batches: usize,
    pub(crate) timer: Arc<dyn Timer>,
    pub(crate) events: Option<EventHandler>,
}

impl fmt::Debug for BulkConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkConfig")
            .field("min_wait", &self.min_wait)
            .field("max_retry_after", &self.max_retry_after)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("max_wait", &self.max_wait)
            .field("concurrency", &self.concurrency)
            .field("download_retries", &self.download_retries)
            .field("max_line_bytes", &self.max_line_bytes)
            .field("max_file_bytes", &self.max_file_bytes)
            .field("max_manifest_pages", &self.max_manifest_pages)
            .field("max_manifest_bytes", &self.max_manifest_bytes)
            .field("max_manifest_files", &self.max_manifest_files)
            .field("max_buffered_bytes", &self.max_buffered_bytes)
            .field("token_origins", &self.token_origins)
            .field("strict_counts", &self.strict_counts)
            .finish_non_exhaustive()
    }
}

impl Default for BulkConfig {
    fn default() -> Self {
        Self {
            min_wait: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(120),
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            max_wait: Some(Duration::from_secs(24 * 3600)),
            max_transient: 10,
            concurrency: 4,
            download_retries: 5,
            download_timeout: Duration::from_secs(3600),
            max_line_bytes: 16 << 20,
            max_file_bytes: 64 << 30,
            max_manifest_pages: 10_000,
            max_manifest_bytes: 32 << 20,
            max_manifest_files: 100_000,
            max_buffered_bytes: 64 << 20,
            token_origins: Vec::new(),
            strict_counts: true,
            batch_bytes: 256 << 10,
            channel_batches: 8,
            timer: Arc::new(TokioTimer),
            events: None,
        }
    }
}

impl BulkConfig {
    /// The defaults (see the type's docs).
    pub fn new() -> Self {
        Self::default()
    }

    /// The range a server's `Retry-After` is clamped to (default 1 s – 120 s): a value below is
    /// raised to `min` (no busy polling), one above lowered to `max` (servers have asked for
    /// hours, or sent epoch milliseconds). `min` is also the shortest backoff.
    pub fn retry_after_range(mut self, min: Duration, max: Duration) -> Self {
        self.min_wait = min.min(max);
        self.max_retry_after = max.max(min);
        self
    }

    /// The exponential backoff used when the server gives no `Retry-After` (default 1 s
    /// doubling up to 60 s), for polls and retries alike.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// How long a job may take from kick-off (or resume) to the complete manifest (default
    /// 24 h; `None`: no limit).
    pub fn max_wait(mut self, max: Option<Duration>) -> Self {
        self.max_wait = max;
        self
    }

    /// How many transient failures in a row (429, `transient` OperationOutcomes, 5xx without
    /// an outcome, lost connections) polling survives (default 10).
    pub fn max_transient_errors(mut self, max: u32) -> Self {
        self.max_transient = max;
        self
    }

    /// How many files download at once (default 4; at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// How often one file's download is retried after a transient failure (default 5). Each
    /// retry resumes with `Range` where the server allows it.
    pub fn download_retries(mut self, retries: u32) -> Self {
        self.download_retries = retries;
        self
    }

    /// The timeout of one download attempt, body included (default 1 h); a file that takes
    /// longer resumes where it stopped.
    pub fn download_timeout(mut self, timeout: Duration) -> Self {
        self.download_timeout = timeout;
        self
    }

    /// The longest NDJSON line (default 16 MiB); a longer one is
    /// [`BulkError::LineTooLong`](crate::BulkError::LineTooLong).
    pub fn max_line_bytes(mut self, max: usize) -> Self {
        self.max_line_bytes = max.max(1);
        self
    }

    /// The largest file, decompressed (default 64 GiB); a larger one is
    /// [`BulkError::FileTooLarge`](crate::BulkError::FileTooLarge).
    pub fn max_file_bytes(mut self, max: u64) -> Self {
        self.max_file_bytes = max;
        self
    }

    /// Bounds on the manifest (defaults 32 MiB per page, 10,000 pages, 100,000 files in all):
    /// a larger page fails with [`BulkError::Http`](crate::BulkError::Http) (response too
    /// large), more pages with [`BulkError::ManifestPages`](crate::BulkError::ManifestPages),
    /// more files with [`BulkError::InvalidManifest`](crate::BulkError::InvalidManifest).
    pub fn manifest_limits(mut self, page_bytes: usize, pages: usize, files: usize) -> Self {
        self.max_manifest_bytes = page_bytes.max(1);
        self.max_manifest_pages = pages.max(1);
        self.max_manifest_files = files;
        self
    }

    /// Another origin that may receive the access token for files when the manifest says
    /// `requiresAccessToken: true` (the FHIR server's own origin always may). Without it,
    /// files elsewhere are fetched without a token.
    ///
    /// # Errors
    ///
    /// [`BulkError::InvalidRequest`](crate::BulkError::InvalidRequest) when `origin` is not
    /// an absolute URL.
    pub fn allow_token_origin(mut self, origin: &str) -> Result<Self, crate::BulkError> {
        let url = Url::parse(origin).map_err(|_| {
            crate::BulkError::invalid_request("the token origin is not an absolute URL")
        })?;
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        // A token never goes over plain HTTP, loopback aside (tests, local proxies).
        if !(url.scheme() == "https" || (url.scheme() == "http" && loopback)) {
            return Err(crate::BulkError::invalid_request(
                "a token origin must be https (or http on a loopback host)",
            ));
        }
        self.token_origins.push(url.origin());
        Ok(self)
    }

    /// Whether a file whose line count differs from the manifest's `count` is an error
    /// (default `true`); otherwise the mismatch is only an [`Event::Warning`].
    pub fn strict_counts(mut self, strict: bool) -> Self {
        self.strict_counts = strict;
        self
    }

    /// Memory per batch of lines handed to consumers, and the batches in flight (default
    /// 256 KiB × 8).
    pub fn buffering(mut self, batch_bytes: usize, batches: usize) -> Self {
        self.batch_bytes = batch_bytes.max(1);
        self.channel_batches = batches.max(1);
        self
    }

    /// The most bytes of lines the streams hold ahead of the consumer, in the channel and in
    /// decoding, whatever the size of the lines (default 64 MiB). A batch larger than this
    /// (one huge line) waits until nothing else is held. Each download also buffers up to one
    /// line ([`max_line_bytes`](Self::max_line_bytes)) while it arrives.
    pub fn max_buffered_bytes(mut self, max: usize) -> Self {
        self.max_buffered_bytes = max.clamp(1, u32::MAX as usize);
        self
    }

    /// The clock and sleep (tests inject one that never waits).
    pub fn timer(mut self, timer: impl Timer + 'static) -> Self {
        self.timer = Arc::new(timer);
        self
    }

    /// A callback for progress [`Event`]s.
    pub fn on_event(mut self, handler: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.events = Some(Arc::new(handler));
        self
    }

    pub(crate) fn emit(&self, event: Event) {
        if let Some(handler) = &self.events {
            handler(&event);
        }
    }

    /// The wait before attempt `retry` (0-based) of something that failed or is in progress:
    /// the server's `Retry-After` clamped to the range, or the backoff.
    pub(crate) fn wait(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(asked) => asked.clamp(self.min_wait, self.max_retry_after),
            None => self
                .initial_backoff
                .saturating_mul(2u32.saturating_pow(retry.min(31)))
                .clamp(self.min_wait, self.max_backoff.max(self.min_wait)),
        }
    }
}

#[cfg(test)]
mod tests;
