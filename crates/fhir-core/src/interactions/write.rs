//! `create`, `update`, `patch` and `delete`, each also in its conditional form.

use std::marker::PhantomData;

use http::{Method, header};
use serde_json::Value;

use crate::client::Client;
use crate::error::Error;
use crate::params::SearchParams;
use crate::patch::JsonPatch;
use crate::request::{Body, Prefer, Prepared, etag_for, resource_type_of};
use crate::resource::{Resource, TypedResource};
use crate::response::WriteResponse;

fn encode<R: Resource>(resource: &R) -> Result<Vec<u8>, Error> {
    resource.to_json_vec().map_err(Error::encode)
}

/// `create` (`POST [base]/[type]`), optionally conditional (`If-None-Exist`).
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct CreateRequest<'r, R> {
    client: Client,
    resource: &'r R,
    if_none_exist: Option<SearchParams>,
    prefer: Option<Prefer>,
}

impl<R: Resource> CreateRequest<'_, R> {
    /// Conditional create: the server creates the resource only if nothing matches `search`
    /// (`If-None-Exist`); with one match it returns 200 and the existing resource.
    pub fn if_none_exist(mut self, search: SearchParams) -> Self {
        self.if_none_exist = Some(search);
        self
    }

    /// `Prefer: return=…` for this request.
    pub fn prefer(mut self, prefer: Prefer) -> Self {
        self.prefer = Some(prefer);
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    ///
    /// A status error (`is_precondition_failed` when a conditional create matched several
    /// resources, `is_unprocessable` for invalid resources), transport, encode or decode error.
    pub async fn send(self) -> Result<WriteResponse<R>, Error> {
        let resource_type = resource_type_of(self.resource)?;
        let url = self.client.url_for(&[&resource_type]);
        let mut request = Prepared::new(Method::POST, url)
            .body(Body::fhir_json(encode(self.resource)?))
            .prefer(self.prefer.or(self.client.inner.prefer));
        if let Some(search) = &self.if_none_exist {
            request = request.header(
                header::HeaderName::from_static("if-none-exist"),
                &search.to_query(),
            )?;
        }
        self.client.execute(request).await?.into_write_response()
    }
}

#[derive(Debug)]
enum UpdateTarget {
    /// `PUT [base]/[type]/[id]`, the id taken from the resource.
    ById,
    /// `PUT [base]/[type]?search`.
    Conditional(SearchParams),
}

/// `update` (`PUT [base]/[type]/[id]`), optionally with `If-Match`, or conditional update
/// (`PUT [base]/[type]?search`).
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct UpdateRequest<'r, R> {
    client: Client,
    resource: &'r R,
    target: UpdateTarget,
    if_match: Option<String>,
    prefer: Option<Prefer>,
}

impl<R: Resource> UpdateRequest<'_, R> {
    /// Only update if the current version is `version` (a version id or an ETag); otherwise the
    /// server answers 412 Precondition Failed (or 409 Conflict).
    pub fn if_match(mut self, version: &str) -> Self {
        self.if_match = Some(etag_for(version));
        self
    }

    /// `Prefer: return=…` for this request.
    pub fn prefer(mut self, prefer: Prefer) -> Self {
        self.prefer = Some(prefer);
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    ///
    /// A status error (`is_precondition_failed` / `is_conflict` on a version mismatch),
    /// transport, encode or decode error, or an invalid request (no id for a plain update).
    pub async fn send(self) -> Result<WriteResponse<R>, Error> {
        let resource_type = resource_type_of(self.resource)?;
        let url = match &self.target {
            UpdateTarget::ById => {
                let id = self
                    .resource
                    .id()
                    .filter(|id| !id.is_empty())
                    .ok_or_else(|| Error::invalid_request("the resource to update has no id"))?;
                self.client.url_for(&[&resource_type, id])
            }
            UpdateTarget::Conditional(search) => {
                if search.is_empty() {
                    return Err(Error::invalid_request(
                        "a conditional update needs search parameters",
                    ));
                }
                let mut url = self.client.url_for(&[&resource_type]);
                url.set_query(Some(&search.to_query()));
                url
            }
        };
        let mut request = Prepared::new(Method::PUT, url)
            .body(Body::fhir_json(encode(self.resource)?))
            .prefer(self.prefer.or(self.client.inner.prefer));
        if matches!(self.target, UpdateTarget::Conditional(_)) {
            // With no match the server creates: a repeat after a lost answer may create twice.
            request = request.non_idempotent();
        }
        if let Some(etag) = &self.if_match {
            request = request.header(header::IF_MATCH, etag)?;
        }
        self.client.execute(request).await?.into_write_response()
    }
}

/// `patch` with a JSON Patch document (`PATCH [base]/[type]/[id]` or `PATCH [base]/[type]?search`).
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct PatchRequest<T> {
    client: Client,
    resource_type: String,
    target: PatchTarget,
    patch: JsonPatch,
    if_match: Option<String>,
    prefer: Option<Prefer>,
    _resource: PhantomData<fn() -> T>,
}

#[derive(Debug)]
enum PatchTarget {
    Id(String),
    Conditional(SearchParams),
}

impl<T: Resource> PatchRequest<T> {
    /// Only patch if the current version is `version` (a version id or an ETag).
    pub fn if_match(mut self, version: &str) -> Self {
        self.if_match = Some(etag_for(version));
        self
    }

    /// `Prefer: return=…` for this request.
    pub fn prefer(mut self, prefer: Prefer) -> Self {
        self.prefer = Some(prefer);
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    ///
    /// A status, transport or decode error; an invalid request when the patch is not a JSON
    /// array of operations.
    pub async fn send(self) -> Result<WriteResponse<T>, Error> {
        self.patch.check()?;
        let url = match &self.target {
            PatchTarget::Id(id) => {
                if id.is_empty() {
                    return Err(Error::invalid_request("the resource id is empty"));
                }
                self.client.url_for(&[&self.resource_type, id])
            }
            PatchTarget::Conditional(search) => {
                if search.is_empty() {
                    return Err(Error::invalid_request(
                        "a conditional patch needs search parameters",
                    ));
                }
                let mut url = self.client.url_for(&[&self.resource_type]);
                url.set_query(Some(&search.to_query()));
                url
            }
        };
        let mut request = Prepared::new(Method::PATCH, url)
            .body(Body::json_patch(self.patch.to_text().into_bytes()))
            .prefer(self.prefer.or(self.client.inner.prefer));
        if let Some(etag) = &self.if_match {
            request = request.header(header::IF_MATCH, etag)?;
        }
        self.client.execute(request).await?.into_write_response()
    }
}

/// `delete` (`DELETE [base]/[type]/[id]`) or conditional delete (`DELETE [base]/[type]?search`).
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct DeleteRequest {
    client: Client,
    resource_type: String,
    target: PatchTarget,
}

impl DeleteRequest {
    /// Sends the request. Deleting a resource that does not exist is a success on most servers
    /// (204 or 200); a conditional delete matching several resources may be 412.
    ///
    /// # Errors
    ///
    /// A status, transport or decode error.
    pub async fn send(self) -> Result<WriteResponse<Value>, Error> {
        let url = match &self.target {
            PatchTarget::Id(id) => {
                if id.is_empty() {
                    return Err(Error::invalid_request("the resource id is empty"));
                }
                self.client.url_for(&[&self.resource_type, id])
            }
            PatchTarget::Conditional(search) => {
                if search.is_empty() {
                    return Err(Error::invalid_request(
                        "a conditional delete needs search parameters",
                    ));
                }
                let mut url = self.client.url_for(&[&self.resource_type]);
                url.set_query(Some(&search.to_query()));
                url
            }
        };
        self.client
            .execute(Prepared::new(Method::DELETE, url))
            .await?
            .into_write_response()
    }
}

impl Client {
    /// `create`: POSTs `resource` to its type's endpoint.
    pub fn create<'r, R: Resource>(&self, resource: &'r R) -> CreateRequest<'r, R> {
        CreateRequest {
            client: self.clone(),
            resource,
            if_none_exist: None,
            prefer: None,
        }
    }

    /// `update`: PUTs `resource` to `[type]/[id]`, the id taken from the resource.
    pub fn update<'r, R: Resource>(&self, resource: &'r R) -> UpdateRequest<'r, R> {
        UpdateRequest {
            client: self.clone(),
            resource,
            target: UpdateTarget::ById,
            if_match: None,
            prefer: None,
        }
    }

    /// Conditional update: PUTs `resource` to `[type]?search`; the server updates the one match,
    /// or creates the resource when nothing matches.
    pub fn update_conditional<'r, R: Resource>(
        &self,
        resource: &'r R,
        search: SearchParams,
    ) -> UpdateRequest<'r, R> {
        UpdateRequest {
            client: self.clone(),
            resource,
            target: UpdateTarget::Conditional(search),
            if_match: None,
            prefer: None,
        }
    }

    /// `patch` of a `T` by id with a JSON Patch document (an array of operations, as a
    /// `serde_json::Value` or a [`JsonPatch`] written as text when decimals must keep theirs).
    pub fn patch<T: TypedResource>(
        &self,
        id: &str,
        patch: impl Into<JsonPatch>,
    ) -> PatchRequest<T> {
        self.patch_request(
            T::RESOURCE_TYPE,
            PatchTarget::Id(id.to_owned()),
            patch.into(),
        )
    }

    /// `patch` of any resource type by id, as JSON.
    pub fn patch_json(
        &self,
        resource_type: &str,
        id: &str,
        patch: impl Into<JsonPatch>,
    ) -> PatchRequest<Value> {
        self.patch_request(resource_type, PatchTarget::Id(id.to_owned()), patch.into())
    }

    /// Conditional `patch` of the one `T` matching `search`.
    pub fn patch_conditional<T: TypedResource>(
        &self,
        search: SearchParams,
        patch: impl Into<JsonPatch>,
    ) -> PatchRequest<T> {
        self.patch_request(
            T::RESOURCE_TYPE,
            PatchTarget::Conditional(search),
            patch.into(),
        )
    }

    /// Conditional `patch` of any resource type, as JSON.
    pub fn patch_conditional_json(
        &self,
        resource_type: &str,
        search: SearchParams,
        patch: impl Into<JsonPatch>,
    ) -> PatchRequest<Value> {
        self.patch_request(
            resource_type,
            PatchTarget::Conditional(search),
            patch.into(),
        )
    }

    fn patch_request<T: Resource>(
        &self,
        resource_type: &str,
        target: PatchTarget,
        patch: JsonPatch,
    ) -> PatchRequest<T> {
        PatchRequest {
            client: self.clone(),
            resource_type: resource_type.to_owned(),
            target,
            patch,
            if_match: None,
            prefer: None,
            _resource: PhantomData,
        }
    }

    /// `delete` of a `T` by id.
    pub fn delete<T: TypedResource>(&self, id: &str) -> DeleteRequest {
        self.delete_json(T::RESOURCE_TYPE, id)
    }

    /// `delete` of any resource type by id.
    pub fn delete_json(&self, resource_type: &str, id: &str) -> DeleteRequest {
        DeleteRequest {
            client: self.clone(),
            resource_type: resource_type.to_owned(),
            target: PatchTarget::Id(id.to_owned()),
        }
    }

    /// Conditional `delete` of the `T`s matching `search`.
    pub fn delete_conditional<T: TypedResource>(&self, search: SearchParams) -> DeleteRequest {
        self.delete_conditional_json(T::RESOURCE_TYPE, search)
    }

    /// Conditional `delete` of any resource type.
    pub fn delete_conditional_json(
        &self,
        resource_type: &str,
        search: SearchParams,
    ) -> DeleteRequest {
        DeleteRequest {
            client: self.clone(),
            resource_type: resource_type.to_owned(),
            target: PatchTarget::Conditional(search),
        }
    }
}
