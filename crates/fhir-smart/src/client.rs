//! [`SmartClient`]: an [`AuthProvider`] that keeps a SMART access token fresh.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use fhir_core::auth::{AuthError, AuthProvider, AuthRequest, BoxFuture, Unauthorized};
use http::HeaderValue;
use url::Url;

use crate::Error;
use crate::client_auth::ClientCredentials;
use crate::http::HttpClient;
use crate::id_token::FhirUser;
use crate::launch_session::LaunchSession;
use crate::scopes::Scopes;
use crate::secret::AccessToken;
use crate::store::{StoreKey, StoredToken, TokenStore};
use crate::token::{FhirContext, TokenResponse};

pub use crate::token_options::{
    DEFAULT_MIN_TOKEN_REUSE, DEFAULT_REFRESH_SKEW, DEFAULT_TOKEN_LIFETIME,
};

mod builder;
mod id_token_check;
mod renewal;

pub use builder::SmartClientBuilder;
pub(crate) use id_token_check::IdTokenCheck;

use renewal::Lineage;

/// How a [`SmartClient`] gets a new access token.
#[derive(Debug, Clone)]
enum Grant {
    /// App Launch: `grant_type=refresh_token` while a refresh token is held.
    RefreshToken,
    /// Backend Services: a new `client_credentials` request with a fresh assertion.
    ClientCredentials { scope: String },
}

/// A SMART-authorized session: implements [`AuthProvider`] for `fhir_core`.
///
/// * Renews the access token ahead of expiry (with a clock-skew margin): App Launch clients
///   use their refresh token, Backend Services clients request a new token with a new
///   assertion.
/// * Exactly one token request runs however many requests wait for it (single flight).
/// * A renewal runs to the end, store write included, even when the caller stops waiting
///   (a timeout, a dropped request, fhir-core's deadline around the 401 hook): a rotated
///   refresh token is never lost. It needs a tokio runtime; on another executor it runs in
///   the caller's future.
/// * A renewed token is used for at least [`DEFAULT_MIN_TOKEN_REUSE`] (configurable) before
///   the next proactive renewal, so `expires_in` 0 or 1 does not cost one token request per
///   FHIR request.
/// * A new refresh token from the server replaces the old one; otherwise the old one is
///   kept. Launch context (`patient`, `encounter`, `fhirContext`, …) and the `id_token`
///   survive refreshes that omit them.
/// * The [`TokenStore`] is read back before every renewal, so clients sharing a store never
///   reuse a rotated refresh token. A stored token set of another lineage (another launch
///   under the same key: a different patient, encounter or lineage marker) is never adopted;
///   renewal fails with [`Error::Store`] instead. Across processes this needs a store with
///   compare-and-swap semantics (see [`TokenStore`]).
/// * A refresh token is dropped only when the server says it is dead (`invalid_grant`);
///   transient failures and bare 400/401/403 answers without an OAuth error keep it.
/// * An access token that has expired and cannot be renewed (no refresh token) is never
///   sent: [`access_token`](Self::access_token) fails with
///   [`Error::ReauthorizationRequired`].
/// * When the launch verified its id_token, an id_token in a refresh response is verified
///   the same way (with the same `iss` and `sub`) or discarded; the check runs after the
///   renewal lock is released, and the new id_token is stored only once verified.
/// * On 401 the token is renewed once and the request retried once; never on 403.
/// * The token is attached only to URLs under the FHIR base URL, and never over plain HTTP
///   (except to loopback hosts when the [`HttpClient`] allows it).
#[derive(Clone)]
pub struct SmartClient {
    inner: Arc<Inner>,
}

struct Inner {
    fhir_base: Url,
    token_endpoint: Url,
    credentials: ClientCredentials,
    grant: Grant,
    http: HttpClient,
    store: Arc<dyn TokenStore>,
    key: StoreKey,
    skew: Duration,
    default_lifetime: Duration,
    min_reuse: Duration,
    lease_ttl: Duration,
    current: RwLock<Option<StoredToken>>,
    lineage: RwLock<Option<Lineage>>,
    id_tokens: Option<IdTokenCheck>,
    launch_session: Option<LaunchSession>,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl fmt::Debug for SmartClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmartClient")
            .field("fhir_base", &self.inner.fhir_base.as_str())
            .field("token_endpoint", &self.inner.token_endpoint.as_str())
            .field("client_id", &self.inner.credentials.client_id)
            .field("auth", &self.inner.credentials.auth.method_name())
            .field("grant", &self.inner.grant)
            .finish_non_exhaustive()
    }
}

/// A `WWW-Authenticate` challenge fit for a log line: the token this request carried is
/// masked wherever the server echoed it (an `error_description` quoting it, say), then the
/// workspace's rules apply.
fn log_safe_challenge(challenge: Option<&str>, sent: Option<&HeaderValue>) -> String {
    let token = sent
        .and_then(|header| header.to_str().ok())
        .and_then(|header| header.strip_prefix("Bearer "))
        .unwrap_or_default();
    let challenge = fhir_core::credentials::redact_values(challenge.unwrap_or_default(), &[token]);
    fhir_core::credentials::redact_text(&challenge).into_owned()
}

fn bearer(token: &AccessToken) -> Result<HeaderValue, Error> {
    // The literal `Bearer`, whatever case the server used in `token_type`.
    fhir_core::auth::sensitive_header(&format!("Bearer {}", token.expose_secret())).map_err(|_| {
        Error::InvalidTokenResponse {
            reason: String::from("the access token is not valid in an HTTP header"),
        }
    })
}

fn is_rejected(token: &StoredToken, rejected: Option<&HeaderValue>) -> bool {
    match rejected {
        Some(header) => {
            header.as_bytes()
                == format!("Bearer {}", token.token.access_token.expose_secret()).as_bytes()
        }
        None => true,
    }
}

impl SmartClient {
    /// The FHIR base URL (`aud`).
    pub fn fhir_base(&self) -> &Url {
        &self.inner.fhir_base
    }

    /// The token endpoint.
    pub fn token_endpoint(&self) -> &Url {
        &self.inner.token_endpoint
    }

    /// The record to restore this launch's client later with [`AppLaunch::restore`]
    /// (`None` for clients not made by [`AppLaunch`]).
    ///
    /// [`AppLaunch::restore`]: crate::AppLaunch::restore
    /// [`AppLaunch`]: crate::AppLaunch
    pub fn launch_session(&self) -> Option<LaunchSession> {
        self.inner.launch_session.clone()
    }

    /// The key this client's token set is stored under.
    pub fn store_key(&self) -> &StoreKey {
        &self.inner.key
    }

    fn snapshot(&self) -> Option<StoredToken> {
        self.inner
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_current(&self, token: Option<StoredToken>) {
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner) = token;
    }

    /// The current token response, merged over earlier ones (launch context kept).
    pub fn token_response(&self) -> Option<TokenResponse> {
        self.snapshot().map(|s| s.token)
    }

    /// The patient in context (`patient` of the token response).
    pub fn patient_id(&self) -> Option<String> {
        self.snapshot().and_then(|s| s.token.patient)
    }

    /// The id_token of the launch, if one was issued (kept across refreshes).
    pub fn id_token(&self) -> Option<crate::secret::IdToken> {
        self.snapshot().and_then(|s| s.token.id_token)
    }

    /// The user from the verified id_token: its `fhirUser` claim (or the legacy `profile`),
    /// resolved against the FHIR base when relative (`Practitioner/123`) and kept when
    /// absolute (J5). Check [`FhirUser::is_known_type`] before relying on the type.
    ///
    /// `None` without an id_token, without either claim, or when id_token verification is
    /// off for this client ([`AppLaunch::verify_id_token`](crate::AppLaunch::verify_id_token)
    /// `(false)`): an unverified id_token says nothing about who the user is. To show its
    /// claims anyway, use [`decode_unverified`](crate::id_token::decode_unverified).
    pub fn fhir_user(&self) -> Option<FhirUser> {
        self.inner.id_tokens.as_ref()?;
        // Every id_token of a verifying client was verified before it was stored.
        let claims = crate::id_token::decode_unverified(&self.id_token()?).ok()?;
        claims.fhir_user(&self.inner.fhir_base)
    }

    /// The encounter in context.
    pub fn encounter_id(&self) -> Option<String> {
        self.snapshot().and_then(|s| s.token.encounter)
    }

    /// The `fhirContext` entries.
    pub fn fhir_context(&self) -> Vec<FhirContext> {
        self.snapshot()
            .map(|s| s.token.fhir_context)
            .unwrap_or_default()
    }

    /// The granted scope string.
    pub fn granted_scope(&self) -> Option<String> {
        self.snapshot().and_then(|s| s.token.scope)
    }

    /// When the access token expires (seconds since the Unix epoch).
    pub fn expires_at(&self) -> Option<u64> {
        self.snapshot().map(|s| s.expires_at)
    }

    fn can_renew(&self, token: Option<&StoredToken>) -> bool {
        match self.inner.grant {
            Grant::ClientCredentials { .. } => true,
            Grant::RefreshToken => token.is_some_and(|t| t.token.refresh_token.is_some()),
        }
    }

    /// Whether `token` can be sent as it is: not due for renewal, or due but impossible to
    /// renew and not yet expired (an expired one is never sent).
    fn usable(&self, token: Option<&StoredToken>) -> bool {
        token.is_some_and(|t| {
            !t.needs_renewal(self.inner.skew)
                || (!self.can_renew(Some(t)) && !t.expires_within(Duration::ZERO))
        })
    }

    /// A valid access token, renewed first if it is about to expire.
    ///
    /// The renewal runs as a task of its own: dropping this future (a timeout, a cancelled
    /// request) does not interrupt the token request or the store write.
    ///
    /// # Errors
    ///
    /// Token-endpoint, transport and store errors; [`Error::ReauthorizationRequired`] when
    /// there is no token, or it has expired, and there is no way to get a new one.
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        let current = self.snapshot();
        if self.usable(current.as_ref())
            && let Some(token) = current
        {
            return Ok(token.token.access_token);
        }
        let token = self
            .detached(|this| async move {
                let renewed = {
                    let _guard = this.inner.lock.lock().await;
                    this.renew_if_needed(None).await?
                };
                this.finish(renewed).await
            })
            .await?;
        Ok(token.token.access_token)
    }

    /// Renews the token now (a refresh, or a new client_credentials token), to completion
    /// even if this future is dropped.
    ///
    /// # Errors
    ///
    /// As [`SmartClient::access_token`].
    pub async fn refresh(&self) -> Result<(), Error> {
        self.detached(|this| async move {
            let renewed = {
                let _guard = this.inner.lock.lock().await;
                let base = this.latest().await?;
                this.renew(base, None).await?
            };
            this.finish(renewed).await
        })
        .await
        .map(drop)
    }

    /// Refreshes with a narrower `scope` (App Launch only). The request is checked locally
    /// first: a refresh may drop permissions but never add one.
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] when `scope` is not covered by the granted scopes or the
    /// client uses Backend Services; otherwise as [`SmartClient::refresh`].
    pub async fn refresh_with_scope(&self, scope: &Scopes) -> Result<(), Error> {
        if !matches!(self.inner.grant, Grant::RefreshToken) {
            return Err(Error::configuration(
                "scope",
                "Backend Services clients request new tokens instead of refreshing",
            ));
        }
        let scope = scope.clone();
        self.detached(|this| async move {
            let renewed = {
                let _guard = this.inner.lock.lock().await;
                let base = this.latest().await?;
                let granted: Scopes = base
                    .as_ref()
                    .and_then(|b| b.token.scope.as_deref())
                    .unwrap_or_default()
                    .parse()?;
                if !granted.covers(&scope) {
                    return Err(Error::configuration(
                        "scope",
                        "a refresh may only narrow the granted scopes",
                    ));
                }
                this.renew(base, Some(scope.to_string())).await?
            };
            this.finish(renewed).await
        })
        .await
        .map(drop)
    }

    /// Whether the token may go to the request's URL: the workspace's one rule,
    /// [`fhir_core::credentials::is_under_base`], or a wider scope the caller chose for the
    /// request (Bulk Data status URLs and files on the FHIR origin,
    /// `AuthRequest::outside_base`).
    fn may_receive_token(&self, request: &AuthRequest<'_>) -> bool {
        request.outside_base
            || fhir_core::credentials::is_under_base(&self.inner.fhir_base, request.url)
    }
}

impl AuthProvider for SmartClient {
    /// The fast path of every request: the cached token, when it is fresh (as
    /// [`SmartClient::access_token`] would return it without renewing), under the same
    /// conditions as [`authorization`](AuthProvider::authorization): a URL under the FHIR base
    /// and not plain HTTP. Anything else goes to `authorization`.
    fn cached_authorization(&self, request: AuthRequest<'_>) -> Option<HeaderValue> {
        if !self.may_receive_token(&request) || self.inner.http.check_url(request.url).is_err() {
            return None;
        }
        let current = self
            .inner
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let token = current.as_ref().filter(|token| self.usable(Some(token)))?;
        bearer(&token.token.access_token).ok()
    }

    fn authorization<'a>(
        &'a self,
        request: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Option<HeaderValue>, AuthError>> {
        // A fresh cached token needs no renewal: skip the token-set copy of `access_token`.
        if let Some(header) = self.cached_authorization(request) {
            return Box::pin(async move { Ok(Some(header)) });
        }
        Box::pin(async move {
            if !self.may_receive_token(&request) {
                return Ok(None);
            }
            // Never put a bearer token on a plain-HTTP request (loopback aside, when allowed).
            self.inner.http.check_url(request.url)?;
            let token = self.access_token().await.map_err(AuthError::from)?;
            Ok(Some(bearer(&token)?))
        })
    }

    fn on_unauthorized<'a>(
        &'a self,
        request: AuthRequest<'a>,
        response: Unauthorized<'a>,
    ) -> BoxFuture<'a, Result<bool, AuthError>> {
        Box::pin(async move {
            if !self.may_receive_token(&request) {
                return Ok(false);
            }
            tracing::debug!(
                challenge = %log_safe_challenge(response.www_authenticate, response.rejected),
                "the FHIR server answered 401"
            );
            let rejected = response.rejected.cloned();
            let renewed = self
                .detached(|this| async move {
                    let renewed = {
                        let _guard = this.inner.lock.lock().await;
                        let latest = this.latest().await?;
                        if let Some(token) = &latest
                            && !is_rejected(token, rejected.as_ref())
                            && this.usable(Some(token))
                        {
                            // Someone renewed the token since this request was sent.
                            return Ok(true);
                        }
                        if !this.can_renew(latest.as_ref()) {
                            return Ok(false);
                        }
                        this.renew_if_needed(rejected.as_ref()).await?
                    };
                    this.finish(renewed).await.map(|_| true)
                })
                .await?;
            Ok(renewed)
        })
    }
}

#[cfg(test)]
mod tests;
