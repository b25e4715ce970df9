//! SMART on FHIR 2.x for Rust clients: SMART App Launch (standalone and EHR) and Backend
//! Services, plugged into [`fhir_core`] through its [`AuthProvider`](fhir_core::AuthProvider)
//! trait.
//!
//! # Contents
//!
//! - [Backend Services](#backend-services)
//! - [Standalone launch](#standalone-launch)
//! - [EHR launch](#ehr-launch)
//! - [Restoring a launch](#restoring-a-launch)
//! - [Primitives for your own session layer](#primitives-for-your-own-session-layer)
//! - [Scopes](#scopes)
//! - [Keys for `private_key_jwt`](#keys-for-private_key_jwt)
//! - [Configuration from the environment](#configuration-from-the-environment)
//! - [Errors](#errors)
//! - [Security](#security)
//! - [Crate organization](#crate-organization)
//!
//! # Backend Services
//!
//! A system client authenticates with a signed client assertion (ES384 or RS384) and gets a
//! new token, with a new assertion, whenever the old one is about to expire.
//!
//! ```no_run
//! use fhir_smart::BackendServices;
//! use fhir_smart::keys::SigningKey;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let key = SigningKey::from_pem(&std::fs::read_to_string("private.pem")?, "key-1", None)?;
//! let smart = BackendServices::new(
//!     "https://fhir.example.org/r4".parse()?,
//!     "backend-client-id",
//!     key,
//!     "system/Patient.rs system/Observation.rs".parse()?,
//! )
//! .connect() // discovery + first token
//! .await?;
//! println!("granted: {}", smart.granted_scope().unwrap_or_default());
//!
//! let fhir = fhir_core::Client::builder("https://fhir.example.org/r4").auth(smart).build()?;
//! let page = fhir.search_json("Patient").count(5).send().await?;
//! println!("{} entries", page.entries().len());
//! # Ok(()) }
//! ```
//!
//! # Standalone launch
//!
//! Two steps, like a web app's `/login` and `/callback` routes. The
//! [`PendingAuthorization`] of step one is kept until the callback, bound to the browser's
//! session: [`PendingAuthorizations`] does that in memory (keyed by state, bound to the
//! session id, expiring, bounded); the record is also serializable for a session store.
//!
//! ```no_run
//! use fhir_smart::AppLaunch;
//!
//! # async fn demo(callback_url: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let app = AppLaunch::new(
//!     "my-app",
//!     "https://app.example.org/callback",
//!     "openid fhirUser launch/patient patient/Observation.rs offline_access".parse()?,
//! )
//! .fhir_base("https://fhir.example.org/r4");
//! // With `openid`, the id_token is verified by default (signature with the issuer's JWKS,
//! // iss, aud, exp and nonce); `.verify_id_token(false)` is the explicit opt-out.
//!
//! // Step one: redirect the browser to `request.url`; keep `request.pending`.
//! let request = app.standalone().await?;
//! let pending = request.pending;
//!
//! // Step two, at the redirect URI: check state, exchange the code (PKCE S256).
//! let smart = app.complete(pending, callback_url).await?;
//! println!("patient: {:?}", smart.patient_id());
//! println!("user: {:?}", smart.fhir_user().map(|user| user.url));
//! let fhir = fhir_core::Client::builder("https://fhir.example.org/r4").auth(smart).build()?;
//! # let _ = fhir;
//! # Ok(()) }
//! ```
//!
//! # EHR launch
//!
//! The EHR opens the app's launch URL with `iss` and `launch`. The `iss` is checked against
//! an allow-list before any request is made, `aud` is set to it, and `launch` is echoed byte
//! for byte. The launch is one-way: later patient changes in the EHR are not synchronized.
//!
//! ```no_run
//! use fhir_smart::{AppLaunch, LaunchParams};
//!
//! # async fn demo(launch_url: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let app = AppLaunch::new("my-app", "https://app.example.org/callback", "patient/*.rs openid fhirUser".parse()?)
//!     .allow_iss("https://ehr.example.org/fhir");
//! let request = app.ehr(&LaunchParams::from_url(launch_url)?).await?;
//! println!("redirect to {}", request.url);
//! # Ok(()) }
//! ```
//!
//! # Restoring a launch
//!
//! With a shared [`TokenStore`] ([`AppLaunch::store`], keyed by the app's user key and the
//! launch), a launch's client is rebuilt in another request or process in one call: keep
//! [`SmartClient::launch_session`] (a serializable [`LaunchSession`] without secrets) with
//! the user's session, and give it to [`AppLaunch::restore`]. The restored client uses the
//! newest stored token set (rotated refresh tokens, refreshed and verified id_tokens) and
//! checks later id_tokens like the launch did.
//!
//! # A fleet of processes on one registration
//!
//! ETL and export jobs run as many workers on many machines with one client registration.
//! Give every worker the same shared store, one that implements
//! [`TokenStore::compare_and_set`] atomically and [`TokenStore::acquire_lease`]: the
//! `fhir-smart-redis` crate's `RedisTokenStore` does both on Redis (and encrypts the sets
//! at rest). Each renewal then happens in one process at a time: the others wait for the
//! lease, read the set it stored and use it, so a rotating refresh token is presented
//! exactly once, and a grant the server would revoke on reuse survives. Backend Services
//! workers configure it with [`BackendServices::store`]; App Launch workers with
//! [`AppLaunch::store`] and [`AppLaunch::restore`] from a [`LaunchSession`] the launching
//! process handed them. `cargo run -p fhir-smart-redis --example fleet` runs such a fleet.
//!
//! # Primitives for your own session layer
//!
//! Apps that keep state, PKCE verifier and nonce in their own session use the two steps
//! under [`AppLaunch`] directly: [`AuthorizeUrl`] builds the authorize request from the
//! caller's [`State`](state::State) and [`PkceVerifier`](pkce::PkceVerifier), and
//! [`exchange_code`] exchanges the code (with the client's authentication) for a
//! [`TokenResponse`](token::TokenResponse), which [`SmartClient::builder`] then keeps fresh.
//! The app then owns what `AppLaunch` does for it: the constant-time state check, binding
//! to the session, expiry, and verifying the id_token
//! ([`IdTokenVerifier`](id_token::IdTokenVerifier)).
//!
//! # Scopes
//!
//! [`scopes::Scopes`] parses and prints v1 (`patient/Observation.read`) and v2
//! (`patient/Observation.rs?category=…`) scopes, converts between them, and checks whether a
//! granted scope string covers a request (down-scoping is normal).
//!
//! # Keys for `private_key_jwt`
//!
//! [`keys::SigningKey`] imports PKCS#8 PEM or a private JWK, generates keys, and exports the
//! public JWKS ([`keys::public_jwks_json`]) for registration; RSA keys under 2048 bits and
//! key/algorithm mismatches are refused.
//!
//! # Configuration from the environment
//!
//! [`SmartEnv`] reads `SMART_ISS` (or `FHIR_BASE_URL`), `SMART_CLIENT_ID`,
//! `SMART_REDIRECT_URI`, `SMART_SCOPE`, `SMART_CLIENT_SECRET`, `SMART_PRIVATE_KEY` (a path,
//! PEM or a JWK), `SMART_KID`, `SMART_ALG` and `SMART_JKU`; values set in code win, and a
//! missing or invalid value is an [`Error::Configuration`] naming the variable.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fhir_smart::Error> {
//! let smart = fhir_smart::SmartEnv::from_env()
//!     .scope("system/*.rs")
//!     .backend_services()?
//!     .connect()
//!     .await?;
//! # let _ = smart;
//! # Ok(()) }
//! ```
//!
//! # Errors
//!
//! One [`Error`] enum: discovery, token-endpoint errors with the RFC 6749 code
//! ([`TokenErrorCode`]), authorization-callback errors ([`AuthorizeErrorCode`]), state
//! mismatch, configuration (naming the environment variable), keys, transport.
//! [`Error::to_json`] gives a log-safe JSON object.
//!
//! # Security
//!
//! - Tokens, secrets, codes, keys and PKCE verifiers live in newtypes ([`secret`]) whose
//!   `Debug` is redacted; no error message contains them.
//! - Plain `http://` is refused for discovery, authorize and token endpoints, except to
//!   loopback hosts when [`HttpClient::allow_loopback_http`] is set.
//! - Token requests are never retried; discovery GETs are retried once after a transport
//!   error.
//! - The access token is only attached to URLs under the FHIR base URL.
//! - Every App Launch stores its tokens under its own key (a random launch id, see
//!   [`StoreKey::for_launch`]), and a client never adopts a stored token set of another
//!   launch (another patient).
//! - **Refresh-token rotation across processes needs a store made for it.** Several
//!   processes sharing one [`TokenStore`] (a database, a cache) need a store that implements
//!   [`TokenStore::compare_and_set`] atomically (the default implementation is not atomic)
//!   and [`TokenStore::acquire_lease`] (see above); the in-memory default is safe within one
//!   process. Without them, two processes may present the same refresh token, and a server
//!   that detects reuse may revoke the grant.
//!
//! # Crate organization
//!
//! - [`BackendServices`], [`AppLaunch`] (and [`Registrations`] for several EHRs): the two
//!   flows; both yield a [`SmartClient`]. [`AuthorizeUrl`] and [`exchange_code`]: the steps
//!   of an App Launch as primitives.
//! - [`SmartClient`]: the `AuthProvider` that keeps tokens fresh; [`TokenStore`] persists them.
//! - [`SmartEnv`]: configuration from `SMART_*` environment variables.
//! - [`discovery`] (with [`discovery::DiscoveryCache`]), [`scopes`], [`token`],
//!   [`client_auth`], [`keys`], [`assertion`], [`pkce`], [`state`], [`id_token`], [`secret`]:
//!   the building blocks, usable on their own.
//!
//! The examples `keygen`, `backend_services` and `standalone_launch` run against a real
//! server; see their file headers.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod assertion;
mod authorize;
mod backend;
mod client;
pub mod client_auth;
pub mod discovery;
pub mod env;
mod error;
mod exchange;
mod http;
pub mod id_token;
mod jwks;
pub mod keys;
pub mod launch;
mod launch_session;
pub mod pending;
pub mod pkce;
mod redact;
pub mod scopes;
pub mod secret;
pub mod state;
pub mod store;
pub mod token;
mod token_options;
mod token_request;

pub use authorize::AuthorizeUrl;
pub use backend::BackendServices;
pub use client::{
    DEFAULT_MIN_TOKEN_REUSE, DEFAULT_REFRESH_SKEW, DEFAULT_TOKEN_LIFETIME, SmartClient,
    SmartClientBuilder,
};
pub use env::SmartEnv;
#[allow(deprecated)]
pub use error::BoxError;
pub use error::{AuthorizeErrorCode, Error, TokenEndpointError, TokenErrorCode};
pub use exchange::exchange_code;
pub use http::HttpClient;
pub use launch::{
    AppLaunch, AuthorizationRequest, LaunchParams, LaunchSession, PendingAuthorization,
    Registrations,
};
pub use pending::PendingAuthorizations;
pub use store::{MemoryTokenStore, ReleaseLease, RenewalLease, StoreKey, StoredToken, TokenStore};
pub use token_options::{DEFAULT_LEASE_TTL, TokenClientOptions};
