//! SMART Backend Services: `client_credentials` with a signed client assertion (or, for
//! servers that allow it, a client secret).

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::Error;
use crate::assertion::AssertionOptions;
use crate::client::SmartClient;
use crate::client_auth::{BasicEncoding, ClientAuth, ClientCredentials};
use crate::discovery::{Strictness, discover};
use crate::http::HttpClient;
use crate::keys::SigningKey;
use crate::scopes::{Scope, ScopeContext, ScopeVersion, Scopes};
use crate::secret::ClientSecret;
use crate::store::TokenStore;
use crate::token::TokenResponse;
use crate::token_options::TokenClientOptions;
use crate::token_request::{TokenGrant, token_request};

/// What the client authenticates with.
#[derive(Debug, Clone)]
enum Credential {
    Key(Arc<SigningKey>),
    Secret(ClientSecret),
}

/// A Backend Services client configuration.
///
/// Every token request carries a new assertion (new `jti`, new `exp`); there is no refresh
/// token: when the access token is about to expire, a new one is requested.
#[derive(Debug, Clone)]
pub struct BackendServices {
    fhir_base: Url,
    client_id: String,
    credential: Credential,
    scope: Scopes,
    options: TokenClientOptions,
    token_endpoint: Option<Url>,
    assertion: AssertionOptions,
    include_client_id: bool,
}

impl BackendServices {
    /// A client `client_id` of the FHIR server at `fhir_base`, signing with `key`, asking for
    /// `scope` (normally `system/` scopes).
    pub fn new(
        fhir_base: Url,
        client_id: impl Into<String>,
        key: SigningKey,
        scope: Scopes,
    ) -> Self {
        Self::with_credential(
            fhir_base,
            client_id.into(),
            Credential::Key(Arc::new(key)),
            scope,
        )
    }

    /// A client that authenticates with `client_secret_basic` instead of a key, for servers
    /// that allow symmetric authentication of system clients (SMART recommends keys).
    pub fn with_client_secret(
        fhir_base: Url,
        client_id: impl Into<String>,
        secret: ClientSecret,
        scope: Scopes,
    ) -> Self {
        Self::with_credential(
            fhir_base,
            client_id.into(),
            Credential::Secret(secret),
            scope,
        )
    }

    fn with_credential(
        fhir_base: Url,
        client_id: String,
        credential: Credential,
        scope: Scopes,
    ) -> Self {
        Self {
            fhir_base,
            client_id,
            credential,
            scope,
            options: TokenClientOptions::default(),
            token_endpoint: None,
            assertion: AssertionOptions::default(),
            include_client_id: false,
        }
    }

    /// The HTTP client (TLS policy, proxies, timeouts).
    #[must_use]
    pub fn http(mut self, http: HttpClient) -> Self {
        self.options.http = http;
        self
    }

    /// Every setting of the token client at once (HTTP client, store, renewal timing),
    /// shared with other flows.
    #[must_use]
    pub fn token_client_options(mut self, options: TokenClientOptions) -> Self {
        self.options = options;
        self
    }

    /// Skips discovery and uses this token endpoint.
    #[must_use]
    pub fn token_endpoint(mut self, token_endpoint: Url) -> Self {
        self.token_endpoint = Some(token_endpoint);
        self
    }

    /// Assertion lifetime and `jku`.
    #[must_use]
    pub fn assertion_options(mut self, options: AssertionOptions) -> Self {
        self.assertion = options;
        self
    }

    /// Also sends `client_id` in the form (for servers that want it).
    #[must_use]
    pub fn include_client_id(mut self, include: bool) -> Self {
        self.include_client_id = include;
        self
    }

    /// Where tokens are kept (default: in memory).
    #[must_use]
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.options.store = Some(store);
        self
    }

    /// Request a new token this long before expiry (default 60 s).
    #[must_use]
    pub fn refresh_skew(mut self, skew: Duration) -> Self {
        self.options.refresh_skew = skew;
        self
    }

    /// How long a new token is used before the next proactive request, however short its
    /// `expires_in` (default [`DEFAULT_MIN_TOKEN_REUSE`](crate::DEFAULT_MIN_TOKEN_REUSE),
    /// 10 s), so a server answering `expires_in: 0` does not get one token request per FHIR
    /// request.
    #[must_use]
    pub fn min_token_reuse(mut self, reuse: Duration) -> Self {
        self.options.min_token_reuse = reuse;
        self
    }

    fn credentials(&self) -> ClientCredentials {
        ClientCredentials {
            client_id: self.client_id.clone(),
            auth: match &self.credential {
                Credential::Key(key) => ClientAuth::PrivateKeyJwt {
                    key: Arc::clone(key),
                    options: self.assertion.clone(),
                },
                Credential::Secret(secret) => ClientAuth::ClientSecretBasic {
                    secret: secret.clone(),
                    encoding: BasicEncoding::Raw,
                },
            },
            include_client_id: self.include_client_id,
        }
    }

    /// The token endpoint, and the scopes in the syntax the server understands (v1 when it
    /// advertises only `permission-v1`).
    async fn resolve(&self) -> Result<(Url, Scopes), Error> {
        if let Some(url) = &self.token_endpoint {
            return Ok((url.clone(), self.scope.clone()));
        }
        let config = discover(&self.options.http, &self.fhir_base, Strictness::Lenient).await?;
        let algs = &config.token_endpoint_auth_signing_alg_values_supported;
        if let Credential::Key(key) = &self.credential
            && !algs.is_empty()
            && !algs.iter().any(|a| a == key.alg().as_str())
        {
            tracing::warn!(
                alg = key.alg().as_str(),
                "the server does not list this signing algorithm"
            );
        }
        let scope = match config.scope_version() {
            ScopeVersion::V1 => self.scope.to_v1().unwrap_or_else(|_| self.scope.clone()),
            ScopeVersion::V2 => self.scope.clone(),
        };
        Ok((config.token_endpoint, scope))
    }

    /// One `client_credentials` token request, without caching.
    ///
    /// # Errors
    ///
    /// Discovery, token-endpoint, key and transport errors.
    pub async fn request_token(&self) -> Result<TokenResponse, Error> {
        let (token_endpoint, scope) = self.resolve().await?;
        let scope = scope.to_string();
        let grant = TokenGrant::ClientCredentials { scope: &scope };
        token_request(
            &self.options.http,
            &token_endpoint,
            &self.credentials(),
            grant,
        )
        .await
    }

    /// Discovers the token endpoint (unless set), obtains a first token and returns a
    /// [`SmartClient`] that renews it.
    ///
    /// # Errors
    ///
    /// Discovery, token-endpoint, key, store and transport errors.
    pub async fn connect(self) -> Result<SmartClient, Error> {
        if self.scope.is_empty() {
            return Err(Error::configuration(
                "scope",
                "Backend Services requires a scope",
            ));
        }
        let system_only = self.scope.iter().all(|s| match s {
            Scope::Resource(r) => r.context == ScopeContext::System,
            _ => true,
        });
        if !system_only {
            tracing::warn!("Backend Services normally request only system/ scopes");
        }
        let (token_endpoint, scope) = self.resolve().await?;
        let builder = SmartClient::backend_builder(
            self.fhir_base.clone(),
            token_endpoint,
            self.credentials(),
            &scope,
        )
        .token_client_options(self.options.clone());
        let client = builder.build().await?;
        client.access_token().await?;
        Ok(client)
    }
}
