//! [`BulkClient`] (kick-off, resume) and [`ExportJob`] (status polling, manifest pages,
//! cancel).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use fhir_core::exchange::{CredentialScope, HttpRequest, HttpResponse};
use fhir_core::{Client, OperationOutcome};
use http::{Method, StatusCode, header};
use tracing::Instrument as _;
use url::Url;

use crate::config::BulkConfig;
use crate::error::BulkError;
use crate::event::{Correlation, Event, RetryTarget, bounded_text};
use crate::manifest::Manifest;
use crate::request::{ExportRequest, FHIR_JSON};
use crate::requested::Requested;

/// A Bulk Data client: a [`fhir_core::Client`] (its base URL, auth provider, limits) and a
/// [`BulkConfig`]. Cheap to clone.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use fhir_bulk::{BulkClient, ExportRequest};
///
/// let client = fhir_core::Client::new("https://fhir.example.org/r4")?;
/// let bulk = BulkClient::new(client);
/// let job = bulk.kick_off(&ExportRequest::patient().types(["Patient"])).await?;
/// println!("status URL: {}", job.status_url());
/// let manifest = job.wait().await?;
/// println!("{} files", manifest.output.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BulkClient {
    pub(crate) client: Client,
    pub(crate) config: Arc<BulkConfig>,
}

impl BulkClient {
    /// A Bulk Data client with the default [`BulkConfig`].
    pub fn new(client: Client) -> Self {
        Self::with_config(client, BulkConfig::default())
    }

    /// A Bulk Data client with `config`.
    pub fn with_config(client: Client, config: BulkConfig) -> Self {
        Self {
            client,
            config: Arc::new(config),
        }
    }

    /// The FHIR client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The configuration.
    pub fn config(&self) -> &BulkConfig {
        &self.config
    }

    /// Where status, cancel and manifest-page requests may carry the token: the FHIR
    /// server's origin and the allowed ones.
    pub(crate) fn server_scope(&self) -> CredentialScope {
        let mut origins = vec![self.client.base_url().origin()];
        origins.extend(self.config.token_origins.iter().cloned());
        CredentialScope::Origins(origins)
    }

    /// Sends the kick-off request: `Accept: application/fhir+json`, `Prefer: respond-async`,
    /// GET with query parameters or POST with a `Parameters` body. A `429` is retried after
    /// its (clamped) `Retry-After`.
    ///
    /// # Errors
    ///
    /// [`BulkError::KickOffRefused`] with the server's OperationOutcome for a 4xx/5xx,
    /// [`BulkError::NoStatusUrl`] for another answer, [`BulkError::InvalidRequest`] for a bad
    /// request, [`BulkError::Http`] for transport failures.
    pub async fn kick_off(&self, request: &ExportRequest) -> Result<ExportJob, BulkError> {
        let span = tracing::info_span!("bulk.kick_off", level = ?request.level(), method = %request.method());
        self.kick_off_inner(request).instrument(span).await
    }

    async fn kick_off_inner(&self, request: &ExportRequest) -> Result<ExportJob, BulkError> {
        let url = request.url(self.client.base_url())?;
        let mut http = HttpRequest::new(request.method(), url)
            .header("accept", FHIR_JSON)?
            .header("prefer", request.prefer())?
            .no_retries();
        if request.method() == Method::POST {
            let body = serde_json::to_vec(&request.parameters()?)
                .map_err(|err| BulkError::invalid_request(err.to_string()))?;
            http = http.body(FHIR_JSON, body)?;
        }
        let mut retry = 0;
        let response = loop {
            let response = self.client.send_http(http.clone()).await?;
            if response.status() == StatusCode::TOO_MANY_REQUESTS
                && retry < self.config.max_transient
            {
                let wait = self.config.wait(retry, response.retry_after());
                retry += 1;
                self.config.emit(Event::Retry {
                    target: RetryTarget::KickOff,
                    attempt: retry,
                    wait,
                    reason: "429 Too Many Requests".to_owned(),
                });
                self.config.timer.sleep(wait).await;
                continue;
            }
            break response;
        };
        let status = response.status();
        let correlation = Correlation::from_headers(response.headers());
        if status != StatusCode::ACCEPTED {
            if status.is_client_error() || status.is_server_error() {
                return Err(BulkError::KickOffRefused(response.into_error()));
            }
            return Err(BulkError::NoStatusUrl {
                status: status.as_u16(),
            });
        }
        let status_url = response
            .headers()
            .get(header::CONTENT_LOCATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|location| crate::manifest::resolve(response.url(), location.trim()))
            .ok_or(BulkError::NoStatusUrl {
                status: status.as_u16(),
            })?;
        tracing::info!(status_url = %fhir_core::credentials::redact_url(&status_url), %correlation, "export accepted");
        self.config.emit(Event::KickedOff {
            status_url: fhir_core::credentials::redact_url(&status_url),
            correlation,
        });
        Ok(ExportJob {
            bulk: self.clone(),
            status_url,
            requested: Some(Requested::from(request)),
        })
    }

    /// The job behind `status_url`, to poll, wait for or cancel: resumes a job started by an
    /// earlier run from its status URL alone.
    ///
    /// # Errors
    ///
    /// [`BulkError::InvalidRequest`] when `status_url` is not an absolute `http(s)` URL.
    pub fn job(&self, status_url: &str) -> Result<ExportJob, BulkError> {
        let url = Url::parse(status_url)
            .ok()
            .and_then(|url| crate::manifest::resolve(self.client.base_url(), url.as_str()))
            .ok_or_else(|| {
                BulkError::invalid_request(
                    "the status URL is not an http(s) URL, or is plain http for an https server",
                )
            })?;
        self.config.emit(Event::Resumed {
            status_url: fhir_core::credentials::redact_url(&url),
        });
        Ok(ExportJob {
            bulk: self.clone(),
            status_url: url,
            requested: None,
        })
    }
}

/// What one status request said.
#[derive(Debug)]
#[non_exhaustive]
pub enum JobStatus {
    /// `202`: still running.
    InProgress {
        /// `X-Progress`, masked and cut to 256 bytes.
        progress: Option<String>,
        /// The server's `Retry-After`, as asked (not clamped).
        retry_after: Option<Duration>,
        /// The response's correlation headers.
        correlation: Correlation,
    },
    /// A failure that may pass: 429, an OperationOutcome whose issues are all `transient`,
    /// a 5xx without an outcome.
    Transient {
        /// The error the server answered.
        error: fhir_core::Error,
        /// The server's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// `200`: the manifest.
    Complete(Box<Manifest>),
}

/// An export job on the server, known by its status URL.
///
/// Dropping it leaves the job running (it can be resumed with [`BulkClient::job`]); to
/// cancel it when the value is dropped, wrap it with [`ExportJob::cancel_on_drop`].
///
/// Its `Debug` shows the status URL without its secrets.
#[derive(Clone)]
pub struct ExportJob {
    bulk: BulkClient,
    status_url: Url,
    /// What the kick-off asked, when this client sent it.
    requested: Option<Requested>,
}

impl std::fmt::Debug for ExportJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportJob")
            .field(
                "status_url",
                &fhir_core::credentials::redact_url(&self.status_url).as_str(),
            )
            .finish_non_exhaustive()
    }
}

impl ExportJob {
    /// The status URL (it may carry secrets: log [`fhir_core::credentials::redact_url`] of it).
    pub fn status_url(&self) -> &Url {
        &self.status_url
    }

    /// Records what the kick-off of a resumed job asked, so that its manifest's checks for
    /// ignored parameters know it (a POST kick-off's `request` URL carries none).
    #[must_use]
    pub fn with_request(mut self, request: &ExportRequest) -> Self {
        self.requested = Some(Requested::from(request));
        self
    }

    /// [`with_request`](Self::with_request) from what was saved.
    pub(crate) fn with_requested(mut self, requested: Requested) -> Self {
        self.requested = Some(requested);
        self
    }

    /// The client this job belongs to.
    pub fn bulk(&self) -> &BulkClient {
        &self.bulk
    }

    /// One status request (`Accept: application/json`), without waiting.
    ///
    /// # Errors
    ///
    /// [`BulkError::JobGone`] for 404/410, [`BulkError::JobFailed`] for an error answer that
    /// is not transient, [`BulkError::InvalidManifest`], [`BulkError::Http`].
    pub async fn poll(&self) -> Result<JobStatus, BulkError> {
        let response = self.request(Method::GET, self.status_url.clone()).await?;
        let mut status = interpret(response)?;
        if let JobStatus::Complete(manifest) = &mut status {
            self.attach_requested(manifest);
        }
        Ok(status)
    }

    /// Gives `manifest` what the kick-off asked, when this client knows it.
    pub(crate) fn attach_requested(&self, manifest: &mut Manifest) {
        if let Some(requested) = &self.requested {
            manifest.set_requested(requested.clone());
        }
    }

    async fn request(&self, method: Method, url: Url) -> Result<HttpResponse, BulkError> {
        let request = HttpRequest::new(method, url)
            .header("accept", "application/json")?
            .credentials(self.bulk.server_scope())
            .max_response_bytes(self.bulk.config.max_manifest_bytes)
            .no_retries();
        Ok(self.bulk.client.send_http(request).await?)
    }

    /// Polls until the job completes and returns its manifest, following manifest pages
    /// (`link` next) and merging them. Waits what `Retry-After` asks, clamped to the
    /// configured range, or backs off exponentially; 429s, transient outcomes and lost
    /// connections are retried up to the configured number in a row.
    ///
    /// # Errors
    ///
    /// As [`poll`](Self::poll), and [`BulkError::JobTimeout`], [`BulkError::ManifestPages`].
    pub async fn wait(&self) -> Result<Manifest, BulkError> {
        let span = tracing::info_span!("bulk.wait", status_url = %fhir_core::credentials::redact_url(&self.status_url));
        self.wait_inner().instrument(span).await
    }

    async fn wait_inner(&self) -> Result<Manifest, BulkError> {
        let config = &self.bulk.config;
        let started = config.timer.monotonic();
        let mut manifest = self.wait_for(&self.status_url, started).await?;
        let mut seen = HashSet::from([self.status_url.clone()]);
        let mut listed = HashSet::new();
        manifest.drop_repeated(&mut listed);
        let mut pages = 1;
        while manifest.file_count() <= config.max_manifest_files
            && let Some(next) = manifest.next_page(&self.status_url)
        {
            let mut key = next.clone();
            key.set_fragment(None);
            if !seen.insert(key) || pages >= config.max_manifest_pages {
                return Err(BulkError::ManifestPages {
                    limit: config.max_manifest_pages,
                });
            }
            pages += 1;
            let mut page = self.wait_for(&next, started).await?;
            page.drop_repeated(&mut listed);
            manifest.extend(page);
        }
        if manifest.file_count() > config.max_manifest_files {
            return Err(BulkError::InvalidManifest {
                reason: format!(
                    "the manifest lists more than {} files",
                    config.max_manifest_files
                ),
            });
        }
        self.attach_requested(&mut manifest);
        Ok(manifest)
    }

    /// Polls `url` (the status URL or a manifest page) until it answers a manifest.
    async fn wait_for(
        &self,
        url: &Url,
        started: std::time::Instant,
    ) -> Result<Manifest, BulkError> {
        let config = &self.bulk.config;
        let mut polls = 0u32;
        let mut transient = 0u32;
        loop {
            let mut correlation = Correlation::default();
            let status = match self.request(Method::GET, url.clone()).await {
                Ok(response) => {
                    correlation = Correlation::from_headers(response.headers());
                    interpret(response)?
                }
                // A lost connection or a timeout: the job itself is unaffected.
                Err(BulkError::Http(error)) if is_transport(&error) => JobStatus::Transient {
                    error,
                    retry_after: None,
                },
                Err(err) => return Err(err),
            };
            let wait = match status {
                JobStatus::Complete(manifest) => {
                    config.emit(Event::Manifest {
                        outputs: manifest.output.len(),
                        deleted: manifest.deleted.len(),
                        errors: manifest.error.len(),
                        requires_access_token: manifest.requires_access_token,
                        correlation,
                    });
                    return Ok(*manifest);
                }
                JobStatus::InProgress {
                    progress,
                    retry_after,
                    correlation,
                } => {
                    transient = 0;
                    let wait = config.wait(polls, retry_after);
                    polls = polls.saturating_add(1);
                    tracing::info!(progress = progress.as_deref().unwrap_or(""), ?retry_after, ?wait, %correlation, "export in progress");
                    config.emit(Event::Polled {
                        progress,
                        retry_after,
                        next_poll_in: wait,
                        correlation,
                    });
                    wait
                }
                JobStatus::Transient { error, retry_after } => {
                    if transient >= config.max_transient {
                        return Err(BulkError::JobFailed(error));
                    }
                    let wait = config.wait(transient, retry_after);
                    transient += 1;
                    tracing::warn!(error = %error, ?wait, "transient status error; retrying");
                    config.emit(Event::Retry {
                        target: RetryTarget::Status,
                        attempt: transient,
                        wait,
                        reason: error.to_string(),
                    });
                    wait
                }
            };
            if let Some(max) = config.max_wait {
                let waited = config.timer.monotonic().saturating_duration_since(started);
                if waited.saturating_add(wait) > max {
                    return Err(BulkError::JobTimeout { waited });
                }
            }
            config.timer.sleep(wait).await;
        }
    }

    /// Cancels the job (or releases its files): `DELETE` on the status URL. A job the server
    /// no longer knows (404/410) counts as cancelled.
    ///
    /// # Errors
    ///
    /// [`BulkError::JobFailed`] for another error answer, [`BulkError::Http`].
    pub async fn cancel(&self) -> Result<(), BulkError> {
        let response = self
            .request(Method::DELETE, self.status_url.clone())
            .await?;
        let status = response.status();
        if status.is_success() || status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            tracing::info!(%status, "export cancelled");
            self.bulk.config.emit(Event::Cancelled);
            Ok(())
        } else {
            Err(BulkError::JobFailed(response.into_error()))
        }
    }

    /// A guard that cancels the job (a `DELETE` spawned on the current Tokio runtime) when
    /// dropped, unless [`CancelOnDrop::disarm`] was called. Use it when an interrupted
    /// program must not leave a job running on the server.
    pub fn cancel_on_drop(self) -> CancelOnDrop {
        CancelOnDrop { job: Some(self) }
    }
}

/// Cancels its job when dropped (see [`ExportJob::cancel_on_drop`]).
#[derive(Debug)]
pub struct CancelOnDrop {
    job: Option<ExportJob>,
}

impl CancelOnDrop {
    /// The job.
    pub fn job(&self) -> Option<&ExportJob> {
        self.job.as_ref()
    }

    /// Keeps the job running: gives it back, and dropping the guard no longer cancels.
    pub fn disarm(mut self) -> Option<ExportJob> {
        self.job.take()
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(job) = self.job.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                if let Err(err) = job.cancel().await {
                    tracing::warn!(error = %err, "cancel on drop failed");
                }
            });
        }
    }
}

fn is_transport(error: &fhir_core::Error) -> bool {
    error.is_transport() || error.is_timeout()
}

/// What a status response means.
fn interpret(response: HttpResponse) -> Result<JobStatus, BulkError> {
    let status = response.status();
    match status {
        StatusCode::OK => {
            let mut manifest = Manifest::from_json_slice(response.body(), response.url())?;
            manifest.expires = response
                .headers()
                .get(header::EXPIRES)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| httpdate::parse_http_date(value).ok());
            Ok(JobStatus::Complete(Box::new(manifest)))
        }
        StatusCode::ACCEPTED => Ok(JobStatus::InProgress {
            progress: response
                .headers()
                .get("x-progress")
                .and_then(|value| value.to_str().ok())
                .map(bounded_text),
            retry_after: response.retry_after(),
            correlation: Correlation::from_headers(response.headers()),
        }),
        StatusCode::NOT_FOUND | StatusCode::GONE => Err(BulkError::JobGone(response.into_error())),
        _ if status.is_success() => Err(BulkError::InvalidManifest {
            reason: format!("the status request answered {status}"),
        }),
        _ => {
            let retry_after = response.retry_after();
            let error = response.into_error();
            let transient = status == StatusCode::TOO_MANY_REQUESTS
                || match error.operation_outcome() {
                    Some(outcome) => all_transient(outcome),
                    None => status.is_server_error(),
                };
            if transient {
                Ok(JobStatus::Transient { error, retry_after })
            } else {
                Err(BulkError::JobFailed(error))
            }
        }
    }
}

/// Whether every issue of `outcome` has code `transient` (IG: the job may still succeed).
fn all_transient(outcome: &OperationOutcome) -> bool {
    !outcome.issues().is_empty()
        && outcome
            .issues()
            .iter()
            .all(|issue| issue.code == "transient")
}
