//! [`Error`]: the one error type of the client.
//!
//! It keeps what a caller needs to decide what to do next (the kind, the status, the server's
//! OperationOutcome) and what a person needs to diagnose (method, URL without credentials, the
//! start of a non-FHIR body), and never the credentials themselves.

use std::fmt;
use std::time::Duration;

use http::{Method, StatusCode};
use url::Url;

use crate::outcome::OperationOutcome;
use crate::resource::{DecodeError, EncodeError};

/// The longest excerpt of a non-FHIR error body kept in an [`Error`].
const BODY_EXCERPT_LIMIT: usize = 512;

/// The largest error body read as an OperationOutcome (larger ones are excerpted).
const MAX_OUTCOME_BYTES: usize = 2 << 20;

/// The longest outcome summary an error's `Display` prints.
const SUMMARY_LIMIT: usize = 1024;

/// What went wrong, for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server answered with a non-success status; see [`Error::status`] and
    /// [`Error::operation_outcome`].
    Status,
    /// The request could not be sent or the response not received (DNS, connection, TLS, body).
    Transport,
    /// The request timed out.
    Timeout,
    /// The response body was not what the interaction expects (malformed JSON, a resource of the
    /// wrong type, a Bundle of the wrong shape); see [`Error::decode_error`].
    Decode,
    /// A resource could not be encoded for sending.
    Encode,
    /// The auth provider failed to supply or renew credentials; the source says why.
    Auth,
    /// The request was invalid before anything was sent (a resource without an id for an
    /// update, an unusable base URL, …).
    InvalidRequest,
    /// A Bundle's `next` links lead back to a page already visited.
    LinkCycle,
    /// The response body is larger than the client accepts; see [`Error::size_limit`] and
    /// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes).
    ResponseTooLarge,
    /// A redirect was refused: to plain `http` from `https`, a request body to another
    /// origin, a bad `Location`, too many hops, or redirects switched off.
    Redirect,
    /// A paged stream refused a `next` link: to another origin (unless allowed with
    /// [`ClientBuilder::allow_cross_origin_links`](crate::ClientBuilder::allow_cross_origin_links)),
    /// or to plain `http` from an `https` base.
    LinkRefused,
    /// A paged stream met too many pages in a row without entries but with a `next` link
    /// ([`ClientBuilder::max_empty_pages`](crate::ClientBuilder::max_empty_pages)).
    EmptyPages,
    /// A search's resource stream met an outcome entry (`search.mode = outcome`) saying the
    /// search was not done as asked, such as a parameter the server ignored; the outcome is
    /// [`Error::operation_outcome`]. See [`SearchOutcomes`](crate::SearchOutcomes).
    SearchOutcome,
}

/// An error from the FHIR client.
///
/// ```
/// # async fn demo(client: fhir_core::Client) {
/// match client.read_json("Patient", "123").send().await {
///     Ok(response) => println!("{}", response.resource()),
///     Err(err) if err.is_not_found() => println!("no such patient"),
///     Err(err) => eprintln!("{err}; outcome: {:?}", err.operation_outcome().map(|o| o.summary())),
/// }
/// # }
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    method: Option<Method>,
    url: Option<Url>,
    status: Option<StatusCode>,
    outcome: Option<OperationOutcome>,
    body_excerpt: Option<String>,
    www_authenticate: Option<String>,
    retry_after: Option<Duration>,
    size_limit: Option<usize>,
    earlier_attempt_unknown: bool,
    decode: Option<DecodeError>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                method: None,
                url: None,
                status: None,
                outcome: None,
                body_excerpt: None,
                www_authenticate: None,
                retry_after: None,
                size_limit: None,
                earlier_attempt_unknown: false,
                decode: None,
                source: None,
            }),
        }
    }

    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    pub(crate) fn link_cycle(url: &Url) -> Self {
        Self::new(
            ErrorKind::LinkCycle,
            "the `next` link leads back to a page already visited",
        )
        .with_request(&Method::GET, url)
    }

    pub(crate) fn too_large(limit: usize) -> Self {
        let mut err = Self::new(
            ErrorKind::ResponseTooLarge,
            format!("the response body exceeds the limit of {limit} bytes"),
        );
        err.inner.size_limit = Some(limit);
        err
    }

    pub(crate) fn idle_timeout(idle: Duration) -> Self {
        Self::new(
            ErrorKind::Timeout,
            format!("the server sent nothing for {} s", idle.as_secs_f64()),
        )
    }

    pub(crate) fn deadline(limit: Duration) -> Self {
        Self::new(
            ErrorKind::Timeout,
            format!(
                "the call did not finish within its deadline of {} s",
                limit.as_secs_f64()
            ),
        )
    }

    pub(crate) fn redirect_refused(reason: &'static str, status: StatusCode) -> Self {
        let mut err = Self::new(ErrorKind::Redirect, reason);
        err.inner.status = Some(status);
        err
    }

    pub(crate) fn link_refused(reason: &'static str, url: &Url) -> Self {
        Self::new(ErrorKind::LinkRefused, reason).with_request(&Method::GET, url)
    }

    pub(crate) fn search_outcome(outcome: OperationOutcome) -> Self {
        let mut err = Self::new(
            ErrorKind::SearchOutcome,
            "the server reported that the search was not done as asked",
        );
        err.inner.outcome = Some(outcome);
        err
    }

    pub(crate) fn empty_pages(pages: usize, url: &Url) -> Self {
        Self::new(
            ErrorKind::EmptyPages,
            format!("{pages} pages in a row had no matches but a `next` link"),
        )
        .with_request(&Method::GET, url)
    }

    /// Marks a status error to a delete or `If-Match` update as possibly caused by an earlier
    /// attempt of the same call whose outcome is unknown.
    pub(crate) fn with_earlier_attempt_unknown(mut self) -> Self {
        self.inner.earlier_attempt_unknown = true;
        self
    }

    pub(crate) fn auth(source: crate::auth::AuthError) -> Self {
        let mut err = Self::new(ErrorKind::Auth, "the auth provider failed");
        err.inner.source = Some(source);
        err
    }

    pub(crate) fn encode(source: EncodeError) -> Self {
        let mut err = Self::new(ErrorKind::Encode, "cannot encode the request body");
        err.inner.source = Some(Box::new(source));
        err
    }

    pub(crate) fn decode(source: DecodeError) -> Self {
        let mut err = Self::new(ErrorKind::Decode, "cannot decode the response body");
        err.inner.decode = Some(source);
        err
    }

    pub(crate) fn transport(source: reqwest::Error) -> Self {
        let (kind, message) = if source.is_timeout() {
            (ErrorKind::Timeout, "the request timed out")
        } else if source.is_connect() {
            (ErrorKind::Transport, "cannot connect to the server")
        } else if source.is_body() || source.is_decode() {
            (ErrorKind::Transport, "cannot read the response body")
        } else {
            (ErrorKind::Transport, "the request failed")
        };
        let mut err = Self::new(kind, message);
        // reqwest's error embeds the URL, which may carry credentials in its query: keep the
        // URL separately (sanitized) and the error without it.
        err.inner.source = Some(Box::new(source.without_url()));
        err
    }

    /// Builds the error for a non-success response: keeps the OperationOutcome when the body is
    /// one, otherwise the start of the body.
    pub(crate) fn from_status(status: StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Self {
        let mut err = Self::new(ErrorKind::Status, String::new());
        err.inner.status = Some(status);
        // A larger body is excerpted, not parsed: a tree costs many times its text.
        err.inner.outcome = (body.len() <= MAX_OUTCOME_BYTES)
            .then(|| serde_json::from_slice(body).ok())
            .flatten()
            .and_then(OperationOutcome::from_json);
        if err.inner.outcome.is_none() && !body.is_empty() {
            err.inner.body_excerpt = Some(excerpt(body));
        }
        err.inner.www_authenticate = headers
            .get(http::header::WWW_AUTHENTICATE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        err
    }

    pub(crate) fn with_request(mut self, method: &Method, url: &Url) -> Self {
        self.inner.method = Some(method.clone());
        self.inner.url = Some(sanitize_url(url));
        self
    }

    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.inner.status = Some(status);
        self
    }

    pub(crate) fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.inner.retry_after = retry_after;
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The HTTP status of the response, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// The OperationOutcome the server sent with the error, if the body was one.
    pub fn operation_outcome(&self) -> Option<&OperationOutcome> {
        self.inner.outcome.as_ref()
    }

    /// The start of the response body (at most 512 bytes) when it was not an OperationOutcome.
    pub fn body_excerpt(&self) -> Option<&str> {
        self.inner.body_excerpt.as_deref()
    }

    /// The method of the failed request.
    pub fn method(&self) -> Option<&Method> {
        self.inner.method.as_ref()
    }

    /// The URL of the failed request, without user name, password or secret query values.
    pub fn url(&self) -> Option<&Url> {
        self.inner.url.as_ref()
    }

    /// The `WWW-Authenticate` challenge of a 401 response (RFC 6750 §3).
    pub fn www_authenticate(&self) -> Option<&str> {
        self.inner.www_authenticate.as_deref()
    }

    /// How long the server asked to wait (`Retry-After`) before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// The size limit a [`ErrorKind::ResponseTooLarge`] body passed, in bytes.
    pub fn size_limit(&self) -> Option<usize> {
        self.inner.size_limit
    }

    /// Whether an earlier attempt of this call may have been applied by the server.
    ///
    /// Set on a 404, 409, 410 or 412 answer to a delete or an `If-Match` update that was retried
    /// after an attempt failed without an answer (a dropped connection, a timeout, a 503): the
    /// resource may be gone, or at a new version, because of that first attempt. Read it back
    /// before concluding that the write failed.
    pub fn earlier_attempt_unknown(&self) -> bool {
        self.inner.earlier_attempt_unknown
    }

    /// The decoding problem, for [`ErrorKind::Decode`] errors: what was wrong and where.
    pub fn decode_error(&self) -> Option<&DecodeError> {
        self.inner.decode.as_ref()
    }

    fn is_status(&self, status: StatusCode) -> bool {
        self.inner.status == Some(status)
    }

    /// 404 Not Found.
    pub fn is_not_found(&self) -> bool {
        self.is_status(StatusCode::NOT_FOUND)
    }

    /// 410 Gone (the resource was deleted).
    pub fn is_gone(&self) -> bool {
        self.is_status(StatusCode::GONE)
    }

    /// 409 Conflict (for example a version conflict on update).
    pub fn is_conflict(&self) -> bool {
        self.is_status(StatusCode::CONFLICT)
    }

    /// 412 Precondition Failed (an `If-Match` or conditional operation did not hold).
    pub fn is_precondition_failed(&self) -> bool {
        self.is_status(StatusCode::PRECONDITION_FAILED)
    }

    /// 401 Unauthorized.
    pub fn is_unauthorized(&self) -> bool {
        self.is_status(StatusCode::UNAUTHORIZED)
    }

    /// 403 Forbidden.
    pub fn is_forbidden(&self) -> bool {
        self.is_status(StatusCode::FORBIDDEN)
    }

    /// 400 Bad Request.
    pub fn is_bad_request(&self) -> bool {
        self.is_status(StatusCode::BAD_REQUEST)
    }

    /// 422 Unprocessable Entity (the resource failed the server's validation).
    pub fn is_unprocessable(&self) -> bool {
        self.is_status(StatusCode::UNPROCESSABLE_ENTITY)
    }

    /// 429 Too Many Requests.
    pub fn is_too_many_requests(&self) -> bool {
        self.is_status(StatusCode::TOO_MANY_REQUESTS)
    }

    /// Any 5xx status.
    pub fn is_server_error(&self) -> bool {
        self.inner
            .status
            .is_some_and(|status| status.is_server_error())
    }

    /// The request timed out.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// A connection, TLS or body-transfer failure.
    pub fn is_transport(&self) -> bool {
        self.inner.kind == ErrorKind::Transport
    }

    /// The response body could not be decoded.
    pub fn is_decode(&self) -> bool {
        self.inner.kind == ErrorKind::Decode
    }

    /// The auth provider failed.
    pub fn is_auth(&self) -> bool {
        self.inner.kind == ErrorKind::Auth
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        let mut debug = f.debug_struct("Error");
        debug.field("kind", &inner.kind);
        if let Some(method) = &inner.method {
            debug.field("method", method);
        }
        if let Some(url) = &inner.url {
            debug.field("url", &url.as_str());
        }
        if let Some(status) = &inner.status {
            debug.field("status", status);
        }
        if let Some(outcome) = &inner.outcome {
            let summary = outcome.summary();
            debug.field(
                "outcome",
                &cut(&crate::credentials::redact_text(&summary), SUMMARY_LIMIT),
            );
        }
        if let Some(body) = &inner.body_excerpt {
            debug.field("body", body);
        }
        if let Some(limit) = &inner.size_limit {
            debug.field("size_limit", limit);
        }
        if inner.earlier_attempt_unknown {
            debug.field("earlier_attempt_unknown", &true);
        }
        if let Some(decode) = &inner.decode {
            debug.field("decode", decode);
        }
        if let Some(source) = &inner.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        if let (Some(method), Some(url)) = (&inner.method, &inner.url) {
            write!(f, "{method} {url}: ")?;
        }
        match inner.kind {
            ErrorKind::Status => {
                let status = inner.status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                write!(f, "server answered {status}")?;
                if let Some(outcome) = &inner.outcome {
                    // A server may echo the request, headers included, in its diagnostics.
                    let summary = outcome.summary();
                    let summary = crate::credentials::redact_text(&summary);
                    if !summary.is_empty() {
                        write!(f, ": {}", cut(&summary, SUMMARY_LIMIT))?;
                    }
                }
                if inner.earlier_attempt_unknown {
                    f.write_str(
                        " (an earlier attempt failed without an answer and may have been applied)",
                    )?;
                }
                Ok(())
            }
            ErrorKind::Redirect => {
                f.write_str(&inner.message)?;
                if let Some(status) = inner.status {
                    write!(f, " ({status})")?;
                }
                Ok(())
            }
            ErrorKind::SearchOutcome => {
                f.write_str(&inner.message)?;
                if let Some(outcome) = &inner.outcome {
                    let summary = outcome.summary();
                    let summary = crate::credentials::redact_text(&summary);
                    if !summary.is_empty() {
                        write!(f, ": {}", cut(&summary, SUMMARY_LIMIT))?;
                    }
                }
                f.write_str(" (set `SearchOutcomes` on the search to go on)")
            }
            ErrorKind::Decode => match &inner.decode {
                Some(decode) => write!(f, "{}: {decode}", inner.message),
                None => f.write_str(&inner.message),
            },
            _ => f.write_str(&inner.message),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        if let Some(decode) = &self.inner.decode {
            return Some(decode);
        }
        self.inner
            .source
            .as_ref()
            .map(|source| &**source as &(dyn std::error::Error + 'static))
    }
}

/// The URL without user name, password, fragment and the values of secret query parameters.
pub(crate) fn sanitize_url(url: &Url) -> Url {
    crate::credentials::redact_url(url)
}

/// `text` cut to at most `max` bytes on a character boundary, with `…` when cut.
fn cut(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!("{}…", &text[..end]))
}

/// The start of a body, with credentials it may echo (`Bearer …`, `access_token=…`) masked.
fn excerpt(body: &[u8]) -> String {
    // Redacted before it is cut, so a secret split by the cut is still recognised.
    let head = &body[..body.len().min(BODY_EXCERPT_LIMIT * 4)];
    let text = String::from_utf8_lossy(head);
    let text = crate::credentials::redact_text(&text);
    if text.len() <= BODY_EXCERPT_LIMIT && head.len() == body.len() {
        return text.into_owned();
    }
    let mut end = BODY_EXCERPT_LIMIT.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests;
