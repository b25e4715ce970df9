//! Following `next` links: a [`PageCursor`](super::PageCursor) becomes a stream of pages,
//! entries or resources, with loop, empty-run, origin and page-count guards; `resources()`
//! parses each page only as far as its matches.

use super::*;

/// Where a stream of pages starts and what it expects.
pub(crate) struct PageCursor {
    pub(crate) client: Client,
    pub(crate) first: Prepared,
    pub(crate) expected_type: Option<String>,
    pub(crate) max_pages: Option<usize>,
    /// What the `resources` stream does with outcome entries (the others show them).
    pub(crate) outcomes: SearchOutcomes,
}

pub(super) struct PagingState<P> {
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
    outcomes: SearchOutcomes,
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
pub(super) trait NextLink {
    fn next_link(&self) -> Option<&str>;

    /// How many entries of the page move the stream forward: matches of a search (outcomes
    /// and includes alone do not), every entry of a history.
    fn progress(&self) -> usize;

    /// Applies `policy` to the page's outcome entries: an error ends the stream before the
    /// page is yielded.
    fn apply_outcomes(&mut self, policy: &SearchOutcomes) -> Result<(), Error>;
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

    fn apply_outcomes(&mut self, policy: &SearchOutcomes) -> Result<(), Error> {
        if !policy.reads_outcomes() {
            return Ok(());
        }
        let outcomes = self.outcomes().map_err(|err| self.wrap_decode_error(err))?;
        policy.apply(&outcomes, &self.url, self.meta.status())
    }
}

/// What identifies a page for the cycle check: the URL without its fragment, with its query
/// parameters decoded and sorted, so that `?a=1&b=%32` and `?b=2&a=1` are one page.
pub(super) fn page_key(url: &Url) -> String {
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
pub(super) fn next_request(
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
pub(crate) fn pages<T: Resource>(
    mut cursor: PageCursor,
) -> BoxStream<'static, Result<Page<T>, Error>> {
    // Pages show their outcome entries to the caller as they are.
    cursor.outcomes = SearchOutcomes::Ignore;
    paged(cursor, Page::from_raw)
}

/// The paging loop over pages read by `parse`.
pub(super) fn paged<P: NextLink + Send + 'static>(
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
        outcomes: cursor.outcomes,
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
        let mut page = (state.parse)(raw, state.expected_type.clone())?;
        page.apply_outcomes(&state.outcomes)?;
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
    paged(cursor, Page::<T>::from_raw)
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
pub(super) struct ParsedPage<T> {
    pub(super) next: Option<String>,
    pub(super) progress: usize,
    pub(super) resources: Vec<Result<T, Error>>,
    /// The outcome entries' OperationOutcomes, and the first that would not decode.
    pub(super) outcomes: Vec<OperationOutcome>,
    pub(super) outcome_error: Option<Error>,
    pub(super) url: Url,
    pub(super) status: http::StatusCode,
}

impl<T> NextLink for ParsedPage<T> {
    fn next_link(&self) -> Option<&str> {
        self.next.as_deref()
    }

    fn progress(&self) -> usize {
        self.progress
    }

    fn apply_outcomes(&mut self, policy: &SearchOutcomes) -> Result<(), Error> {
        if !policy.reads_outcomes() {
            return Ok(());
        }
        if let Some(err) = self.outcome_error.take() {
            return Err(err);
        }
        policy.apply(&self.outcomes, &self.url, self.status)
    }
}

#[derive(Deserialize)]
pub(super) struct ParsedBundleShape {
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
pub(super) struct ParsedEntryShape {
    #[serde(default)]
    resource: Option<serde_json::Value>,
    #[serde(default)]
    search: Option<ModeShape>,
}

#[derive(Deserialize)]
pub(super) struct ModeShape {
    #[serde(default)]
    mode: Option<ParsedMode>,
}

/// `search.mode`, read without allocating.
#[derive(Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum ParsedMode {
    Match,
    Include,
    Outcome,
    #[serde(other)]
    Other,
}

impl<T: Resource> ParsedPage<T> {
    pub(super) fn from_raw(raw: RawResponse, expected_type: Option<String>) -> Result<Self, Error> {
        let shape: ParsedBundleShape =
            decode_with_serde(&raw.body).map_err(|err| raw.decode_error(err))?;
        if shape.resource_type.as_deref() != Some("Bundle") {
            return Err(raw.decode_error(wrong_type("Bundle", shape.resource_type.as_deref())));
        }
        let entry_count = shape.entry.len();
        let history = shape.bundle_type.as_deref() == Some("history");
        let mut resources = Vec::with_capacity(entry_count);
        let (mut outcomes, mut outcome_error) = (Vec::new(), None);
        let in_page = |err: DecodeError| {
            Error::decode(err)
                .with_request(&Method::GET, &raw.url)
                .with_status(raw.status)
        };
        for (index, entry) in shape.entry.into_iter().enumerate() {
            let mode = entry.search.and_then(|search| search.mode);
            let is_operation_outcome = entry.resource.as_ref().is_some_and(|resource| {
                resource
                    .get("resourceType")
                    .and_then(serde_json::Value::as_str)
                    == Some("OperationOutcome")
            });
            // As `Entry::is_outcome`: mode `outcome`, or an OperationOutcome that is neither
            // a match nor an include.
            let is_outcome = match mode {
                Some(ParsedMode::Outcome) => true,
                Some(ParsedMode::Match | ParsedMode::Include) => false,
                None | Some(ParsedMode::Other) => is_operation_outcome,
            };
            if is_outcome {
                match decode_parsed_match(entry.resource, index, Some("OperationOutcome")) {
                    Ok(outcome) => outcomes.push(outcome),
                    Err(err) if outcome_error.is_none() => outcome_error = Some(in_page(err)),
                    Err(_) => {}
                }
                continue;
            }
            // As `Entry::is_match`: mode `match`, or no mode and a resource that is not an
            // OperationOutcome.
            let is_match = match mode {
                Some(mode) => mode == ParsedMode::Match,
                None => entry.resource.is_some() && !is_operation_outcome,
            };
            if is_match {
                resources.push(
                    decode_parsed_match::<T>(entry.resource, index, expected_type.as_deref())
                        .map_err(in_page),
                );
            }
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
            outcomes,
            outcome_error,
            url: raw.url,
            status: raw.status,
        })
    }
}

/// As [`Page::decode_match`], from a parsed resource.
pub(super) fn decode_parsed_match<T: Resource>(
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
