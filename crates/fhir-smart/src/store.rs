//! Token persistence: the [`TokenStore`] trait and the in-memory default.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fhir_core::auth::BoxFuture;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use url::Url;

use crate::Error;
use crate::secret::AccessToken;
use crate::token::TokenResponse;

/// The key a token set is stored under: the token endpoint, the client id, the requested
/// scope, and always a subject: whose token set it is.
///
/// - App Launch: the launch id (random, one per [`PendingAuthorization`](crate::PendingAuthorization))
///   and, when the app gives one, its user key ([`StoreKey::for_launch`]); or only an
///   app-supplied user key, for apps that keep one token set per user ([`StoreKey::for_user`]).
/// - Backend Services: the system client itself ([`StoreKey::for_system`]); its tokens
///   belong to no user.
///
/// Each kind is tagged, so no key of one kind equals a key of another, and the parts are a
/// JSON array, so a client id or scope containing a separator cannot forge another key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoreKey(String);

impl StoreKey {
    /// The key of the token set of one App Launch: every launch has its own random launch
    /// id, so two launches by one user (two tabs, two patients) never adopt each other's
    /// tokens. `user` (the app's user key) is added when the app gives one.
    pub fn for_launch(
        token_endpoint: &Url,
        client_id: &str,
        scope: &str,
        user: Option<&str>,
        launch_id: &str,
    ) -> Self {
        Self::build(
            "launch",
            token_endpoint,
            client_id,
            scope,
            &[user, Some(launch_id)],
        )
    }

    /// The key of the one token set an app keeps for the user `user` (its user or account id).
    pub fn for_user(token_endpoint: &Url, client_id: &str, scope: &str, user: &str) -> Self {
        Self::build("user", token_endpoint, client_id, scope, &[Some(user)])
    }

    /// The key of a Backend Services client's token set (shared by its clients in a process).
    pub fn for_system(token_endpoint: &Url, client_id: &str, scope: &str) -> Self {
        Self::build("system", token_endpoint, client_id, scope, &[])
    }

    fn build(
        kind: &str,
        token_endpoint: &Url,
        client_id: &str,
        scope: &str,
        subject: &[Option<&str>],
    ) -> Self {
        let mut parts = vec![
            Some(kind),
            Some(token_endpoint.as_str()),
            Some(client_id),
            Some(scope),
        ];
        parts.extend_from_slice(subject);
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
    /// A random marker of the token set's lineage: made when the set is first stored and
    /// kept across refreshes. A client never adopts a stored set of another lineage (another
    /// launch that happens to share the store key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineage: Option<String>,
    /// Incremented by every renewal: what [`TokenStore::compare_and_set`] compares.
    #[serde(default)]
    pub version: u64,
    /// Fingerprints (truncated SHA-256, never the tokens) of the access tokens this set
    /// replaced, oldest first, at most [`MAX_ANCESTORS`]: a client built with an older token
    /// response of the same grant recognizes the stored set as newer and keeps it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ancestors: Vec<String>,
    /// Until when (seconds since the Unix epoch) the set is not renewed proactively, however
    /// short its lifetime: set by a renewal ([`DEFAULT_MIN_TOKEN_REUSE`](crate::DEFAULT_MIN_TOKEN_REUSE)
    /// after it, unless configured), so `expires_in` 0 or 1 does not cost a token request per FHIR request.
    #[serde(default)]
    pub reuse_until: u64,
}

/// How many replaced access tokens a [`StoredToken`] remembers (see
/// [`StoredToken::ancestors`]).
pub const MAX_ANCESTORS: usize = 32;

/// A fingerprint of an access token: the first 16 bytes of its SHA-256, in hex.
fn fingerprint(token: &AccessToken) -> String {
    Sha256::digest(token.expose_secret().as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
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
            lineage: Some(crate::state::random_id()),
            version: 0,
            ancestors: Vec::new(),
            reuse_until: 0,
        }
    }

    /// Whether this set is `token`'s, or a renewal of it (or of a renewal of it, …): then it
    /// is at least as new as `token`.
    pub fn descends_from(&self, token: &TokenResponse) -> bool {
        self.token.access_token == token.access_token
            || self.ancestors.contains(&fingerprint(&token.access_token))
    }

    /// Records that this set replaces `previous` (a renewal).
    pub(crate) fn replaces(&mut self, previous: &StoredToken) {
        let mut ancestors = previous.ancestors.clone();
        ancestors.push(fingerprint(&previous.token.access_token));
        let excess = ancestors.len().saturating_sub(MAX_ANCESTORS);
        ancestors.drain(..excess);
        self.ancestors = ancestors;
    }

    /// Whether the access token expires within `skew` from now.
    pub fn expires_within(&self, skew: Duration) -> bool {
        now_secs().saturating_add(skew.as_secs()) >= self.expires_at
    }

    /// Whether the token should be renewed: it expires within `skew`, where the margin is at
    /// most half the token's lifetime, so short-lived tokens are not renewed on every use;
    /// never before [`reuse_until`](Self::reuse_until).
    pub fn needs_renewal(&self, skew: Duration) -> bool {
        if now_secs() < self.reuse_until {
            return false;
        }
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
///
/// # Rotation safety: within one process only
///
/// Clients **in one process** that share a store renew one at a time (a process-wide lock
/// per [`StoreKey`]), so a rotated refresh token is never presented twice. **Across
/// processes** (several app instances on one database or cache) `get` then `set` is not
/// atomic: two instances can read the same refresh token, both present it, and a server
/// that detects refresh-token reuse may then revoke the whole grant, or one instance may
/// overwrite the other's newer token set. Rotation safety across processes needs a store
/// with compare-and-swap semantics and a renewal lease (for example a row lock or a
/// conditional update on a version column, or a Redis `WATCH`/`SET NX` lease) around the
/// read, the refresh request and the write. The client writes renewed sets with
/// [`compare_and_set`](Self::compare_and_set) (versioned by [`StoredToken::version`]), so a
/// store that implements it atomically never has a newer set overwritten by an older
/// renewal, and renews under the store's [`acquire_lease`](Self::acquire_lease), so a store
/// that implements both never has one refresh token presented twice. `fhir-smart-redis`
/// implements both on Redis.
pub trait TokenStore: fmt::Debug + Send + Sync {
    /// The token set under `key`.
    fn get<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<Option<StoredToken>, Error>>;
    /// Stores `token` under `key`, replacing what was there.
    fn set<'a>(&'a self, key: &'a StoreKey, token: StoredToken)
    -> BoxFuture<'a, Result<(), Error>>;
    /// Removes the token set under `key`.
    fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), Error>>;

    /// Stores `token` under `key` only if the stored set's [`version`](StoredToken::version)
    /// is still `expected` (`None`: nothing is stored); returns whether it was stored.
    ///
    /// A [`SmartClient`](crate::SmartClient) writes renewed token sets with it, so a set
    /// another process stored meanwhile is not overwritten.
    ///
    /// **The default implementation is not atomic** (a `get`, a comparison, a `set`): it is
    /// right within one process, where the client's renewal lock already serializes
    /// writers. A store shared by several processes must override it with an atomic
    /// conditional write (`UPDATE … WHERE version = ?`, a transaction, Redis `WATCH`).
    fn compare_and_set<'a>(
        &'a self,
        key: &'a StoreKey,
        expected: Option<u64>,
        token: StoredToken,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let current = self.get(key).await?.map(|stored| stored.version);
            if current != expected {
                return Ok(false);
            }
            self.set(key, token).await?;
            Ok(true)
        })
    }

    /// Takes the renewal lease of `key` for at most `ttl`, waiting while another process
    /// holds it: while a client holds it, no other process presents the set's refresh token.
    /// `None` means the store has no lease across processes (the default, right for stores
    /// private to one process, where the client's per-key lock already serializes renewals).
    ///
    /// A store shared by several processes implements it (Redis `SET NX PX`, a row lock, an
    /// advisory lock): the client then takes the lease, reads the store again (another process
    /// may have renewed while it waited), renews only if it still must, writes with
    /// [`compare_and_set`](Self::compare_and_set) and releases the lease. A holder that dies
    /// is recovered from when `ttl` passes; the next lease says so
    /// ([`RenewalLease::taken_over`]).
    fn acquire_lease<'a>(
        &'a self,
        key: &'a StoreKey,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<RenewalLease>, Error>> {
        let _ = (key, ttl);
        Box::pin(async { Ok(None) })
    }
}

/// How a [`RenewalLease`] is given back.
pub type ReleaseLease = Box<dyn FnOnce() -> BoxFuture<'static, Result<(), Error>> + Send>;

/// A renewal lease on one token set across processes, from [`TokenStore::acquire_lease`].
///
/// Give it back with [`release`](Self::release); one that is dropped instead lapses when its
/// time-to-live passes.
pub struct RenewalLease {
    release: Option<ReleaseLease>,
    taken_over: bool,
}

impl fmt::Debug for RenewalLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RenewalLease")
            .field("taken_over", &self.taken_over)
            .finish_non_exhaustive()
    }
}

impl RenewalLease {
    /// A lease given back by `release`; `taken_over` when the previous holder's lease
    /// lapsed instead of being released (it may have died mid-renewal).
    pub fn new(release: ReleaseLease, taken_over: bool) -> Self {
        Self {
            release: Some(release),
            taken_over,
        }
    }

    /// Whether the previous holder let its lease lapse instead of releasing it: a renewal it
    /// started may have rotated the refresh token without storing the new one.
    pub fn taken_over(&self) -> bool {
        self.taken_over
    }

    /// Gives the lease back.
    ///
    /// # Errors
    ///
    /// The store's; the lease then lapses by itself.
    pub async fn release(mut self) -> Result<(), Error> {
        match self.release.take() {
            Some(release) => release().await,
            None => Ok(()),
        }
    }
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

    fn compare_and_set<'a>(
        &'a self,
        key: &'a StoreKey,
        expected: Option<u64>,
        token: StoredToken,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        // Atomic: the comparison and the write happen under one lock.
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        let stored = if tokens.get(key).map(|t| t.version) == expected {
            tokens.insert(key.clone(), token);
            true
        } else {
            false
        };
        drop(tokens);
        Box::pin(async move { Ok(stored) })
    }
}

#[cfg(test)]
mod tests;
