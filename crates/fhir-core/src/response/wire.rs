//! [`RawResponse`]: a response as the transport read it, and what each interaction makes of
//! it (a resource, a write result, or an [`Error`] with the server's OperationOutcome).

use std::time::Duration;

use bytes::Bytes;
use http::header::HeaderMap;
use http::{Method, StatusCode};
use url::Url;

use crate::error::Error;
use crate::resource::{DecodeError, DecodeErrorKind, Resource};
use crate::response::{Response, ResponseMeta, WriteBody, WriteResponse};

/// A complete response, body read.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) method: Method,
    /// The URL of the final hop.
    pub(crate) url: Url,
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// The server's `Retry-After`, read when the response arrived.
    pub(crate) retry_after: Option<Duration>,
    /// Whether a 404, 409, 410 or 412 may be the effect of an earlier attempt of the same call
    /// (a delete or an `If-Match` update retried after an attempt with no answer).
    pub(crate) outcome_may_be_earlier: bool,
}

impl RawResponse {
    /// A response as read from the wire, before the transport adds what it knows.
    pub(crate) fn new(
        method: Method,
        url: Url,
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
    ) -> Self {
        Self {
            method,
            url,
            status,
            headers,
            body,
            retry_after: None,
            outcome_may_be_earlier: false,
        }
    }

    /// The error for this response, with its request and `Retry-After`.
    pub(crate) fn into_error(self) -> Error {
        let err = Error::from_status(self.status, &self.headers, &self.body)
            .with_request(&self.method, &self.url)
            .with_retry_after(self.retry_after);
        if self.outcome_may_be_earlier && matches!(self.status.as_u16(), 404 | 409 | 410 | 412) {
            err.with_earlier_attempt_unknown()
        } else {
            err
        }
    }

    /// Fails unless the status is 2xx.
    pub(crate) fn success(self) -> Result<Self, Error> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(self.into_error())
        }
    }

    /// Decodes the body as a `T`, wrapping decode errors with the request.
    pub(crate) fn decode<T: Resource>(&self) -> Result<T, Error> {
        T::from_json_slice(&self.body).map_err(|err| self.decode_error(err))
    }

    pub(crate) fn decode_error(&self, err: DecodeError) -> Error {
        Error::decode(err)
            .with_request(&self.method, &self.url)
            .with_status(self.status)
    }

    pub(crate) fn meta(&self) -> ResponseMeta {
        ResponseMeta::new(self.status, self.headers.clone())
    }

    /// The metadata and the URL, consuming the response (no header copies).
    pub(crate) fn into_meta_and_url(self) -> (ResponseMeta, Url) {
        (ResponseMeta::new(self.status, self.headers), self.url)
    }

    /// A 2xx response whose body must be a `T` of `expected_type` (when known).
    pub(crate) fn into_response<T: Resource>(
        self,
        expected_type: Option<&str>,
    ) -> Result<Response<T>, Error> {
        let raw = self.success()?;
        if raw.body.is_empty() {
            return Err(raw.decode_error(DecodeError::new(
                DecodeErrorKind::Eof,
                ".",
                "the server sent an empty body where a resource was expected",
            )));
        }
        let resource: T = raw.decode()?;
        if let Some(expected) = expected_type {
            let found = resource.resource_type();
            if found != Some(expected) {
                return Err(raw.decode_error(wrong_type(expected, found)));
            }
        }
        Ok(Response::new(raw.into_meta_and_url().0, resource))
    }

    /// A 2xx response to a write, whose body may be the resource, an OperationOutcome or empty.
    pub(crate) fn into_write_response<T: Resource>(self) -> Result<WriteResponse<T>, Error> {
        let raw = self.success()?;
        let body = if raw.body.iter().all(u8::is_ascii_whitespace) {
            WriteBody::Empty
        } else if peek_resource_type(&raw.body).as_deref() == Some("OperationOutcome") {
            match crate::outcome::OperationOutcome::from_json_slice(&raw.body) {
                Ok(outcome) => WriteBody::Outcome(outcome),
                Err(err) => return Err(raw.decode_error(err)),
            }
        } else {
            WriteBody::Resource(raw.decode()?)
        };
        Ok(WriteResponse::new(raw.into_meta_and_url().0, body))
    }
}

/// The decode error for a resource of another type than `expected`.
pub(crate) fn wrong_type(expected: &str, found: Option<&str>) -> DecodeError {
    DecodeError::new(
        DecodeErrorKind::WrongResourceType,
        "resourceType",
        format!(
            "expected {expected}, found {}",
            found.unwrap_or("no resourceType")
        ),
    )
}

/// The `resourceType` of a JSON document, without decoding the rest into a model.
fn peek_resource_type(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(rename = "resourceType")]
        resource_type: Option<String>,
    }
    serde_json::from_slice::<Peek>(body).ok()?.resource_type
}
