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
            .filter(|entry| entry.search_mode == Some(SearchMode::Outcome))
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

/// Where a stream of pages starts and what it expects.
pub(crate) struct PageCursor {
    pub(crate) client: Client,
    pub(crate) first: Prepared,
    pub(crate) expected_type: Option<String>,
    pub(crate) max_pages: Option<usize>,
}

struct PagingState<P> {
    client: Client,
    /// The next request, or the error found in the last page's `next` link, reported after
    /// that page has been yielded so its entries are not lost.
    next: Option<Result<Prepared, Error>>,
    /// The URLs fetched, without fragment (a fragment never reaches the server, so links
    /// differing only there lead to the same page).
    visited: HashSet<String>,
    fetched: usize,
    /// Pages in a row without a single entry.
    empty_run: usize,
    max_pages: Option<usize>,
    expected_type: Option<String>,
    parse: fn(RawResponse, Option<String>) -> Result<P, Error>,
}

/// Fetches one page.
pub(crate) async fn fetch_page<T: Resource>(
    client: &Client,
    request: Prepared,
    expected_type: Option<String>,
) -> Result<Page<T>, Error> {
    let raw = client.execute(request).await?.success()?;
    Page::from_raw(raw, expected_type)
}

/// What the paging loop needs from a parsed page.
trait NextLink {
    fn next_link(&self) -> Option<&str>;

    /// How many entries of the page move the stream forward: matches of a search (outcomes
    /// and includes alone do not), every entry of a history.
    fn progress(&self) -> usize;
}

impl<T: Resource> NextLink for Page<T> {
    fn next_link(&self) -> Option<&str> {
        Page::next_link(self)
    }

    fn progress(&self) -> usize {
        if self.bundle_type.as_deref() == Some("history") {
            self.entries.len()
        } else {
            self.matches().count()
        }
    }
}

/// What identifies a page for the cycle check: the URL without its fragment, with its query
/// parameters decoded and sorted, so that `?a=1&b=%32` and `?b=2&a=1` are one page.
fn page_key(url: &Url) -> String {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    pairs.sort();
    let mut key = format!("{}://{}{}", url.scheme(), url.authority(), url.path());
    for (name, value) in pairs {
        key.push('\n');
        key.push_str(&name);
        key.push('=');
        key.push_str(&value);
    }
    key
}

/// The request for a page's `next` link, or why it is not followed.
fn next_request(
    client: &Client,
    link: &str,
    visited: &HashSet<String>,
    empty_run: usize,
) -> Result<Prepared, Error> {
    let limits = &client.inner.limits;
    let mut url = client.resolve(link)?;
    url.set_fragment(None);
    // User info in a link would become a Basic header the server chose.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let base = client.base_url();
    if base.scheme() == "https" && url.scheme() != "https" {
        return Err(Error::link_refused(
            "the `next` link leaves https for another scheme",
            &url,
        ));
    }
    if !limits.allow_cross_origin_links && crate::credentials::is_cross_origin(base, &url) {
        return Err(Error::link_refused(
            "the `next` link points to another origin than the base URL",
            &url,
        ));
    }
    if visited.contains(&page_key(&url)) {
        return Err(Error::link_cycle(&url));
    }
    if empty_run >= limits.max_empty_pages {
        return Err(Error::empty_pages(empty_run, &url));
    }
    Ok(Prepared::new(Method::GET, url))
}

/// The stream of pages: the first request, then every `next` link, until there is none, the
/// page limit is reached, or a link leads back to a visited page (an error).
pub(crate) fn pages<T: Resource>(cursor: PageCursor) -> BoxStream<'static, Result<Page<T>, Error>> {
    paged(cursor, Page::from_raw)
}

/// The paging loop over pages read by `parse`.
fn paged<P: NextLink + Send + 'static>(
    cursor: PageCursor,
    parse: fn(RawResponse, Option<String>) -> Result<P, Error>,
) -> BoxStream<'static, Result<P, Error>> {
    let state = PagingState {
        client: cursor.client,
        next: Some(Ok(cursor.first)),
        visited: HashSet::new(),
        fetched: 0,
        empty_run: 0,
        max_pages: cursor.max_pages,
        expected_type: cursor.expected_type,
        parse,
    };
    stream::try_unfold(state, |mut state| async move {
        let Some(next) = state.next.take() else {
            return Ok(None);
        };
        let request = next?;
        if state.max_pages.is_some_and(|max| state.fetched >= max) {
            return Ok(None);
        }
        state.visited.insert(page_key(&request.url));
        let raw = state.client.execute(request).await?.success()?;
        let page = (state.parse)(raw, state.expected_type.clone())?;
        state.fetched += 1;
        state.empty_run = if page.progress() == 0 {
            state.empty_run + 1
        } else {
            0
        };
        state.next = page
            .next_link()
            .map(|link| next_request(&state.client, link, &state.visited, state.empty_run));
        Ok(Some((page, state)))
    })
    .boxed()
}

/// The stream of entries over all pages.
pub(crate) fn entries<T: Resource>(cursor: PageCursor) -> BoxStream<'static, Result<Entry, Error>> {
    pages::<T>(cursor)
        .map_ok(|page| stream::iter(page.into_entries().into_iter().map(Ok)))
        .try_flatten()
        .boxed()
}

/// The stream of matched resources, decoded as `T`, over all pages.
pub(crate) fn resources<T: Resource>(cursor: PageCursor) -> BoxStream<'static, Result<T, Error>> {
    if T::DECODES_FROM_VALUE {
        // One parse per page, resources included (no raw scan, then a parse per entry).
        return paged(cursor, ParsedPage::<T>::from_raw)
            .map_ok(|page| stream::iter(page.resources))
            .try_flatten()
            .boxed();
    }
    pages::<T>(cursor)
        .map_ok(|page| {
            let decoded: Vec<Result<T, Error>> = page
                .matches()
                .map(|entry| {
                    page.decode_match(entry)
                        .map_err(|err| page.wrap_decode_error(err))
                })
                .collect();
            stream::iter(decoded)
        })
        .try_flatten()
        .boxed()
}

/// A page read in one pass for the `resources` stream of a `T` that decodes from
/// [`serde_json::Value`]: its matched resources (or their errors) and its `next` link. The
/// same matches, checks and errors as [`Page::resources`], without keeping raw entries.
struct ParsedPage<T> {
    next: Option<String>,
    progress: usize,
    resources: Vec<Result<T, Error>>,
}

impl<T> NextLink for ParsedPage<T> {
    fn next_link(&self) -> Option<&str> {
        self.next.as_deref()
    }

    fn progress(&self) -> usize {
        self.progress
    }
}

#[derive(Deserialize)]
struct ParsedBundleShape {
    #[serde(rename = "resourceType")]
    resource_type: Option<String>,
    #[serde(rename = "type", default)]
    bundle_type: Option<String>,
    #[serde(default)]
    link: Vec<Link>,
    #[serde(default, deserialize_with = "bounded_entries")]
    entry: Vec<ParsedEntryShape>,
}

#[derive(Deserialize)]
struct ParsedEntryShape {
    #[serde(default)]
    resource: Option<serde_json::Value>,
    #[serde(default)]
    search: Option<ModeShape>,
}

#[derive(Deserialize)]
struct ModeShape {
    #[serde(default)]
    mode: Option<ParsedMode>,
}

/// `search.mode`, read without allocating.
#[derive(Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum ParsedMode {
    Match,
    Include,
    Outcome,
    #[serde(other)]
    Other,
}

impl<T: Resource> ParsedPage<T> {
    fn from_raw(raw: RawResponse, expected_type: Option<String>) -> Result<Self, Error> {
        let shape: ParsedBundleShape =
            decode_with_serde(&raw.body).map_err(|err| raw.decode_error(err))?;
        if shape.resource_type.as_deref() != Some("Bundle") {
            return Err(raw.decode_error(wrong_type("Bundle", shape.resource_type.as_deref())));
        }
        let entry_count = shape.entry.len();
        let history = shape.bundle_type.as_deref() == Some("history");
        let mut resources = Vec::with_capacity(entry_count);
        for (index, entry) in shape.entry.into_iter().enumerate() {
            // As `Entry::is_match`: mode `match`, or no mode and a resource that is not an
            // OperationOutcome.
            let is_match = match entry.search.and_then(|search| search.mode) {
                Some(mode) => mode == ParsedMode::Match,
                None => entry.resource.as_ref().is_some_and(|resource| {
                    resource
                        .get("resourceType")
                        .and_then(serde_json::Value::as_str)
                        != Some("OperationOutcome")
                }),
            };
            if !is_match {
                continue;
            }
            let decoded = decode_parsed_match::<T>(entry.resource, index, expected_type.as_deref())
                .map_err(|err| {
                    Error::decode(err)
                        .with_request(&Method::GET, &raw.url)
                        .with_status(raw.status)
                });
            resources.push(decoded);
        }
        let next = shape
            .link
            .into_iter()
            .find(|link| link.relation == "next")
            .map(|link| link.url);
        Ok(Self {
            next,
            progress: if history {
                entry_count
            } else {
                resources.len()
            },
            resources,
        })
    }
}

/// As [`Page::decode_match`], from a parsed resource.
fn decode_parsed_match<T: Resource>(
    resource: Option<serde_json::Value>,
    index: usize,
    expected_type: Option<&str>,
) -> Result<T, DecodeError> {
    let prefix = || format!("entry[{index}].resource");
    let resource = resource.ok_or_else(|| {
        DecodeError::new(
            DecodeErrorKind::MissingField,
            prefix(),
            "the entry has no resource",
        )
    })?;
    let resource = T::from_json_value(resource).map_err(|err| err.within(&prefix()))?;
    if let Some(expected) = expected_type
        && resource.resource_type() != Some(expected)
    {
        return Err(wrong_type(expected, resource.resource_type()).within(&prefix()));
    }
    Ok(resource)
}

#[cfg(test)]
mod tests;
