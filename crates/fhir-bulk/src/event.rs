//! Progress [`Event`]s and the correlation headers they carry.

use std::time::Duration;

use http::HeaderMap;
use url::Url;

use crate::file::{FileKind, FileRef};

/// Response headers servers and gateways use to identify a request, recorded with events and
/// in `tracing` fields so a vendor can find the request in its logs.
pub const CORRELATION_HEADERS: &[&str] = &[
    "x-request-id",
    "x-correlation-id",
    "request-id",
    "x-amzn-requestid",
    "x-ms-request-id",
    "x-cloud-trace-context",
    "traceparent",
    "x-b3-traceid",
    "x-trace-id",
];

/// The longest header value or `X-Progress` text an event keeps.
const MAX_TEXT: usize = 256;

/// The correlation headers of one response (see [`CORRELATION_HEADERS`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Correlation {
    ids: Vec<(&'static str, String)>,
}

impl Correlation {
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let ids = CORRELATION_HEADERS
            .iter()
            .filter_map(|name| {
                let value = headers.get(*name)?.to_str().ok()?;
                Some((*name, bounded_text(value)))
            })
            .collect();
        Self { ids }
    }

    /// The headers found, as (lowercase name, value).
    pub fn ids(&self) -> &[(&'static str, String)] {
        &self.ids
    }

    /// Whether no correlation header was present.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

impl std::fmt::Display for Correlation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (name, value)) in self.ids.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{name}={value}")?;
        }
        Ok(())
    }
}

/// Server text fit for an event or a log line: secrets masked, at most 256 bytes.
pub(crate) fn bounded_text(text: &str) -> String {
    let text = fhir_core::credentials::redact_text(text);
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// What is being retried.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryTarget {
    /// The kick-off request.
    KickOff,
    /// A status request.
    Status,
    /// A file.
    File(FileRef),
}

/// Something that happened during an export. URLs are redacted; no event holds a credential.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The kick-off was accepted: the job's status URL.
    KickedOff {
        /// The status URL (redacted).
        status_url: Url,
        /// The kick-off response's correlation headers.
        correlation: Correlation,
    },
    /// A job was resumed from its status URL.
    Resumed {
        /// The status URL (redacted).
        status_url: Url,
    },
    /// A status poll answered "in progress" (202).
    Polled {
        /// `X-Progress`, masked and cut to 256 bytes.
        progress: Option<String>,
        /// The server's `Retry-After`, as asked.
        retry_after: Option<Duration>,
        /// The wait before the next poll (`Retry-After` clamped, or the backoff).
        next_poll_in: Duration,
        /// The response's correlation headers.
        correlation: Correlation,
    },
    /// The job is complete: the manifest (or one page of it) arrived.
    Manifest {
        /// Output files.
        outputs: usize,
        /// Deleted files.
        deleted: usize,
        /// Error files.
        errors: usize,
        /// `requiresAccessToken`.
        requires_access_token: bool,
        /// The response's correlation headers.
        correlation: Correlation,
    },
    /// A file download started (or resumed at `offset` bytes).
    FileStarted {
        /// The file.
        file: FileRef,
        /// The byte offset it starts from (0, or where an earlier run stopped).
        offset: u64,
    },
    /// A file is complete.
    FileFinished {
        /// The file.
        file: FileRef,
        /// Bytes read (decompressed) in this run.
        bytes: u64,
        /// Resources (lines) in the file.
        resources: u64,
        /// The last response's correlation headers.
        correlation: Correlation,
    },
    /// A file was complete in an earlier run (the directory sink's state) and is skipped.
    FileSkipped {
        /// The file.
        file: FileRef,
    },
    /// Something is retried after a wait.
    Retry {
        /// What.
        target: RetryTarget,
        /// The retry number (1-based).
        attempt: u32,
        /// The wait before it.
        wait: Duration,
        /// Why (an error's text, redacted).
        reason: String,
    },
    /// Something went wrong but the export goes on (a `count` mismatch when counts are not
    /// strict).
    Warning {
        /// The file concerned.
        file: Option<FileRef>,
        /// What happened (redacted).
        message: String,
    },
    /// An error: a file failed, or the job did.
    Error {
        /// The file concerned.
        file: Option<FileRef>,
        /// The error's text (redacted).
        message: String,
    },
    /// The server seems to have ignored a kick-off parameter (K7; see
    /// [`Requested`](crate::Requested)): an output file of a type `_type` left out, or a
    /// resource `_elements` should have subset without the `SUBSETTED` tag. Reported once
    /// per file; the data is kept.
    ParameterIgnored {
        /// `_type` or `_elements`.
        parameter: &'static str,
        /// The file.
        file: FileRef,
        /// The first line that shows it (`None` when the whole file does).
        line: Option<u64>,
    },
    /// The job was cancelled (DELETE accepted).
    Cancelled,
}

impl Event {
    /// The file an event is about.
    pub fn file(&self) -> Option<&FileRef> {
        match self {
            Self::FileStarted { file, .. }
            | Self::FileFinished { file, .. }
            | Self::FileSkipped { file }
            | Self::ParameterIgnored { file, .. } => Some(file),
            Self::Retry {
                target: RetryTarget::File(file),
                ..
            } => Some(file),
            Self::Warning { file, .. } | Self::Error { file, .. } => file.as_ref(),
            _ => None,
        }
    }

    /// For file events, whether the file is an output, deleted or error file.
    pub fn file_kind(&self) -> Option<FileKind> {
        self.file().map(FileRef::kind)
    }
}
