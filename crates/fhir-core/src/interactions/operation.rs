//! Operations (`$name`) at system, type and instance level, by GET or POST.

use futures::stream::BoxStream;

use crate::client::Client;
use crate::error::Error;
use crate::page::{self, Page, PageCursor, SearchOutcomes};
use crate::params::SearchParams;
use crate::request::{Body, Prepared};
use crate::resource::Resource;
use crate::response::Response;
use http::Method;

#[derive(Debug, Clone)]
enum Level {
    System,
    Type(String),
    Instance { resource_type: String, id: String },
}

/// An operation invocation (`[base]{/[type]{/[id]}}/$name`).
///
/// ```no_run
/// # async fn demo(client: fhir_core::Client) -> Result<(), fhir_core::Error> {
/// let everything = client
///     .operation("$everything")
///     .instance("Patient", "123")
///     .param("_count", "50")
///     .get::<serde_json::Value>()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct OperationRequest {
    client: Client,
    name: String,
    level: Level,
    params: SearchParams,
    max_pages: Option<usize>,
}

impl OperationRequest {
    /// Invokes the operation on a resource type (`[base]/[type]/$name`).
    pub fn on_type(mut self, resource_type: &str) -> Self {
        self.level = Level::Type(resource_type.to_owned());
        self
    }

    /// Invokes the operation on one resource (`[base]/[type]/[id]/$name`).
    pub fn instance(mut self, resource_type: &str, id: &str) -> Self {
        self.level = Level::Instance {
            resource_type: resource_type.to_owned(),
            id: id.to_owned(),
        };
        self
    }

    /// Adds a simple input parameter, sent in the query by [`get`](Self::get).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push(name, value);
        self
    }

    /// Stops [`pages`](Self::pages) after `max` pages (the stream ends; no error).
    pub fn max_pages(mut self, max: usize) -> Self {
        self.max_pages = Some(max);
        self
    }

    fn url(&self) -> Result<url::Url, Error> {
        let name = self.name.trim_start_matches('$');
        if name.is_empty() || name.contains(['/', '?', '#']) {
            return Err(Error::invalid_request(format!(
                "`{}` is not a valid operation name",
                self.name
            )));
        }
        let operation = format!("${name}");
        let url = match &self.level {
            Level::System => self.client.url_for(&[&operation]),
            Level::Type(resource_type) => self.client.url_for(&[resource_type, &operation]),
            Level::Instance { resource_type, id } => {
                if id.is_empty() {
                    return Err(Error::invalid_request("the resource id is empty"));
                }
                self.client.url_for(&[resource_type, id, &operation])
            }
        };
        Ok(url)
    }

    /// Invokes the operation by GET with the parameters in the query (for operations without
    /// side effects and with only simple parameters); the result is decoded as `R`.
    ///
    /// # Errors
    ///
    /// A status, transport or decode error.
    pub async fn get<R: Resource>(self) -> Result<Response<R>, Error> {
        let mut url = self.url()?;
        if !self.params.is_empty() {
            url.set_query(Some(&self.params.to_query()));
        }
        self.client
            .execute(Prepared::new(Method::GET, url))
            .await?
            .into_response(None)
    }

    /// Invokes the operation by GET, like [`get`](Self::get), for an operation whose result is
    /// a searchset Bundle (`$everything`), and pages through it following `next` links.
    pub fn pages<T: Resource>(self) -> BoxStream<'static, Result<Page<T>, Error>> {
        let first = self.url().map(|mut url| {
            if !self.params.is_empty() {
                url.set_query(Some(&self.params.to_query()));
            }
            Prepared::new(Method::GET, url)
        });
        match first {
            Ok(first) => page::pages(PageCursor {
                client: self.client,
                first,
                expected_type: None,
                max_pages: self.max_pages,
                outcomes: SearchOutcomes::Ignore,
            }),
            Err(err) => Box::pin(futures::stream::once(async { Err(err) })),
        }
    }

    /// Invokes the operation by POST with `parameters` (a `Parameters` resource, or the single
    /// resource an operation takes) as the body; the result is decoded as `R`. Parameters added
    /// with [`param`](Self::param) go into the query.
    ///
    /// # Errors
    ///
    /// A status, transport, encode or decode error.
    pub async fn post<B: Resource, R: Resource>(
        self,
        parameters: &B,
    ) -> Result<Response<R>, Error> {
        let mut url = self.url()?;
        if !self.params.is_empty() {
            url.set_query(Some(&self.params.to_query()));
        }
        let body = parameters.to_json_vec().map_err(Error::encode)?;
        let request = Prepared::new(Method::POST, url).body(Body::fhir_json(body));
        self.client.execute(request).await?.into_response(None)
    }
}

impl Client {
    /// An operation call, at system level until [`OperationRequest::on_type`] or
    /// [`OperationRequest::instance`] says otherwise. The leading `$` is optional.
    pub fn operation(&self, name: &str) -> OperationRequest {
        OperationRequest {
            client: self.clone(),
            name: name.to_owned(),
            level: Level::System,
            params: SearchParams::new(),
            max_pages: None,
        }
    }
}
