//! `history` at instance, type and system level, with `_since`, `_at` and `_count`, paged.

use std::marker::PhantomData;

use futures::stream::BoxStream;
use http::Method;
use serde_json::Value;

use crate::client::Client;
use crate::error::Error;
use crate::page::{self, Entry, Page, PageCursor, SearchOutcomes};
use crate::params::SearchParams;
use crate::request::Prepared;
use crate::resource::{Resource, TypedResource};

#[derive(Debug, Clone)]
enum Level {
    Instance { resource_type: String, id: String },
    Type(String),
    System,
}

/// A `history` request. Send it for the first page, or stream pages or entries.
///
/// Entries of deleted versions have no resource; [`Entry::request`] and [`Entry::response`]
/// say what happened.
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct HistoryRequest<T> {
    client: Client,
    level: Level,
    params: SearchParams,
    max_pages: Option<usize>,
    _resource: PhantomData<fn() -> T>,
}

impl<T: Resource> HistoryRequest<T> {
    fn new(client: Client, level: Level) -> Self {
        Self {
            client,
            level,
            params: SearchParams::new(),
            max_pages: None,
            _resource: PhantomData,
        }
    }

    /// `_since`: only versions created at or after this FHIR `instant`
    /// (`2024-01-31T12:00:00Z`).
    pub fn since(mut self, instant: &str) -> Self {
        self.params.set("_since", instant);
        self
    }

    /// `_at`: only versions current at this FHIR `dateTime` (may be partial, `2024-01`).
    pub fn at(mut self, date_time: &str) -> Self {
        self.params.set("_at", date_time);
        self
    }

    /// `_count`: the page size.
    pub fn count(mut self, count: u32) -> Self {
        self.params.set("_count", count.to_string());
        self
    }

    /// Adds any other parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push(name, value);
        self
    }

    /// Stops paging after `max` pages.
    pub fn max_pages(mut self, max: usize) -> Self {
        self.max_pages = Some(max);
        self
    }

    fn prepare(&self) -> Result<Prepared, Error> {
        let mut url = match &self.level {
            Level::Instance { resource_type, id } => {
                if id.is_empty() {
                    return Err(Error::invalid_request("the resource id is empty"));
                }
                self.client.url_for(&[resource_type, id, "_history"])
            }
            Level::Type(resource_type) => self.client.url_for(&[resource_type, "_history"]),
            Level::System => self.client.url_for(&["_history"]),
        };
        if !self.params.is_empty() {
            url.set_query(Some(&self.params.to_query()));
        }
        Ok(Prepared::new(Method::GET, url))
    }

    fn expected_type(&self) -> Option<String> {
        match &self.level {
            Level::Instance { resource_type, .. } | Level::Type(resource_type) => {
                Some(resource_type.clone())
            }
            Level::System => None,
        }
    }

    fn cursor(self) -> Result<PageCursor, Error> {
        Ok(PageCursor {
            first: self.prepare()?,
            expected_type: self.expected_type(),
            max_pages: self.max_pages,
            outcomes: SearchOutcomes::Ignore,
            client: self.client,
        })
    }

    /// Sends the request and returns the first page.
    ///
    /// # Errors
    ///
    /// A status or transport error, or a decode error when the body is not a Bundle.
    pub async fn send(self) -> Result<Page<T>, Error> {
        let request = self.prepare()?;
        page::fetch_page(&self.client, request, self.expected_type()).await
    }

    /// Every page, following `next` links.
    pub fn pages(self) -> BoxStream<'static, Result<Page<T>, Error>> {
        match self.cursor() {
            Ok(cursor) => page::pages(cursor),
            Err(err) => Box::pin(futures::stream::once(async { Err(err) })),
        }
    }

    /// Every entry of every page, following `next` links.
    pub fn entries(self) -> BoxStream<'static, Result<Entry, Error>> {
        match self.cursor() {
            Ok(cursor) => page::entries::<T>(cursor),
            Err(err) => Box::pin(futures::stream::once(async { Err(err) })),
        }
    }
}

impl Client {
    /// Instance history of a `T` (`GET [base]/[type]/[id]/_history`).
    pub fn history<T: TypedResource>(&self, id: &str) -> HistoryRequest<T> {
        HistoryRequest::new(
            self.clone(),
            Level::Instance {
                resource_type: T::RESOURCE_TYPE.to_owned(),
                id: id.to_owned(),
            },
        )
    }

    /// Instance history of any resource type, as JSON.
    pub fn history_json(&self, resource_type: &str, id: &str) -> HistoryRequest<Value> {
        HistoryRequest::new(
            self.clone(),
            Level::Instance {
                resource_type: resource_type.to_owned(),
                id: id.to_owned(),
            },
        )
    }

    /// Type history of `T` (`GET [base]/[type]/_history`).
    pub fn history_type<T: TypedResource>(&self) -> HistoryRequest<T> {
        HistoryRequest::new(self.clone(), Level::Type(T::RESOURCE_TYPE.to_owned()))
    }

    /// Type history of any resource type, as JSON.
    pub fn history_type_json(&self, resource_type: &str) -> HistoryRequest<Value> {
        HistoryRequest::new(self.clone(), Level::Type(resource_type.to_owned()))
    }

    /// System history (`GET [base]/_history`), as JSON.
    pub fn history_system(&self) -> HistoryRequest<Value> {
        HistoryRequest::new(self.clone(), Level::System)
    }
}
