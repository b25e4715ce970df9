//! The one send path every request takes: headers, credentials (only under the base URL),
//! redirects checked hop by hop, retries under the call deadline, and the single
//! re-authorization on 401. What a response means is decided next to the response types
//! ([`crate::response`]).

mod body;
mod redirect;
mod span;

use std::time::Duration;

use http::StatusCode;
use http::header::{self, HeaderMap, HeaderValue};

use crate::auth::{AuthRequest, Unauthorized};
use crate::client::Client;
use crate::credentials::is_cross_origin;
use crate::error::Error;
use crate::request::{Idempotency, Prepared};
use crate::response::RawResponse;
use crate::retry::parse_retry_after;
use body::{BodyError, read_bounded};
use redirect::{Hop, is_redirect, next_hop};

/// How a failed attempt may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// Never: repeating cannot help (a refused redirect, a body over the limit, an auth error).
    Never,
    /// Only when the request is idempotent: the server may have processed it.
    IfIdempotent,
    /// Always: the server certainly never saw the request (the connection never opened).
    Always,
}

/// A response and the `Authorization` value that went with its final hop (for the 401 hook).
struct Attempted {
    received: Received,
    authorization: Option<HeaderValue>,
}

/// What an attempt received: a response read whole, or (for a streaming request with a 2xx
/// status) one whose body the caller reads.
pub(crate) enum Received {
    Read(RawResponse),
    Open(OpenResponse),
}

/// A 2xx response whose body has not been read yet.
pub(crate) struct OpenResponse {
    pub(crate) url: url::Url,
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) response: reqwest::Response,
    pub(crate) idle: Option<Duration>,
}

/// A failed attempt: the error and whether it may be repeated.
struct Failure {
    error: Error,
    repeat: Repeat,
}

impl Failure {
    fn never(error: Error) -> Self {
        Self {
            error,
            repeat: Repeat::Never,
        }
    }
}

impl Client {
    /// Sends `request`, retrying as the policy allows, and reads the whole response.
    ///
    /// Non-success statuses are returned as responses, not errors: each interaction decides
    /// what a status means (304 is a normal result of a conditional read).
    ///
    /// Every call is bounded: the deadline covers all attempts and the waits between them,
    /// each body is read within the size limit and the idle timeout, and redirects are
    /// followed here, hop by hop, never by reqwest.
    pub(crate) async fn execute(&self, request: Prepared) -> Result<RawResponse, Error> {
        match self.send_prepared(request, false).await? {
            Received::Read(response) => Ok(response),
            // Not produced for a request that is not streamed; read it all the same.
            Received::Open(open) => read_open(
                open,
                self.inner.limits.max_response_bytes,
                http::Method::GET,
            )
            .await
            .map_err(|failure| failure.error),
        }
    }

    /// [`execute`](Self::execute), or with `stream` a 2xx response handed back unread (the
    /// deadline then covers the response head only; the caller reads the body).
    pub(crate) async fn send_prepared(
        &self,
        request: Prepared,
        stream: bool,
    ) -> Result<Received, Error> {
        let span = span::request_span(&request, &self.inner.base);
        let started = std::time::Instant::now();
        let result =
            tracing::Instrument::instrument(self.send_with_retries(request, stream), span.clone())
                .await;
        span::record_outcome(&span, &result, started.elapsed());
        result
    }

    /// [`send_prepared`](Self::send_prepared) inside its span: the attempts, retries and the
    /// re-authorization.
    async fn send_with_retries(&self, request: Prepared, stream: bool) -> Result<Received, Error> {
        let inner = &self.inner;
        let limits = &inner.limits;
        let deadline = limits
            .deadline
            // A deadline too far to represent is no deadline.
            .and_then(|limit| Some((inner.timer.monotonic().checked_add(limit)?, limit)));
        let mut retries = 0u32;
        let mut reauthorized = false;
        // Whether an earlier attempt may have been processed without the client learning it.
        let mut ambiguous = false;
        loop {
            let attempt = self.attempt(&request, stream);
            let result = match deadline {
                Some((at, limit)) => {
                    let remaining = at.saturating_duration_since(inner.timer.monotonic());
                    match tokio::time::timeout(remaining, attempt).await {
                        Ok(result) => result,
                        Err(_) => Err(Failure::never(Error::deadline(limit))),
                    }
                }
                None => attempt.await,
            };
            let Attempted {
                received,
                authorization,
            } = match result {
                Ok(attempted) => attempted,
                Err(failure) => {
                    let repeatable = match failure.repeat {
                        Repeat::Never => false,
                        Repeat::IfIdempotent => request.idempotency == Idempotency::Idempotent,
                        Repeat::Always => true,
                    };
                    if repeatable && request.retries && retries < inner.retry.retries() {
                        let delay = inner.retry.backoff(retries);
                        if self.within_deadline(deadline, delay) {
                            tracing::debug!(retry = retries + 1, ?delay, error = %failure.error, "retrying");
                            ambiguous |= failure.repeat == Repeat::IfIdempotent;
                            retries += 1;
                            span::record_resend(retries + u32::from(reauthorized));
                            inner.timer.sleep(delay).await;
                            continue;
                        }
                    }
                    let error = failure.error;
                    return Err(if error.url().is_some() {
                        error
                    } else {
                        error.with_request(&request.method, &request.url)
                    });
                }
            };
            let mut response = match received {
                Received::Read(response) => response,
                Received::Open(open) => return Ok(Received::Open(open)),
            };
            let status = response.status;

            if status == StatusCode::UNAUTHORIZED && authorization.is_some() && !reauthorized {
                let www_authenticate = response
                    .headers
                    .get(header::WWW_AUTHENTICATE)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                // The provider is told about the URL that answered 401 (the final hop), and
                // its renewal counts against the deadline like everything else.
                let renewal = inner.auth.on_unauthorized(
                    // A 401 can only follow credentials sent, so within the request's scope.
                    AuthRequest::new(&response.method, &response.url).outside_base(
                        !crate::credentials::is_under_base(&inner.base, &response.url),
                    ),
                    Unauthorized {
                        rejected: authorization.as_ref(),
                        www_authenticate: www_authenticate.as_deref(),
                    },
                );
                let renewed = match deadline {
                    Some((at, limit)) => {
                        let remaining = at.saturating_duration_since(inner.timer.monotonic());
                        tokio::time::timeout(remaining, renewal)
                            .await
                            .map_err(|_| {
                                Error::deadline(limit).with_request(&request.method, &request.url)
                            })?
                    }
                    None => renewal.await,
                };
                let retry = renewed.map_err(|err| {
                    Error::auth(err)
                        .with_request(&request.method, &request.url)
                        .with_status(status)
                })?;
                if retry {
                    reauthorized = true;
                    span::record_resend(retries + 1);
                    continue;
                }
            }

            let retry_after = parse_retry_after(&response.headers, inner.timer.now());
            if request.retries
                && should_retry_status(status, request.idempotency)
                && retries < inner.retry.retries()
                && let Some(delay) = inner.retry.delay(retries, retry_after)
                && self.within_deadline(deadline, delay)
            {
                tracing::debug!(retry = retries + 1, %status, ?delay, "retrying");
                // A 503 may come after partial processing; a 429 never does.
                ambiguous |= status == StatusCode::SERVICE_UNAVAILABLE;
                retries += 1;
                span::record_resend(retries + u32::from(reauthorized));
                inner.timer.sleep(delay).await;
                continue;
            }

            tracing::debug!(
                method = %request.method,
                url = %crate::error::sanitize_url(&request.url),
                %status,
                bytes = response.body.len(),
                retries,
                "FHIR response"
            );
            // A delete or an `If-Match` update depends on the state an earlier, unanswered
            // attempt may have changed.
            let state_dependent = request.method == http::Method::DELETE
                || request.headers.contains_key(header::IF_MATCH);
            response.outcome_may_be_earlier = ambiguous && state_dependent;
            response.retry_after = retry_after;
            response.method = request.method;
            return Ok(Received::Read(response));
        }
    }

    /// Whether waiting `delay` still leaves time before the deadline.
    fn within_deadline(
        &self,
        deadline: Option<(std::time::Instant, Duration)>,
        delay: Duration,
    ) -> bool {
        deadline.is_none_or(|(at, _)| {
            self.inner
                .timer
                .monotonic()
                .checked_add(delay)
                .is_some_and(|end| end < at)
        })
    }

    /// One attempt: the request and the redirects it leads to, each hop checked before it is
    /// sent, and the final body read within the limits.
    async fn attempt(&self, request: &Prepared, stream: bool) -> Result<Attempted, Failure> {
        let inner = &self.inner;
        let limits = &inner.limits;
        let mut hop = Hop {
            method: request.method.clone(),
            url: request.url.clone(),
            body: request.body.clone(),
        };
        let mut hops = 0;
        let no_headers = HeaderMap::new();
        // Once a hop goes where credentials may not, no later hop gets them: a host outside
        // the scope must not be able to send the client back with its token.
        let mut left_scope = false;
        loop {
            // Credentials only under the base URL (or where the request's scope allows),
            // decided afresh for every hop.
            left_scope |= !request.credentials.allows(&self.inner.base, &hop.url);
            let authorization = if left_scope {
                if hops == 0 {
                    tracing::debug!(url = %crate::error::sanitize_url(&hop.url), "URL outside the base: no credentials sent");
                }
                None
            } else {
                self.authorization(&hop).await?
            };
            // The request's own headers (`If-None-Exist` may hold an identifier, `If-Match` a
            // version) go only where the request itself goes: the same origin, the same method.
            let forward = hop.method == request.method && !is_cross_origin(&request.url, &hop.url);
            let request_headers = if forward {
                &request.headers
            } else {
                &no_headers
            };
            let sent = self.send_once(
                &hop,
                request_headers,
                authorization.as_ref(),
                request.timeout,
            );
            let response = match limits.read_idle_timeout {
                Some(idle) => match tokio::time::timeout(idle, sent).await {
                    Ok(response) => response,
                    Err(_) => {
                        return Err(Failure {
                            error: Error::idle_timeout(idle),
                            repeat: Repeat::IfIdempotent,
                        });
                    }
                },
                None => sent.await,
            };
            let response = response.map_err(|err| Failure {
                repeat: if err.is_connect() {
                    Repeat::Always
                } else {
                    Repeat::IfIdempotent
                },
                error: Error::transport(err),
            })?;
            if response.url() != &hop.url {
                // Only an injected reqwest client follows redirects itself.
                tracing::warn!(
                    url = %crate::error::sanitize_url(response.url()),
                    "the injected HTTP client followed a redirect: build it with `redirect::Policy::none()`"
                );
            }
            let status = response.status();
            if is_redirect(status) {
                let next = next_hop(
                    status,
                    response.headers(),
                    &hop,
                    &request.url,
                    hops,
                    limits.max_redirects,
                )
                .map_err(|refusal| {
                    Failure::never(
                        Error::redirect_refused(refusal.describe(), status)
                            .with_request(&hop.method, &hop.url),
                    )
                })?;
                tracing::debug!(%status, to = %crate::error::sanitize_url(&next.url), "following a redirect");
                hop = next;
                hops += 1;
                continue;
            }
            let mut response = response;
            let headers = std::mem::take(response.headers_mut());
            let open = OpenResponse {
                url: hop.url,
                status,
                headers,
                response,
                idle: limits.read_idle_timeout,
            };
            let received = if stream && status.is_success() {
                Received::Open(open)
            } else {
                let cap = match (limits.max_response_bytes, request.max_response_bytes) {
                    (Some(client), Some(this)) => Some(client.min(this)),
                    (client, this) => client.or(this),
                };
                Received::Read(read_open(open, cap, hop.method).await?)
            };
            return Ok(Attempted {
                received,
                authorization,
            });
        }
    }

    /// The `Authorization` value for a hop the request's credential scope admits.
    async fn authorization(&self, hop: &Hop) -> Result<Option<HeaderValue>, Failure> {
        let auth = &self.inner.auth;
        let auth_request = AuthRequest::new(&hop.method, &hop.url).outside_base(
            !crate::credentials::is_under_base(&self.inner.base, &hop.url),
        );
        match auth.cached_authorization(auth_request) {
            Some(value) => Ok(Some(value)),
            None => auth
                .authorization(auth_request)
                .await
                .map_err(|err| Failure::never(Error::auth(err))),
        }
    }

    async fn send_once(
        &self,
        hop: &Hop,
        request_headers: &HeaderMap,
        authorization: Option<&HeaderValue>,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let inner = &self.inner;
        // The client's own headers (`User-Agent`, `Accept`) always; the default headers only
        // on the base URL's origin; the request's headers replace same-named ones.
        let mut headers = if is_cross_origin(&inner.base, &hop.url) {
            inner.own_headers.clone()
        } else {
            inner.request_headers.clone()
        };
        replace_headers(&mut headers, request_headers);
        if let Some(authorization) = authorization {
            headers.insert(header::AUTHORIZATION, authorization.clone());
        }
        let mut http_request = reqwest::Request::new(hop.method.clone(), hop.url.clone());
        if let Some(body) = &hop.body {
            headers.insert(header::CONTENT_TYPE, body.content_type.clone());
            *http_request.body_mut() = Some(body.bytes.clone().into());
        }
        *http_request.headers_mut() = headers;
        if let Some(timeout) = timeout.or(inner.request_timeout) {
            *http_request.timeout_mut() = Some(timeout);
        }
        inner.http.execute(http_request).await
    }
}

/// Reads the body of `open` within the size limit and its idle timeout.
async fn read_open(
    open: OpenResponse,
    max_bytes: Option<usize>,
    method: http::Method,
) -> Result<RawResponse, Failure> {
    // reqwest knows no length for a body it decompresses: only a plain one is declared.
    let declared = open.response.content_length();
    let body = read_bounded(open.response, declared, max_bytes, open.idle)
        .await
        .map_err(|err| match err {
            BodyError::TooLarge(limit) => Failure::never(Error::too_large(limit)),
            BodyError::Idle(idle) => Failure {
                error: Error::idle_timeout(idle),
                repeat: Repeat::IfIdempotent,
            },
            BodyError::Transport(err) => Failure {
                error: Error::transport(err),
                repeat: Repeat::IfIdempotent,
            },
        })?;
    Ok(RawResponse::new(
        method,
        open.url,
        open.status,
        open.headers,
        body,
    ))
}

/// Replaces the values of every header named in `src` with `src`'s values.
fn replace_headers(dst: &mut HeaderMap, src: &HeaderMap) {
    for name in src.keys() {
        let mut values = src.get_all(name).iter();
        if let Some(first) = values.next() {
            dst.insert(name.clone(), first.clone());
            for value in values {
                dst.append(name.clone(), value.clone());
            }
        }
    }
}

/// 429 means the server refused the request unprocessed, so any request may be repeated;
/// 503 may come after partial processing, so only idempotent requests are.
fn should_retry_status(status: StatusCode, idempotency: Idempotency) -> bool {
    match status {
        StatusCode::TOO_MANY_REQUESTS => true,
        StatusCode::SERVICE_UNAVAILABLE => idempotency == Idempotency::Idempotent,
        _ => false,
    }
}
