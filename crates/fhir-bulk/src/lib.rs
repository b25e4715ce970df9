//! A FHIR Bulk Data Access (`$export`) client (IG 2.0.0, with the 3.0 ballot's `_until`,
//! `organizeOutputBy`, `allowPartialManifests` and manifest pages) that streams typed
//! resources with flat memory, however large the export.
//!
//! # Contents
//!
//! - [The flow](#the-flow)
//! - [Consuming the data](#consuming-the-data)
//! - [Where the token goes](#where-the-token-goes)
//! - [Waits, retries and bounds](#waits-retries-and-bounds)
//! - [Resuming and cancelling](#resuming-and-cancelling)
//! - [Progress and logs](#progress-and-logs)
//!
//! # The flow
//!
//! ```no_run
//! use fhir_bulk::{BulkClient, ExportRequest};
//! use futures::TryStreamExt as _;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = fhir_core::Client::builder("https://fhir.example.org/r4")
//!     .auth(fhir_core::BearerToken::new("token")?)
//!     .build()?;
//! let bulk = BulkClient::new(client);
//!
//! // Kick-off: 202 Accepted with the status URL in Content-Location.
//! let job = bulk
//!     .kick_off(&ExportRequest::system().types(["Patient", "Observation"]).since("2024-01-01T00:00:00Z"))
//!     .await?;
//! // Polls (Retry-After clamped, 429 and transient errors retried) until the manifest.
//! let manifest = job.wait().await?;
//! println!("data as of {}", manifest.transaction_time);
//!
//! // Every line of every file as a typed record, decoded on the blocking pool.
//! let mut records = bulk.records::<serde_json::Value>(&manifest);
//! while let Some(record) = records.try_next().await? {
//!     if let Some(resource) = record.resource() {
//!         println!("{}/{}", resource["resourceType"], resource["id"]);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Consuming the data
//!
//! Three ways, all with the same checks (each line's `resourceType` against the manifest
//! entry's type, `Bundle` in deleted files, `OperationOutcome` in error files; the line count
//! against `count`) and bounded memory:
//!
//! - [`BulkClient::records`]: a `Stream` of [`Record`]s, each a resource decoded as any
//!   [`fhir_core::Resource`] (`serde_json::Value`, [`fhir_core::RawJson`], the `fhir-r4`
//!   models with the `r4` feature), a [`Deletion`] or an [`OperationOutcome`](fhir_core::OperationOutcome).
//!   Lines are decoded in batches on Tokio's blocking pool, so decoding and downloading use
//!   every core, and a bounded channel keeps memory flat behind a slow consumer.
//! - [`BulkClient::lines`]: a `Stream` of raw NDJSON [`Line`]s.
//! - [`BulkClient::export_to_dir`] / [`BulkClient::save_to_dir`]: a directory sink, one file
//!   per manifest entry written under a temporary name and renamed when complete, the
//!   manifest saved beside them, and a state file so that an interrupted run resumes; a lock
//!   ([`LOCK_FILE`]) keeps a second run out while one writes.
//!
//! # Where the token goes
//!
//! Kick-off, status, manifest pages and DELETE carry the token on the FHIR server's origin.
//! Files carry it only when the manifest says `requiresAccessToken: true` **and** the file is
//! on the FHIR server's origin or one allowed with [`BulkConfig::allow_token_origin`]; files
//! on storage hosts (signed URLs) never get it. Redirects are checked hop by hop by
//! `fhir-core`. URLs in errors, events and logs lose their secrets
//! ([`fhir_core::credentials::redact_url`]).
//!
//! # Waits, retries and bounds
//!
//! A `Retry-After` (seconds or an HTTP date) is clamped to [`BulkConfig::retry_after_range`]
//! (an absurd value such as epoch milliseconds waits the maximum, a zero the minimum);
//! without one, waits back off exponentially. 429s, OperationOutcomes whose issues are all
//! `transient`, 5xx without an outcome and lost connections are retried; other errors end
//! the job with a [`BulkError`] that keeps the OperationOutcome. Downloads retry with
//! backoff and resume with `Range`; lines and files have size caps.
//!
//! # What the server did not apply
//!
//! Servers may ignore parameters (`Prefer: handling=lenient`). An output file of a type
//! `_type` left out, and the first resource of a file that `_elements` should have subset
//! but that lacks the `SUBSETTED` tag, raise [`Event::ParameterIgnored`]; the data is kept.
//! [`Requested`] says what was asked. Errors a server hit while applying `_typeFilter` come
//! as OperationOutcomes in its error files ([`Record::Outcome`]).
//!
//! # Resuming and cancelling
//!
//! [`BulkClient::job`] takes a status URL saved by an earlier run. [`ExportJob::cancel`]
//! sends the DELETE; [`ExportJob::cancel_on_drop`] does so when a guard is dropped.
//!
//! # Progress and logs
//!
//! [`BulkConfig::on_event`] receives every [`Event`] (kick-off, polls with `X-Progress`,
//! files started and finished with bytes and resources, retries, errors), with the
//! correlation headers ([`CORRELATION_HEADERS`]) of the responses. `tracing` spans
//! `bulk.kick_off`, `bulk.wait` and `bulk.download` carry the same.
//!
//! # Features
//!
//! - `r4`: `R4Record`, records decoded as `fhir_r4::Resource` (choose the resource types
//!   with `fhir-r4`'s own features; types left out decode as its `Raw`).

mod config;
mod download;
mod error;
mod event;
mod file;
mod job;
mod lines;
mod manifest;
mod record;
mod request;
mod requested;
mod sink;
mod stream;

pub use config::{BulkConfig, EventHandler};
pub use error::BulkError;
pub use event::{CORRELATION_HEADERS, Correlation, Event, RetryTarget};
pub use file::{FileKind, FileRef};
pub use job::{BulkClient, CancelOnDrop, ExportJob, JobStatus};
pub use manifest::{Manifest, ManifestEntry, ManifestLink};
pub use record::{Deletion, Line, Record};
pub use request::{ExportRequest, FHIR_JSON, Handling, Level};
pub use requested::Requested;
pub use sink::{ExportSummary, LOCK_FILE, MANIFEST_FILE, STATE_FILE};

/// A record decoded into the R4 models.
#[cfg(feature = "r4")]
pub type R4Record = Record<fhir_r4::Resource>;
