//! [`Client`] and [`ClientBuilder`]: configuration shared by every interaction.
//!
//! The interactions themselves live in [`crate::interactions`]; every one of them goes through
//! the single send path in [`crate::transport`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::auth::{AuthProvider, NoAuth};
use crate::error::Error;
use crate::request::Prefer;
use crate::retry::{RetryPolicy, Timer, TokioTimer};

/// The default limit on the length of a search URL before the client switches to POST `_search`.
pub const DEFAULT_MAX_GET_URL_LEN: usize = 2048;

const DEFAULT_USER_AGENT: &str = concat!("fhir-core/", env!("CARGO_PKG_VERSION"));

/// An async FHIR REST client for one server (one base URL).
///
/// Cheap to clone: clones share the connection pool, the auth provider and the configuration.
///
/// ```no_run
/// # async fn demo() -> Result<(), fhir_core::Error> {
/// use fhir_core::{BearerToken, Client};
///
/// let client = Client::builder("https://fhir.example.org/r4")
///     .auth(BearerToken::new("token").expect("a valid token"))
///     .build()?;
/// let patient = client.read_json("Patient", "123").send().await?;
/// println!("{}", patient.resource());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

pub(crate) struct ClientInner {
    pub(crate) base: Url,
    pub(crate) http: reqwest::Client,
    pub(crate) auth: Arc<dyn AuthProvider>,
    /// The headers every request to the base URL's origin starts with: the default headers,
    /// `User-Agent` and `Accept`, built once so a request clones one small map.
    pub(crate) request_headers: HeaderMap,
    /// The headers a request to another origin starts with: `User-Agent` and `Accept` only
    /// (default headers may carry tenant ids or API keys meant for the FHIR server).
    pub(crate) own_headers: HeaderMap,
    pub(crate) limits: Limits,
    /// The per-request timeout, when it is not already the reqwest client's own.
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    pub(crate) timer: Arc<dyn Timer>,
    pub(crate) max_get_url_len: usize,
    pub(crate) prefer: Option<Prefer>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field(
                "base_url",
                &crate::credentials::redact_url(&self.inner.base).as_str(),
            )
            .field("auth", &self.inner.auth)
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .field("max_get_url_len", &self.inner.max_get_url_len)
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `base_url` with the default configuration and no authentication.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest) when `base_url` is not an
    /// absolute `http(s)` URL.
    pub fn new(base_url: &str) -> Result<Self, Error> {
        Self::builder(base_url).build()
    }

    /// A builder for a client of the server at `base_url` (for example
    /// `https://fhir.example.org/r4`; a trailing slash makes no difference).
    pub fn builder(base_url: &str) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }

    /// The base URL, as configured.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The base URL followed by path `segments`, each percent-encoded as one segment (an id
    /// containing `/` or `?` cannot escape its segment).
    pub(crate) fn url_for(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Resolves `reference` (absolute, or relative to the base such as `Patient/1?x=y`) to a URL.
    pub(crate) fn resolve(&self, reference: &str) -> Result<Url, Error> {
        let mut base = self.inner.base.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.join(reference).map_err(|err| {
            Error::invalid_request(format!("`{reference}` is not a valid reference: {err}"))
        })
    }

    /// Whether `url` lies under the base URL, where credentials go by default
    /// ([`credentials::is_under_base`](crate::credentials::is_under_base)).
    #[cfg(test)]
    pub(crate) fn is_under_base(&self, url: &Url) -> bool {
        crate::credentials::is_under_base(&self.inner.base, url)
    }
}

/// The reqwest client to use, or the builder to make it from.
enum HttpClient {
    Client(reqwest::Client),
    Builder(Box<reqwest::ClientBuilder>),
}

/// The default of [`ClientBuilder::max_response_bytes`]: 256 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 256 << 20;

/// The bounds of every call: body size, waits, redirects, paging.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) max_response_bytes: Option<usize>,
    pub(crate) read_idle_timeout: Option<Duration>,
    pub(crate) deadline: Option<Duration>,
    pub(crate) max_redirects: usize,
    pub(crate) max_empty_pages: usize,
    pub(crate) allow_cross_origin_links: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_response_bytes: Some(DEFAULT_MAX_RESPONSE_BYTES),
            read_idle_timeout: Some(Duration::from_secs(60)),
            deadline: Some(Duration::from_secs(300)),
            max_redirects: 10,
            max_empty_pages: 5,
            allow_cross_origin_links: false,
        }
    }
}

/// Configures a [`Client`].
pub struct ClientBuilder {
    base_url: String,
    http: Option<HttpClient>,
    auth: Arc<dyn AuthProvider>,
    default_headers: HeaderMap,
    user_agent: Option<String>,
    timeout: Option<Duration>,
    retry: RetryPolicy,
    timer: Arc<dyn Timer>,
    max_get_url_len: usize,
    prefer: Option<Prefer>,
    limits: Limits,
    invalid_header: Option<String>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field(
                "base_url",
                &Url::parse(&self.base_url).map_or_else(
                    |_| String::from("[not a URL]"),
                    |url| crate::credentials::redact_url(&url).to_string(),
                ),
            )
            .field("auth", &self.auth)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            http: None,
            auth: Arc::new(NoAuth),
            default_headers: HeaderMap::new(),
            user_agent: None,
            timeout: Some(Duration::from_secs(60)),
            retry: RetryPolicy::default(),
            timer: Arc::new(TokioTimer),
            max_get_url_len: DEFAULT_MAX_GET_URL_LEN,
            prefer: None,
            limits: Limits::default(),
            invalid_header: None,
        }
    }

    /// Builds the HTTP client from `builder` (proxies, mTLS, custom root certificates,
    /// connection pool settings), with this client's timeout and **its redirect policy
    /// replacing the builder's**: the client follows redirects itself, checking every hop
    /// (see [`max_redirects`](Self::max_redirects)). Prefer this to
    /// [`http_client`](Self::http_client).
    #[must_use]
    pub fn http_client_builder(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.http = Some(HttpClient::Builder(Box::new(builder)));
        self
    }

    /// Uses `http` as it is for all requests. Its own default headers, timeouts and
    /// redirect policy apply as well.
    ///
    /// **Build it with `reqwest::redirect::Policy::none()`.** The client follows redirects
    /// itself and checks every hop: credentials only under the base URL (and not after a hop
    /// that left it), never from https to http, default headers only on the base URL's origin, no request body to another
    /// origin. A reqwest client that follows redirects on its own does so before this client
    /// sees them, and then only reqwest's rule holds: `Authorization` (and cookies) are
    /// dropped when the host, port or scheme changes, but are kept for another path on the
    /// same host (outside the base URL), default headers go everywhere, and a 307/308 body is
    /// sent again to any host. Such a redirect is logged as a warning.
    /// [`http_client_builder`](Self::http_client_builder) applies the policy for you.
    #[must_use]
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(HttpClient::Client(http));
        self
    }

    /// The authentication scheme (default: none).
    #[must_use]
    pub fn auth(mut self, auth: impl AuthProvider + 'static) -> Self {
        self.auth = Arc::new(auth);
        self
    }

    /// The authentication scheme, shared with other owners.
    #[must_use]
    pub fn auth_shared(mut self, auth: Arc<dyn AuthProvider>) -> Self {
        self.auth = auth;
        self
    }

    /// Adds a header sent with every request (not to be used for credentials: use
    /// [`auth`](Self::auth), which keeps them to the base URL's origin).
    #[must_use]
    pub fn default_header(mut self, name: &str, value: &str) -> Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(name), Ok(value)) => {
                self.default_headers.append(name, value);
            }
            _ => self.invalid_header = Some(name.to_owned()),
        }
        self
    }

    /// The `User-Agent` (default `fhir-core/<version>`).
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// The timeout of each attempt, from sending the request to reading the whole body
    /// (default 60 s; `None` for no timeout).
    #[must_use]
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest response body read, decompressed, in bytes (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`], 256 MiB; `None` lifts the limit). A longer body fails
    /// the call with [`ErrorKind::ResponseTooLarge`](crate::ErrorKind::ResponseTooLarge) as
    /// soon as it passes the limit, so memory stays bounded however the body is compressed.
    #[must_use]
    pub fn max_response_bytes(mut self, max: Option<usize>) -> Self {
        self.limits.max_response_bytes = max;
        self
    }

    /// The longest wait for the response headers or for the next piece of a body (default
    /// 60 s; `None` to wait as long as the other bounds allow). A server that stalls fails
    /// with [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) even with `timeout(None)`.
    #[must_use]
    pub fn read_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.limits.read_idle_timeout = timeout;
        self
    }

    /// The longest time one call may take, every attempt and every wait between retries
    /// (`Retry-After` included) counted (default 5 minutes; `None` for no deadline). A retry
    /// whose wait would pass the deadline is not made: the last answer or error is returned.
    /// A call past its deadline fails with [`ErrorKind::Timeout`](crate::ErrorKind::Timeout).
    /// Each page of a paged stream is one call.
    #[must_use]
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.limits.deadline = deadline;
        self
    }

    /// The most redirects followed for one request (default 10; 0 follows none). Every hop
    /// is checked before it is sent; a refused or unfollowed redirect fails with
    /// [`ErrorKind::Redirect`](crate::ErrorKind::Redirect).
    #[must_use]
    pub fn max_redirects(mut self, max: usize) -> Self {
        self.limits.max_redirects = max;
        self
    }

    /// How many pages in a row may come without a single match (for a history: entry) while
    /// still linking to a `next` page before a paged stream fails with
    /// [`ErrorKind::EmptyPages`](crate::ErrorKind::EmptyPages) (default 5). This stops a
    /// server that links to empty pages forever.
    #[must_use]
    pub fn max_empty_pages(mut self, max: usize) -> Self {
        self.limits.max_empty_pages = max;
        self
    }

    /// Whether paged streams follow a `next` link to another origin than the base URL's
    /// (default `false`: such a link fails with
    /// [`ErrorKind::LinkRefused`](crate::ErrorKind::LinkRefused)). Credentials never go there
    /// either way, and an `http` link from an `https` base is always refused.
    #[must_use]
    pub fn allow_cross_origin_links(mut self, allow: bool) -> Self {
        self.limits.allow_cross_origin_links = allow;
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The clock and sleep used for retries (tests inject one that does not wait).
    #[must_use]
    pub fn timer(mut self, timer: impl Timer + 'static) -> Self {
        self.timer = Arc::new(timer);
        self
    }

    /// The longest search URL sent by GET; longer searches are sent as POST `_search` with a
    /// form body (default [`DEFAULT_MAX_GET_URL_LEN`]).
    #[must_use]
    pub fn max_get_url_len(mut self, max: usize) -> Self {
        self.max_get_url_len = max;
        self
    }

    /// The `Prefer: return=` sent with every create, update and patch unless a request says
    /// otherwise (default: none, which leaves the choice to the server).
    #[must_use]
    pub fn prefer(mut self, prefer: Prefer) -> Self {
        self.prefer = Some(prefer);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest) when the base URL is not an
    /// absolute `http(s)` URL without user info, query or fragment, a default header is
    /// invalid, or the
    /// HTTP client cannot be created.
    pub fn build(self) -> Result<Client, Error> {
        // Not echoed: an unparsable URL cannot be cleaned of a password it may hold.
        let base = Url::parse(&self.base_url)
            .map_err(|err| Error::invalid_request(format!("the base URL is invalid: {err}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::invalid_request(format!(
                "the base URL `{}` is not an http(s) URL",
                crate::error::sanitize_url(&base)
            )));
        }
        if !base.username().is_empty() || base.password().is_some() {
            // reqwest would turn them into a Basic header for every request, and the HTTP
            // stack logs URLs with them: credentials belong to `auth`.
            return Err(Error::invalid_request(
                "the base URL must not hold a user name or password: use `auth(BasicAuth::new(..))`",
            ));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(Error::invalid_request(
                "the base URL must not have a query or fragment",
            ));
        }
        if let Some(name) = self.invalid_header {
            return Err(Error::invalid_request(format!(
                "the default header `{name}` has an invalid name or value"
            )));
        }
        // A reqwest client built here carries the timeout itself, which spares every request
        // setting it; an injected client gets it per request (overriding its own). Redirects
        // are the transport's to follow, hop by hop, so reqwest follows none.
        let builder = match self.http {
            Some(HttpClient::Client(http)) => Err(http),
            Some(HttpClient::Builder(builder)) => Ok(*builder),
            None => Ok(reqwest::Client::builder()),
        };
        let (http, request_timeout) = match builder {
            Err(http) => (http, self.timeout),
            Ok(mut builder) => {
                builder = builder.redirect(reqwest::redirect::Policy::none());
                if let Some(timeout) = self.timeout {
                    builder = builder.timeout(timeout);
                }
                let http = builder.build().map_err(|err| {
                    Error::invalid_request(format!(
                        "cannot create the HTTP client: {}",
                        err.without_url()
                    ))
                })?;
                (http, None)
            }
        };
        let mut request_headers = self.default_headers;
        let user_agent = self.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT);
        let user_agent = HeaderValue::from_str(user_agent)
            .map_err(|_| Error::invalid_request("the user agent is not a valid header value"))?;
        request_headers.insert(http::header::USER_AGENT, user_agent);
        request_headers.append(
            http::header::ACCEPT,
            HeaderValue::from_static(crate::request::FHIR_JSON),
        );
        let mut own_headers = HeaderMap::new();
        for name in [http::header::USER_AGENT, http::header::ACCEPT] {
            for value in request_headers.get_all(&name) {
                own_headers.append(name.clone(), value.clone());
            }
        }
        Ok(Client {
            inner: Arc::new(ClientInner {
                base,
                http,
                auth: self.auth,
                request_headers,
                own_headers,
                limits: self.limits,
                request_timeout,
                timeout: self.timeout,
                retry: self.retry,
                timer: self.timer,
                max_get_url_len: self.max_get_url_len,
                prefer: self.prefer,
            }),
        })
    }
}

#[cfg(test)]
mod tests;
