//! [`RedisStoreError`]: what can go wrong between the store and Redis, without the values.

/// A Redis token store failure.
///
/// Its text never holds a token, the encryption key or a stored value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// Redis could not be reached or answered with an error.
    #[error("redis {operation} failed ({kind})")]
    Redis {
        /// `get`, `set`, `compare_and_set`, `delete` or `connect`.
        operation: &'static str,
        /// The kind of failure (`I/O error`, `response error`, …), without the command.
        kind: String,
        /// The client's error.
        #[source]
        source: redis::RedisError,
    },
    /// A stored set did not open with the configured key (another key, or altered).
    #[error(
        "the stored token set under {key} does not decrypt with the configured key (another key, or altered)"
    )]
    Decrypt {
        /// The Redis key.
        key: String,
    },
    /// A stored set is encrypted but no key is configured, or plain while one is.
    #[error("the stored token set under {key} is {found}, but the store expects {expected}")]
    Format {
        /// The Redis key.
        key: String,
        /// What was stored (`json`, `aes256gcm`, or what else was found).
        found: String,
        /// What the store is configured for.
        expected: &'static str,
    },
    /// A stored set is not a token set (its JSON or its version field is malformed).
    #[error("the stored token set under {key} is malformed: {reason}")]
    Corrupt {
        /// The Redis key.
        key: String,
        /// What is wrong (never the value).
        reason: &'static str,
    },
    /// Another process held the renewal lease longer than the store waits.
    #[error("the renewal lease of {key} was not free within {waited:?}")]
    LeaseTimeout {
        /// The Redis key of the token set.
        key: String,
        /// How long the store waited.
        waited: std::time::Duration,
    },
    /// The encryption key is not 32 bytes of base64.
    #[error("the encryption key must be 32 bytes (base64): {reason}")]
    InvalidKey {
        /// What is wrong.
        reason: &'static str,
    },
}

impl RedisStoreError {
    pub(crate) fn redis(operation: &'static str, source: redis::RedisError) -> Self {
        Self::Redis {
            operation,
            kind: format!("{:?}", source.kind()),
            source,
        }
    }
}

impl From<RedisStoreError> for fhir_smart::Error {
    fn from(err: RedisStoreError) -> Self {
        Self::Store {
            reason: err.to_string(),
        }
    }
}
