//! The answer to a batch or transaction: [`BundleResponse`](super::BundleResponse) and its
//! entries, each matched to the request it answers, with its status, location, ETag and
//! outcome.

use super::*;

/// The response to a [`BundleBuilder`]: one [`EntryResponse`] per entry, in request order.
#[derive(Debug)]
pub struct BundleResponse {
    pub(super) meta: ResponseMeta,
    pub(super) entries: Vec<EntryResponse>,
}

impl BundleResponse {
    /// The HTTP metadata of the response.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// The entries' responses, in request order.
    pub fn entries(&self) -> &[EntryResponse] {
        &self.entries
    }

    /// The response to the entry `handle` refers to.
    pub fn entry(&self, handle: &EntryHandle) -> Option<&EntryResponse> {
        self.entries.get(handle.index)
    }

    /// Whether every entry succeeded (2xx).
    pub fn all_succeeded(&self) -> bool {
        self.entries.iter().all(EntryResponse::is_success)
    }
}

/// The server's response to one entry.
#[derive(Debug)]
pub struct EntryResponse {
    pub(super) index: usize,
    pub(super) status: StatusCode,
    pub(super) location: Option<String>,
    pub(super) etag: Option<String>,
    pub(super) last_modified: Option<String>,
    pub(super) resource: Option<Box<RawValue>>,
    pub(super) outcome: Option<OperationOutcome>,
}

impl EntryResponse {
    /// The entry's status (from `response.status`, `201 Created` → 201).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// `response.location`: where the created or updated resource lives.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    /// The resource type named by `location` (`Patient/123/_history/2` → `Patient`).
    pub fn location_type(&self) -> Option<&str> {
        self.location
            .as_deref()
            .and_then(|location| crate::response::split_location(location).0)
    }

    /// The logical id named by `location` (`Patient/123/_history/2` → `123`): the id the
    /// server gave a created resource.
    pub fn location_id(&self) -> Option<&str> {
        self.location
            .as_deref()
            .and_then(|location| crate::response::split_location(location).1)
    }

    /// `response.etag`.
    pub fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    /// The version id from the ETag.
    pub fn version_id(&self) -> Option<&str> {
        self.etag.as_deref().map(crate::response::version_from_etag)
    }

    /// `response.lastModified`.
    pub fn last_modified(&self) -> Option<&str> {
        self.last_modified.as_deref()
    }

    /// The returned resource, decoded as `R`.
    ///
    /// # Errors
    ///
    /// A decode error naming the entry; `None` when the entry has no resource.
    pub fn resource<R: Resource>(&self) -> Option<Result<R, DecodeError>> {
        let raw = self.resource.as_deref()?;
        Some(
            R::from_json_slice(raw.get().as_bytes())
                .map_err(|err| err.within(&format!("entry[{}].resource", self.index))),
        )
    }

    /// The entry's OperationOutcome (`response.outcome`, or an OperationOutcome resource).
    pub fn outcome(&self) -> Option<&OperationOutcome> {
        self.outcome.as_ref()
    }
}

#[derive(Deserialize)]
pub(super) struct ResponseBundleShape {
    #[serde(rename = "resourceType")]
    pub(super) resource_type: Option<String>,
    #[serde(rename = "type")]
    pub(super) bundle_type: Option<String>,
    #[serde(default, deserialize_with = "crate::page::bounded_entries")]
    pub(super) entry: Vec<ResponseEntryShape>,
}

#[derive(Deserialize)]
pub(super) struct ResponseEntryShape {
    #[serde(default)]
    pub(super) resource: Option<Box<RawValue>>,
    pub(super) response: Option<ResponseShape>,
}

#[derive(Deserialize)]
pub(super) struct ResponseShape {
    pub(super) status: String,
    #[serde(default)]
    pub(super) location: Option<String>,
    #[serde(default)]
    pub(super) etag: Option<String>,
    #[serde(default, rename = "lastModified")]
    pub(super) last_modified: Option<String>,
    #[serde(default)]
    pub(super) outcome: Option<Value>,
}

/// `POST Patient`: the request of a request entry, to name it in errors.
pub(super) fn describe_request(entry: &RequestEntry) -> String {
    format!("{} {}", entry.request.method, entry.request.url)
}

pub(super) fn parse_response(
    body: &[u8],
    kind: BundleKind,
    sent: &[RequestEntry],
) -> Result<Vec<EntryResponse>, DecodeError> {
    let expected = sent.len();
    let shape: ResponseBundleShape = decode_with_serde(body)?;
    if shape.resource_type.as_deref() != Some("Bundle") {
        return Err(crate::response::wrong_type(
            "Bundle",
            shape.resource_type.as_deref(),
        ));
    }
    let expected_type = format!("{}-response", kind.as_str());
    if shape.bundle_type.as_deref() != Some(expected_type.as_str()) {
        return Err(DecodeError::new(
            DecodeErrorKind::InvalidValue,
            "type",
            format!(
                "expected {expected_type}, found {}",
                shape.bundle_type.as_deref().unwrap_or("no type")
            ),
        ));
    }
    let found = shape.entry.len();
    if found < expected {
        // The first entry left without a response is named, with its request.
        return Err(DecodeError::new(
            DecodeErrorKind::MissingField,
            format!("entry[{found}]"),
            format!(
                "the request had {expected} entries, the response has {found}: no response to \
                 entry {found} ({})",
                describe_request(&sent[found])
            ),
        ));
    }
    if found > expected {
        return Err(DecodeError::new(
            DecodeErrorKind::InvalidValue,
            format!("entry[{expected}]"),
            format!(
                "the request had {expected} entries, the response has {found}: entry \
                 {expected} answers no request"
            ),
        ));
    }
    shape
        .entry
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let response = entry.response.ok_or_else(|| {
                DecodeError::new(
                    DecodeErrorKind::MissingField,
                    format!("entry[{index}].response"),
                    format!(
                        "the entry has no response (request: {})",
                        describe_request(&sent[index])
                    ),
                )
            })?;
            let code = response
                .status
                .split_whitespace()
                .next()
                .and_then(|code| code.parse::<u16>().ok());
            let status = code
                .and_then(|code| StatusCode::from_u16(code).ok())
                .ok_or_else(|| {
                    DecodeError::new(
                        DecodeErrorKind::InvalidValue,
                        format!("entry[{index}].response.status"),
                        format!(
                            "`{}` does not start with an HTTP status code",
                            response.status
                        ),
                    )
                })?;
            let mut outcome = response.outcome.and_then(OperationOutcome::from_json);
            let mut resource = entry.resource;
            if outcome.is_none()
                && let Some(raw) = &resource
                && raw.get().contains("\"OperationOutcome\"")
                && let Some(found) = serde_json::from_str::<Value>(raw.get())
                    .ok()
                    .and_then(OperationOutcome::from_json)
            {
                outcome = Some(found);
                resource = None;
            }
            Ok(EntryResponse {
                index,
                status,
                location: response.location,
                etag: response.etag,
                last_modified: response.last_modified,
                resource,
                outcome,
            })
        })
        .collect()
}
