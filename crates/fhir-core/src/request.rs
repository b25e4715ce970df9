//! A prepared request ([`Prepared`]) as the interactions hand it to the transport, and the
//! request-side header vocabulary ([`Prefer`], ETags).

use http::Method;
use http::header::{self, HeaderMap, HeaderValue};
use url::Url;

use crate::error::Error;

/// `application/fhir+json`, the FHIR JSON media type.
pub const FHIR_JSON: &str = "application/fhir+json";
/// `application/json-patch+json`, the JSON Patch media type.
pub const JSON_PATCH: &str = "application/json-patch+json";
const FORM: &str = "application/x-www-form-urlencoded";

/// The `Prefer: return=` preference for create, update and patch (FHIR R4 §3.1.0.5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Prefer {
    /// `return=minimal`: no body, only the headers.
    Minimal,
    /// `return=representation`: the resource as stored.
    Representation,
    /// `return=OperationOutcome`: an OperationOutcome describing the result.
    OperationOutcome,
}

impl Prefer {
    fn header_value(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Minimal => "return=minimal",
            Self::Representation => "return=representation",
            Self::OperationOutcome => "return=OperationOutcome",
        })
    }
}

/// Whether a request may be repeated safely after an ambiguous failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// GET, HEAD, PUT by id, DELETE and POST `_search`: repeating has the same effect.
    Idempotent,
    /// POST create, batch, transaction, PATCH, operations by POST, conditional update
    /// (`PUT [type]?search`): retried only when the server certainly did not process the
    /// request.
    NonIdempotent,
}

/// A request body with its media type.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    pub(crate) content_type: HeaderValue,
    pub(crate) bytes: bytes::Bytes,
}

impl Body {
    pub(crate) fn fhir_json(bytes: Vec<u8>) -> Self {
        Self {
            content_type: HeaderValue::from_static(FHIR_JSON),
            bytes: bytes.into(),
        }
    }

    pub(crate) fn json_patch(bytes: Vec<u8>) -> Self {
        Self {
            content_type: HeaderValue::from_static(JSON_PATCH),
            bytes: bytes.into(),
        }
    }

    pub(crate) fn form(text: String) -> Self {
        Self {
            content_type: HeaderValue::from_static(FORM),
            bytes: text.into(),
        }
    }
}

/// One request, ready for the transport.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Body>,
    pub(crate) idempotency: Idempotency,
    /// Where credentials go (the base URL by default).
    pub(crate) credentials: crate::credentials::CredentialScope,
    /// Whether the transport retries (statuses and failed connections) itself.
    pub(crate) retries: bool,
    /// A per-request timeout replacing the client's.
    pub(crate) timeout: Option<std::time::Duration>,
    /// A per-request cap on a body read whole, below the client's.
    pub(crate) max_response_bytes: Option<usize>,
}

impl Prepared {
    pub(crate) fn new(method: Method, url: Url) -> Self {
        let idempotency = if method == Method::POST || method == Method::PATCH {
            Idempotency::NonIdempotent
        } else {
            Idempotency::Idempotent
        };
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            idempotency,
            credentials: crate::credentials::CredentialScope::UnderBase,
            retries: true,
            timeout: None,
            max_response_bytes: None,
        }
    }

    pub(crate) fn body(mut self, body: Body) -> Self {
        self.body = Some(body);
        self
    }

    pub(crate) fn idempotent(mut self) -> Self {
        self.idempotency = Idempotency::Idempotent;
        self
    }

    /// Marks a request whose repetition may have another effect than the first attempt (a
    /// conditional update creates when nothing matches, so a repeat may create twice).
    pub(crate) fn non_idempotent(mut self) -> Self {
        self.idempotency = Idempotency::NonIdempotent;
        self
    }

    pub(crate) fn prefer(mut self, prefer: Option<Prefer>) -> Self {
        if let Some(prefer) = prefer {
            self.headers.insert("prefer", prefer.header_value());
        }
        self
    }

    /// Adds a header whose value comes from the caller (an ETag, a search string).
    pub(crate) fn header(mut self, name: header::HeaderName, value: &str) -> Result<Self, Error> {
        let value = HeaderValue::from_str(value).map_err(|_| {
            Error::invalid_request(format!("the `{name}` value is not a valid header value"))
        })?;
        self.headers.insert(name, value);
        Ok(self)
    }
}

/// The `resourceType` of a resource to send; a resource without one cannot be addressed.
pub(crate) fn resource_type_of<R: crate::Resource>(resource: &R) -> Result<String, Error> {
    match resource.resource_type() {
        Some(resource_type) if !resource_type.is_empty() => Ok(resource_type.to_owned()),
        _ => Err(Error::invalid_request("the resource has no resourceType")),
    }
}

/// Turns a version id or ETag into an `If-Match` value: `3` → `W/"3"`; an ETag stays as is.
pub(crate) fn etag_for(version: &str) -> String {
    let version = version.trim();
    if version.starts_with("W/") || version.starts_with('"') {
        version.to_owned()
    } else {
        format!("W/\"{version}\"")
    }
}
