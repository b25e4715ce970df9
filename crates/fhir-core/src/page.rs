//! [`Page`]: one Bundle of search or history results, its entries and links, and the streams
//! that follow `next` links across pages.
//!
//! Entries keep their resource as raw JSON and decode it on request, so a page never loses
//! what the server sent and included resources of other types cost nothing until asked for.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::sync::OnceLock;

use futures::stream::{self, BoxStream, StreamExt as _, TryStreamExt as _};
use http::Method;
use serde::Deserialize;
use serde_json::value::RawValue;
use url::Url;

use crate::client::Client;
use crate::error::Error;
use crate::outcome::OperationOutcome;
use crate::request::Prepared;
use crate::resource::{DecodeError, DecodeErrorKind, Resource, decode_with_serde};
use crate::response::ResponseMeta;
use crate::response::{RawResponse, wrong_type};

mod outcomes;
mod paging;

pub use outcomes::SearchOutcomes;
pub(crate) use paging::*;

/// One page of results: a Bundle of type `searchset` or `history`.
///
/// Its `Debug` shows URLs without their secrets (a `next` link may carry a signature) and the
/// number of entries, not their content.
#[derive(Clone)]
pub struct Page<T> {
    meta: ResponseMeta,
    url: Url,
    bundle_type: Option<String>,
    total: Option<u64>,
    links: Vec<Link>,
    entries: Vec<Entry>,
    expected_type: Option<String>,
    _resource: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Page<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let links: Vec<&Link> = self.links.iter().collect();
        f.debug_struct("Page")
            .field("url", &crate::credentials::redact_url(&self.url).as_str())
            .field("bundle_type", &self.bundle_type)
            .field("total", &self.total)
            .field("links", &links)
            .field("entries", &self.entries.len())
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

/// A `Bundle.link`; its `Debug` shows the URL without secrets.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Link {
    /// `self`, `next`, `previous`, `first`, `last`, …
    pub relation: String,
    /// The link target, as sent by the server.
    pub url: String,
}

/// How an entry came to be in a search result (`Bundle.entry.search.mode`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchMode {
    /// The resource matched the search.
    Match,
    /// The resource was added by `_include` or `_revinclude`.
    Include,
    /// An OperationOutcome about the search itself (warnings, errors in parameters).
    Outcome,
    /// A mode this client does not know.
    Other(String),
}

/// A `Bundle.entry`, with its resource kept as raw JSON until decoded.
#[derive(Debug, Clone)]
pub struct Entry {
    full_url: Option<String>,
    /// Read from the raw resource on first use: most pages never need it.
    resource_type: OnceLock<Option<String>>,
    resource: Option<Box<RawValue>>,
    search_mode: Option<SearchMode>,
    score: Option<serde_json::Number>,
    request: Option<serde_json::Value>,
    response: Option<EntryResponse>,
    index: usize,
}

/// A `Bundle.entry.response`, as found in history, batch and transaction responses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct EntryResponse {
    /// The status line or code (`201 Created`).
    pub status: String,
    /// The location of the created or updated resource.
    #[serde(default)]
    pub location: Option<String>,
    /// The ETag of the resource.
    #[serde(default)]
    pub etag: Option<String>,
    /// The last-modified instant.
    #[serde(default, rename = "lastModified")]
    pub last_modified: Option<String>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = match Url::parse(&self.url) {
            Ok(url) => crate::credentials::redact_url(&url).to_string(),
            Err(_) => crate::credentials::redact_text(&self.url).into_owned(),
        };
        f.debug_struct("Link")
            .field("relation", &self.relation)
            .field("url", &url)
            .finish()
    }
}

impl Entry {
    /// `Bundle.entry.fullUrl`.
    pub fn full_url(&self) -> Option<&str> {
        self.full_url.as_deref()
    }

    /// The `resourceType` of the entry's resource (read from its JSON on first use).
    pub fn resource_type(&self) -> Option<&str> {
        self.resource_type
            .get_or_init(|| {
                let raw = self.resource.as_deref()?;
                serde_json::from_str::<TypeShape>(raw.get())
                    .ok()?
                    .resource_type
            })
            .as_deref()
    }

    /// The raw JSON of the entry's resource, exactly as the server sent it.
    pub fn raw_resource(&self) -> Option<&str> {
        self.resource.as_deref().map(RawValue::get)
    }

    /// `Bundle.entry.search.mode`.
    pub fn search_mode(&self) -> Option<&SearchMode> {
        self.search_mode.as_ref()
    }

    /// `Bundle.entry.search.score`.
    pub fn score(&self) -> Option<&serde_json::Number> {
        self.score.as_ref()
    }

    /// `Bundle.entry.request` (in history bundles), as JSON.
    pub fn request(&self) -> Option<&serde_json::Value> {
        self.request.as_ref()
    }

    /// `Bundle.entry.response`.
    pub fn response(&self) -> Option<&EntryResponse> {
        self.response.as_ref()
    }

    /// The position of the entry in its Bundle.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Decodes the entry's resource as `R`.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] whose path names the entry (`entry[3].resource…`) when the entry has no
    /// resource or the resource is not a valid `R`.
    pub fn decode<R: Resource>(&self) -> Result<R, DecodeError> {
        let prefix = format!("entry[{}].resource", self.index);
        let raw = self.resource.as_deref().ok_or_else(|| {
            DecodeError::new(
                DecodeErrorKind::MissingField,
                prefix.clone(),
                "the entry has no resource",
            )
        })?;
        R::from_json_slice(raw.get().as_bytes()).map_err(|err| err.within(&prefix))
    }

    /// Whether this entry is a search match (mode `match`, or no mode and not an outcome).
    pub fn is_match(&self) -> bool {
        match &self.search_mode {
            Some(SearchMode::Match) => true,
            None => self.resource.is_some() && self.resource_type() != Some("OperationOutcome"),
            Some(_) => false,
        }
    }

    /// Whether this entry is the server's word about the search: mode `outcome`, or an
    /// OperationOutcome that is neither a match nor an include (no mode, or a mode this
    /// client does not know), so that a server cannot slip a warning past by leaving the
    /// mode out.
    pub fn is_outcome(&self) -> bool {
        match &self.search_mode {
            Some(SearchMode::Outcome) => true,
            Some(SearchMode::Match | SearchMode::Include) => false,
            None | Some(SearchMode::Other(_)) => self.resource_type() == Some("OperationOutcome"),
        }
    }
}

impl<T: Resource> Page<T> {
    /// The response metadata of this page.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// The URL this page was fetched from.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// `Bundle.type` (`searchset`, `history`, …).
    pub fn bundle_type(&self) -> Option<&str> {
        self.bundle_type.as_deref()
    }

    /// `Bundle.total`: the number of matches across all pages, when the server counted them.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// `Bundle.link`.
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// The URL of the link with `relation` (`next`, `previous`, `self`, …).
    pub fn link(&self, relation: &str) -> Option<&str> {
        self.links
            .iter()
            .find(|link| link.relation == relation)
            .map(|link| link.url.as_str())
    }

    /// The `next` link, if there are more pages.
    pub fn next_link(&self) -> Option<&str> {
        self.link("next")
    }

    /// Every entry, in Bundle order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entries that matched the search (not includes, not outcomes).
    pub fn matches(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|entry| entry.is_match())
    }

    /// The entries added by `_include` / `_revinclude`.
    pub fn included(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(|entry| entry.search_mode == Some(SearchMode::Include))
    }

    /// The resources added by `_include` / `_revinclude`, decoded as `R` (a model of any
    /// resource type, such as `serde_json::Value` or `fhir_r4::Resource`).
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] naming the entry (`entry[3].resource…`) when an included resource is
    /// not a valid `R`.
    pub fn included_as<R: Resource>(&self) -> Result<Vec<R>, DecodeError> {
        self.included().map(Entry::decode).collect()
    }

    /// A client [`Error`] for a decode error found in this page's entries (by
    /// [`Entry::decode`], say), carrying the page's request and status like the errors of the
    /// paging streams; for streams of one's own over [`pages`](crate::interactions::SearchRequest::pages).
    pub fn wrap_decode_error(&self, err: DecodeError) -> Error {
        Error::decode(err)
            .with_request(&Method::GET, &self.url)
            .with_status(self.meta.status())
    }

    /// OperationOutcomes about the search itself (`search.mode = outcome`), decoded.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] naming the entry when an outcome entry is not an OperationOutcome.
    pub fn outcomes(&self) -> Result<Vec<OperationOutcome>, DecodeError> {
        self.entries
            .iter()
            .filter(|entry| entry.is_outcome())
            .map(Entry::decode::<OperationOutcome>)
            .collect()
    }

    /// The matched resources, decoded as `T`.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] naming the entry when a match is not a valid `T` or has another type
    /// than the one searched for.
    pub fn resources(&self) -> Result<Vec<T>, DecodeError> {
        self.matches()
            .map(|entry| self.decode_match(entry))
            .collect()
    }

    fn decode_match(&self, entry: &Entry) -> Result<T, DecodeError> {
        let resource: T = entry.decode()?;
        // Checked after decoding, from the decoded value: no second parse on the happy path.
        if let Some(expected) = &self.expected_type
            && resource.resource_type() != Some(expected.as_str())
        {
            return Err(wrong_type(expected, resource.resource_type())
                .within(&format!("entry[{}].resource", entry.index)));
        }
        Ok(resource)
    }

    /// The entries, by value (for streaming).
    pub fn into_entries(self) -> Vec<Entry> {
        self.entries
    }
}

/// The most entries one Bundle may hold. Each entry costs a few hundred bytes of bookkeeping
/// however small its JSON, so a body of `{},` repeated within the size limit would otherwise
/// cost a hundred times that limit in memory.
pub const MAX_BUNDLE_ENTRIES: usize = 200_000;

/// Reads `Bundle.entry`, failing past [`MAX_BUNDLE_ENTRIES`] before the rest is read.
pub(crate) fn bounded_entries<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Entries<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Entries<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of entries")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut entries = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
            while let Some(entry) = seq.next_element()? {
                if entries.len() == MAX_BUNDLE_ENTRIES {
                    return Err(serde::de::Error::custom(format_args!(
                        "the Bundle has more than {MAX_BUNDLE_ENTRIES} entries"
                    )));
                }
                entries.push(entry);
            }
            Ok(entries)
        }
    }

    deserializer.deserialize_seq(Entries(PhantomData))
}

#[derive(Deserialize)]
struct BundleShape {
    #[serde(rename = "resourceType")]
    resource_type: Option<String>,
    #[serde(rename = "type", default)]
    bundle_type: Option<String>,
    #[serde(default)]
    total: Option<u64>,
    #[serde(default)]
    link: Vec<Link>,
    #[serde(default, deserialize_with = "bounded_entries")]
    entry: Vec<EntryShape>,
}

#[derive(Deserialize)]
struct EntryShape {
    #[serde(rename = "fullUrl", default)]
    full_url: Option<String>,
    #[serde(default)]
    resource: Option<Box<RawValue>>,
    #[serde(default)]
    search: Option<SearchShape>,
    #[serde(default)]
    request: Option<serde_json::Value>,
    #[serde(default)]
    response: Option<EntryResponse>,
}

#[derive(Deserialize)]
struct SearchShape {
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    score: Option<serde_json::Number>,
}

#[derive(Deserialize)]
struct TypeShape {
    #[serde(rename = "resourceType")]
    resource_type: Option<String>,
}

impl<T: Resource> Page<T> {
    /// Reads a page from a 2xx response whose body must be a Bundle.
    pub(crate) fn from_raw(raw: RawResponse, expected_type: Option<String>) -> Result<Self, Error> {
        // Entry resources are kept raw: decoding (and its errors) happen when they are asked for.
        let shape: BundleShape =
            decode_with_serde(&raw.body).map_err(|err| raw.decode_error(err))?;
        if shape.resource_type.as_deref() != Some("Bundle") {
            return Err(raw.decode_error(wrong_type("Bundle", shape.resource_type.as_deref())));
        }
        let mut entries = Vec::with_capacity(shape.entry.len());
        for (index, entry) in shape.entry.into_iter().enumerate() {
            let (search_mode, score) = match entry.search {
                Some(search) => (
                    search.mode.map(|mode| match mode.as_str() {
                        "match" => SearchMode::Match,
                        "include" => SearchMode::Include,
                        "outcome" => SearchMode::Outcome,
                        _ => SearchMode::Other(mode),
                    }),
                    search.score,
                ),
                None => (None, None),
            };
            entries.push(Entry {
                full_url: entry.full_url,
                resource_type: OnceLock::new(),
                resource: entry.resource,
                search_mode,
                score,
                request: entry.request,
                response: entry.response,
                index,
            });
        }
        let (meta, url) = raw.into_meta_and_url();
        Ok(Self {
            meta,
            url,
            bundle_type: shape.bundle_type,
            total: shape.total,
            links: shape.link,
            entries,
            expected_type,
            _resource: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests;
