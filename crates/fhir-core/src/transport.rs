//! The one send path every request takes: headers, credentials (only under the base URL),
//! retries, the single re-authorization on 401, and turning responses into results.

mod body;
mod redirect;

use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use url::Url;

use crate::auth::{AuthRequest, Unauthorized};
use crate::client::Client;
use crate::credentials::is_cross_origin;
use crate::error::Error;
use crate::request::{Idempotency, Prepared};
use crate::resource::{DecodeError, DecodeErrorKind, Resource};
use crate::response::{Response, ResponseMeta, WriteBody, WriteResponse};
use crate::retry::parse_retry_after;
use body::{BodyError, read_bounded};
use redirect::{Hop, is_redirect, next_hop};

/// A complete response, body read.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// Whether credentials went with the final hop.
    sent_credentials: bool,
    /// The `Authorization` value sent, kept until the 401 handling has seen it.
    authorization: Option<HeaderValue>,
    /// Whether an earlier attempt failed in a way that leaves its outcome unknown.
    earlier_attempt_unknown: bool,
    /// Whether the request was conditional on the resource's version (`If-Match`).
    if_match: bool,
}

impl RawResponse {
    /// A response as read from the wire, for unit tests of the layers above.
    #[cfg(test)]
    pub(crate) fn new(
        method: Method,
        url: Url,
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
    ) -> Self {
        Self {
            method,
            url,
            status,
            headers,
            body,
            sent_credentials: false,
            authorization: None,
            earlier_attempt_unknown: false,
            if_match: false,
        }
    }

    /// The error for this response, with its request and `Retry-After`.
    pub(crate) fn into_error(self, client: &Client) -> Error {
        let retry_after = parse_retry_after(&self.headers, client.inner.timer.now());
        let state_dependent =
            self.method == Method::DELETE || self.method == Method::PUT && self.if_match;
        let err = Error::from_status(self.status, &self.headers, &self.body)
            .with_request(&self.method, &self.url)
            .with_retry_after(retry_after);
        // After an attempt that may have been applied, a 404, 410 or 412 to a delete or an
        // `If-Match` update may be that attempt's own effect.
        if self.earlier_attempt_unknown
            && state_dependent
            && matches!(self.status.as_u16(), 404 | 410 | 412)
        {
            err.with_earlier_attempt_unknown()
        } else {
            err
        }
    }

    /// Fails unless the status is 2xx.
    pub(crate) fn success(self, client: &Client) -> Result<Self, Error> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(self.into_error(client))
        }
    }

    /// Decodes the body as a `T`, wrapping decode errors with the request.
    pub(crate) fn decode<T: Resource>(&self) -> Result<T, Error> {
        T::from_json_slice(&self.body).map_err(|err| self.decode_error(err))
    }

    pub(crate) fn decode_error(&self, err: DecodeError) -> Error {
        Error::decode(err)
            .with_request(&self.method, &self.url)
            .with_status(self.status)
    }

    pub(crate) fn meta(&self) -> ResponseMeta {
        ResponseMeta::new(self.status, self.headers.clone())
    }

    /// The metadata and the URL, consuming the response (no header copies).
    pub(crate) fn into_meta_and_url(self) -> (ResponseMeta, Url) {
        (ResponseMeta::new(self.status, self.headers), self.url)
    }

    /// A 2xx response whose body must be a `T` of `expected_type` (when known).
    pub(crate) fn into_response<T: Resource>(
        self,
        client: &Client,
        expected_type: Option<&str>,
    ) -> Result<Response<T>, Error> {
        let raw = self.success(client)?;
        if raw.body.is_empty() {
            return Err(raw.decode_error(DecodeError::new(
                DecodeErrorKind::Eof,
                ".",
                "the server sent an empty body where a resource was expected",
            )));
        }
        let resource: T = raw.decode()?;
        if let Some(expected) = expected_type {
            let found = resource.resource_type();
            if found != Some(expected) {
                return Err(raw.decode_error(wrong_type(expected, found)));
            }
        }
        Ok(Response::new(raw.into_meta_and_url().0, resource))
    }

    /// A 2xx response to a write, whose body may be the resource, an OperationOutcome or empty.
    pub(crate) fn into_write_response<T: Resource>(
        self,
        client: &Client,
    ) -> Result<WriteResponse<T>, Error> {
        let raw = self.success(client)?;
        let body = if raw.body.iter().all(u8::is_ascii_whitespace) {
            WriteBody::Empty
        } else if peek_resource_type(&raw.body).as_deref() == Some("OperationOutcome") {
            match crate::outcome::OperationOutcome::from_json_slice(&raw.body) {
                Ok(outcome) => WriteBody::Outcome(outcome),
                Err(err) => return Err(raw.decode_error(err)),
            }
        } else {
            WriteBody::Resource(raw.decode()?)
        };
        Ok(WriteResponse::new(raw.into_meta_and_url().0, body))
    }
}

pub(crate) fn wrong_type(expected: &str, found: Option<&str>) -> DecodeError {
    DecodeError::new(
        DecodeErrorKind::WrongResourceType,
        "resourceType",
        format!(
            "expected {expected}, found {}",
            found.unwrap_or("no resourceType")
        ),
    )
}

/// The `resourceType` of a JSON document, without decoding the rest into a model.
fn peek_resource_type(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(rename = "resourceType")]
        resource_type: Option<String>,
    }
    serde_json::from_slice::<Peek>(body).ok()?.resource_type
}

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
        let inner = &self.inner;
        let limits = &inner.limits;
        let deadline = limits
            .deadline
            .map(|limit| (inner.timer.monotonic() + limit, limit));
        let mut retries = 0u32;
        let mut reauthorized = false;
        // Whether an earlier attempt may have been processed without the client learning it.
        let mut ambiguous = false;
        loop {
            let attempt = self.attempt(&request);
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
            let mut response = match result {
                Ok(response) => response,
                Err(failure) => {
                    let repeatable = match failure.repeat {
                        Repeat::Never => false,
                        Repeat::IfIdempotent => request.idempotency == Idempotency::Idempotent,
                        Repeat::Always => true,
                    };
                    if repeatable && retries < inner.retry.retries() {
                        let delay = inner.retry.backoff(retries);
                        if self.within_deadline(deadline, delay) {
                            tracing::debug!(retry = retries + 1, ?delay, error = %failure.error, "retrying");
                            ambiguous |= failure.repeat == Repeat::IfIdempotent;
                            retries += 1;
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
            let status = response.status;

            if status == StatusCode::UNAUTHORIZED && response.sent_credentials && !reauthorized {
                let www_authenticate = response
                    .headers
                    .get(header::WWW_AUTHENTICATE)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                let retry = inner
                    .auth
                    .on_unauthorized(
                        AuthRequest::new(&request.method, &request.url),
                        Unauthorized {
                            rejected: response.authorization.as_ref(),
                            www_authenticate: www_authenticate.as_deref(),
                        },
                    )
                    .await
                    .map_err(|err| {
                        Error::auth(err)
                            .with_request(&request.method, &request.url)
                            .with_status(status)
                    })?;
                if retry {
                    reauthorized = true;
                    continue;
                }
            }

            if should_retry_status(status, request.idempotency) && retries < inner.retry.retries() {
                let retry_after = parse_retry_after(&response.headers, inner.timer.now());
                if let Some(delay) = inner.retry.delay(retries, retry_after)
                    && self.within_deadline(deadline, delay)
                {
                    tracing::debug!(retry = retries + 1, %status, ?delay, "retrying");
                    // A 503 may come after partial processing; a 429 never does.
                    ambiguous |= status == StatusCode::SERVICE_UNAVAILABLE;
                    retries += 1;
                    inner.timer.sleep(delay).await;
                    continue;
                }
            }

            tracing::debug!(
                method = %request.method,
                url = %crate::error::sanitize_url(&request.url),
                %status,
                bytes = response.body.len(),
                retries,
                "FHIR response"
            );
            response.earlier_attempt_unknown = ambiguous;
            response.if_match = request.headers.contains_key(header::IF_MATCH);
            response.authorization = None;
            response.method = request.method;
            return Ok(response);
        }
    }

    /// Whether waiting `delay` still leaves time before the deadline.
    fn within_deadline(
        &self,
        deadline: Option<(std::time::Instant, Duration)>,
        delay: Duration,
    ) -> bool {
        deadline.is_none_or(|(at, _)| self.inner.timer.monotonic() + delay < at)
    }

    /// One attempt: the request and the redirects it leads to, each hop checked before it is
    /// sent, and the final body read within the limits.
    async fn attempt(&self, request: &Prepared) -> Result<RawResponse, Failure> {
        let inner = &self.inner;
        let limits = &inner.limits;
        let mut hop = Hop {
            method: request.method.clone(),
            url: request.url.clone(),
            body: request.body.clone(),
        };
        let mut hops = 0;
        loop {
            // Credentials only under the base URL, decided afresh for every hop.
            let authorization = if self.is_under_base(&hop.url) {
                self.authorization(&hop).await?
            } else {
                if hops == 0 {
                    tracing::debug!(url = %crate::error::sanitize_url(&hop.url), "URL outside the base: no credentials sent");
                }
                None
            };
            let sent = self.send_once(&hop, &request.headers, authorization.as_ref());
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
            let body = read_bounded(
                response,
                limits.max_response_bytes,
                limits.read_idle_timeout,
            )
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
            return Ok(RawResponse {
                method: hop.method,
                url: hop.url,
                status,
                headers,
                body,
                sent_credentials: authorization.is_some(),
                authorization,
                earlier_attempt_unknown: false,
                if_match: false,
            });
        }
    }

    /// The `Authorization` value for a hop under the base URL.
    async fn authorization(&self, hop: &Hop) -> Result<Option<HeaderValue>, Failure> {
        let auth = &self.inner.auth;
        let auth_request = AuthRequest::new(&hop.method, &hop.url);
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
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(body.content_type),
            );
            *http_request.body_mut() = Some(body.bytes.clone().into());
        }
        *http_request.headers_mut() = headers;
        if let Some(timeout) = inner.request_timeout {
            *http_request.timeout_mut() = Some(timeout);
        }
        inner.http.execute(http_request).await
    }
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
