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
    /// The headers every request starts with: the default headers, `User-Agent` and `Accept`,
    /// built once so a request clones one small map.
    pub(crate) request_headers: HeaderMap,
    /// The per-request timeout, when it is not already the reqwest client's own.
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) timeout: Option<Duration>,
    /// `base` as text without a trailing `/`, for the fast path of [`Client::is_under_base`].
    base_prefix: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) timer: Arc<dyn Timer>,
    pub(crate) max_get_url_len: usize,
    pub(crate) prefer: Option<Prefer>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("auth", &self.inner.auth)
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .field("max_get_url_len", &self.inner.max_get_url_len)
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

    /// Whether `url` lies under the base URL (same scheme, host, port, and base path), the only
    /// place credentials are sent.
    pub(crate) fn is_under_base(&self, url: &Url) -> bool {
        // Fast path: URLs built from the base start with its serialization (URLs are
        // normalized, so equal prefixes mean equal scheme, host, port and leading path).
        if let Some(rest) = url.as_str().strip_prefix(self.inner.base_prefix.as_str())
            && (rest.is_empty() || rest.starts_with(['/', '?', '#']))
        {
            return true;
        }
        let base = &self.inner.base;
        if url.scheme() != base.scheme()
            || url.host_str() != base.host_str()
            || url.port_or_known_default() != base.port_or_known_default()
        {
            return false;
        }
        let base_path = base.path().trim_end_matches('/');
        let path = url.path();
        path == base_path
            || path
                .strip_prefix(base_path)
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

/// Configures a [`Client`].
pub struct ClientBuilder {
    base_url: String,
    http: Option<reqwest::Client>,
    auth: Arc<dyn AuthProvider>,
    default_headers: HeaderMap,
    user_agent: Option<String>,
    timeout: Option<Duration>,
    retry: RetryPolicy,
    timer: Arc<dyn Timer>,
    max_get_url_len: usize,
    prefer: Option<Prefer>,
    invalid_header: Option<String>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
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
            invalid_header: None,
        }
    }

    /// Uses `http` for all requests, for proxies, mTLS, custom root certificates or connection
    /// pool settings. Its own default headers, timeouts and redirect policy apply as well.
    ///
    /// The client sends credentials only to URLs under the base URL; keep reqwest's default
    /// redirect policy (or one at least as strict), which drops `Authorization` when a redirect
    /// leaves the host.
    #[must_use]
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
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
    /// absolute `http(s)` URL without query or fragment, a default header is invalid, or the
    /// HTTP client cannot be created.
    pub fn build(self) -> Result<Client, Error> {
        let base = Url::parse(&self.base_url).map_err(|err| {
            Error::invalid_request(format!(
                "the base URL `{}` is invalid: {err}",
                self.base_url
            ))
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::invalid_request(format!(
                "the base URL `{}` is not an http(s) URL",
                crate::error::sanitize_url(&base)
            )));
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
        // setting it; an injected client gets it per request (overriding its own).
        let (http, request_timeout) = match self.http {
            Some(http) => (http, self.timeout),
            None => {
                let mut builder = reqwest::Client::builder();
                if let Some(timeout) = self.timeout {
                    builder = builder.timeout(timeout);
                }
                let http = builder.build().map_err(|err| {
                    Error::invalid_request(format!("cannot create the HTTP client: {err}"))
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
        let base_prefix = base.as_str().trim_end_matches('/').to_owned();
        Ok(Client {
            inner: Arc::new(ClientInner {
                base,
                base_prefix,
                http,
                auth: self.auth,
                request_headers,
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
