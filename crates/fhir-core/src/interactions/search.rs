//! `search` at system, type and compartment level, by GET or POST `_search`, and paging.

use std::marker::PhantomData;

use futures::stream::BoxStream;
use http::Method;
use serde_json::Value;

use crate::client::Client;
use crate::error::Error;
use crate::page::{self, Entry, Page, PageCursor, SearchOutcomes};
use crate::params::SearchParams;
use crate::query::SearchQuery;
use crate::request::{Body, Prepared};
use crate::resource::{Resource, TypedResource};

/// How a search is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SearchMethod {
    /// GET, switching to POST `_search` when the URL would exceed the client's
    /// [`max_get_url_len`](crate::ClientBuilder::max_get_url_len).
    #[default]
    Auto,
    /// Always GET.
    Get,
    /// Always POST `_search` with a form-encoded body.
    Post,
}

#[derive(Debug, Clone)]
enum Target {
    System,
    Type(String),
    Compartment {
        compartment: String,
        id: String,
        resource_type: Option<String>,
    },
}

/// A search. Send it for the first page, or stream pages, entries or resources across all pages.
///
/// ```no_run
/// # async fn demo(client: fhir_core::Client) -> Result<(), fhir_core::Error> {
/// use futures::TryStreamExt as _;
///
/// let mut patients = client
///     .search_json("Patient")
///     .param("family", "Smith")
///     .count(100)
///     .resources();
/// while let Some(patient) = patients.try_next().await? {
///     println!("Patient/{}", patient["id"]);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct SearchRequest<T> {
    client: Client,
    target: Target,
    params: SearchParams,
    method: SearchMethod,
    max_pages: Option<usize>,
    outcomes: SearchOutcomes,
    _resource: PhantomData<fn() -> T>,
}

impl<T: Resource> SearchRequest<T> {
    fn new(client: Client, target: Target) -> Self {
        Self {
            client,
            target,
            params: SearchParams::new(),
            method: SearchMethod::Auto,
            max_pages: None,
            outcomes: SearchOutcomes::default(),
            _resource: PhantomData,
        }
    }

    /// Adds `name=value` (repeat a name for AND; join values with `,` for OR; see
    /// [`params::escape`](crate::params::escape) for literal text).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push(name, value);
        self
    }

    /// Adds every parameter of `params`.
    pub fn params(mut self, params: SearchParams) -> Self {
        self.params.extend(params);
        self
    }

    /// Sets `_count`, the page size the client asks for.
    pub fn count(mut self, count: u32) -> Self {
        self.params.set("_count", count.to_string());
        self
    }

    /// Chooses GET, POST `_search`, or automatic (the default).
    pub fn method(mut self, method: SearchMethod) -> Self {
        self.method = method;
        self
    }

    /// Stops paging after `max` pages (the streams end; no error).
    pub fn max_pages(mut self, max: usize) -> Self {
        self.max_pages = Some(max);
        self
    }

    /// What [`resources`](Self::resources) does when the server reports on the search in an
    /// outcome entry (`search.mode = outcome`), for example that it ignored a parameter. By
    /// default ([`SearchOutcomes::Fail`]) the stream ends with an
    /// [`ErrorKind::SearchOutcome`](crate::ErrorKind::SearchOutcome) error when an outcome
    /// has an issue of severity `warning` or worse, rather than yield matches that are not
    /// what was asked.
    ///
    /// ```no_run
    /// # async fn demo(client: fhir_core::Client) -> Result<(), fhir_core::Error> {
    /// use fhir_core::SearchOutcomes;
    /// use futures::TryStreamExt as _;
    ///
    /// // Carry on, but keep a record of what the server said.
    /// let patients: Vec<serde_json::Value> = client
    ///     .search_json("Patient")
    ///     .param("birthdate", "gt1970")
    ///     .outcomes(SearchOutcomes::report(|outcome| eprintln!("server: {}", outcome.summary())))
    ///     .resources()
    ///     .try_collect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn outcomes(mut self, outcomes: SearchOutcomes) -> Self {
        self.outcomes = outcomes;
        self
    }

    fn segments(&self) -> Vec<&str> {
        match &self.target {
            Target::System => Vec::new(),
            Target::Type(resource_type) => vec![resource_type.as_str()],
            Target::Compartment {
                compartment,
                id,
                resource_type,
            } => vec![
                compartment.as_str(),
                id.as_str(),
                resource_type.as_deref().unwrap_or("*"),
            ],
        }
    }

    fn expected_type(&self) -> Option<String> {
        match &self.target {
            Target::System => None,
            Target::Type(resource_type) => Some(resource_type.clone()),
            Target::Compartment { resource_type, .. } => resource_type.clone(),
        }
    }

    fn prepare(&self) -> Result<Prepared, Error> {
        if let Target::Compartment { id, .. } = &self.target
            && id.is_empty()
        {
            return Err(Error::invalid_request("the compartment id is empty"));
        }
        let segments = self.segments();
        let mut get_url = self.client.url_for(&segments);
        if !self.params.is_empty() {
            get_url.set_query(Some(&self.params.to_query()));
        }
        let use_post = match self.method {
            SearchMethod::Get => false,
            SearchMethod::Post => true,
            SearchMethod::Auto => get_url.as_str().len() > self.client.inner.max_get_url_len,
        };
        if !use_post {
            return Ok(Prepared::new(Method::GET, get_url));
        }
        let mut post_segments = segments;
        post_segments.push("_search");
        let url = self.client.url_for(&post_segments);
        // Searching has no side effects, so a POST `_search` may be retried like a GET.
        Ok(Prepared::new(Method::POST, url)
            .body(Body::form(self.params.to_form()))
            .idempotent())
    }

    fn cursor(self) -> Result<PageCursor, Error> {
        Ok(PageCursor {
            first: self.prepare()?,
            expected_type: self.expected_type(),
            max_pages: self.max_pages,
            outcomes: self.outcomes,
            client: self.client,
        })
    }

    /// Sends the search and returns the first page.
    ///
    /// # Errors
    ///
    /// A status or transport error, or a decode error when the body is not a Bundle.
    pub async fn send(self) -> Result<Page<T>, Error> {
        let request = self.prepare()?;
        let expected_type = self.expected_type();
        page::fetch_page(&self.client, request, expected_type).await
    }

    /// Every page, following `next` links.
    ///
    /// The stream ends with an error rather than run forever or go astray: a link back to a
    /// page already fetched ([`ErrorKind::LinkCycle`](crate::ErrorKind::LinkCycle), fragments
    /// ignored), a link to another origin or from https to http
    /// ([`ErrorKind::LinkRefused`](crate::ErrorKind::LinkRefused)), or too many empty pages in
    /// a row ([`ErrorKind::EmptyPages`](crate::ErrorKind::EmptyPages)); the page holding the
    /// offending link is yielded first.
    pub fn pages(self) -> BoxStream<'static, Result<Page<T>, Error>> {
        match self.cursor() {
            Ok(cursor) => page::pages(cursor),
            Err(err) => Box::pin(futures::stream::once(async { Err(err) })),
        }
    }

    /// Every entry of every page (matches, includes and outcomes), following `next` links.
    pub fn entries(self) -> BoxStream<'static, Result<Entry, Error>> {
        match self.cursor() {
            Ok(cursor) => page::entries::<T>(cursor),
            Err(err) => Box::pin(futures::stream::once(async { Err(err) })),
        }
    }

    /// Every matched resource of every page, decoded as `T`, following `next` links (with the
    /// guards of [`pages`](Self::pages)).
    pub fn resources(self) -> BoxStream<'static, Result<T, Error>> {
        match self.cursor() {
            Ok(cursor) => page::resources(cursor),
            Err(err) => Box::pin(futures::stream::once(async { Err(err) })),
        }
    }
}

impl Client {
    /// Type-level search of `T` (`GET [base]/[type]?…`).
    pub fn search<T: TypedResource>(&self) -> SearchRequest<T> {
        SearchRequest::new(self.clone(), Target::Type(T::RESOURCE_TYPE.to_owned()))
    }

    /// Search with a query built elsewhere, such as `fhir_r4::search::Search`: type-level, or in
    /// the query's compartment when it names one. The parameters are sent in the query's order,
    /// as given (they are already in FHIR search syntax); add paging options to the returned
    /// request as usual.
    ///
    /// ```no_run
    /// # async fn demo<Q: fhir_core::SearchQuery>(client: fhir_core::Client, q: Q)
    /// # -> Result<(), fhir_core::Error> {
    /// let page = client.search_with(q).max_pages(10).send().await?;
    /// println!("{:?} matches", page.total());
    /// # Ok(()) }
    /// ```
    pub fn search_with<Q: SearchQuery>(&self, query: Q) -> SearchRequest<Q::Resource> {
        let target = match query.compartment() {
            Some((compartment, id)) => Target::Compartment {
                compartment: compartment.to_owned(),
                id: id.to_owned(),
                resource_type: Some(<Q::Resource as TypedResource>::RESOURCE_TYPE.to_owned()),
            },
            None => Target::Type(<Q::Resource as TypedResource>::RESOURCE_TYPE.to_owned()),
        };
        let params: SearchParams = query.into_pairs().into_iter().collect();
        SearchRequest::new(self.clone(), target).params(params)
    }

    /// Type-level search of any resource type, as [`serde_json::Value`].
    ///
    /// **`Value` loses decimal text** (`1.50` becomes `1.5`; long decimals are rounded), also
    /// in the one-pass [`resources`](SearchRequest::resources) stream: fine for reading, not
    /// for resources you send back. Read those with a typed model, or page with
    /// [`pages`](SearchRequest::pages) and take each entry's exact text
    /// ([`Entry::raw_resource`](crate::page::Entry::raw_resource), or
    /// `entry.decode::<RawJson>()`).
    pub fn search_json(&self, resource_type: &str) -> SearchRequest<Value> {
        SearchRequest::new(self.clone(), Target::Type(resource_type.to_owned()))
    }

    /// System-level search across all types (`GET [base]?…`), as JSON.
    pub fn search_system(&self) -> SearchRequest<Value> {
        SearchRequest::new(self.clone(), Target::System)
    }

    /// Compartment search of `T` (`GET [base]/Patient/123/Observation?…`).
    pub fn search_compartment<T: TypedResource>(
        &self,
        compartment: &str,
        id: &str,
    ) -> SearchRequest<T> {
        SearchRequest::new(
            self.clone(),
            Target::Compartment {
                compartment: compartment.to_owned(),
                id: id.to_owned(),
                resource_type: Some(T::RESOURCE_TYPE.to_owned()),
            },
        )
    }

    /// Compartment search as JSON, of one type or, with `None`, of every type
    /// (`GET [base]/Patient/123/*`).
    pub fn search_compartment_json(
        &self,
        compartment: &str,
        id: &str,
        resource_type: Option<&str>,
    ) -> SearchRequest<Value> {
        SearchRequest::new(
            self.clone(),
            Target::Compartment {
                compartment: compartment.to_owned(),
                id: id.to_owned(),
                resource_type: resource_type.map(str::to_owned),
            },
        )
    }
}
