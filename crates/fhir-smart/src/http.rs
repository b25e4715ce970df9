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
/// assertion to another host.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    allow_loopback_http: bool,
}

impl Default for HttpClient {
    fn default() -> Self {
        let same_origin = reqwest::redirect::Policy::custom(|attempt| {
            let same = attempt
                .previous()
                .first()
                .is_some_and(|first| first.origin() == attempt.url().origin());
            if same && attempt.previous().len() < 5 {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let client = reqwest::Client::builder()
            .redirect(same_origin)
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self::with_client(client)
    }
}

/// A buffered HTTP answer.
#[derive(Debug, Clone)]
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Vec<u8>,
}

impl HttpResponse {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl HttpClient {
    /// A client with reqwest's defaults and TLS required.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `client` (for proxies, timeouts, custom roots).
    pub fn with_client(client: reqwest::Client) -> Self {
        Self {
            client,
            allow_loopback_http: false,
        }
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
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.allow_loopback_http && is_loopback(url) => Ok(()),
            _ => Err(Error::InsecureUrl {
                url: url.to_string(),
            }),
        }
    }

    /// GETs `url` with `Accept: accept`, retrying once after a transport error.
    pub(crate) async fn get(&self, url: &Url, accept: &str) -> Result<HttpResponse, Error> {
        self.check_url(url)?;
        let send = || {
            self.client
                .get(url.clone())
                .header(http::header::ACCEPT, accept)
                .send()
        };
        let response = match send().await {
            Ok(response) => response,
            Err(first) => {
                tracing::debug!(url = %url, error = %first, "GET failed; retrying once");
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
            .client
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
    let mut response = response;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|err| transport(url, err))? {
        // Discovery, token and JWKS documents are small; a huge body is an attack or a bug.
        if body.len() + chunk.len() > MAX_BODY {
            return Err(Error::Transport {
                url: url.to_string(),
                source: format!("the response body exceeds {MAX_BODY} bytes").into(),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(HttpResponse {
        status,
        content_type,
        body,
    })
}

fn transport(url: &Url, err: reqwest::Error) -> Error {
    Error::Transport {
        url: url.to_string(),
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
