//! `batch` and `transaction`: POST a Bundle to the base URL.

use std::marker::PhantomData;

use http::Method;

use crate::bundle::BundleKind;
use crate::client::Client;
use crate::error::Error;
use crate::request::{Body, Prefer, Prepared};
use crate::resource::Resource;
use crate::response::Response;

/// A `batch` or `transaction` request. The response is a Bundle of type `batch-response` or
/// `transaction-response`, decoded as `B` (by default the same type as the request).
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct BundleRequest<'b, B, R = B> {
    client: Client,
    bundle: &'b B,
    kind: BundleKind,
    prefer: Option<Prefer>,
    _response: PhantomData<fn() -> R>,
}

impl<'b, B: Resource, R: Resource> BundleRequest<'b, B, R> {
    /// `Prefer: return=…` for the entries of this request.
    pub fn prefer(mut self, prefer: Prefer) -> Self {
        self.prefer = Some(prefer);
        self
    }

    /// Decodes the response Bundle as `R2` instead.
    pub fn response_as<R2: Resource>(self) -> BundleRequest<'b, B, R2> {
        BundleRequest {
            client: self.client,
            bundle: self.bundle,
            kind: self.kind,
            prefer: self.prefer,
            _response: PhantomData,
        }
    }

    /// Sends the Bundle.
    ///
    /// # Errors
    ///
    /// An invalid request when the value is not a Bundle; a status error when the server
    /// rejects the whole Bundle (a failed transaction); transport, encode or decode errors.
    /// Individual batch entries may fail while the batch succeeds: check each entry's
    /// `response.status`.
    pub async fn send(self) -> Result<Response<R>, Error> {
        if self.bundle.resource_type() != Some("Bundle") {
            return Err(Error::invalid_request(format!(
                "a {} must be a Bundle",
                self.kind.as_str()
            )));
        }
        let body = self.bundle.to_json_vec().map_err(Error::encode)?;
        let request = Prepared::new(Method::POST, self.client.url_for(&[]))
            .body(Body::fhir_json(body))
            .prefer(self.prefer.or(self.client.inner.prefer));
        self.client
            .execute(request)
            .await?
            .into_response(Some("Bundle"))
    }
}

impl Client {
    /// `batch`: POSTs `bundle`, a Bundle of type `batch` built elsewhere; each entry succeeds or
    /// fails on its own. [`batch`](Self::batch) builds one entry by entry.
    pub fn batch_bundle<'b, B: Resource>(&self, bundle: &'b B) -> BundleRequest<'b, B> {
        BundleRequest {
            client: self.clone(),
            bundle,
            kind: BundleKind::Batch,
            prefer: None,
            _response: PhantomData,
        }
    }

    /// `transaction`: POSTs `bundle`, a Bundle of type `transaction` built elsewhere; all
    /// entries succeed or none. [`transaction`](Self::transaction) builds one entry by entry.
    pub fn transaction_bundle<'b, B: Resource>(&self, bundle: &'b B) -> BundleRequest<'b, B> {
        BundleRequest {
            client: self.clone(),
            bundle,
            kind: BundleKind::Transaction,
            prefer: None,
            _response: PhantomData,
        }
    }
}
