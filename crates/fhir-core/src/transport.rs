//! The one send path every request takes: headers, credentials (only under the base URL),
//! retries, the single re-authorization on 401, and turning responses into results.

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use url::Url;

use crate::auth::{AuthRequest, Unauthorized};
use crate::client::Client;
use crate::error::Error;
use crate::request::{Idempotency, Prepared};
use crate::resource::{DecodeError, DecodeErrorKind, Resource};
use crate::response::{Response, ResponseMeta, WriteBody, WriteResponse};
use crate::retry::parse_retry_after;

/// A complete response, body read.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl RawResponse {
    /// The error for this response, with its request and `Retry-After`.
    pub(crate) fn into_error(self, client: &Client) -> Error {
        let retry_after = parse_retry_after(&self.headers, client.inner.timer.now());
        Error::from_status(self.status, &self.headers, &self.body)
            .with_request(&self.method, &self.url)
            .with_retry_after(retry_after)
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

impl Client {
    /// Sends `request`, retrying as the policy allows, and reads the whole response.
    ///
    /// Non-success statuses are returned as responses, not errors: each interaction decides
    /// what a status means (304 is a normal result of a conditional read).
    pub(crate) async fn execute(&self, request: Prepared) -> Result<RawResponse, Error> {
        let inner = &self.inner;
        let send_credentials = self.is_under_base(&request.url);
        if !send_credentials {
            tracing::debug!(url = %crate::error::sanitize_url(&request.url), "URL outside the base: no credentials sent");
        }
        let mut retries = 0u32;
        let mut reauthorized = false;
        loop {
            let authorization = if send_credentials {
                let auth_request = AuthRequest::new(&request.method, &request.url);
                match inner.auth.cached_authorization(auth_request) {
                    Some(value) => Some(value),
                    None => inner
                        .auth
                        .authorization(auth_request)
                        .await
                        .map_err(|err| {
                            Error::auth(err).with_request(&request.method, &request.url)
                        })?,
                }
            } else {
                None
            };
            let result = self.send_once(&request, authorization.as_ref()).await;
            let mut response = match result {
                Ok(response) => response,
                Err(err) => {
                    let retryable = match request.idempotency {
                        Idempotency::Idempotent => {
                            err.is_connect() || err.is_timeout() || err.is_request()
                        }
                        // Only a failed connection proves the server never saw the request.
                        Idempotency::NonIdempotent => err.is_connect(),
                    };
                    if retryable && retries < inner.retry.retries() {
                        let delay = inner.retry.backoff(retries);
                        tracing::debug!(retry = retries + 1, ?delay, "transport error: retrying");
                        retries += 1;
                        inner.timer.sleep(delay).await;
                        continue;
                    }
                    return Err(Error::transport(err).with_request(&request.method, &request.url));
                }
            };
            let status = response.status();

            if status == StatusCode::UNAUTHORIZED && send_credentials && !reauthorized {
                let www_authenticate = response
                    .headers()
                    .get(header::WWW_AUTHENTICATE)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                let retry = inner
                    .auth
                    .on_unauthorized(
                        AuthRequest::new(&request.method, &request.url),
                        Unauthorized {
                            rejected: authorization.as_ref(),
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
                let retry_after = parse_retry_after(response.headers(), inner.timer.now());
                if let Some(delay) = inner.retry.delay(retries, retry_after) {
                    tracing::debug!(retry = retries + 1, %status, ?delay, "retrying");
                    retries += 1;
                    inner.timer.sleep(delay).await;
                    continue;
                }
            }

            // The headers are moved out: reading the body does not need them.
            let headers = std::mem::take(response.headers_mut());
            let body = response
                .bytes()
                .await
                .map_err(|err| Error::transport(err).with_request(&request.method, &request.url))?;
            tracing::debug!(
                method = %request.method,
                url = %crate::error::sanitize_url(&request.url),
                %status,
                bytes = body.len(),
                retries,
                "FHIR response"
            );
            return Ok(RawResponse {
                method: request.method,
                url: request.url,
                status,
                headers,
                body,
            });
        }
    }

    async fn send_once(
        &self,
        request: &Prepared,
        authorization: Option<&HeaderValue>,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let inner = &self.inner;
        // One clone of the prebuilt map (default headers, `User-Agent`, `Accept`); the
        // request's own headers replace same-named ones, as `RequestBuilder::headers` does.
        let mut headers = inner.request_headers.clone();
        replace_headers(&mut headers, &request.headers);
        if let Some(authorization) = authorization {
            headers.append(header::AUTHORIZATION, authorization.clone());
        }
        let mut http_request = reqwest::Request::new(request.method.clone(), request.url.clone());
        if let Some(body) = &request.body {
            headers.append(
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
