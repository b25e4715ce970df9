//! An in-process SMART on FHIR sandbox for tests: an authorization server and a FHIR server on
//! a loopback port, started in milliseconds, with no Node, no Docker and no network.
//!
//! - **Discovery**: `/.well-known/smart-configuration` on the FHIR base, the OpenID
//!   configuration, a JWKS for id_tokens, and a CapabilityStatement with `oauth-uris`.
//! - **Authorize** without a UI: the code is issued at once (the user always approves), PKCE S256
//!   is required, `aud` must be the FHIR base, `launch` must name a launch created with
//!   [`Sandbox::launch`].
//! - **Token**: `authorization_code` (PKCE checked, codes single-use), `refresh_token` with
//!   rotation (a reused refresh token revokes its grant), `client_credentials`; clients
//!   authenticate as public, with `client_secret_basic` / `client_secret_post`, or with
//!   `private_key_jwt` assertions verified against their registered JWKS by `jsonwebtoken`
//!   (ES384 or RS384; `typ`, `kid`, `iss = sub`, `aud`, `exp` ≤ 5 minutes, single-use `jti`).
//!   Launch context (`patient`, `encounter`) and an RS256 id_token with `fhirUser` come back
//!   in the token response.
//! - **FHIR**: an in-memory store seeded with 20 Patients, 40 Encounters and 100 Observations
//!   (LOINC-coded vital signs and glucose): read, vread, search with paging (`_count`,
//!   `_offset`, `next` links), create with `If-None-Exist`, update with `If-Match`, delete and
//!   conditional delete. **batch** and **transaction** Bundles POSTed to the base: a
//!   transaction is all or nothing (the store is restored on the first failing entry, whose
//!   status and diagnostics the OperationOutcome carries, with `Bundle.entry[n]`), runs
//!   deletes, creates, updates, then reads, and rewrites references to `urn:uuid:` full URLs
//!   into the ids it assigned; a resource may appear in it once. Every request needs a
//!   valid, unexpired token whose scopes allow the interaction (each entry's, for Bundles).
//! - **Bulk Data export** (`$export`, IG 2.0.0) over the same store: kick-off at system,
//!   `Patient` and `Group/{id}` level by GET or POST `Parameters` (`Accept:
//!   application/fhir+json` and `Prefer: respond-async` required); `_type`, `_since`,
//!   `_until` (UTC instants), `patient`, `_typeFilter` (the store's search parameters) and
//!   `_elements` applied; other parameters refused under `Prefer: handling=strict`, otherwise
//!   ignored and reported in the manifest's `error` file. The status URL answers 202 with
//!   `X-Progress` and `Retry-After` [`export_polls`](SandboxBuilder::export_polls) times, then
//!   the manifest (with `Expires`); DELETE cancels. Files are NDJSON of at most
//!   [`export_max_lines_per_file`](SandboxBuilder::export_max_lines_per_file) lines with
//!   `Range` support, behind the token on the FHIR origin, or, with
//!   [`export_requires_access_token(false)`](SandboxBuilder::export_requires_access_token),
//!   signed URLs on a second "storage" origin that refuses any request carrying an
//!   `Authorization` header (as object stores do). [`Sandbox::export_requests`] lists what
//!   arrived.
//! - **Failure injection** ([`Failure`]): expired tokens, 429 with `Retry-After`, 5xx,
//!   malformed JSON; for exports, transient status errors, 429 with any `Retry-After` value
//!   (absurd ones too), expired files and downloads cut off mid-file.
//!
//! # Example: a downstream test
//!
//! ```
//! use fhir_testkit::{ClientRegistration, Sandbox};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let sandbox = Sandbox::start().await;
//! // A token for tests that are not about authentication:
//! let token = sandbox.issue_access_token("system/*.cruds");
//! let client = fhir_core::Client::builder(&sandbox.fhir_base_url())
//!     .auth(fhir_core::BearerToken::new(token).unwrap())
//!     .build()
//!     .unwrap();
//! let page = client.search_json("Patient").param("family", "Chalmers").send().await.unwrap();
//! assert_eq!(page.total(), Some(1));
//!
//! // Register clients for tests that are:
//! sandbox.register_client(ClientRegistration::confidential(
//!     "my-app",
//!     "my-secret",
//!     ["http://127.0.0.1:9999/callback"],
//! ));
//! # }
//! ```
//!
//! # Limits
//!
//! The sandbox is a test double, honest about what it is: scopes are checked per resource type
//! and interaction but not filtered by patient compartment; search knows the parameters listed
//! in the store's docs and reports others as ignored in an OperationOutcome entry; there is no
//! `_include`, history, PATCH or conditional update. Exports have no `deleted` entries, no
//! manifest pages and no gzip.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

mod bulk;
mod examples;
mod fhir;
pub mod mock;
mod oauth;
mod records;
mod registration;
mod router;
mod scopes;
mod state;
mod store;

pub use examples::example_binary;
pub use records::{ExportRequestKind, ExportRequestRecord, TokenRequestRecord};
#[allow(deprecated)]
pub use registration::ClientAuth;
pub use registration::{ClientRegistration, TokenEndpointAuth};
use router::{Router, StorageRouter};
use state::{Grant, Injected, LaunchContext, QueuedFailure, Settings, State, random_token};
use store::Store;

/// The seed data: a Bundle of type `collection`.
const SEED_BUNDLE: &str = include_str!("../fixtures/seed-bundle.json");

/// A failure to inject into the FHIR API.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// Every access token issued so far expires now: the next FHIR request with one gets 401.
    ExpireAccessTokens,
    /// The next `times` FHIR requests get 429 Too Many Requests with `Retry-After`.
    TooManyRequests {
        /// The `Retry-After` value, in seconds.
        retry_after_secs: u64,
        /// How many requests get it.
        times: usize,
    },
    /// The next `times` FHIR requests get `status` (a 5xx) with an OperationOutcome.
    ServerError {
        /// The status to answer with.
        status: u16,
        /// How many requests get it.
        times: usize,
    },
    /// The next `times` FHIR requests get 200 with a truncated JSON body.
    MalformedResponse {
        /// How many requests get it.
        times: usize,
    },
    /// The next `times` polls of any export's status URL get `status` (a 5xx) with an
    /// OperationOutcome whose issue code is `transient`.
    ExportStatusError {
        /// The status to answer with.
        status: u16,
        /// How many polls get it.
        times: usize,
    },
    /// The next `times` polls of any export's status URL get 429 with this `Retry-After`
    /// value, sent as given: seconds, an HTTP date, or something absurd (`"86400"`, an epoch
    /// in milliseconds, garbage).
    ExportTooManyRequests {
        /// The `Retry-After` header value.
        retry_after: String,
        /// How many polls get it.
        times: usize,
    },
    /// Every file of every export started so far answers 410 Gone from now on.
    ExpireExportFiles,
    /// The next `times` file downloads end halfway, inside a line, as a response does whose
    /// connection closed early when nothing declared its length.
    TruncateExportDownloads {
        /// How many downloads are cut off.
        times: usize,
    },
}

/// Configures a [`Sandbox`].
#[derive(Debug, Clone)]
pub struct SandboxBuilder {
    access_token_ttl: Duration,
    token_latency: Duration,
    require_auth: bool,
    default_patient: Option<String>,
    seed: bool,
    export: bulk::ExportSettings,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            access_token_ttl: Duration::from_secs(300),
            token_latency: Duration::ZERO,
            require_auth: true,
            default_patient: None,
            seed: true,
            export: bulk::ExportSettings::default(),
        }
    }
}

impl SandboxBuilder {
    /// The lifetime of access tokens (default 300 s).
    #[must_use]
    pub fn access_token_ttl(mut self, ttl: Duration) -> Self {
        self.access_token_ttl = ttl;
        self
    }

    /// How long the token endpoint takes to answer (default none): real ones take tens to
    /// hundreds of milliseconds, the window in which clients sharing a grant can race. The
    /// grant changes when the request arrives; the answer leaves after the latency.
    #[must_use]
    pub fn token_latency(mut self, latency: Duration) -> Self {
        self.token_latency = latency;
        self
    }

    /// Whether the FHIR API requires a token (default `true`).
    #[must_use]
    pub fn require_auth(mut self, require: bool) -> Self {
        self.require_auth = require;
        self
    }

    /// The patient a standalone launch with `launch/patient` selects (default: the first one).
    #[must_use]
    pub fn default_patient(mut self, id: &str) -> Self {
        self.default_patient = Some(id.to_owned());
        self
    }

    /// How many polls of an export's status URL answer 202 before the manifest (default 1).
    #[must_use]
    pub fn export_polls(mut self, polls: u32) -> Self {
        self.export.polls_before_done = polls;
        self
    }

    /// The `Retry-After` of an export's 202 answers, in seconds (default 1).
    #[must_use]
    pub fn export_retry_after(mut self, seconds: u64) -> Self {
        self.export.retry_after_secs = seconds;
        self
    }

    /// The most lines in one export file (default 50, so the seed's 100 Observations come in
    /// two files).
    #[must_use]
    pub fn export_max_lines_per_file(mut self, lines: usize) -> Self {
        self.export.max_lines_per_file = lines.max(1);
        self
    }

    /// Whether export files need the access token (default `true`: on the FHIR origin behind
    /// the token). With `false` the manifest says `requiresAccessToken: false` and the files
    /// are signed URLs on [`Sandbox::storage_url`], which refuses requests that carry an
    /// `Authorization` header.
    #[must_use]
    pub fn export_requires_access_token(mut self, requires: bool) -> Self {
        self.export.requires_access_token = requires;
        self
    }

    /// How long each export file download waits before it answers (default none): time for
    /// a test to interrupt an export midway.
    #[must_use]
    pub fn export_download_delay(mut self, delay: Duration) -> Self {
        self.export.download_delay = delay;
        self
    }

    /// Starts with an empty store instead of the seed data.
    #[must_use]
    pub fn empty(mut self) -> Self {
        self.seed = false;
        self
    }

    /// Starts the sandbox on a free loopback port.
    pub async fn start(self) -> Sandbox {
        let server = MockServer::start().await;
        let mut store = Store::default();
        if self.seed {
            seed(&mut store);
        }
        let settings = Settings {
            access_token_ttl: self.access_token_ttl,
            token_latency: self.token_latency,
            require_auth: self.require_auth,
            default_patient: self.default_patient,
        };
        let storage = MockServer::start().await;
        let mut state = State::new(server.uri(), settings, store);
        state.export.settings = self.export;
        state.export.storage_root = storage.uri();
        let state = Arc::new(Mutex::new(state));
        Mock::given(any())
            .respond_with(Router {
                state: Arc::clone(&state),
            })
            .mount(&server)
            .await;
        Mock::given(any())
            .respond_with(StorageRouter {
                state: Arc::clone(&state),
            })
            .mount(&storage)
            .await;
        Sandbox {
            server,
            storage,
            state,
        }
    }
}

fn seed(store: &mut Store) {
    let Ok(bundle) = serde_json::from_str::<Value>(SEED_BUNDLE) else {
        return;
    };
    for entry in bundle["entry"].as_array().into_iter().flatten() {
        store.put(entry["resource"].clone(), None);
    }
}

/// A running sandbox. Dropping it stops the server.
#[derive(Debug)]
pub struct Sandbox {
    server: MockServer,
    /// The storage origin of export files that need no token.
    storage: MockServer,
    state: Arc<Mutex<State>>,
}

impl Sandbox {
    /// Starts a sandbox with the default settings and the seed data.
    pub async fn start() -> Self {
        SandboxBuilder::default().start().await
    }

    /// A builder for other settings.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The server's root URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// The root URL of the storage origin (another loopback port) that serves export files
    /// as signed URLs when they need no token.
    pub fn storage_url(&self) -> String {
        self.storage.uri()
    }

    /// The FHIR base URL (`http://127.0.0.1:<port>/fhir`), the `iss` / `aud` of launches.
    pub fn fhir_base_url(&self) -> String {
        self.state().fhir_base()
    }

    /// The token endpoint.
    pub fn token_endpoint(&self) -> String {
        self.state().token_endpoint()
    }

    /// The authorize endpoint.
    pub fn authorize_endpoint(&self) -> String {
        format!("{}/auth/authorize", self.url())
    }

    /// Registers (or replaces) a client.
    pub fn register_client(&self, registration: ClientRegistration) {
        self.state()
            .clients
            .insert(registration.client_id.clone(), registration);
    }

    /// Creates an EHR launch for `patient` (and `encounter`); returns the opaque `launch` value
    /// to pass to the app with `iss` = [`fhir_base_url`](Self::fhir_base_url).
    pub fn launch(&self, patient: &str, encounter: Option<&str>) -> String {
        // Characters that break naive query handling, so apps must echo it byte for byte.
        let launch = format!("{}+/=", random_token());
        self.state().launches.insert(
            launch.clone(),
            LaunchContext {
                patient: Some(patient.to_owned()),
                encounter: encounter.map(str::to_owned),
            },
        );
        launch
    }

    /// Issues an access token directly, without OAuth, for tests that are not about auth.
    pub fn issue_access_token(&self, scope: &str) -> String {
        let mut state = self.state();
        let token = random_token();
        let expires = Instant::now() + state.settings.access_token_ttl;
        state.access_tokens.insert(
            token.clone(),
            Grant {
                scope: scope.to_owned(),
                expires,
            },
        );
        token
    }

    /// Injects a failure.
    pub fn inject(&self, failure: Failure) {
        let mut state = self.state();
        let (injected, remaining) = match failure {
            Failure::ExpireAccessTokens => {
                let now = Instant::now();
                for grant in state.access_tokens.values_mut() {
                    grant.expires = now;
                }
                return;
            }
            Failure::TooManyRequests {
                retry_after_secs,
                times,
            } => (Injected::TooManyRequests { retry_after_secs }, times),
            Failure::ServerError { status, times } => (Injected::ServerError { status }, times),
            Failure::MalformedResponse { times } => (Injected::MalformedResponse, times),
            Failure::ExportStatusError { status, times } => {
                state
                    .export
                    .queue_status_failure(bulk::StatusFailure::Transient { status }, times);
                return;
            }
            Failure::ExportTooManyRequests { retry_after, times } => {
                state.export.queue_status_failure(
                    bulk::StatusFailure::TooManyRequests { retry_after },
                    times,
                );
                return;
            }
            Failure::ExpireExportFiles => {
                state.export.expire_files();
                return;
            }
            Failure::TruncateExportDownloads { times } => {
                state.export.truncate_downloads(times);
                return;
            }
        };
        if remaining > 0 {
            state.failures.push_back(QueuedFailure {
                injected,
                remaining,
            });
        }
    }

    /// Every request the export endpoints (kick-off, status, files on either origin)
    /// received, in order.
    pub fn export_requests(&self) -> Vec<ExportRequestRecord> {
        self.state().export.requests.clone()
    }

    /// Every request the token endpoint received, in order.
    pub fn token_requests(&self) -> Vec<TokenRequestRecord> {
        self.state().token_requests.clone()
    }

    /// The number of current resources of each type.
    pub fn resource_counts(&self) -> BTreeMap<String, usize> {
        self.state().store.counts()
    }

    /// Plays the user's browser: requests `authorize_url` (as built by the app) and returns the
    /// redirect the sandbox answers with, the app's callback URL with `code` and `state` (or
    /// `error`).
    ///
    /// # Errors
    ///
    /// [`ApproveError`] when the request fails or the sandbox refuses without redirecting
    /// (an unknown client or an unregistered redirect URI).
    pub async fn approve(&self, authorize_url: &str) -> Result<url::Url, ApproveError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| ApproveError::Request(err.to_string()))?;
        let response = http
            .get(authorize_url)
            .send()
            .await
            .map_err(|err| ApproveError::Request(err.to_string()))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        match location {
            Some(location) if status == 302 => {
                url::Url::parse(&location).map_err(|err| ApproveError::Request(err.to_string()))
            }
            _ => Err(ApproveError::Refused {
                status,
                body: response.text().await.unwrap_or_default(),
            }),
        }
    }
}

/// The sandbox could not play the browser's part of an authorization.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApproveError {
    /// The HTTP request failed.
    #[error("the authorize request failed: {0}")]
    Request(String),
    /// The sandbox answered without a redirect.
    #[error("the sandbox refused the authorization ({status}): {body}")]
    Refused {
        /// The status it answered with.
        status: u16,
        /// The body it sent.
        body: String,
    },
}
