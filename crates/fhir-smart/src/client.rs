//! [`SmartClient`]: an [`AuthProvider`] that keeps a SMART access token fresh.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex, OnceLock, PoisonError, RwLock, Weak};
use std::time::Duration;

use fhir_core::auth::{AuthError, AuthProvider, AuthRequest, BoxFuture, Unauthorized};
use http::HeaderValue;
use url::Url;

use crate::Error;
use crate::client_auth::ClientCredentials;
use crate::http::HttpClient;
use crate::id_token::{Expectations, FhirUser, IdTokenVerifier};
use crate::launch::LaunchSession;
use crate::scopes::Scopes;
use crate::secret::AccessToken;
use crate::secret::IdToken;
use crate::state::random_id;
use crate::store::{MemoryTokenStore, StoreKey, StoredToken, TokenStore};
use crate::token::{FhirContext, TokenResponse};

/// The default margin before expiry at which the token is renewed.
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(60);
/// The lifetime assumed when a token response has no `expires_in`.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// How long a token obtained by a renewal is used before the next proactive renewal,
/// whatever its `expires_in` (real servers send 0 and 1): without it, such a token would
/// cost one token request per FHIR request. A server that does reject it answers 401, which
/// renews once for that request.
pub const DEFAULT_MIN_TOKEN_REUSE: Duration = Duration::from_secs(10);

mod renewal;

use renewal::Lineage;

/// How a [`SmartClient`] gets a new access token.
#[derive(Debug, Clone)]
enum Grant {
    /// App Launch: `grant_type=refresh_token` while a refresh token is held.
    RefreshToken,
    /// Backend Services: a new `client_credentials` request with a fresh assertion.
    ClientCredentials { scope: String },
}

/// One async lock per store key, shared by every client in the process, so two clients on
/// one store never renew the same token set at the same time.
static RENEWAL_LOCKS: LazyLock<Mutex<HashMap<StoreKey, Weak<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Mutex::default);

fn renewal_lock(key: &StoreKey) -> Arc<tokio::sync::Mutex<()>> {
    let mut locks = RENEWAL_LOCKS.lock().unwrap_or_else(PoisonError::into_inner);
    locks.retain(|_, lock| lock.strong_count() > 0);
    if let Some(lock) = locks.get(key).and_then(Weak::upgrade) {
        return lock;
    }
    let lock = Arc::new(tokio::sync::Mutex::new(()));
    locks.insert(key.clone(), Arc::downgrade(&lock));
    lock
}

/// How the id_tokens of refresh responses are checked (set when the launch verified its
/// id_token).
#[derive(Debug, Clone)]
pub(crate) struct IdTokenCheck {
    pub(crate) verifier: Arc<OnceLock<IdTokenVerifier>>,
    pub(crate) expected: Expectations,
    /// `sub` of the verified id_token of the launch.
    pub(crate) sub: Option<String>,
}

impl IdTokenCheck {
    /// OpenID Connect Core §12.2: a refreshed id_token verifies like the first one, and its
    /// `iss` and `sub` are those of the original.
    async fn verify(&self, http: &HttpClient, token: &IdToken) -> Result<(), Error> {
        let claims = self
            .verifier
            .get_or_init(|| IdTokenVerifier::new(http.clone()))
            .verify(token, &self.expected)
            .await?;
        if claims.sub != self.sub {
            return Err(Error::IdToken {
                reason: String::from("the refreshed id_token names another `sub`"),
            });
        }
        Ok(())
    }
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

/// Builds a [`SmartClient`]; Backend Services clients come from [`crate::BackendServices`].
#[derive(Debug)]
pub struct SmartClientBuilder {
    fhir_base: Url,
    token_endpoint: Url,
    credentials: ClientCredentials,
    grant: Grant,
    http: HttpClient,
    store: Option<Arc<dyn TokenStore>>,
    scope: String,
    subject: Option<String>,
    skew: Duration,
    default_lifetime: Duration,
    min_reuse: Duration,
    token: Option<TokenResponse>,
    launch_id: Option<String>,
    launch_session: Option<LaunchSession>,
    id_tokens: Option<IdTokenCheck>,
}

impl SmartClientBuilder {
    /// The launch id, part of the store key ([`StoreKey::for_launch`]): set by
    /// [`AppLaunch::complete`](crate::AppLaunch::complete) from
    /// [`PendingAuthorization::launch_id`](crate::PendingAuthorization::launch_id). To
    /// restore a launch's client, prefer [`AppLaunch::restore`](crate::AppLaunch::restore),
    /// which also restores its client authentication and id_token check.
    #[must_use]
    pub fn launch_id(mut self, launch_id: impl Into<String>) -> Self {
        self.launch_id = Some(launch_id.into());
        self
    }

    pub(crate) fn launch_session(mut self, session: LaunchSession) -> Self {
        self.launch_session = Some(session);
        self
    }

    pub(crate) fn id_token_check(mut self, check: IdTokenCheck) -> Self {
        self.id_tokens = Some(check);
        self
    }

    /// The HTTP client for token requests.
    #[must_use]
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = http;
        self
    }

    /// Where tokens are kept (default: a private [`MemoryTokenStore`]). The key always names
    /// whose token set it is: the [`launch_id`](Self::launch_id), the app's user key
    /// ([`store_subject`](Self::store_subject)), or both.
    #[must_use]
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The app's user key (its user or account id), part of the store key: alone
    /// ([`StoreKey::for_user`], one token set per user) or with a
    /// [`launch_id`](Self::launch_id) ([`StoreKey::for_launch`]).
    #[must_use]
    pub fn store_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// The requested scope, part of the store key (App Launch; Backend Services sets it).
    #[must_use]
    pub fn scope(mut self, scope: &Scopes) -> Self {
        self.scope = scope.to_string();
        self
    }

    /// Renew this long before expiry (default 60 s).
    #[must_use]
    pub fn refresh_skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// How long a renewed token is used before the next proactive renewal, however short
    /// its `expires_in` (default [`DEFAULT_MIN_TOKEN_REUSE`], 10 s). Zero renews as soon as
    /// the lifetime says so.
    #[must_use]
    pub fn min_token_reuse(mut self, reuse: Duration) -> Self {
        self.min_reuse = reuse;
        self
    }

    /// The lifetime assumed when `expires_in` is absent (default 300 s).
    #[must_use]
    pub fn default_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_lifetime = lifetime;
        self
    }

    /// The token response to start with (from a code exchange, or restored by the app).
    #[must_use]
    pub fn token(mut self, token: TokenResponse) -> Self {
        self.token = Some(token);
        self
    }

    /// The store key: always with a subject (the launch id, the app's user key, or for
    /// Backend Services the system client itself).
    fn store_key(&self) -> Result<StoreKey, Error> {
        let (endpoint, client_id, scope) = (
            &self.token_endpoint,
            self.credentials.client_id.as_str(),
            self.scope.as_str(),
        );
        Ok(match (&self.grant, &self.launch_id, &self.subject) {
            (Grant::ClientCredentials { .. }, _, _) => {
                StoreKey::for_system(endpoint, client_id, scope)
            }
            (Grant::RefreshToken, Some(launch_id), user) => {
                StoreKey::for_launch(endpoint, client_id, scope, user.as_deref(), launch_id)
            }
            (Grant::RefreshToken, None, Some(user)) => {
                StoreKey::for_user(endpoint, client_id, scope, user)
            }
            // A new token set of nobody in particular: a key of its own, never shared.
            (Grant::RefreshToken, None, None) if self.token.is_some() => {
                StoreKey::for_launch(endpoint, client_id, scope, None, &random_id())
            }
            (Grant::RefreshToken, None, None) => {
                return Err(Error::configuration(
                    "store_subject",
                    "a client restored from the store needs its launch id or user key",
                ));
            }
        })
    }

    /// Builds the client, persisting the initial token (if any) in the store.
    ///
    /// # Errors
    ///
    /// [`Error::InsecureUrl`] for a plain-HTTP token endpoint the HTTP client does not allow;
    /// [`Error::Configuration`] for an App Launch client without a token, a launch id or a
    /// user key (it would have no token set of its own to restore); [`Error::Store`] from
    /// the store.
    pub async fn build(self) -> Result<SmartClient, Error> {
        self.http.check_url(&self.token_endpoint)?;
        let key = self.store_key()?;
        let store = self
            .store
            .unwrap_or_else(|| Arc::new(MemoryTokenStore::new()));
        let current = match self.token {
            Some(token) => Some(store_initial(&*store, &key, token, self.default_lifetime).await?),
            None => store.get(&key).await?,
        };
        Ok(SmartClient {
            inner: Arc::new(Inner {
                lock: renewal_lock(&key),
                fhir_base: self.fhir_base,
                token_endpoint: self.token_endpoint,
                credentials: self.credentials,
                grant: self.grant,
                http: self.http,
                store,
                key,
                skew: self.skew,
                default_lifetime: self.default_lifetime,
                min_reuse: self.min_reuse,
                lineage: RwLock::new(current.as_ref().map(Lineage::of)),
                current: RwLock::new(current),
                id_tokens: self.id_tokens,
                launch_session: self.launch_session,
            }),
        })
    }
}

/// Stores the token set a client is built with, unless the store already holds a newer set
/// of the same grant (a renewal of `token`): that one is kept and used, so restoring a client
/// from a saved token response never brings back a rotated refresh token. A set of another
/// grant under the key is replaced, with a compare-and-set over the version read.
async fn store_initial(
    store: &dyn TokenStore,
    key: &StoreKey,
    token: TokenResponse,
    default_lifetime: Duration,
) -> Result<StoredToken, Error> {
    let stored = store.get(key).await?;
    if let Some(newer) = stored.as_ref().filter(|s| s.descends_from(&token)) {
        tracing::debug!(
            "the store holds this token set or a renewal of it; keeping the stored one"
        );
        return Ok(newer.clone());
    }
    let mut initial = StoredToken::new(token, default_lifetime);
    let expected = stored.map(|s| s.version);
    initial.version = expected.map_or(0, |v| v.wrapping_add(1));
    if store
        .compare_and_set(key, expected, initial.clone())
        .await?
    {
        return Ok(initial);
    }
    match store.get(key).await? {
        Some(newer) if newer.descends_from(&initial.token) => Ok(newer),
        _ => Err(Error::Store {
            reason: String::from("the token set under this key changed while the client was built"),
        }),
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
    /// A builder for a client of the FHIR server at `fhir_base` that renews with refresh
    /// tokens (App Launch).
    pub fn builder(
        fhir_base: Url,
        token_endpoint: Url,
        credentials: ClientCredentials,
    ) -> SmartClientBuilder {
        Self::builder_with(fhir_base, token_endpoint, credentials, Grant::RefreshToken)
    }

    pub(crate) fn backend_builder(
        fhir_base: Url,
        token_endpoint: Url,
        credentials: ClientCredentials,
        scope: &Scopes,
    ) -> SmartClientBuilder {
        let scope_text = scope.to_string();
        let mut builder = Self::builder_with(
            fhir_base,
            token_endpoint,
            credentials,
            Grant::ClientCredentials {
                scope: scope_text.clone(),
            },
        );
        builder.scope = scope_text;
        builder
    }

    fn builder_with(
        fhir_base: Url,
        token_endpoint: Url,
        credentials: ClientCredentials,
        grant: Grant,
    ) -> SmartClientBuilder {
        SmartClientBuilder {
            fhir_base,
            token_endpoint,
            credentials,
            grant,
            http: HttpClient::default(),
            store: None,
            scope: String::new(),
            subject: None,
            skew: DEFAULT_REFRESH_SKEW,
            default_lifetime: DEFAULT_TOKEN_LIFETIME,
            min_reuse: DEFAULT_MIN_TOKEN_REUSE,
            token: None,
            launch_id: None,
            launch_session: None,
            id_tokens: None,
        }
    }

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
