//! Building `batch` and `transaction` Bundles entry by entry, and reading their responses.
//!
//! Each added entry returns an [`EntryHandle`]. A handle of a created resource is also its
//! `urn:uuid:` full URL, so other entries of the same transaction can reference the resource
//! before it has an id ([`EntryHandle::reference`]); the server rewrites those references. The
//! response is read entry by entry, in request order, and looked up by handle.
//!
//! ```no_run
//! # async fn demo(client: fhir_core::Client) -> Result<(), fhir_core::Error> {
//! use serde_json::json;
//!
//! let mut tx = client.transaction();
//! let patient = tx.create(&json!({"resourceType": "Patient", "name": [{"family": "Doe"}]}))?;
//! tx.create(&json!({
//!     "resourceType": "Observation", "status": "final",
//!     "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
//!     "subject": {"reference": patient.reference()},
//! }))?;
//! let response = tx.send().await?;
//! let created = response.entry(&patient).expect("one response per entry");
//! println!("{} {}", created.status(), created.location().unwrap_or("?"));
//! # Ok(()) }
//! ```

use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::client::Client;
use crate::error::Error;
use crate::outcome::OperationOutcome;
use crate::params::SearchParams;
use crate::request::{Body, Prefer, Prepared, etag_for, resource_type_of};
use crate::resource::{DecodeError, DecodeErrorKind, Resource, decode_with_serde};
use crate::response::ResponseMeta;

mod response;

use response::*;
pub use response::{BundleResponse, EntryResponse};

/// Whether a Bundle is a batch (entries independent) or a transaction (all or nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BundleKind {
    /// `batch`: each entry succeeds or fails on its own.
    Batch,
    /// `transaction`: every entry succeeds, or none does.
    Transaction,
}

impl BundleKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Batch => "batch",
            Self::Transaction => "transaction",
        }
    }
}

/// Refers to one entry of a [`BundleBuilder`], and to its response.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntryHandle {
    index: usize,
    full_url: Option<String>,
}

impl EntryHandle {
    /// The entry's position in the Bundle.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The reference other entries use for this entry's resource: its `urn:uuid:` full URL for
    /// a create, its `Type/id` URL for an update. Empty for entries without a resource.
    pub fn reference(&self) -> &str {
        self.full_url.as_deref().unwrap_or_default()
    }
}

/// Builds a `batch` or `transaction` Bundle; see the [module docs](self).
///
/// Each resource is embedded as the bytes its own [`Resource::to_json_vec`] wrote, never
/// through [`serde_json::Value`]: decimal text (`1.50` stays `1.50`), key order and every
/// other detail reach the server exactly as the model encodes them.
#[derive(Debug)]
#[must_use = "a Bundle does nothing until sent"]
pub struct BundleBuilder {
    client: Client,
    kind: BundleKind,
    entries: Vec<RequestEntry>,
    prefer: Option<Prefer>,
}

/// One entry as it is sent.
#[derive(Debug, serde::Serialize)]
struct RequestEntry {
    #[serde(rename = "fullUrl", skip_serializing_if = "Option::is_none")]
    full_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<Box<RawValue>>,
    request: EntryRequest,
}

/// `Bundle.entry.request`, in the order FHIR lists its elements.
#[derive(Debug, serde::Serialize)]
struct EntryRequest {
    method: &'static str,
    url: String,
    #[serde(rename = "ifMatch", skip_serializing_if = "Option::is_none")]
    if_match: Option<String>,
    #[serde(rename = "ifNoneExist", skip_serializing_if = "Option::is_none")]
    if_none_exist: Option<String>,
}

impl EntryRequest {
    fn new(method: &'static str, url: String) -> Self {
        Self {
            method,
            url,
            if_match: None,
            if_none_exist: None,
        }
    }
}

/// The Bundle as it is sent: `resourceType` first, entries in order.
#[derive(serde::Serialize)]
struct RequestBundle<'a> {
    #[serde(rename = "resourceType")]
    resource_type: &'static str,
    #[serde(rename = "type")]
    bundle_type: &'static str,
    entry: &'a [RequestEntry],
}

/// The resource's own encoding, checked to be one JSON object.
fn raw_resource<R: Resource>(resource: &R) -> Result<Box<RawValue>, Error> {
    let bytes = resource.to_json_vec().map_err(Error::encode)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::encode(crate::EncodeError::new("the resource is not UTF-8")))?;
    let raw = RawValue::from_string(text).map_err(|err| {
        Error::encode(crate::EncodeError::new(format!(
            "the resource is not JSON: {err}"
        )))
    })?;
    if !raw.get().trim_start().starts_with('{') {
        return Err(Error::encode(crate::EncodeError::new(
            "the resource is not a JSON object",
        )));
    }
    Ok(raw)
}

impl BundleBuilder {
    pub(crate) fn new(client: Client, kind: BundleKind) -> Self {
        Self {
            client,
            kind,
            entries: Vec::new(),
            prefer: None,
        }
    }

    fn push(
        &mut self,
        full_url: Option<String>,
        resource: Option<Box<RawValue>>,
        request: EntryRequest,
    ) -> EntryHandle {
        self.entries.push(RequestEntry {
            full_url: full_url.clone(),
            resource,
            request,
        });
        EntryHandle {
            index: self.entries.len() - 1,
            full_url,
        }
    }

    fn add_create<R: Resource>(
        &mut self,
        resource: &R,
        if_none_exist: Option<&SearchParams>,
    ) -> Result<EntryHandle, Error> {
        let resource_type = resource_type_of(resource)?;
        // A created resource gets its id from the server; its entry is named by a fresh UUID.
        let raw = crate::raw::without_member(raw_resource(resource)?, "id")
            .map_err(|err| Error::encode(crate::EncodeError::new(err.to_string())))?;
        let mut request = EntryRequest::new("POST", resource_type);
        request.if_none_exist = if_none_exist.map(SearchParams::to_query);
        let full_url = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        Ok(self.push(Some(full_url), Some(raw), request))
    }

    /// Adds a create; reference the new resource from other entries with
    /// [`EntryHandle::reference`]. An `id` the resource has is left out (the server assigns
    /// one); everything else is sent as the resource encodes itself.
    ///
    /// # Errors
    ///
    /// An invalid request when the resource has no `resourceType`; an encode error.
    pub fn create<R: Resource>(&mut self, resource: &R) -> Result<EntryHandle, Error> {
        self.add_create(resource, None)
    }

    /// Adds a conditional create (`ifNoneExist`): the server creates the resource only if
    /// nothing matches `search`; references to the handle then point at the match.
    ///
    /// # Errors
    ///
    /// As [`create`](Self::create).
    pub fn create_if_none_exist<R: Resource>(
        &mut self,
        resource: &R,
        search: &SearchParams,
    ) -> Result<EntryHandle, Error> {
        self.add_create(resource, Some(search))
    }

    fn add_update<R: Resource>(
        &mut self,
        resource: &R,
        if_match: Option<&str>,
    ) -> Result<EntryHandle, Error> {
        let resource_type = resource_type_of(resource)?;
        let id = resource
            .id()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| Error::invalid_request("the resource to update has no id"))?
            .to_owned();
        let mut request = EntryRequest::new("PUT", format!("{resource_type}/{id}"));
        request.if_match = if_match.map(etag_for);
        let full_url = self.client.url_for(&[&resource_type, &id]).to_string();
        Ok(self.push(Some(full_url), Some(raw_resource(resource)?), request))
    }

    /// Adds an update of the resource's own id.
    ///
    /// # Errors
    ///
    /// An invalid request when the resource has no `resourceType` or id; an encode error.
    pub fn update<R: Resource>(&mut self, resource: &R) -> Result<EntryHandle, Error> {
        self.add_update(resource, None)
    }

    /// Adds an update that applies only if the current version is `version` (`ifMatch`).
    ///
    /// # Errors
    ///
    /// As [`update`](Self::update).
    pub fn update_if_match<R: Resource>(
        &mut self,
        resource: &R,
        version: &str,
    ) -> Result<EntryHandle, Error> {
        self.add_update(resource, Some(version))
    }

    /// Adds a conditional update (`PUT [type]?search`).
    ///
    /// # Errors
    ///
    /// An invalid request when the resource has no `resourceType` or `search` is empty.
    pub fn update_conditional<R: Resource>(
        &mut self,
        resource: &R,
        search: &SearchParams,
    ) -> Result<EntryHandle, Error> {
        if search.is_empty() {
            return Err(Error::invalid_request(
                "a conditional update needs search parameters",
            ));
        }
        let resource_type = resource_type_of(resource)?;
        let request = EntryRequest::new("PUT", format!("{resource_type}?{}", search.to_query()));
        let full_url = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        Ok(self.push(Some(full_url), Some(raw_resource(resource)?), request))
    }

    /// Adds a JSON Patch of `resource_type/id`, sent as a Binary entry as FHIR R4 requires.
    ///
    /// # Errors
    ///
    /// An invalid request when `patch` is not an array of operations.
    pub fn patch(
        &mut self,
        resource_type: &str,
        id: &str,
        patch: impl Into<crate::JsonPatch>,
    ) -> Result<EntryHandle, Error> {
        let patch = patch.into();
        patch.check()?;
        use base64::Engine as _;
        let data = base64::engine::general_purpose::STANDARD.encode(patch.to_text());
        let binary = serde_json::to_string(&json!({
            "resourceType": "Binary", "contentType": crate::JSON_PATCH, "data": data
        }))
        .and_then(RawValue::from_string)
        .map_err(|err| Error::encode(crate::EncodeError::new(err.to_string())))?;
        let request = EntryRequest::new("PATCH", format!("{resource_type}/{id}"));
        Ok(self.push(None, Some(binary), request))
    }

    /// Adds a delete of `resource_type/id`.
    pub fn delete(&mut self, resource_type: &str, id: &str) -> EntryHandle {
        self.push(
            None,
            None,
            EntryRequest::new("DELETE", format!("{resource_type}/{id}")),
        )
    }

    /// Adds a conditional delete (`DELETE [type]?search`).
    ///
    /// # Errors
    ///
    /// An invalid request when `search` is empty.
    pub fn delete_conditional(
        &mut self,
        resource_type: &str,
        search: &SearchParams,
    ) -> Result<EntryHandle, Error> {
        if search.is_empty() {
            return Err(Error::invalid_request(
                "a conditional delete needs search parameters",
            ));
        }
        Ok(self.push(
            None,
            None,
            EntryRequest::new("DELETE", format!("{resource_type}?{}", search.to_query())),
        ))
    }

    /// Adds a read or search (`GET`) of `url`, relative to the base (`Patient/1`,
    /// `Observation?code=…`).
    pub fn get(&mut self, url: &str) -> EntryHandle {
        self.push(None, None, EntryRequest::new("GET", url.to_owned()))
    }

    /// `Prefer: return=…` for the entries' responses.
    pub fn prefer(mut self, prefer: Prefer) -> Self {
        self.prefer = Some(prefer);
        self
    }

    /// The number of entries added.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The Bundle exactly as it will be sent: FHIR JSON bytes, each resource as it encoded
    /// itself.
    pub fn to_json_vec(&self) -> Vec<u8> {
        let bundle = RequestBundle {
            resource_type: "Bundle",
            bundle_type: self.kind.as_str(),
            entry: &self.entries,
        };
        // Strings, raw JSON and plain structs only: serializing cannot fail.
        serde_json::to_vec(&bundle).unwrap_or_default()
    }

    /// The Bundle as it will be sent, decoded as `B` (a model's `Bundle`, or
    /// `serde_json::Value`, which loses decimal text: prefer a model or
    /// [`to_json_vec`](Self::to_json_vec)).
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] when `B` cannot represent the Bundle.
    pub fn to_bundle<B: Resource>(&self) -> Result<B, DecodeError> {
        B::from_json_slice(&self.to_json_vec())
    }

    /// Sends the Bundle.
    ///
    /// # Errors
    ///
    /// A status error when the server rejects the whole Bundle (every failed transaction);
    /// a decode error naming the entry when the response Bundle is malformed or has another
    /// number of entries than the request.
    pub async fn send(self) -> Result<BundleResponse, Error> {
        let request = Prepared::new(Method::POST, self.client.url_for(&[]))
            .body(Body::fhir_json(self.to_json_vec()))
            .prefer(self.prefer.or(self.client.inner.prefer));
        let raw = self.client.execute(request).await?.success()?;
        let entries = parse_response(&raw.body, self.kind, &self.entries)
            .map_err(|err| raw.decode_error(err))?;
        Ok(BundleResponse {
            meta: raw.into_meta_and_url().0,
            entries,
        })
    }
}

impl Client {
    /// Starts a `transaction` Bundle, entry by entry: all entries succeed or none. To send a
    /// Bundle built elsewhere, use [`transaction_bundle`](Self::transaction_bundle).
    pub fn transaction(&self) -> BundleBuilder {
        BundleBuilder::new(self.clone(), BundleKind::Transaction)
    }

    /// Starts a `batch` Bundle, entry by entry: each entry succeeds or fails on its own. To
    /// send a Bundle built elsewhere, use [`batch_bundle`](Self::batch_bundle).
    pub fn batch(&self) -> BundleBuilder {
        BundleBuilder::new(self.clone(), BundleKind::Batch)
    }

    /// Starts a `transaction` Bundle.
    #[deprecated(since = "0.2.0", note = "renamed to `transaction()`")]
    pub fn transaction_builder(&self) -> BundleBuilder {
        self.transaction()
    }

    /// Starts a `batch` Bundle.
    #[deprecated(since = "0.2.0", note = "renamed to `batch()`")]
    pub fn batch_builder(&self) -> BundleBuilder {
        self.batch()
    }
}

#[cfg(test)]
mod tests;
