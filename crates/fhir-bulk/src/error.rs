//! [`BulkError`]: what can go wrong in an export, structured, with the server's
//! OperationOutcome kept and every URL redacted.

use std::path::PathBuf;
use std::time::Duration;

use fhir_core::{DecodeError, OperationOutcome};

use crate::file::FileRef;

/// An error of a Bulk Data export.
///
/// URLs in its `Display` and `Debug` pass through [`fhir_core::credentials::redact_url`]
/// (signed storage URLs carry their signature in the query); no credential is ever kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BulkError {
    /// The server refused the kick-off (4xx/5xx, usually with an OperationOutcome:
    /// [`BulkError::operation_outcome`]).
    #[error("the export kick-off was refused: {0}")]
    KickOffRefused(#[source] fhir_core::Error),
    /// The kick-off answered something other than `202 Accepted` with a `Content-Location`.
    #[error("the kick-off answered {status} without a usable Content-Location status URL")]
    NoStatusUrl {
        /// The status the server answered.
        status: u16,
    },
    /// The job failed: the status URL answered an error whose OperationOutcome is not all
    /// `transient` (or whose transient errors outlasted the retries).
    #[error("the export job failed: {0}")]
    JobFailed(#[source] fhir_core::Error),
    /// The status URL is unknown to the server (404 or 410): the job was cancelled, expired,
    /// or never existed.
    #[error("the export job is gone: {0}")]
    JobGone(#[source] fhir_core::Error),
    /// The job did not complete within [`BulkConfig::max_wait`](crate::BulkConfig::max_wait).
    #[error("the export did not complete within {} s", waited.as_secs())]
    JobTimeout {
        /// How long the client polled.
        waited: Duration,
    },
    /// A transport, timeout, size or auth error talking to the server.
    #[error(transparent)]
    Http(#[from] fhir_core::Error),
    /// The completion manifest is not a valid Bulk Data manifest.
    #[error("the manifest is invalid: {reason}")]
    InvalidManifest {
        /// What is wrong (a JSON path and message).
        reason: String,
    },
    /// The manifest pages (`link` next) loop or exceed the page limit.
    #[error("the manifest pages loop or exceed {limit} pages")]
    ManifestPages {
        /// The page limit.
        limit: usize,
    },
    /// A file answered 404 or 410, or a storage host answered 400 or 403 saying that its
    /// signed link expired: it expired (see the manifest's `Expires`) or was deleted.
    #[error("{file} is no longer available ({status}): it expired or was removed")]
    FileExpired {
        /// The file.
        file: FileRef,
        /// 404 or 410; or 400 or 403 from a storage host whose signed link expired.
        status: u16,
        /// The server's answer.
        #[source]
        source: Option<fhir_core::Error>,
    },
    /// A file answered 401 or 403 while the manifest requires the access token and the
    /// file's origin is not one the token may go to (the FHIR server's, or one allowed with
    /// [`BulkConfig::allow_token_origin`](crate::BulkConfig::allow_token_origin)).
    #[error(
        "{file} answered {status}: the manifest requires the access token, which is not sent to {origin}; allow that origin with BulkConfig::allow_token_origin only if the FHIR server itself serves files there, never for a storage host"
    )]
    TokenWithheld {
        /// The file.
        file: FileRef,
        /// 401 or 403.
        status: u16,
        /// The file's origin (`https://files.example.org`).
        origin: String,
        /// The server's answer.
        #[source]
        source: fhir_core::Error,
    },
    /// A file could not be downloaded (after the retries, for transient failures).
    #[error("{file} could not be downloaded: {source}")]
    Download {
        /// The file.
        file: FileRef,
        /// The last failure.
        #[source]
        source: fhir_core::Error,
    },
    /// A file ended early (inside a line, or with fewer lines than `count`) and the retries
    /// did not complete it, or the server resumed it at another offset than asked.
    #[error("{file} is truncated: {reason}")]
    Truncated {
        /// The file.
        file: FileRef,
        /// What was seen.
        reason: String,
    },
    /// The consumer dropped the stream, or a decoding task stopped.
    #[error("the export was stopped: {reason}")]
    Stopped {
        /// Why.
        reason: String,
    },
    /// A line is longer than [`BulkConfig::max_line_bytes`](crate::BulkConfig::max_line_bytes).
    #[error("{file}, line {line}: longer than the limit of {limit} bytes")]
    LineTooLong {
        /// The file.
        file: FileRef,
        /// The line number (1-based).
        line: u64,
        /// The limit.
        limit: usize,
    },
    /// A file is larger (decompressed) than [`BulkConfig::max_file_bytes`](crate::BulkConfig::max_file_bytes).
    #[error("{file}: larger than the limit of {limit} bytes")]
    FileTooLarge {
        /// The file.
        file: FileRef,
        /// The limit.
        limit: u64,
    },
    /// A line is not a JSON resource of the file's type (`Bundle` in deleted files,
    /// `OperationOutcome` in error files).
    #[error("{file}, line {line}: expected {expected}, found {}", found.as_deref().unwrap_or("no resourceType"))]
    WrongResourceType {
        /// The file.
        file: FileRef,
        /// The line number (1-based).
        line: u64,
        /// The type the manifest gives.
        expected: String,
        /// The type found.
        found: Option<String>,
    },
    /// A line could not be decoded.
    #[error("{file}, line {line}: {source}")]
    Decode {
        /// The file.
        file: FileRef,
        /// The line number (1-based).
        line: u64,
        /// What was wrong and where.
        #[source]
        source: DecodeError,
    },
    /// A file's number of resources differs from the manifest's `count`.
    #[error("{file}: the manifest says {expected} resources, the file has {actual}")]
    CountMismatch {
        /// The file.
        file: FileRef,
        /// The manifest's `count`.
        expected: u64,
        /// The lines read.
        actual: u64,
    },
    /// A file or directory of the directory sink could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The directory sink's state file belongs to another export or is damaged.
    #[error("{}: {reason}", path.display())]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The request could not be built (an invalid parameter or URL).
    #[error("invalid export request: {reason}")]
    InvalidRequest {
        /// What is wrong.
        reason: String,
    },
}

impl BulkError {
    /// The server's OperationOutcome, when the error came with one.
    pub fn operation_outcome(&self) -> Option<&OperationOutcome> {
        self.http_error()?.operation_outcome()
    }

    /// The underlying client error, for errors from an HTTP exchange.
    pub fn http_error(&self) -> Option<&fhir_core::Error> {
        match self {
            Self::KickOffRefused(err)
            | Self::JobFailed(err)
            | Self::JobGone(err)
            | Self::Http(err)
            | Self::Download { source: err, .. } => Some(err),
            _ => None,
        }
    }

    /// The file the error is about, for file errors.
    pub fn file(&self) -> Option<&FileRef> {
        match self {
            Self::FileExpired { file, .. }
            | Self::TokenWithheld { file, .. }
            | Self::Download { file, .. }
            | Self::Truncated { file, .. }
            | Self::LineTooLong { file, .. }
            | Self::FileTooLarge { file, .. }
            | Self::WrongResourceType { file, .. }
            | Self::Decode { file, .. }
            | Self::CountMismatch { file, .. } => Some(file),
            _ => None,
        }
    }

    pub(crate) fn invalid_request(reason: impl Into<String>) -> Self {
        Self::InvalidRequest {
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
