//! [`SmartClientBuilder`]: a [`SmartClient`] from its endpoints, credentials, grant, store
//! and first token set.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use url::Url;

use super::renewal::{Lineage, renewal_lock};
use super::{Grant, IdTokenCheck, Inner, SmartClient};
use crate::Error;
use crate::client_auth::ClientCredentials;
use crate::http::HttpClient;
use crate::launch_session::LaunchSession;
use crate::scopes::Scopes;
use crate::state::random_id;
use crate::store::{MemoryTokenStore, StoreKey, StoredToken, TokenStore};
use crate::token::TokenResponse;
use crate::token_options::TokenClientOptions;

/// Builds a [`SmartClient`]; Backend Services clients come from [`crate::BackendServices`].
#[derive(Debug)]
pub struct SmartClientBuilder {
    fhir_base: Url,
    token_endpoint: Url,
    credentials: ClientCredentials,
    grant: Grant,
    options: TokenClientOptions,
    scope: String,
    subject: Option<String>,
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
        self.options.http = http;
        self
    }

    /// Where tokens are kept (default: a private [`MemoryTokenStore`]). The key always names
    /// whose token set it is: the [`launch_id`](Self::launch_id), the app's user key
    /// ([`store_subject`](Self::store_subject)), or both.
    #[must_use]
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.options.store = Some(store);
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
        self.options.refresh_skew = skew;
        self
    }

    /// How long a renewed token is used before the next proactive renewal, however short
    /// its `expires_in` (default [`DEFAULT_MIN_TOKEN_REUSE`](crate::DEFAULT_MIN_TOKEN_REUSE), 10 s). Zero renews as soon as
    /// the lifetime says so.
    #[must_use]
    pub fn min_token_reuse(mut self, reuse: Duration) -> Self {
        self.options.min_token_reuse = reuse;
        self
    }

    /// The lifetime assumed when `expires_in` is absent (default 300 s).
    #[must_use]
    pub fn default_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.options.default_token_lifetime = lifetime;
        self
    }

    /// Every setting of the token client at once (HTTP client, store, renewal timing).
    #[must_use]
    pub fn token_client_options(mut self, options: TokenClientOptions) -> Self {
        self.options = options;
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
        self.options.http.check_url(&self.token_endpoint)?;
        let key = self.store_key()?;
        let options = self.options;
        let store = options
            .store
            .unwrap_or_else(|| Arc::new(MemoryTokenStore::new()));
        let current = match self.token {
            Some(token) => {
                Some(store_initial(&*store, &key, token, options.default_token_lifetime).await?)
            }
            None => store.get(&key).await?,
        };
        Ok(SmartClient {
            inner: Arc::new(Inner {
                lock: renewal_lock(&key),
                fhir_base: self.fhir_base,
                token_endpoint: self.token_endpoint,
                credentials: self.credentials,
                grant: self.grant,
                http: options.http,
                store,
                key,
                skew: options.refresh_skew,
                default_lifetime: options.default_token_lifetime,
                min_reuse: options.min_token_reuse,
                lease_ttl: options.lease_ttl,
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
            options: TokenClientOptions::default(),
            scope: String::new(),
            subject: None,
            token: None,
            launch_id: None,
            launch_session: None,
            id_tokens: None,
        }
    }
}
