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
//!    returns a ready [`SmartClient`](crate::SmartClient).
//!
//! An EHR launch is one-way: a later patient change in the EHR is not synchronized.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::Error;
use crate::assertion::AssertionOptions;
use crate::authorize::check_extra;
use crate::client_auth::ClientAuth;
use crate::discovery::{DiscoveryCache, SmartConfiguration, Strictness};
use crate::http::HttpClient;
use crate::id_token::IdTokenVerifier;
use crate::keys::SigningKey;
use crate::scopes::Scopes;
use crate::secret::ClientSecret;
use crate::store::TokenStore;
use crate::token_options::TokenClientOptions;

mod begin;
mod complete;
mod params;
mod pending;
mod registrations;
mod restore;

pub use crate::launch_session::LaunchSession;
pub use begin::{AuthorizationRequest, AuthorizeForm};
pub(crate) use params::Callback;
pub use params::LaunchParams;
pub use pending::PendingAuthorization;
pub use registrations::Registrations;

/// How long a pending authorization stays usable by default.
pub const DEFAULT_PENDING_TTL: Duration = Duration::from_secs(600);

/// How long the default discovery cache of an [`AppLaunch`] keeps a result.
const DEFAULT_DISCOVERY_TTL: Duration = Duration::from_secs(300);

/// How far in the future a pending authorization's `created_at` may lie (clock skew between
/// app instances); beyond it the record is refused.
const PENDING_CLOCK_SKEW: u64 = 60;

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
    options: TokenClientOptions,
    allowed_iss: Vec<String>,
    prefer_post: bool,
    extra: Vec<(String, String)>,
    pending_ttl: Duration,
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
            options: TokenClientOptions::default(),
            allowed_iss: Vec::new(),
            prefer_post: false,
            extra: Vec::new(),
            pending_ttl: DEFAULT_PENDING_TTL,
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
    /// [`SmartClient::fhir_user`](crate::SmartClient::fhir_user) answers `None`.
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
        self.options.http = http;
        self
    }

    /// Every setting of the launch clients' token client at once (HTTP client, store,
    /// renewal timing), shared with other flows; the store's subject stays as
    /// [`store`](Self::store) set it.
    #[must_use]
    pub fn token_client_options(mut self, options: TokenClientOptions) -> Self {
        self.options = options;
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
    /// launch's client from the store later, keep [`SmartClient::launch_session`](crate::SmartClient::launch_session) with the
    /// user's session and call [`restore`](Self::restore).
    #[must_use]
    pub fn store(mut self, store: Arc<dyn TokenStore>, subject: impl Into<String>) -> Self {
        self.options.store = Some(store);
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
}

#[cfg(test)]
mod tests;
