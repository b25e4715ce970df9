//! The HTTP seam of this crate: discovery and JWKS GETs, token POSTs.
//!
//! Token requests are never retried (a code or refresh token may be single use); GETs are
//! retried once after a transport error.

use std::net::IpAddr;
use std::time::Duration;

use http::HeaderValue;
use url::Url;

use crate::Error;

/// The largest response body read (1 MiB).
pub(crate) const MAX_BODY: usize = 1 << 20;

/// The HTTP client used for discovery, token and JWKS requests, with the TLS policy.
///
/// Plain `http://` URLs are refused, except on loopback hosts (`127.0.0.0/8`, `::1`,
/// `localhost`) once [`allow_loopback_http`](Self::allow_loopback_http) is set, for tests and
/// local sandboxes.
///
/// The default reqwest client times out after 30 seconds and follows redirects only within
/// the same origin, so a redirected token request never carries a code, verifier or
/// assertion to another host. [`from_builder`](Self::from_builder) applies the same redirect
/// policy to a customized reqwest client.
#[derive(Debug, Clone)]
pub struct HttpClient {
    /// The reqwest client, or why it could not be built (reported by every request).
    client: Result<reqwest::Client, String>,
    allow_loopback_http: bool,
}

/// Follows redirects only within the origin of the first request, at most 5 times.
fn same_origin_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if same && attempt.previous().len() < 5 {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

fn default_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
}

impl Default for HttpClient {
    /// The default client. Building it cannot panic: if the TLS backend cannot be set up,
    /// every request fails with [`Error::Configuration`] (use [`HttpClient::try_new`] to
    /// get that error at construction).
    fn default() -> Self {
        Self::from_built(default_builder().redirect(same_origin_policy()).build())
    }
}

/// A buffered HTTP answer.
#[derive(Debug, Clone)]
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    /// `Cache-Control`, for documents cached by their lifetime (JWKS).
    pub(crate) cache_control: Option<String>,
    pub(crate) body: Vec<u8>,
}

impl HttpResponse {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl HttpClient {
    /// A client with reqwest's defaults and TLS required.
    ///
    /// Never panics; see [`Default`](#impl-Default-for-HttpClient) and
    /// [`try_new`](Self::try_new).
    pub fn new() -> Self {
        Self::default()
    }

    /// The default client, or the error that prevents building it (for example a TLS
    /// backend that cannot be initialized).
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] when the reqwest client cannot be built.
    pub fn try_new() -> Result<Self, Error> {
        Self::from_builder(default_builder())
    }

    /// Builds the client from a customized reqwest `builder` (proxies, timeouts, custom
    /// roots), **replacing its redirect policy** with the same-origin policy of this crate,
    /// so a redirected token request never carries a code, verifier, secret or assertion
    /// to another host.
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] when reqwest cannot build the client.
    pub fn from_builder(builder: reqwest::ClientBuilder) -> Result<Self, Error> {
        let client = builder
            .redirect(same_origin_policy())
            .build()
            .map_err(|err| Error::configuration("http", build_failure(err)))?;
        Ok(Self::from_client(client))
    }

    /// Uses `client` as it is.
    ///
    /// **Security: the client's redirect policy is not checked and cannot be.** reqwest's
    /// default policy follows redirects to any host, re-sending a `307`/`308` POST body, so a
    /// token endpoint that redirects elsewhere would receive the authorization code, PKCE
    /// verifier, client secret or assertion. Build `client` with
    /// `reqwest::redirect::Policy::none()` (or a same-origin policy), or use
    /// [`from_builder`](Self::from_builder), which applies the crate's policy.
    #[deprecated(
        note = "the client's redirect policy is not enforced; use `HttpClient::from_builder`"
    )]
    pub fn with_client(client: reqwest::Client) -> Self {
        Self::from_client(client)
    }

    fn from_client(client: reqwest::Client) -> Self {
        Self {
            client: Ok(client),
            allow_loopback_http: false,
        }
    }

    fn from_built(result: reqwest::Result<reqwest::Client>) -> Self {
        Self {
            client: result.map_err(build_failure),
            allow_loopback_http: false,
        }
    }

    fn client(&self) -> Result<&reqwest::Client, Error> {
        self.client
            .as_ref()
            .map_err(|reason| Error::configuration("http", reason.clone()))
    }

    /// Allows plain `http://` to loopback hosts only; never to any other host.
    #[must_use]
    pub fn allow_loopback_http(mut self, allow: bool) -> Self {
        self.allow_loopback_http = allow;
        self
    }

    /// Checks the TLS policy for `url`.
    ///
    /// # Errors
    ///
    /// [`Error::InsecureUrl`] for a scheme other than `https` (or `http` to an allowed loopback
    /// host).
    pub fn check_url(&self, url: &Url) -> Result<(), Error> {
        check_tls(url, self.allow_loopback_http)
    }

    /// Whether plain `http://` to loopback hosts is allowed.
    pub(crate) fn allows_loopback_http(&self) -> bool {
        self.allow_loopback_http
    }

    /// GETs `url` with `Accept: accept`, retrying once after a transport error.
    pub(crate) async fn get(&self, url: &Url, accept: &str) -> Result<HttpResponse, Error> {
        self.check_url(url)?;
        let client = self.client()?;
        let send = || {
            client
                .get(url.clone())
                .header(http::header::ACCEPT, accept)
                .send()
        };
        let response = match send().await {
            Ok(response) => response,
            Err(first) => {
                tracing::debug!(url = %redact_url(url), error = %first, "GET failed; retrying once");
                send().await.map_err(|err| transport(url, err))?
            }
        };
        read(url, response).await
    }

    /// POSTs a form to `url` (never retried).
    pub(crate) async fn post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        authorization: Option<HeaderValue>,
    ) -> Result<HttpResponse, Error> {
        self.check_url(url)?;
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut request = self
            .client()?
            .post(url.clone())
            .header(http::header::ACCEPT, "application/json")
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        if let Some(authorization) = authorization {
            request = request.header(http::header::AUTHORIZATION, authorization);
        }
        let response = request.send().await.map_err(|err| transport(url, err))?;
        read(url, response).await
    }
}

async fn read(url: &Url, response: reqwest::Response) -> Result<HttpResponse, Error> {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let cache_control = response
        .headers()
        .get(http::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut response = response;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|err| transport(url, err))? {
        // Discovery, token and JWKS documents are small; a huge body is an attack or a bug.
        if body.len() + chunk.len() > MAX_BODY {
            return Err(Error::Transport {
                url: redact_url(url),
                source: format!("the response body exceeds {MAX_BODY} bytes").into(),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(HttpResponse {
        status,
        content_type,
        cache_control,
        body,
    })
}

/// `url` for an error message or a log line: fhir-core's redaction
/// ([`fhir_core::credentials::redact_url`]: no user info, no fragment), and no query at all.
///
/// Dropping the whole query is this crate's choice, stricter than fhir-core's (which keeps
/// non-secret parameters for diagnosis): the URLs here are endpoints, whose queries carry
/// nothing worth reporting, or FHIR request URLs refused by [`HttpClient::check_url`], whose
/// search parameters may hold patient data.
pub(crate) fn redact_url(url: &Url) -> String {
    let mut url = fhir_core::credentials::redact_url(url);
    url.set_query(None);
    url.to_string()
}

/// The TLS policy: `https`, or `http` to a loopback host when `allow_loopback_http`.
pub(crate) fn check_tls(url: &Url, allow_loopback_http: bool) -> Result<(), Error> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_loopback_http && is_loopback(url) => Ok(()),
        _ => Err(Error::InsecureUrl {
            url: redact_url(url),
            loopback: url.scheme() == "http" && is_loopback(url),
        }),
    }
}

fn build_failure(err: reqwest::Error) -> String {
    // Without the URL: a proxy URL may carry credentials.
    let err = err.without_url();
    let mut reason = format!("the HTTP client cannot be built: {err}");
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        reason = format!("{reason}: {cause}");
        source = cause.source();
    }
    reason
}

fn transport(url: &Url, err: reqwest::Error) -> Error {
    Error::Transport {
        url: redact_url(url),
        source: Box::new(err.without_url()),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests;
