//! [`TokenClientOptions`]: the settings of the token client every flow builds on (the HTTP
//! client, the token store, renewal timing), one value for [`BackendServices`],
//! [`AppLaunch`] and [`SmartClientBuilder`] alike.
//!
//! [`BackendServices`]: crate::BackendServices
//! [`AppLaunch`]: crate::AppLaunch
//! [`SmartClientBuilder`]: crate::client::SmartClientBuilder

use std::sync::Arc;
use std::time::Duration;

use crate::http::HttpClient;
use crate::store::TokenStore;

/// The default margin before expiry at which the token is renewed.
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(60);
/// The lifetime assumed when a token response has no `expires_in`.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// How long a token obtained by a renewal is used before the next proactive renewal,
/// whatever its `expires_in` (real servers send 0 and 1): without it, such a token would
/// cost one token request per FHIR request. A server that does reject it answers 401, which
/// renews once for that request.
pub const DEFAULT_MIN_TOKEN_REUSE: Duration = Duration::from_secs(10);

/// How a token client talks to the token endpoint and keeps its tokens.
///
/// Each flow's builder has a setter per field (`http`, `store`, `refresh_skew`, …) and
/// [`token_client_options`](crate::BackendServices::token_client_options) to set them all
/// from one value shared across flows:
///
/// ```
/// use std::time::Duration;
/// use fhir_smart::{HttpClient, TokenClientOptions};
///
/// let options = TokenClientOptions::default()
///     .http(HttpClient::new())
///     .refresh_skew(Duration::from_secs(120));
/// assert_eq!(options.refresh_skew, Duration::from_secs(120));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenClientOptions {
    /// The HTTP client of token requests and discovery (TLS policy, proxies, timeouts).
    pub http: HttpClient,
    /// Where tokens are kept (default: in memory, per client).
    pub store: Option<Arc<dyn TokenStore>>,
    /// Renew this long before expiry (default [`DEFAULT_REFRESH_SKEW`], 60 s).
    pub refresh_skew: Duration,
    /// How long a renewed token is used before the next proactive renewal, however short its
    /// `expires_in` (default [`DEFAULT_MIN_TOKEN_REUSE`], 10 s), so a server answering
    /// `expires_in: 0` does not get one token request per FHIR request. Zero renews as soon
    /// as the lifetime says so.
    pub min_token_reuse: Duration,
    /// The lifetime assumed when `expires_in` is absent (default
    /// [`DEFAULT_TOKEN_LIFETIME`], 300 s).
    pub default_token_lifetime: Duration,
    /// How long a renewal lease across processes is held at most (default
    /// [`DEFAULT_LEASE_TTL`], 30 s), for stores that have one
    /// ([`TokenStore::acquire_lease`](crate::TokenStore::acquire_lease)): longer than a
    /// token request takes, so a holder is not overtaken mid-request.
    pub lease_ttl: Duration,
}

/// How long a renewal lease is held at most unless configured.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);

impl Default for TokenClientOptions {
    fn default() -> Self {
        Self {
            http: HttpClient::default(),
            store: None,
            refresh_skew: DEFAULT_REFRESH_SKEW,
            min_token_reuse: DEFAULT_MIN_TOKEN_REUSE,
            default_token_lifetime: DEFAULT_TOKEN_LIFETIME,
            lease_ttl: DEFAULT_LEASE_TTL,
        }
    }
}

impl TokenClientOptions {
    /// The HTTP client.
    #[must_use]
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = http;
        self
    }

    /// The token store.
    #[must_use]
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The renewal margin before expiry.
    #[must_use]
    pub fn refresh_skew(mut self, skew: Duration) -> Self {
        self.refresh_skew = skew;
        self
    }

    /// The minimum reuse of a renewed token.
    #[must_use]
    pub fn min_token_reuse(mut self, reuse: Duration) -> Self {
        self.min_token_reuse = reuse;
        self
    }

    /// The longest a renewal lease is held.
    #[must_use]
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }

    /// The lifetime assumed without `expires_in`.
    #[must_use]
    pub fn default_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_token_lifetime = lifetime;
        self
    }
}
