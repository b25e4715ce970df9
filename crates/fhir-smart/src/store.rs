//! Token persistence: the [`TokenStore`] trait and the in-memory default.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fhir_core::auth::BoxFuture;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::Error;
use crate::token::TokenResponse;

/// The key a token set is stored under: the token endpoint, the client id, the requested
/// scope, and an optional subject (a user or session id, for apps serving many users).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoreKey(String);

impl StoreKey {
    /// The key for `client_id` asking `token_endpoint` for `scope`.
    pub fn new(token_endpoint: &Url, client_id: &str, scope: &str) -> Self {
        Self::build(token_endpoint, client_id, scope, None)
    }

    /// The key with a subject, so the tokens of different users never mix.
    pub fn with_subject(token_endpoint: &Url, client_id: &str, scope: &str, subject: &str) -> Self {
        Self::build(token_endpoint, client_id, scope, Some(subject))
    }

    fn build(token_endpoint: &Url, client_id: &str, scope: &str, subject: Option<&str>) -> Self {
        // A JSON array cannot be forged by a client id or scope that contains a separator.
        let parts = [
            Some(token_endpoint.as_str()),
            Some(client_id),
            Some(scope),
            subject,
        ];
        Self(serde_json::to_string(&parts).unwrap_or_default())
    }

    /// The key as text (for a database or cache key).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stored token set: the token response merged over earlier ones, and when it expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredToken {
    /// The tokens and launch context.
    pub token: TokenResponse,
    /// When the access token expires, in seconds since the Unix epoch.
    pub expires_at: u64,
    /// When the token set was obtained, in seconds since the Unix epoch.
    #[serde(default)]
    pub issued_at: u64,
}

impl StoredToken {
    /// Stores `token`, expiring `expires_in` (or `default_lifetime`) after now.
    pub fn new(token: TokenResponse, default_lifetime: Duration) -> Self {
        let lifetime = token.expires_in.unwrap_or(default_lifetime.as_secs());
        let now = now_secs();
        Self {
            expires_at: now.saturating_add(lifetime),
            issued_at: now,
            token,
        }
    }

    /// Whether the access token expires within `skew` from now.
    pub fn expires_within(&self, skew: Duration) -> bool {
        now_secs().saturating_add(skew.as_secs()) >= self.expires_at
    }

    /// Whether the token should be renewed: it expires within `skew`, where the margin is at
    /// most half the token's lifetime, so short-lived tokens are not renewed on every use.
    pub fn needs_renewal(&self, skew: Duration) -> bool {
        let lifetime = self.expires_at.saturating_sub(self.issued_at);
        self.expires_within(skew.min(Duration::from_secs(lifetime / 2)))
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Where a [`SmartClient`](crate::SmartClient) keeps its tokens.
///
/// Implement it over app-specific, protected storage (a database row, an encrypted cache);
/// never over system-wide locations. The client reads the store back before every renewal,
/// so several clients sharing a store never reuse a rotated refresh token.
pub trait TokenStore: fmt::Debug + Send + Sync {
    /// The token set under `key`.
    fn get<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<Option<StoredToken>, Error>>;
    /// Stores `token` under `key`, replacing what was there.
    fn set<'a>(&'a self, key: &'a StoreKey, token: StoredToken)
    -> BoxFuture<'a, Result<(), Error>>;
    /// Removes the token set under `key`.
    fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), Error>>;
}

/// The default store: a map in memory, private to the process.
#[derive(Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<HashMap<StoreKey, StoredToken>>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("MemoryTokenStore")
            .field("entries", &count)
            .finish()
    }
}

impl TokenStore for MemoryTokenStore {
    fn get<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<Option<StoredToken>, Error>> {
        let token = self
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned();
        Box::pin(async move { Ok(token) })
    }

    fn set<'a>(
        &'a self,
        key: &'a StoreKey,
        token: StoredToken,
    ) -> BoxFuture<'a, Result<(), Error>> {
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.clone(), token);
        Box::pin(async { Ok(()) })
    }

    fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), Error>> {
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests;
