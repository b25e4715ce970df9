//! What every interaction returns: the resource (or outcome) plus [`ResponseMeta`].

use std::time::SystemTime;

use http::{HeaderMap, StatusCode, header};

use crate::outcome::OperationOutcome;

mod wire;
pub(crate) use wire::{RawResponse, wrong_type};

/// Response metadata every interaction keeps: status, ETag / version id, `Location`,
/// `Last-Modified`, and the headers themselves.
///
/// Its `Debug` masks secret-named headers (`Set-Cookie`, …) and the secrets of URLs in
/// `Location` and `Content-Location` (a pre-signed URL's signature).
#[derive(Clone)]
pub struct ResponseMeta {
    status: StatusCode,
    headers: HeaderMap,
}

impl std::fmt::Debug for ResponseMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, String)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), redacted_header(name, value)))
            .collect();
        f.debug_struct("ResponseMeta")
            .field("status", &self.status)
            .field("headers", &headers)
            .finish()
    }
}

/// A header value fit for `Debug`: secrets masked, URLs cleaned.
pub(crate) fn redacted_header(name: &header::HeaderName, value: &http::HeaderValue) -> String {
    if value.is_sensitive() || crate::credentials::is_secret_name(name.as_str()) {
        return crate::credentials::REDACTED.to_owned();
    }
    let text = value.to_str().unwrap_or("[not text]");
    if *name == header::LOCATION || *name == header::CONTENT_LOCATION {
        return match url::Url::parse(text) {
            Ok(url) => crate::credentials::redact_url(&url).to_string(),
            // A relative reference: its query may still carry a signature.
            Err(_) => crate::credentials::redact_text(text).into_owned(),
        };
    }
    crate::credentials::redact_text(text).into_owned()
}

impl ResponseMeta {
    pub(crate) fn new(status: StatusCode, headers: HeaderMap) -> Self {
        Self { status, headers }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// All response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The `ETag` header as sent (`W/"3"`).
    pub fn etag(&self) -> Option<&str> {
        self.header(header::ETAG)
    }

    /// The version id from the `ETag` (`W/"3"` → `3`), or from the `Location`'s `_history`
    /// segment when there is no ETag.
    pub fn version_id(&self) -> Option<&str> {
        self.etag().map(version_from_etag).or_else(|| {
            self.location()
                .and_then(|location| split_location(location).2)
        })
    }

    /// The `Location` header (or `Content-Location` when there is none), as sent.
    pub fn location(&self) -> Option<&str> {
        self.header(header::LOCATION)
            .or_else(|| self.header(header::CONTENT_LOCATION))
    }

    /// The resource type named by `Location` (`…/Patient/123/_history/2` → `Patient`).
    pub fn location_type(&self) -> Option<&str> {
        self.location()
            .and_then(|location| split_location(location).0)
    }

    /// The logical id named by `Location` (`…/Patient/123/_history/2` → `123`).
    pub fn location_id(&self) -> Option<&str> {
        self.location()
            .and_then(|location| split_location(location).1)
    }

    /// The `Last-Modified` header, parsed.
    pub fn last_modified(&self) -> Option<SystemTime> {
        self.header(header::LAST_MODIFIED)
            .and_then(|value| httpdate::parse_http_date(value).ok())
    }
}

/// `W/"3"` → `3`; `"3"` → `3`; anything else as is.
pub(crate) fn version_from_etag(etag: &str) -> &str {
    let etag = etag.trim();
    let etag = etag.strip_prefix("W/").unwrap_or(etag);
    etag.strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(etag)
}

/// Splits `[base]/Type/id[/_history/vid]` into its type, id and version parts.
pub(crate) fn split_location(location: &str) -> (Option<&str>, Option<&str>, Option<&str>) {
    let path = location.split(['?', '#']).next().unwrap_or(location);
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    match segments.as_slice() {
        [.., kind, id, "_history", version] => (Some(*kind), Some(*id), Some(*version)),
        [.., kind, id] => (Some(*kind), Some(*id), None),
        _ => (None, None, None),
    }
}

/// A successful response whose body is a `T`.
#[derive(Debug, Clone)]
pub struct Response<T> {
    meta: ResponseMeta,
    resource: T,
}

impl<T> Response<T> {
    pub(crate) fn new(meta: ResponseMeta, resource: T) -> Self {
        Self { meta, resource }
    }

    /// The decoded body.
    pub fn resource(&self) -> &T {
        &self.resource
    }

    /// The decoded body, by value.
    pub fn into_resource(self) -> T {
        self.resource
    }

    /// The metadata: status, ETag, Location, Last-Modified, headers.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// The decoded body and the metadata.
    pub fn into_parts(self) -> (T, ResponseMeta) {
        (self.resource, self.meta)
    }
}

/// The body of a create, update, patch or delete response, which depends on `Prefer: return=`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WriteBody<T> {
    /// The resource as stored (`return=representation`, most servers' default).
    Resource(T),
    /// An OperationOutcome (`return=OperationOutcome`, or a server's informational outcome).
    Outcome(OperationOutcome),
    /// No body (`return=minimal`, or a delete).
    Empty,
}

/// A successful create, update, patch or delete.
#[derive(Debug, Clone)]
pub struct WriteResponse<T> {
    meta: ResponseMeta,
    body: WriteBody<T>,
}

impl<T: crate::Resource> WriteResponse<T> {
    pub(crate) fn new(meta: ResponseMeta, body: WriteBody<T>) -> Self {
        Self { meta, body }
    }

    /// The metadata: status, ETag, Location, Last-Modified, headers.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// The body.
    pub fn body(&self) -> &WriteBody<T> {
        &self.body
    }

    /// The resource, when the server returned it.
    pub fn resource(&self) -> Option<&T> {
        match &self.body {
            WriteBody::Resource(resource) => Some(resource),
            _ => None,
        }
    }

    /// The resource, by value, when the server returned it.
    pub fn into_resource(self) -> Option<T> {
        match self.body {
            WriteBody::Resource(resource) => Some(resource),
            _ => None,
        }
    }

    /// The OperationOutcome, when the server returned one.
    pub fn outcome(&self) -> Option<&OperationOutcome> {
        match &self.body {
            WriteBody::Outcome(outcome) => Some(outcome),
            _ => None,
        }
    }

    /// Whether the server created a resource (201 Created), as opposed to updating one or, for a
    /// conditional create, finding an existing match (200 OK).
    pub fn created(&self) -> bool {
        self.meta.status() == StatusCode::CREATED
    }

    /// The logical id: from the returned resource, else from `Location`.
    pub fn id(&self) -> Option<&str> {
        self.resource()
            .and_then(crate::Resource::id)
            .or_else(|| self.meta.location_id())
    }

    /// The version id: from the ETag or `Location`, else from the returned resource.
    pub fn version_id(&self) -> Option<&str> {
        self.meta
            .version_id()
            .or_else(|| self.resource().and_then(crate::Resource::version_id))
    }
}

/// The result of a conditional read (`If-None-Match` / `If-Modified-Since`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ConditionalRead<T> {
    /// The resource changed (or the condition did not apply): here it is.
    Modified(Response<T>),
    /// 304 Not Modified: the copy the caller holds is current.
    NotModified(ResponseMeta),
}

impl<T> ConditionalRead<T> {
    /// The new resource, if it changed.
    pub fn modified(self) -> Option<Response<T>> {
        match self {
            Self::Modified(response) => Some(response),
            Self::NotModified(_) => None,
        }
    }

    /// Whether the server answered 304 Not Modified.
    pub fn is_not_modified(&self) -> bool {
        matches!(self, Self::NotModified(_))
    }
}

#[cfg(test)]
mod tests;
