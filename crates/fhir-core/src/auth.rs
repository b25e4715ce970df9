//! Pluggable authentication: the [`AuthProvider`] trait and the built-in providers.
//!
//! The client asks the provider for an `Authorization` header value before each request whose
//! URL lies under the base URL (never for other origins), and calls
//! [`AuthProvider::on_unauthorized`] once when the server answers 401, so a provider that can
//! refresh its credentials gets exactly one chance to do so before the request is retried once.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use base64::Engine as _;
use http::{HeaderValue, Method};
use url::Url;

use crate::secret::SecretString;

/// A boxed error from an [`AuthProvider`], kept as the source of the client's error.
pub type AuthError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A boxed future, as returned by [`AuthProvider`] methods (the trait stays object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The request an [`AuthProvider`] is asked to authorize.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AuthRequest<'a> {
    /// The HTTP method.
    pub method: &'a Method,
    /// The absolute URL, including the query.
    pub url: &'a Url,
    /// `true` when `url` is not under the client's base URL but the request's
    /// credential scope (`fhir_core::exchange::CredentialScope`) admits it: a Bulk Data status URL
    /// or file beside the FHIR base on its origin, or on an origin the caller allowed. A
    /// provider that confines its credentials to the base URL honours the caller's wider
    /// scope only then.
    pub outside_base: bool,
}

impl<'a> AuthRequest<'a> {
    /// Describes a request with `method` to `url` under the base URL.
    pub fn new(method: &'a Method, url: &'a Url) -> Self {
        Self {
            method,
            url,
            outside_base: false,
        }
    }

    /// Marks the request as admitted outside the base URL by its credential scope.
    #[must_use]
    pub fn outside_base(mut self, outside: bool) -> Self {
        self.outside_base = outside;
        self
    }
}

/// What the server said when it rejected a request with 401 Unauthorized.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Unauthorized<'a> {
    /// The `Authorization` value that was rejected, if one was sent. A provider shared by
    /// many requests compares it with its current credentials: when they already differ,
    /// another request has refreshed them and a retry needs no new refresh.
    pub rejected: Option<&'a HeaderValue>,
    /// The `WWW-Authenticate` challenge (RFC 6750 §3), if the server sent one.
    pub www_authenticate: Option<&'a str>,
}

impl<'a> Unauthorized<'a> {
    /// Describes a 401 response: the rejected `Authorization` value and the challenge.
    pub fn new(rejected: Option<&'a HeaderValue>, www_authenticate: Option<&'a str>) -> Self {
        Self {
            rejected,
            www_authenticate,
        }
    }
}

/// Supplies the `Authorization` header for requests to the FHIR server.
///
/// Implementations must be cheap to call concurrently: the client calls
/// [`authorization`](Self::authorization) for every request. Returned header values should be
/// marked sensitive ([`HeaderValue::set_sensitive`]) so they never show in `Debug` output.
pub trait AuthProvider: fmt::Debug + Send + Sync {
    /// Returns the `Authorization` header value for `request`, or `None` to send none.
    ///
    /// # Errors
    ///
    /// Any error stops the request; the client reports it as an authentication error with
    /// this error as its source.
    fn authorization<'a>(
        &'a self,
        request: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Option<HeaderValue>, AuthError>>;

    /// The `Authorization` header value for `request` when it is at hand without waiting (a
    /// fixed credential, a cached token that is still fresh): the client sends it and does not
    /// call [`authorization`](Self::authorization), which spares the boxed future per request.
    ///
    /// Return `None` whenever the answer needs work, may fail, or is "no header": the client
    /// then calls [`authorization`](Self::authorization). The default always returns `None`.
    fn cached_authorization(&self, request: AuthRequest<'_>) -> Option<HeaderValue> {
        let _ = request;
        None
    }

    /// Called once when the server answered `request` with 401 Unauthorized.
    ///
    /// Return `Ok(true)` when the credentials were renewed (or were renewed meanwhile by another
    /// request) and the request should be retried, which the client then does exactly once.
    /// The default returns `Ok(false)`: static credentials cannot get better by retrying.
    ///
    /// # Errors
    ///
    /// An error (for example a failed refresh) is reported instead of the 401.
    fn on_unauthorized<'a>(
        &'a self,
        request: AuthRequest<'a>,
        response: Unauthorized<'a>,
    ) -> BoxFuture<'a, Result<bool, AuthError>> {
        let _ = (request, response);
        Box::pin(async { Ok(false) })
    }
}

/// Sends no `Authorization` header: for open servers.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

impl AuthProvider for NoAuth {
    fn authorization<'a>(
        &'a self,
        _request: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Option<HeaderValue>, AuthError>> {
        Box::pin(async { Ok(None) })
    }
}

/// A fixed bearer token (`Authorization: Bearer <token>`).
#[derive(Clone)]
pub struct BearerToken {
    header: HeaderValue,
}

impl BearerToken {
    /// Creates a provider for `token`.
    ///
    /// # Errors
    ///
    /// [`InvalidCredentials`] when the token holds characters that cannot appear in an HTTP
    /// header (a control character or a line break).
    pub fn new(token: impl Into<SecretString>) -> Result<Self, InvalidCredentials> {
        let token = token.into();
        let header = sensitive_header(&format!("Bearer {}", token.expose_secret()))?;
        Ok(Self { header })
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerToken")
            .field("token", &"[redacted]")
            .finish()
    }
}

impl AuthProvider for BearerToken {
    fn cached_authorization(&self, _request: AuthRequest<'_>) -> Option<HeaderValue> {
        Some(self.header.clone())
    }

    fn authorization<'a>(
        &'a self,
        _request: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Option<HeaderValue>, AuthError>> {
        let header = self.header.clone();
        Box::pin(async move { Ok(Some(header)) })
    }
}

/// HTTP Basic authentication (RFC 7617) with a user name and password.
#[derive(Clone)]
pub struct BasicAuth {
    user: String,
    header: HeaderValue,
}

impl BasicAuth {
    /// Creates a provider for `user` and `password`.
    ///
    /// # Errors
    ///
    /// [`InvalidCredentials`] when the user name contains `:` (RFC 7617 §2 forbids it).
    pub fn new(
        user: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Result<Self, InvalidCredentials> {
        let user = user.into();
        if user.contains(':') {
            return Err(InvalidCredentials {
                reason: "the user name contains `:`",
            });
        }
        let password = password.into();
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(format!("{user}:{}", password.expose_secret()));
        let header = sensitive_header(&format!("Basic {encoded}"))?;
        Ok(Self { user, header })
    }
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("user", &self.user)
            .field("password", &"[redacted]")
            .finish()
    }
}

impl AuthProvider for BasicAuth {
    fn cached_authorization(&self, _request: AuthRequest<'_>) -> Option<HeaderValue> {
        Some(self.header.clone())
    }

    fn authorization<'a>(
        &'a self,
        _request: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Option<HeaderValue>, AuthError>> {
        let header = self.header.clone();
        Box::pin(async move { Ok(Some(header)) })
    }
}

/// Credentials that cannot be turned into an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid credentials: {reason}")]
#[non_exhaustive]
pub struct InvalidCredentials {
    /// Why the credentials were refused (never the credentials themselves).
    pub reason: &'static str,
}

/// Builds a header value marked sensitive, so `http` never prints it.
///
/// # Errors
///
/// [`InvalidCredentials`] when `value` is not a valid header value.
pub fn sensitive_header(value: &str) -> Result<HeaderValue, InvalidCredentials> {
    let mut header = HeaderValue::from_str(value).map_err(|_| InvalidCredentials {
        reason: "the value contains characters not allowed in an HTTP header",
    })?;
    header.set_sensitive(true);
    Ok(header)
}

#[cfg(test)]
mod tests;
