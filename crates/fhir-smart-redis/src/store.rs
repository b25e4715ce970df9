//! [`RedisTokenStore`]: token sets in Redis hashes, written by one Lua script that compares
//! the version and writes in one step.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fhir_core::auth::BoxFuture;
use fhir_smart::{RenewalLease, StoreKey, StoredToken, TokenStore};
use redis::aio::ConnectionManager;
use sha2::{Digest as _, Sha256};

use crate::cipher::EncryptionKey;
use crate::error::RedisStoreError;

/// The namespace of keys unless another is set: `fhir-smart:token:…`.
pub const DEFAULT_NAMESPACE: &str = "fhir-smart:token";

/// How long a token set without a refresh token outlives its access token in Redis.
pub const DEFAULT_EXPIRY_GRACE: Duration = Duration::from_secs(60);

/// The stored formats.
const JSON: &str = "json";
const SEALED: &str = "aes256gcm";

/// Writes a token set. KEYS[1]: the hash. ARGV: the expected version (`*` for any, the empty
/// string for none stored), the new version, the format, the payload, the TTL in
/// milliseconds (0: no expiry). Returns 1 when written, 0 when the version differed.
const WRITE: &str = r"
local current = redis.call('HGET', KEYS[1], 'version')
local expected = ARGV[1]
if expected ~= '*' then
  if expected == '' then
    if current then return 0 end
  elseif current ~= expected then
    return 0
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'format', ARGV[3], 'payload', ARGV[4])
local ttl = tonumber(ARGV[5])
if ttl and ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
";

/// Takes a renewal lease. KEYS: the lease, the "renewing" marker. ARGV: this holder's
/// token, the lease's TTL and the marker's, in milliseconds. Returns 0 when another holds
/// it, 1 when taken, 2 when taken from a holder whose lease lapsed (its marker remained).
const ACQUIRE: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local previous = redis.call('GET', KEYS[2])
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
  if previous then return 2 end
  return 1
end
return 0
";

/// Gives a lease back, if this holder still has it. KEYS and ARGV[1] as for [`ACQUIRE`].
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
";

/// The longest pause between two tries for a held lease: a waiter sees a released lease
/// within it (a renewal takes one token request, tens to hundreds of milliseconds).
const MAX_LEASE_POLL: Duration = Duration::from_millis(25);

/// How long the "renewing" marker of a lease outlives it: long enough for the next holder
/// to see that its predecessor never finished.
const MARKER_TTL: Duration = Duration::from_secs(24 * 3600);

/// A [`TokenStore`] on Redis, shared by every process that connects to it.
///
/// Cheap to clone (the connection is multiplexed and reconnects by itself); `Debug` shows
/// the namespace and whether values are encrypted, never a key or a value.
#[derive(Clone)]
pub struct RedisTokenStore {
    connection: ConnectionManager,
    namespace: String,
    encryption: Option<EncryptionKey>,
    grace: Duration,
    refresh_token_ttl: Option<Duration>,
    lease_wait: Option<Duration>,
    script: redis::Script,
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("namespace", &self.namespace)
            .field("encrypted", &self.encryption.is_some())
            .field("grace", &self.grace)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .finish_non_exhaustive()
    }
}

impl RedisTokenStore {
    /// Connects to the Redis at `url` (`redis://host:port/db`, `rediss://` for TLS when the
    /// `redis` crate is built with it).
    ///
    /// # Errors
    ///
    /// [`RedisStoreError::Redis`] when the URL is invalid or Redis cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, RedisStoreError> {
        let client =
            redis::Client::open(url).map_err(|err| RedisStoreError::redis("connect", err))?;
        let connection = ConnectionManager::new(client)
            .await
            .map_err(|err| RedisStoreError::redis("connect", err))?;
        Ok(Self::new(connection))
    }

    /// A store over an existing connection manager.
    pub fn new(connection: ConnectionManager) -> Self {
        Self {
            connection,
            namespace: DEFAULT_NAMESPACE.to_owned(),
            encryption: None,
            grace: DEFAULT_EXPIRY_GRACE,
            refresh_token_ttl: None,
            lease_wait: None,
            script: redis::Script::new(WRITE),
        }
    }

    /// The prefix of every key (default [`DEFAULT_NAMESPACE`]), so that several
    /// applications or environments share one Redis without seeing each other's tokens.
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Encrypts every stored set with `key` (AES-256-GCM); sets stored in plain JSON are then
    /// refused, not read.
    #[must_use]
    pub fn encryption(mut self, key: EncryptionKey) -> Self {
        self.encryption = Some(key);
        self
    }

    /// How long a set without a refresh token outlives its access token (default
    /// [`DEFAULT_EXPIRY_GRACE`]).
    #[must_use]
    pub fn expiry_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// How long a set with a refresh token is kept after each write (default: until it is
    /// replaced or deleted; servers do not say how long a refresh token lives).
    #[must_use]
    pub fn refresh_token_ttl(mut self, ttl: Option<Duration>) -> Self {
        self.refresh_token_ttl = ttl;
        self
    }

    /// How long a renewal waits for another process's lease before it fails (default: the
    /// lease's TTL and 5 s more, so a holder that died is outlived).
    #[must_use]
    pub fn lease_wait(mut self, wait: Duration) -> Self {
        self.lease_wait = Some(wait);
        self
    }

    /// The Redis key of `key`: the namespace and the SHA-256 of the store key.
    pub fn redis_key(&self, key: &StoreKey) -> String {
        let digest = Sha256::digest(key.as_str().as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}:{hex}", self.namespace)
    }

    /// What a stored set's value is bound to: its Redis key and version.
    fn associated_data(redis_key: &str, version: u64) -> Vec<u8> {
        format!("{redis_key}\n{version}").into_bytes()
    }

    /// The TTL of `token` in milliseconds (0: none).
    fn ttl_millis(&self, token: &StoredToken) -> u64 {
        let ttl = if token.token.refresh_token.is_some() {
            self.refresh_token_ttl
        } else {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            Some(Duration::from_secs(token.expires_at.saturating_sub(now)) + self.grace)
        };
        ttl.map_or(0, |ttl| {
            u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
        })
    }

    async fn read(&self, key: &StoreKey) -> Result<Option<StoredToken>, RedisStoreError> {
        let redis_key = self.redis_key(key);
        let mut connection = self.connection.clone();
        let (version, format, payload): (Option<String>, Option<String>, Option<Vec<u8>>) =
            redis::cmd("HMGET")
                .arg(&redis_key)
                .arg("version")
                .arg("format")
                .arg("payload")
                .query_async(&mut connection)
                .await
                .map_err(|err| RedisStoreError::redis("get", err))?;
        let (Some(version), Some(format), Some(payload)) = (version, format, payload) else {
            return Ok(None);
        };
        let corrupt = |reason| RedisStoreError::Corrupt {
            key: redis_key.clone(),
            reason,
        };
        let version: u64 = version
            .parse()
            .map_err(|_| corrupt("the version is not a number"))?;
        let plain = match (&self.encryption, format.as_str()) {
            (Some(cipher), SEALED) => cipher
                .open(&payload, &Self::associated_data(&redis_key, version))
                .ok_or_else(|| RedisStoreError::Decrypt {
                    key: redis_key.clone(),
                })?,
            (None, JSON) => payload,
            (expected, _) => {
                return Err(RedisStoreError::Format {
                    key: redis_key.clone(),
                    found: if format == JSON || format == SEALED {
                        format
                    } else {
                        "an unknown format".to_owned()
                    },
                    expected: if expected.is_some() { SEALED } else { JSON },
                });
            }
        };
        let token: StoredToken =
            serde_json::from_slice(&plain).map_err(|_| corrupt("not a stored token set"))?;
        if token.version != version {
            return Err(corrupt("the version field differs from the stored set's"));
        }
        Ok(Some(token))
    }

    async fn write(
        &self,
        key: &StoreKey,
        expected: Option<Option<u64>>,
        token: &StoredToken,
        operation: &'static str,
    ) -> Result<bool, RedisStoreError> {
        let redis_key = self.redis_key(key);
        let json = serde_json::to_vec(token).map_err(|_| RedisStoreError::Corrupt {
            key: redis_key.clone(),
            reason: "the token set does not serialize",
        })?;
        let (format, payload) = match &self.encryption {
            Some(cipher) => (
                SEALED,
                cipher.seal(&json, &Self::associated_data(&redis_key, token.version))?,
            ),
            None => (JSON, json),
        };
        let expected = match expected {
            None => "*".to_owned(),
            Some(None) => String::new(),
            Some(Some(version)) => version.to_string(),
        };
        let mut connection = self.connection.clone();
        let written: i64 = self
            .script
            .key(&redis_key)
            .arg(expected)
            .arg(token.version.to_string())
            .arg(format)
            .arg(payload)
            .arg(self.ttl_millis(token))
            .invoke_async(&mut connection)
            .await
            .map_err(|err| RedisStoreError::redis(operation, err))?;
        Ok(written == 1)
    }

    /// Takes the renewal lease of `key`, waiting with backoff while another holds it.
    async fn lease(&self, key: &StoreKey, ttl: Duration) -> Result<RenewalLease, RedisStoreError> {
        let redis_key = self.redis_key(key);
        let keys = [
            format!("{redis_key}:lease"),
            format!("{redis_key}:renewing"),
        ];
        let mut holder = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut holder);
        let holder: String = holder.iter().map(|b| format!("{b:02x}")).collect();
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1);
        let wait = self.lease_wait.unwrap_or(ttl + Duration::from_secs(5));
        let started = tokio::time::Instant::now();
        let mut pause = Duration::from_millis(10);
        let acquire = redis::Script::new(ACQUIRE);
        let mut connection = self.connection.clone();
        loop {
            let taken: i64 = acquire
                .key(&keys[0])
                .key(&keys[1])
                .arg(&holder)
                .arg(millis(ttl))
                .arg(millis(MARKER_TTL))
                .invoke_async(&mut connection)
                .await
                .map_err(|err| RedisStoreError::redis("acquire_lease", err))?;
            if taken > 0 {
                let connection = self.connection.clone();
                let release = Box::new(
                    move || -> BoxFuture<'static, Result<(), fhir_smart::Error>> {
                        Box::pin(async move {
                            let mut connection = connection;
                            let _: i64 = redis::Script::new(RELEASE)
                                .key(&keys[0])
                                .key(&keys[1])
                                .arg(&holder)
                                .invoke_async(&mut connection)
                                .await
                                .map_err(|err| RedisStoreError::redis("release_lease", err))?;
                            Ok(())
                        })
                    },
                );
                return Ok(RenewalLease::new(release, taken == 2));
            }
            if started.elapsed() >= wait {
                return Err(RedisStoreError::LeaseTimeout {
                    key: redis_key,
                    waited: wait,
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_LEASE_POLL);
        }
    }

    async fn remove(&self, key: &StoreKey) -> Result<(), RedisStoreError> {
        let mut connection = self.connection.clone();
        let _: i64 = redis::cmd("DEL")
            .arg(self.redis_key(key))
            .query_async(&mut connection)
            .await
            .map_err(|err| RedisStoreError::redis("delete", err))?;
        Ok(())
    }
}

impl TokenStore for RedisTokenStore {
    fn get<'a>(
        &'a self,
        key: &'a StoreKey,
    ) -> BoxFuture<'a, Result<Option<StoredToken>, fhir_smart::Error>> {
        Box::pin(async move { Ok(self.read(key).await?) })
    }

    fn set<'a>(
        &'a self,
        key: &'a StoreKey,
        token: StoredToken,
    ) -> BoxFuture<'a, Result<(), fhir_smart::Error>> {
        Box::pin(async move {
            self.write(key, None, &token, "set").await?;
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), fhir_smart::Error>> {
        Box::pin(async move { Ok(self.remove(key).await?) })
    }

    fn acquire_lease<'a>(
        &'a self,
        key: &'a StoreKey,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<RenewalLease>, fhir_smart::Error>> {
        Box::pin(async move { Ok(Some(self.lease(key, ttl).await?)) })
    }

    fn compare_and_set<'a>(
        &'a self,
        key: &'a StoreKey,
        expected: Option<u64>,
        token: StoredToken,
    ) -> BoxFuture<'a, Result<bool, fhir_smart::Error>> {
        Box::pin(async move {
            Ok(self
                .write(key, Some(expected), &token, "compare_and_set")
                .await?)
        })
    }
}
