//! The client's own redirect policy (reqwest's is switched off): every hop is checked before
//! it is sent, so credentials and request bodies go only where they may.

use http::header::{self, HeaderMap};
use http::{Method, StatusCode};
use url::Url;

use crate::credentials::is_cross_origin;
use crate::request::Body;

/// Why a redirect was not followed; the error names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The client follows no redirects (`max_redirects(0)`).
    Disabled,
    /// More hops than the client allows.
    TooMany,
    /// No usable `Location`.
    BadLocation,
    /// A redirect to a scheme other than `http`/`https`.
    Scheme,
    /// From `https` to plain `http`.
    Downgrade,
    /// The request body would be sent again to another origin.
    BodyToOtherOrigin,
}

impl Refusal {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Disabled => "the server redirected and redirects are not followed",
            Self::TooMany => "the server redirected too many times",
            Self::BadLocation => "the server redirected without a valid `Location`",
            Self::Scheme => "the server redirected to a URL that is not http(s)",
            Self::Downgrade => "the server redirected from https to plain http",
            Self::BodyToOtherOrigin => {
                "the server redirected a request with a body to another origin"
            }
        }
    }
}

/// The next request of a redirect chain.
#[derive(Debug)]
pub(crate) struct Hop {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) body: Option<Body>,
}

/// Whether `status` is a redirect this client may follow.
pub(crate) fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The hop after a redirect `status` from `current` (the `origin` is the first request's URL),
/// or why it is refused. `hops` is the number of redirects already followed.
pub(crate) fn next_hop(
    status: StatusCode,
    headers: &HeaderMap,
    current: &Hop,
    origin: &Url,
    hops: usize,
    max_redirects: usize,
) -> Result<Hop, Refusal> {
    if max_redirects == 0 {
        return Err(Refusal::Disabled);
    }
    if hops >= max_redirects {
        return Err(Refusal::TooMany);
    }
    let location = headers
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .ok_or(Refusal::BadLocation)?;
    let mut url = current
        .url
        .join(location.trim())
        .map_err(|_| Refusal::BadLocation)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refusal::Scheme);
    }
    if current.url.scheme() == "https" && url.scheme() == "http" {
        return Err(Refusal::Downgrade);
    }
    // A fragment is never sent. User info in a Location would make reqwest add a Basic header
    // the server chose: dropped (both setters fail only for URLs that cannot have any).
    url.set_fragment(None);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    // RFC 9110 §15.4: 303 turns any method but HEAD into GET; 301 and 302 turn POST into GET
    // (what every client does); 307 and 308 keep the method and the body.
    let becomes_get = match status.as_u16() {
        303 => current.method != Method::HEAD && current.method != Method::GET,
        301 | 302 => current.method == Method::POST,
        _ => false,
    };
    let (method, body) = if becomes_get {
        (Method::GET, None)
    } else {
        (current.method.clone(), current.body.clone())
    };
    if body.is_some() && is_cross_origin(origin, &url) {
        return Err(Refusal::BodyToOtherOrigin);
    }
    Ok(Hop { method, url, body })
}

#[cfg(test)]
mod tests;
