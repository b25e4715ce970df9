//! A Redis [`TokenStore`](fhir_smart::TokenStore) for fhir-smart, so that many processes
//! share one SMART client registration's token sets without presenting a rotated refresh
//! token twice.
//!
//! ```no_run
//! # async fn demo(key: fhir_smart::keys::SigningKey) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//!
//! use fhir_smart::BackendServices;
//! use fhir_smart_redis::{EncryptionKey, RedisTokenStore};
//!
//! let store = RedisTokenStore::connect("redis://127.0.0.1:6379/")
//!     .await?
//!     .namespace("etl-prod")
//!     .encryption(EncryptionKey::from_base64(&std::env::var("TOKEN_STORE_KEY")?)?);
//! let smart = BackendServices::new(
//!     "https://fhir.example.org/r4".parse()?,
//!     "etl-client",
//!     key,
//!     "system/*.rs".parse()?,
//! )
//! .store(Arc::new(store))
//! .connect()
//! .await?;
//! # let _ = smart;
//! # Ok(()) }
//! ```
//!
//! # What is stored
//!
//! One Redis hash per token set, under `{namespace}:{SHA-256 of the store key}` (the store key
//! names the client, scope and subject; the hash keeps them out of `KEYS` listings): its
//! `version` and the token set, as JSON or, with an [`EncryptionKey`], sealed with
//! AES-256-GCM under a fresh nonce, bound to its Redis key and version so a value copied to
//! another key or given another version does not open.
//!
//! # Atomicity and expiry
//!
//! [`compare_and_set`](fhir_smart::TokenStore::compare_and_set) is one Lua script: the version
//! is compared and the set written in one step, so of two processes that renewed from the
//! same version exactly one write lands. A set without a refresh token expires shortly after
//! its access token (a grace period); a set with one is kept (or kept for
//! [`RedisTokenStore::refresh_token_ttl`]), since its refresh token outlives the access
//! token.
//!
//! # Errors
//!
//! Store failures reach the client as [`fhir_smart::Error::Store`] with the text of a
//! [`RedisStoreError`]; neither ever holds a token, a key or a stored value.

mod cipher;
mod error;
mod store;

pub use cipher::EncryptionKey;
pub use error::RedisStoreError;
pub use store::{DEFAULT_EXPIRY_GRACE, DEFAULT_NAMESPACE, RedisTokenStore};
