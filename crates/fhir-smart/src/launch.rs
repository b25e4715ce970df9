//! SMART App Launch (standalone and EHR): the authorize request and the callback.
//!
//! The flow has two steps, so a web app can keep the in-between state in its session store:
//!
//! 1. [`AppLaunch::standalone`] or [`AppLaunch::ehr`] discovers the server and returns an
//!    [`AuthorizationRequest`]: the URL to send the browser to (or a POST form), and a
//!    serializable [`PendingAuthorization`] (state, PKCE verifier, …) to keep, keyed by its
//!    state and bound to the user's session: [`PendingAuthorizations`](crate::PendingAuthorizations)
//!    does that in memory (session binding, expiry, a size bound), or the app keeps the
//!    record in its own session store under the same rules.
//! 2. [`AppLaunch::complete`] takes the callback URL and the pending record, maps an
//!    `error=` callback to [`Error::Authorization`], checks the state, exchanges the code and
//!    returns a ready [`SmartClient`].
//!
//! An EHR launch is one-way: a later patient change in the EHR is not synchronized.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::Error;
use crate::assertion::AssertionOptions;
use crate::authorize::{AuthorizeUrl, check_extra};
use crate::client::{IdTokenCheck, SmartClient};
use crate::client_auth::{ClientAuth, ClientCredentials};
use crate::discovery::{
    Capability, ConfigurationSource, DiscoveryCache, SmartConfiguration, Strictness, discover,
};
use crate::exchange::exchange_code;
use crate::http::HttpClient;
use crate::id_token::{Expectations, IdTokenVerifier};
use crate::keys::SigningKey;
use crate::pkce::PkceVerifier;
use crate::scopes::{LaunchScope, Scope, ScopeVersion, Scopes};
use crate::secret::{AuthorizationCode, ClientSecret};
use crate::state::{State, random_id};
use crate::store::{TokenStore, now_secs};

mod restore;

pub use restore::LaunchSession;

/// How long a pending authorization stays usable by default.
pub const DEFAULT_PENDING_TTL: Duration = Duration::from_secs(600);

/// How long the default discovery cache of an [`AppLaunch`] keeps a result.
const DEFAULT_DISCOVERY_TTL: Duration = Duration::from_secs(300);

/// How far in the future a pending authorization's `created_at` may lie (clock skew between
/// app instances); beyond it the record is refused.
const PENDING_CLOCK_SKEW: u64 = 60;

/// The `iss` and `launch` parameters an EHR sends to the app's launch URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchParams {
    /// The FHIR base URL of the EHR (not yet trusted: see [`AppLaunch::allow_iss`]).
    pub iss: String,
    /// The opaque launch handle, echoed byte for byte.
    pub launch: String,
}

impl LaunchParams {
    /// Reads `iss` and `launch` from the launch URL (form-decoded, so `%2B` is `+`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCallback`] when the URL is invalid or a parameter is missing.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        let url = Url::parse(url).map_err(|_| Error::callback("the launch URL is not a URL"))?;
        Self::from_query(url.query().unwrap_or_default())
    }

    /// Reads `iss` and `launch` from a query string.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCallback`] when `iss` or `launch` is missing or empty.
    pub fn from_query(query: &str) -> Result<Self, Error> {
        let pairs: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |name: &str| {
            pairs
                .get(name)
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or_else(|| Error::callback(format!("the EHR launch has no `{name}`")))
        };
        Ok(Self {
            iss: get("iss")?,
            launch: get("launch")?,
        })
    }
}

/// A POST form for the authorize endpoint (`authorize-post`): the app renders it as an
/// auto-submitting HTML form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeForm {
    /// The form's `action`.
    pub action: Url,
    /// The form fields, in order.
    pub fields: Vec<(String, String)>,
}

/// Step one's result: where to send the browser, and what to keep until the callback.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthorizationRequest {
    /// The authorize URL with every parameter in the query (GET).
    pub url: Url,
    /// The same request as a POST form, when the server advertises `authorize-post` and
    /// POST was preferred.
    pub post_form: Option<AuthorizeForm>,
    /// What to keep (keyed by its state) until the callback.
    pub pending: PendingAuthorization,
}

/// What an app keeps between the authorize redirect and the callback.
///
/// Serializable so it can go into a session store; it holds the PKCE verifier, so that store
/// must be private to the app. It carries no client secret or key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingAuthorization {
    state: State,
    code_verifier: PkceVerifier,
    redirect_uri: String,
    aud: String,
    token_endpoint: Url,
    issuer: Option<String>,
    jwks_uri: Option<Url>,
    client_id: String,
    auth_method: String,
    scope: String,
    launch: Option<String>,
    nonce: Option<String>,
    created_at: u64,
    /// A random id of this launch, part of the store key of the resulting client.
    #[serde(default)]
    launch_id: String,
}

impl PendingAuthorization {
    /// The random id of this launch: the resulting client's tokens are stored under a key
    /// that includes it ([`StoreKey::for_launch`](crate::StoreKey::for_launch)), so two
    /// launches never share a token set.
    pub fn launch_id(&self) -> &str {
        &self.launch_id
    }

    /// The state sent in the authorize request: the key to store this record under.
    pub fn state(&self) -> &str {
        self.state.as_str()
    }

    /// The redirect URI the authorize request named.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The FHIR base URL (`aud`).
    pub fn aud(&self) -> &str {
        &self.aud
    }

    /// The requested scope.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The `nonce` sent for OpenID Connect, if any.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// The server's OpenID issuer from discovery, if any.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The server's `jwks_uri` from discovery, if any.
    pub fn jwks_uri(&self) -> Option<&Url> {
        self.jwks_uri.as_ref()
    }

    /// When the request was made (seconds since the Unix epoch).
    pub fn created_at(&self) -> u64 {
        self.created_at
    }

    /// Whether `received` is this record's state (constant time).
    pub(crate) fn state_matches(&self, received: &str) -> bool {
        self.state.matches(received)
    }
}

pub(crate) struct Callback {
    path: String,
    params: HashMap<String, String>,
}

impl Callback {
    /// Parses a callback given as a full URL or as an absolute path with its query
    /// (`/callback?code=…&state=…`, as a web framework hands it over).
    pub(crate) fn parse(url: &str) -> Result<Self, Error> {
        let not_a_url = || Error::callback("the callback URL is not a URL");
        let url = match Url::parse(url) {
            Ok(url) => url,
            Err(url::ParseError::RelativeUrlWithoutBase) if url.starts_with('/') => {
                // Only the path and query are used; `//host/...` cannot change that.
                Url::parse("https://callback.invalid/")
                    .and_then(|base| base.join(url))
                    .map_err(|_| not_a_url())?
            }
            Err(_) => return Err(not_a_url()),
        };
        let mut params = HashMap::new();
        for (name, value) in url.query_pairs() {
            if params.insert(name.to_string(), value.to_string()).is_some() {
                return Err(Error::callback(format!("`{name}` appears twice")));
            }
        }
        Ok(Self {
            path: url.path().to_owned(),
            params,
        })
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// An App Launch client configuration (standalone and EHR launch).
#[derive(Debug, Clone)]
pub struct AppLaunch {
    client_id: String,
    redirect_uri: String,
    scope: Scopes,
    fhir_base: Option<String>,
    secret: Option<ClientSecret>,
    key: Option<SigningKey>,
    assertion: AssertionOptions,
    client_auth: Option<ClientAuth>,
    include_client_id: bool,
    http: HttpClient,
    allowed_iss: Vec<String>,
    prefer_post: bool,
    extra: Vec<(String, String)>,
    pending_ttl: Duration,
    store: Option<Arc<dyn TokenStore>>,
    store_subject: Option<String>,
    configuration: Option<SmartConfiguration>,
    strictness: Strictness,
    id_tokens: Option<Arc<OnceLock<IdTokenVerifier>>>,
    discovery_cache: Option<Arc<DiscoveryCache>>,
}

fn same_base(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

impl AppLaunch {
    /// An app registered as `client_id` with `redirect_uri` (sent exactly as given),
    /// requesting `scope`.
    pub fn new(
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
        scope: Scopes,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            scope,
            fhir_base: None,
            secret: None,
            key: None,
            assertion: AssertionOptions::default(),
            client_auth: None,
            include_client_id: false,
            http: HttpClient::default(),
            allowed_iss: Vec::new(),
            prefer_post: false,
            extra: Vec::new(),
            pending_ttl: DEFAULT_PENDING_TTL,
            store: None,
            store_subject: None,
            configuration: None,
            strictness: Strictness::Lenient,
            id_tokens: Some(Arc::default()),
            discovery_cache: Some(Arc::new(DiscoveryCache::new(DEFAULT_DISCOVERY_TTL))),
        }
    }

    /// Caches discovery results (shared across launches and configurations).
    ///
    /// By default each `AppLaunch` (with its clones) has its own cache keeping results for
    /// 5 minutes, so [`complete`](Self::complete) checks a pending authorization against the
    /// discovery result of step one without a second request.
    #[must_use]
    pub fn discovery_cache(mut self, cache: Arc<DiscoveryCache>) -> Self {
        self.discovery_cache = Some(cache);
        self
    }

    /// Whether id_tokens are verified (default: **on**). With it, whenever `openid` is
    /// requested, [`complete`](Self::complete) verifies the id_token of the code exchange
    /// (signature with the JWKS of the issuer named by discovery, `iss`, `aud`/`azp`, `exp`,
    /// `iat`, `sub` and the `nonce` this crate sent) and fails with [`Error::IdToken`]
    /// otherwise; id_tokens of later refreshes are verified the same way or discarded.
    ///
    /// `verify_id_token(false)` is the explicit opt-out, for apps that verify themselves or
    /// only display the claims ([`decode_unverified`](crate::id_token::decode_unverified)):
    /// the id_token is then kept as received, and
    /// [`SmartClient::fhir_user`] answers `None`.
    #[must_use]
    pub fn verify_id_token(mut self, verify: bool) -> Self {
        self.id_tokens = match (verify, self.id_tokens) {
            (true, Some(verifier)) => Some(verifier),
            (true, None) => Some(Arc::default()),
            (false, _) => None,
        };
        self
    }

    /// Verifies id_tokens with `verifier` (its leeway and JWKS cache policy), shared by every
    /// launch and client of this `AppLaunch`; turns verification on.
    #[must_use]
    pub fn id_token_verifier(mut self, verifier: IdTokenVerifier) -> Self {
        self.id_tokens = Some(Arc::new(OnceLock::from(verifier)));
        self
    }

    /// The FHIR base URL for a standalone launch, sent as `aud` exactly as given (also
    /// allowed as an EHR `iss`).
    #[must_use]
    pub fn fhir_base(mut self, base: impl Into<String>) -> Self {
        self.fhir_base = Some(base.into());
        self
    }

    /// A client secret (confidential symmetric client).
    #[must_use]
    pub fn client_secret(mut self, secret: ClientSecret) -> Self {
        self.secret = Some(secret);
        self
    }

    /// A private key (confidential asymmetric client), preferred when the server supports it.
    #[must_use]
    pub fn private_key(mut self, key: SigningKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Assertion lifetime and `jku` for `private_key_jwt`.
    #[must_use]
    pub fn assertion_options(mut self, options: AssertionOptions) -> Self {
        self.assertion = options;
        self
    }

    /// Forces a client authentication method instead of choosing from discovery.
    #[must_use]
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = Some(auth);
        self
    }

    /// Also sends `client_id` in token requests of confidential clients.
    #[must_use]
    pub fn include_client_id(mut self, include: bool) -> Self {
        self.include_client_id = include;
        self
    }

    /// The HTTP client (TLS policy, proxies).
    #[must_use]
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = http;
        self
    }

    /// Allows an EHR `iss` (compared to the base URL, ignoring a trailing slash). EHR launches
    /// from any other `iss` are refused before discovery.
    #[must_use]
    pub fn allow_iss(mut self, iss: impl Into<String>) -> Self {
        self.allowed_iss.push(iss.into());
        self
    }

    /// Prefers a POST form when the server advertises `authorize-post`.
    #[must_use]
    pub fn prefer_post(mut self, prefer: bool) -> Self {
        self.prefer_post = prefer;
        self
    }

    /// Adds an extra authorize parameter, such as `prompt=none` or `id_token_hint`.
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] for a parameter this crate already sends, or one named like a
    /// credential.
    pub fn param(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, Error> {
        let name = name.into();
        check_extra(&name, &self.extra)?;
        self.extra.push((name, value.into()));
        Ok(self)
    }

    /// How long a pending authorization stays valid (default 10 minutes).
    #[must_use]
    pub fn pending_ttl(mut self, ttl: Duration) -> Self {
        self.pending_ttl = ttl;
        self
    }

    /// Where the resulting client keeps its tokens, and the user or session they belong to.
    ///
    /// The subject is part of the store key: without it, users sharing a store would share
    /// one token set. So is the launch id of each [`PendingAuthorization`]: two launches by
    /// the same user (two tabs, two patients) never share a token set. To rebuild a
    /// launch's client from the store later, keep [`SmartClient::launch_session`] with the
    /// user's session and call [`restore`](Self::restore).
    #[must_use]
    pub fn store(mut self, store: Arc<dyn TokenStore>, subject: impl Into<String>) -> Self {
        self.store = Some(store);
        self.store_subject = Some(subject.into());
        self
    }

    /// Uses these endpoints instead of discovery.
    #[must_use]
    pub fn configuration(mut self, configuration: SmartConfiguration) -> Self {
        self.configuration = Some(configuration);
        self
    }

    /// Discovery validation mode (default lenient).
    #[must_use]
    pub fn strictness(mut self, strictness: Strictness) -> Self {
        self.strictness = strictness;
        self
    }

    async fn configuration_for(&self, base: &str) -> Result<SmartConfiguration, Error> {
        if let Some(config) = &self.configuration {
            return Ok(config.clone());
        }
        let url = Url::parse(base).map_err(|_| Error::configuration("SMART_ISS", "not a URL"))?;
        match &self.discovery_cache {
            Some(cache) => cache.get(&self.http, &url, self.strictness).await,
            None => discover(&self.http, &url, self.strictness).await,
        }
    }

    /// Step one of a standalone launch: discovery on the configured FHIR base, then the
    /// authorize request (no `launch` parameter).
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] without a FHIR base; discovery errors.
    pub async fn standalone(&self) -> Result<AuthorizationRequest, Error> {
        let base = self
            .fhir_base
            .clone()
            .ok_or_else(|| Error::configuration("SMART_ISS", "no FHIR base URL configured"))?;
        let config = self.configuration_for(&base).await?;
        self.authorize(&config, &base, None)
    }

    /// Step one of an EHR launch: checks `iss` against the allow-list (before any request),
    /// discovers, and builds the authorize request with `aud = iss` and `launch` echoed.
    ///
    /// # Errors
    ///
    /// [`Error::IssNotAllowed`]; discovery errors.
    pub async fn ehr(&self, launch: &LaunchParams) -> Result<AuthorizationRequest, Error> {
        let allowed = self
            .allowed_iss
            .iter()
            .chain(self.fhir_base.as_ref())
            .any(|a| same_base(a, &launch.iss));
        if !allowed {
            return Err(Error::IssNotAllowed {
                iss: launch.iss.clone(),
            });
        }
        let config = self.configuration_for(&launch.iss).await?;
        self.authorize(&config, &launch.iss, Some(&launch.launch))
    }

    fn choose_auth(&self, config: &SmartConfiguration) -> Result<ClientAuth, Error> {
        match &self.client_auth {
            Some(auth) => Ok(auth.clone()),
            None => ClientAuth::choose(
                config,
                self.secret.clone(),
                self.key.clone(),
                self.assertion.clone(),
            ),
        }
    }

    fn auth_for_method(&self, method: &str) -> Result<ClientAuth, Error> {
        if let Some(auth) = &self.client_auth
            && auth.method_name() == method
        {
            return Ok(auth.clone());
        }
        match method {
            "none" => Ok(ClientAuth::Public),
            "client_secret_basic" => self
                .secret
                .clone()
                .map(|secret| ClientAuth::ClientSecretBasic {
                    secret,
                    encoding: crate::client_auth::BasicEncoding::Raw,
                })
                .ok_or_else(|| Error::configuration("SMART_CLIENT_SECRET", "is not set")),
            "private_key_jwt" => self
                .key
                .clone()
                .map(|key| ClientAuth::PrivateKeyJwt {
                    key: Arc::new(key),
                    options: self.assertion.clone(),
                })
                .ok_or_else(|| Error::configuration("SMART_PRIVATE_KEY", "is not set")),
            other => Err(Error::configuration(
                "client_auth",
                format!("the pending authorization used `{other}`, which is not configured now"),
            )),
        }
    }

    /// The scopes to request from this server: syntax per its capabilities, plus the
    /// context scopes the launch type needs.
    fn scopes_for(&self, config: &SmartConfiguration, ehr: bool) -> Scopes {
        let mut scopes = self.scope.clone();
        // One syntax per request, never a mix (some servers answer 400).
        if config.scope_version() == ScopeVersion::V1 {
            scopes = match scopes.to_v1() {
                Ok(v1) => v1,
                Err(err) => {
                    tracing::warn!(
                        scope = %err.scope,
                        "the server lists only SMART v1 scopes, but a scope has no v1 form; sending v2 syntax"
                    );
                    scopes.to_v2()
                }
            };
        } else if scopes.is_mixed() {
            scopes = scopes.to_v2();
        }
        if ehr {
            scopes.push(Scope::Launch);
        } else if scopes.has_patient_scope() {
            scopes.push(Scope::LaunchContext {
                context: LaunchScope::Patient,
                role: None,
            });
        }
        scopes
    }

    /// Builds the authorize request for `config` without any network access.
    ///
    /// `aud` is sent exactly as given; `launch` (EHR launch) is echoed byte for byte.
    ///
    /// # Errors
    ///
    /// [`Error::Discovery`] when the server has no authorization endpoint;
    /// [`Error::InsecureUrl`] for a plain-HTTP endpoint; [`Error::Configuration`] for an empty
    /// scope or an unsupported client authentication.
    pub fn authorize(
        &self,
        config: &SmartConfiguration,
        aud: &str,
        launch: Option<&str>,
    ) -> Result<AuthorizationRequest, Error> {
        let endpoint = config.require_authorization_endpoint()?;
        self.http.check_url(endpoint)?;
        self.http.check_url(&config.token_endpoint)?;
        let scopes = self.scopes_for(config, launch.is_some());
        if scopes.is_empty() {
            return Err(Error::configuration("SMART_SCOPE", "the scope is empty"));
        }
        let auth = self.choose_auth(config)?;
        let state = State::generate();
        let verifier = PkceVerifier::generate();
        let nonce = scopes
            .contains(&Scope::OpenId)
            .then(|| State::generate().as_str().to_owned());
        let scope_text = scopes.to_string();
        let mut request = AuthorizeUrl::new(
            config,
            self.client_id.clone(),
            self.redirect_uri.clone(),
            &scopes,
            aud,
            &state,
            &verifier,
        )?
        .allow_loopback_http(self.http.allows_loopback_http());
        if let Some(launch) = launch {
            request = request.launch(launch);
        }
        if let Some(nonce) = &nonce {
            request = request.nonce(nonce.clone());
        }
        for (name, value) in &self.extra {
            request = request.param(name.clone(), value.clone())?;
        }
        let url = request.url()?;
        let post_form =
            (self.prefer_post && config.supports(&Capability::AuthorizePost)).then(|| {
                AuthorizeForm {
                    action: endpoint.clone(),
                    fields: request.fields(),
                }
            });
        if config.source == ConfigurationSource::CapabilityStatement {
            tracing::debug!("PKCE support unknown (CapabilityStatement discovery); sending S256");
        }
        Ok(AuthorizationRequest {
            url,
            post_form,
            pending: PendingAuthorization {
                state,
                code_verifier: verifier,
                redirect_uri: self.redirect_uri.clone(),
                aud: aud.to_owned(),
                token_endpoint: config.token_endpoint.clone(),
                issuer: config.issuer.clone(),
                jwks_uri: config.jwks_uri.clone(),
                client_id: self.client_id.clone(),
                auth_method: auth.method_name().to_owned(),
                scope: scope_text,
                launch: launch.map(str::to_owned),
                nonce,
                created_at: now_secs(),
                launch_id: random_id(),
            },
        })
    }

    /// Checks a callback against `pending` and returns the authorization code.
    ///
    /// # Errors
    ///
    /// [`Error::Authorization`] for an `error=` callback; [`Error::StateMismatch`];
    /// [`Error::InvalidCallback`] for an expired record, a wrong path, or no code.
    pub fn verify_callback(
        &self,
        pending: &PendingAuthorization,
        callback_url: &str,
    ) -> Result<AuthorizationCode, Error> {
        let now = now_secs();
        if pending.created_at > now.saturating_add(PENDING_CLOCK_SKEW) {
            // Otherwise the record would never expire.
            return Err(Error::callback(
                "the pending authorization was created in the future",
            ));
        }
        if now.saturating_sub(pending.created_at) > self.pending_ttl.as_secs() {
            return Err(Error::callback("the pending authorization has expired"));
        }
        let callback = Callback::parse(callback_url)?;
        let expected_path = Url::parse(&pending.redirect_uri)
            .map(|u| u.path().to_owned())
            .map_err(|_| Error::configuration("SMART_REDIRECT_URI", "not a URL"))?;
        if callback.path != expected_path {
            return Err(Error::callback(
                "the callback path differs from the redirect URI",
            ));
        }
        let state = callback.get("state");
        if let Some(code) = callback.get("error") {
            // The OAuth error is reported even without a state; a wrong state wins.
            if state.is_some_and(|s| !pending.state.matches(s)) {
                return Err(Error::StateMismatch);
            }
            return Err(Error::Authorization {
                code: code.into(),
                description: callback.get("error_description").map(str::to_owned),
                uri: callback.get("error_uri").map(str::to_owned),
            });
        }
        let state = state.ok_or_else(|| Error::callback("the callback has no state"))?;
        if !pending.state.matches(state) {
            return Err(Error::StateMismatch);
        }
        // RFC 9207: a server that names itself must be the one the request went to.
        if let (Some(iss), Some(issuer)) = (callback.get("iss"), pending.issuer.as_deref())
            && iss != issuer
        {
            return Err(Error::callback(
                "the callback `iss` is not the authorization server of this request",
            ));
        }
        callback
            .get("code")
            .filter(|c| !c.is_empty())
            .map(AuthorizationCode::new)
            .ok_or_else(|| Error::callback("the callback has no code"))
    }

    /// Checks what `pending` says about this app and its server (it comes back from client
    /// storage, so it is not trusted): `aud` must be the configured FHIR base or an allowed
    /// `iss`, and the client id and redirect URI must be this app's.
    fn check_pending_identity(&self, pending: &PendingAuthorization) -> Result<(), Error> {
        self.check_identity(&pending.aud, &pending.client_id)?;
        if pending.redirect_uri != self.redirect_uri {
            return Err(Error::callback(
                "the pending authorization names another redirect URI",
            ));
        }
        Ok(())
    }

    /// Whether a record from client storage (a pending authorization, a launch session)
    /// names an `aud` this app may talk to and this app's client id.
    fn check_identity(&self, aud: &str, client_id: &str) -> Result<(), Error> {
        let allowed = self
            .fhir_base
            .iter()
            .chain(&self.allowed_iss)
            .any(|a| same_base(a, aud));
        if !allowed {
            return Err(Error::IssNotAllowed {
                iss: aud.to_owned(),
            });
        }
        if client_id != self.client_id {
            return Err(Error::callback(
                "the pending authorization was made for another client id",
            ));
        }
        Ok(())
    }

    /// The server configuration of `aud` (from discovery, or the configured one), checked
    /// against the token endpoint and issuer a record from client storage names.
    async fn check_server(
        &self,
        aud: &str,
        token_endpoint: &Url,
        issuer: &Option<String>,
    ) -> Result<SmartConfiguration, Error> {
        let config = self.configuration_for(aud).await?;
        if config.token_endpoint != *token_endpoint {
            return Err(Error::callback(
                "the pending authorization's token endpoint is not the one discovery gives for its `aud`",
            ));
        }
        if config.issuer != *issuer {
            return Err(Error::callback(
                "the pending authorization's issuer is not the one discovery gives for its `aud`",
            ));
        }
        Ok(config)
    }

    /// Step two: verifies the callback, exchanges the code (with the PKCE verifier and the
    /// client authentication chosen in step one) and returns a ready client.
    ///
    /// `pending` is consumed: a replayed callback needs a record that no longer exists.
    /// It is not trusted either: its `aud` must be the configured FHIR base or an allowed
    /// `iss`, its client id and redirect URI this app's, and its token endpoint and issuer
    /// those that discovery (or the configured [`SmartConfiguration`]) gives for that `aud`
    /// (the [`discovery_cache`](Self::discovery_cache) answers without a second request while
    /// the result of step one is fresh).
    ///
    /// # Errors
    ///
    /// [`Error::IssNotAllowed`] for an `aud` that is not allowed; [`Error::InvalidCallback`]
    /// for a pending record that does not match this app or its server; as
    /// [`AppLaunch::verify_callback`]; discovery, token-endpoint and transport errors;
    /// [`Error::IdToken`] when the id_token must be verified and cannot be.
    pub async fn complete(
        &self,
        pending: PendingAuthorization,
        callback_url: &str,
    ) -> Result<SmartClient, Error> {
        self.check_pending_identity(&pending)?;
        let code = self.verify_callback(&pending, callback_url)?;
        let config = self
            .check_server(&pending.aud, &pending.token_endpoint, &pending.issuer)
            .await?;
        let auth = self.auth_for_method(&pending.auth_method)?;
        let credentials = ClientCredentials {
            client_id: self.client_id.clone(),
            auth,
            include_client_id: self.include_client_id,
        };
        let mut token = exchange_code(
            &self.http,
            &config.token_endpoint,
            &credentials,
            &code,
            &pending.code_verifier,
            &pending.redirect_uri,
        )
        .await?;
        if token.scope.is_none() {
            tracing::warn!("the token response has no scope; assuming the requested one");
            token.scope = Some(pending.scope.clone());
        }
        let mut id_token_check = None;
        // The nonce is sent exactly when `openid` is requested.
        let openid = pending.nonce.is_some();
        if let Some(verifier) = self.id_tokens.as_ref().filter(|_| openid) {
            match &token.id_token {
                Some(id_token) => {
                    // `iss` must equal the issuer from discovery; without one there is
                    // nothing trustworthy to fetch keys from, so verification fails closed.
                    let issuer = config.issuer.clone().ok_or_else(|| Error::IdToken {
                        reason: String::from(
                            "no issuer is known from discovery, so the id_token cannot be verified",
                        ),
                    })?;
                    let mut expected = Expectations::new(self.client_id.clone()).issuer(issuer);
                    expected.nonce = pending.nonce.clone();
                    let claims = verifier
                        .get_or_init(|| IdTokenVerifier::new(self.http.clone()))
                        .verify(id_token, &expected)
                        .await?;
                    // Refreshed id_tokens carry no nonce (OIDC Core §12.2).
                    expected.nonce = None;
                    id_token_check = Some(IdTokenCheck {
                        verifier: Arc::clone(verifier),
                        expected,
                        sub: claims.sub,
                    });
                }
                None => {
                    tracing::warn!("openid was requested but the server sent no id_token");
                }
            }
        }
        let base =
            Url::parse(&pending.aud).map_err(|_| Error::configuration("SMART_ISS", "not a URL"))?;
        let scope: Scopes = pending.scope.parse()?;
        let launch_id = if pending.launch_id.is_empty() {
            random_id()
        } else {
            pending.launch_id.clone()
        };
        let session = LaunchSession::new(
            &pending,
            launch_id.clone(),
            id_token_check.as_ref().and_then(|check| check.sub.clone()),
        );
        let mut builder = SmartClient::builder(base, config.token_endpoint.clone(), credentials)
            .http(self.http.clone())
            .scope(&scope)
            .launch_id(launch_id)
            .launch_session(session)
            .token(token);
        if let Some(check) = id_token_check {
            builder = builder.id_token_check(check);
        }
        if let Some(store) = &self.store {
            builder = builder.store(Arc::clone(store));
        }
        if let Some(subject) = &self.store_subject {
            builder = builder.store_subject(subject.clone());
        }
        builder.build().await
    }
}

/// Several app registrations keyed by EHR `iss` (each EHR assigns its own client id,
/// secret or key, and redirect URI).
#[derive(Debug, Clone, Default)]
pub struct Registrations {
    entries: Vec<(String, AppLaunch)>,
}

impl Registrations {
    /// No registration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `app` for the EHR whose FHIR base URL is `iss` (also added to the app's
    /// allow-list).
    #[must_use]
    pub fn register(mut self, iss: impl Into<String>, app: AppLaunch) -> Self {
        let iss = iss.into();
        let app = app.allow_iss(iss.clone());
        self.entries.push((iss, app));
        self
    }

    /// The registration for `iss`.
    ///
    /// # Errors
    ///
    /// [`Error::IssNotAllowed`] when no registration matches.
    pub fn for_iss(&self, iss: &str) -> Result<&AppLaunch, Error> {
        self.entries
            .iter()
            .find(|(registered, _)| same_base(registered, iss))
            .map(|(_, app)| app)
            .ok_or_else(|| Error::IssNotAllowed {
                iss: iss.to_owned(),
            })
    }

    /// Step one of an EHR launch with the registration for the launch's `iss`.
    ///
    /// # Errors
    ///
    /// As [`AppLaunch::ehr`].
    pub async fn ehr(&self, launch: &LaunchParams) -> Result<AuthorizationRequest, Error> {
        self.for_iss(&launch.iss)?.ehr(launch).await
    }

    /// Restores a launch's client with the registration it was made with.
    ///
    /// # Errors
    ///
    /// As [`AppLaunch::restore`].
    pub async fn restore(&self, session: &LaunchSession) -> Result<SmartClient, Error> {
        self.for_iss(session.aud())?.restore(session).await
    }

    /// Step two with the registration the pending authorization was made for.
    ///
    /// # Errors
    ///
    /// As [`AppLaunch::complete`].
    pub async fn complete(
        &self,
        pending: PendingAuthorization,
        callback_url: &str,
    ) -> Result<SmartClient, Error> {
        let app = self.for_iss(&pending.aud)?;
        app.complete(pending, callback_url).await
    }
}

#[cfg(test)]
mod tests;
