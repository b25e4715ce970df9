//! `read`, `vread`, conditional read, `capabilities` and reads of absolute references.

use std::marker::PhantomData;
use std::time::SystemTime;

use http::{Method, StatusCode, header};
use serde_json::Value;

use crate::client::Client;
use crate::error::Error;
use crate::request::Prepared;
use crate::resource::{Resource, TypedResource};
use crate::response::{ConditionalRead, Response};

/// A `read` or `vread` (`GET [base]/[type]/[id]{/_history/[vid]}`).
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct ReadRequest<T> {
    client: Client,
    resource_type: String,
    id: String,
    version: Option<String>,
    _resource: PhantomData<fn() -> T>,
}

impl<T: Resource> ReadRequest<T> {
    pub(crate) fn new(
        client: Client,
        resource_type: &str,
        id: &str,
        version: Option<&str>,
    ) -> Self {
        Self {
            client,
            resource_type: resource_type.to_owned(),
            id: id.to_owned(),
            version: version.map(str::to_owned),
            _resource: PhantomData,
        }
    }

    fn prepare(&self) -> Result<Prepared, Error> {
        if self.id.is_empty() {
            return Err(Error::invalid_request("the resource id is empty"));
        }
        let url = match &self.version {
            Some(version) => {
                self.client
                    .url_for(&[&self.resource_type, &self.id, "_history", version])
            }
            None => self.client.url_for(&[&self.resource_type, &self.id]),
        };
        Ok(Prepared::new(Method::GET, url))
    }

    /// Only return the resource if its ETag differs from `etag` (a version id or an ETag):
    /// a 304 Not Modified becomes [`ConditionalRead::NotModified`].
    pub fn if_none_match(self, etag: &str) -> ConditionalReadRequest<T> {
        ConditionalReadRequest {
            read: self,
            if_none_match: Some(crate::request::etag_for(etag)),
            if_modified_since: None,
        }
    }

    /// Only return the resource if it changed after `since`: a 304 Not Modified becomes
    /// [`ConditionalRead::NotModified`].
    pub fn if_modified_since(self, since: SystemTime) -> ConditionalReadRequest<T> {
        ConditionalReadRequest {
            read: self,
            if_none_match: None,
            if_modified_since: Some(since),
        }
    }

    /// Sends the request.
    ///
    /// # Errors
    ///
    /// A status error (`is_not_found`, `is_gone`, …) or a decode error when the body is not a
    /// resource of the requested type.
    pub async fn send(self) -> Result<Response<T>, Error> {
        let request = self.prepare()?;
        let raw = self.client.execute(request).await?;
        raw.into_response(Some(&self.resource_type))
    }
}

/// A conditional read (`If-None-Match` / `If-Modified-Since`), where 304 is a normal result.
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct ConditionalReadRequest<T> {
    read: ReadRequest<T>,
    if_none_match: Option<String>,
    if_modified_since: Option<SystemTime>,
}

impl<T: Resource> ConditionalReadRequest<T> {
    /// Also require a change after `since`.
    pub fn if_modified_since(mut self, since: SystemTime) -> Self {
        self.if_modified_since = Some(since);
        self
    }

    /// Also require an ETag other than `etag`.
    pub fn if_none_match(mut self, etag: &str) -> Self {
        self.if_none_match = Some(crate::request::etag_for(etag));
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    ///
    /// As [`ReadRequest::send`]; 304 Not Modified is not an error.
    pub async fn send(self) -> Result<ConditionalRead<T>, Error> {
        let mut request = self.read.prepare()?;
        if let Some(etag) = &self.if_none_match {
            request = request.header(header::IF_NONE_MATCH, etag)?;
        }
        if let Some(since) = self.if_modified_since {
            request = request.header(header::IF_MODIFIED_SINCE, &httpdate::fmt_http_date(since))?;
        }
        let client = &self.read.client;
        let raw = client.execute(request).await?;
        if raw.status == StatusCode::NOT_MODIFIED {
            return Ok(ConditionalRead::NotModified(raw.meta()));
        }
        raw.into_response(Some(&self.read.resource_type))
            .map(ConditionalRead::Modified)
    }
}

impl Client {
    /// `read`: the current version of a `T` by id.
    ///
    /// ```no_run
    /// # async fn demo(client: fhir_core::Client) -> Result<(), fhir_core::Error> {
    /// // With raw JSON; typed models use `client.read::<Patient>("123")`.
    /// let patient = client.read_json("Patient", "123").send().await?;
    /// println!("version {:?}", patient.meta().version_id());
    /// # Ok(()) }
    /// ```
    pub fn read<T: TypedResource>(&self, id: &str) -> ReadRequest<T> {
        ReadRequest::new(self.clone(), T::RESOURCE_TYPE, id, None)
    }

    /// `read` of any resource type, as a [`serde_json::Value`].
    ///
    /// **`Value` loses decimal text** (`1.50` becomes `1.5`, long decimals are rounded): do not
    /// send a `Value` read this way back with [`update`](Self::update) if it holds decimals
    /// that matter. Use [`read_raw`](Self::read_raw) or a typed model for read-modify-write.
    pub fn read_json(&self, resource_type: &str, id: &str) -> ReadRequest<Value> {
        ReadRequest::new(self.clone(), resource_type, id, None)
    }

    /// `read` of any resource type, kept as its exact JSON text ([`RawJson`](crate::RawJson)):
    /// the lossless untyped read, for read-modify-write without a model (see [`crate::raw`]).
    pub fn read_raw(&self, resource_type: &str, id: &str) -> ReadRequest<crate::RawJson> {
        ReadRequest::new(self.clone(), resource_type, id, None)
    }

    /// `vread`: one version of a `T`.
    pub fn vread<T: TypedResource>(&self, id: &str, version_id: &str) -> ReadRequest<T> {
        ReadRequest::new(self.clone(), T::RESOURCE_TYPE, id, Some(version_id))
    }

    /// `vread` of any resource type, as JSON.
    pub fn vread_json(
        &self,
        resource_type: &str,
        id: &str,
        version_id: &str,
    ) -> ReadRequest<Value> {
        ReadRequest::new(self.clone(), resource_type, id, Some(version_id))
    }

    /// `capabilities`: the server's CapabilityStatement (`GET [base]/metadata`), as `R`
    /// (`serde_json::Value` or a typed CapabilityStatement).
    ///
    /// # Errors
    ///
    /// A status, transport or decode error.
    pub async fn capabilities<R: Resource>(&self) -> Result<Response<R>, Error> {
        let request = Prepared::new(Method::GET, self.url_for(&["metadata"]));
        self.execute(request)
            .await?
            .into_response(Some("CapabilityStatement"))
    }

    /// Reads the resource at `reference`: a URL relative to the base (`Patient/123`) or an
    /// absolute URL. Credentials are sent only when the URL lies under the base URL.
    ///
    /// # Errors
    ///
    /// A status, transport or decode error, or an invalid reference.
    pub async fn get<R: Resource>(&self, reference: &str) -> Result<Response<R>, Error> {
        let url = self.resolve(reference)?;
        self.execute(Prepared::new(Method::GET, url))
            .await?
            .into_response(None)
    }
}
