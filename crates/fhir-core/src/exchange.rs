//! Plain HTTP exchanges through the client's transport, for protocols built on FHIR REST
//! (Bulk Data's kick-off, status polling and file downloads) that need headers, statuses or
//! bodies the interactions do not expose.
//!
//! An [`HttpRequest`] goes through the same send path as every interaction: the client's
//! default headers (on the base URL's origin), `User-Agent`, the auth provider and its one
//! renewal on 401, redirects checked hop by hop, the call deadline and idle timeout, and,
//! unless [`HttpRequest::no_retries`] says otherwise, the client's retries. What differs is
//! that every status comes back as it is ([`HttpResponse`]), and that
//! [`Client::send_streaming`] hands back a 2xx body unread ([`BodyStream`]), so a file of
//! any size can be read piece by piece.
//!
//! ```no_run
//! # async fn demo(client: fhir_core::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use fhir_core::exchange::HttpRequest;
//!
//! let url = client.base_url().join("Patient/$export")?;
//! let response = client
//!     .send_http(HttpRequest::get(url).header("prefer", "respond-async")?)
//!     .await?;
//! if response.status().as_u16() != 202 {
//!     return Err(response.into_error().into());
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use url::Url;

use crate::client::Client;
use crate::error::Error;
use crate::request::{Body, Prepared};
use crate::response::RawResponse;
use crate::transport::Received;

pub use crate::credentials::CredentialScope;

/// A request for [`Client::send_http`] or [`Client::send_streaming`].
///
/// GET, HEAD, PUT and DELETE are retried like the interactions are (idempotent); POST and
/// PATCH only when the connection never opened or the server answered 429, unless
/// [`idempotent`](Self::idempotent) says otherwise.
///
/// Its `Debug` shows the URL without its secrets (signed-URL signatures, tokens in the query)
/// and the names of the headers set, not their values.
#[derive(Clone)]
#[must_use = "a request does nothing until sent"]
pub struct HttpRequest {
    prepared: Prepared,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prepared = &self.prepared;
        let headers: Vec<&str> = prepared.headers.keys().map(HeaderName::as_str).collect();
        f.debug_struct("HttpRequest")
            .field("method", &prepared.method)
            .field(
                "url",
                &crate::credentials::redact_url(&prepared.url).as_str(),
            )
            .field("headers", &headers)
            .field(
                "body_bytes",
                &prepared.body.as_ref().map(|body| body.bytes.len()),
            )
            .field("credentials", &prepared.credentials)
            .field("retries", &prepared.retries)
            .field("timeout", &prepared.timeout)
            .field("max_response_bytes", &prepared.max_response_bytes)
            .finish()
    }
}

impl HttpRequest {
    /// A request with `method` to `url` (absolute).
    pub fn new(method: Method, url: Url) -> Self {
        Self {
            prepared: Prepared::new(method, url),
        }
    }

    /// A GET of `url`.
    pub fn get(url: Url) -> Self {
        Self::new(Method::GET, url)
    }

    /// Sets (replaces) a header. Values the client sets itself (`Accept`, `User-Agent`, a
    /// default header) are replaced by it; `Authorization` is the auth provider's alone.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest) for an invalid name or
    /// value, or for `Authorization`.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, Error> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::invalid_request("invalid header name"))?;
        if name == http::header::AUTHORIZATION {
            return Err(Error::invalid_request(
                "credentials come from the auth provider, not from a header",
            ));
        }
        self.prepared = self.prepared.header(name, value)?;
        Ok(self)
    }

    /// The request body and its media type.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest) when `content_type` is
    /// not a valid header value.
    pub fn body(mut self, content_type: &str, bytes: impl Into<Bytes>) -> Result<Self, Error> {
        let content_type = HeaderValue::from_str(content_type)
            .map_err(|_| Error::invalid_request("invalid content type"))?;
        self.prepared.body = Some(Body {
            content_type,
            bytes: bytes.into(),
        });
        Ok(self)
    }

    /// Marks the request as safe to repeat after an ambiguous failure.
    pub fn idempotent(mut self) -> Self {
        self.prepared = self.prepared.idempotent();
        self
    }

    /// Where credentials may go (default [`CredentialScope::UnderBase`]).
    pub fn credentials(mut self, scope: CredentialScope) -> Self {
        self.prepared.credentials = scope;
        self
    }

    /// Switches off the client's retries (on statuses and failed connections) for this
    /// request: the caller has its own retry loop. The one retry after a renewal on 401 stays.
    pub fn no_retries(mut self) -> Self {
        self.prepared.retries = false;
        self
    }

    /// A timeout for this request, from sending it to reading the whole body, replacing the
    /// client's [`timeout`](crate::ClientBuilder::timeout). For a streamed body it covers the
    /// reading of the body too, so give long downloads a long one.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.prepared.timeout = Some(timeout);
        self
    }

    /// A cap on the body of this request's response when it is read whole (every response
    /// of [`Client::send_http`], the non-2xx ones of [`Client::send_streaming`]), below the
    /// client's [`max_response_bytes`](crate::ClientBuilder::max_response_bytes), which
    /// still applies. A larger body fails with
    /// [`ErrorKind::ResponseTooLarge`](crate::ErrorKind::ResponseTooLarge).
    pub fn max_response_bytes(mut self, max: usize) -> Self {
        self.prepared.max_response_bytes = Some(max);
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.prepared.method
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        &self.prepared.url
    }
}

/// A response read whole (within [`max_response_bytes`](crate::ClientBuilder::max_response_bytes)).
///
/// Its `Debug` masks secret headers and the secrets of `Location` and `Content-Location`
/// URLs.
pub struct HttpResponse {
    raw: RawResponse,
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field(
                "url",
                &crate::credentials::redact_url(&self.raw.url).as_str(),
            )
            .field("meta", &self.raw.meta())
            .field("bytes", &self.raw.body.len())
            .finish()
    }
}

impl HttpResponse {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.raw.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.raw.headers
    }

    /// The URL of the final hop (after redirects).
    pub fn url(&self) -> &Url {
        &self.raw.url
    }

    /// The body (a leading byte-order mark dropped).
    pub fn body(&self) -> &Bytes {
        &self.raw.body
    }

    /// The server's `Retry-After`, read when the response arrived (seconds or an HTTP date).
    pub fn retry_after(&self) -> Option<Duration> {
        self.raw.retry_after
    }

    /// The typed error for this response: its status, the OperationOutcome when the body is
    /// one (otherwise a redacted excerpt), the request (URL redacted) and `Retry-After`.
    pub fn into_error(self) -> Error {
        self.raw.into_error()
    }
}

/// A 2xx response whose body is read piece by piece ([`BodyStream::chunk`]).
pub struct StreamingResponse {
    url: Url,
    status: StatusCode,
    headers: HeaderMap,
    body: BodyStream,
}

impl fmt::Debug for StreamingResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamingResponse")
            .field("url", &crate::credentials::redact_url(&self.url).as_str())
            .field(
                "meta",
                &crate::ResponseMeta::new(self.status, self.headers.clone()),
            )
            .finish_non_exhaustive()
    }
}

impl StreamingResponse {
    /// The status (always 2xx).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The URL of the final hop.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The body, decompressed as it is read when the server sent it gzip-encoded.
    pub fn into_body(self) -> BodyStream {
        self.body
    }
}

/// The body of a [`StreamingResponse`]: each piece awaited within the client's
/// [`read_idle_timeout`](crate::ClientBuilder::read_idle_timeout).
pub struct BodyStream {
    response: reqwest::Response,
    idle: Option<Duration>,
    url: Url,
}

impl fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyStream")
            .field("url", &crate::credentials::redact_url(&self.url).as_str())
            .finish_non_exhaustive()
    }
}

impl BodyStream {
    /// The next piece of the body, `None` at its end.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) when nothing arrives for the idle
    /// timeout (or the request's timeout passes),
    /// [`ErrorKind::Transport`](crate::ErrorKind::Transport) when the connection or the
    /// decompression fails. The error names the URL, redacted.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        let next = match self.idle {
            Some(idle) => match tokio::time::timeout(idle, self.response.chunk()).await {
                Ok(next) => next,
                Err(_) => {
                    return Err(Error::idle_timeout(idle).with_request(&Method::GET, &self.url));
                }
            },
            None => self.response.chunk().await,
        };
        next.map_err(|err| Error::transport(err).with_request(&Method::GET, &self.url))
    }
}

impl Client {
    /// Sends `request` through the client's transport and reads the whole response, whatever
    /// its status (a non-2xx status is not an error here: see [`HttpResponse::into_error`]).
    ///
    /// # Errors
    ///
    /// Transport, timeout, size-limit, redirect and auth errors.
    pub async fn send_http(&self, request: HttpRequest) -> Result<HttpResponse, Error> {
        let raw = self.execute(request.prepared).await?;
        Ok(HttpResponse { raw })
    }

    /// Sends `request` and hands back a 2xx response with its body unread; any other status
    /// is read whole and returned as `Err(HttpResponse)` inside `Ok`, so the caller sees its
    /// headers (`Retry-After`) and body (an OperationOutcome).
    ///
    /// The call deadline covers the response head only; the body is bounded by the idle
    /// timeout and the request's [`timeout`](HttpRequest::timeout), and its size is the
    /// caller's to limit.
    ///
    /// # Errors
    ///
    /// Transport, timeout, redirect and auth errors.
    pub async fn send_streaming(
        &self,
        request: HttpRequest,
    ) -> Result<Result<StreamingResponse, HttpResponse>, Error> {
        match self.send_prepared(request.prepared, true).await? {
            Received::Open(open) => Ok(Ok(StreamingResponse {
                body: BodyStream {
                    response: open.response,
                    idle: open.idle,
                    url: open.url.clone(),
                },
                url: open.url,
                status: open.status,
                headers: open.headers,
            })),
            Received::Read(raw) => Ok(Err(HttpResponse { raw })),
        }
    }
}

#[cfg(test)]
mod tests;
