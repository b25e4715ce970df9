//! A version-agnostic async FHIR REST client.
//!
//! `fhir-core` speaks the whole FHIR RESTful API over one transport with timeouts, retries and
//! pluggable authentication, and keeps the server's `OperationOutcome` with every error. It
//! knows nothing of a particular FHIR version: it works with raw JSON ([`serde_json::Value`])
//! and with any model type that implements [`Resource`] (the `fhir-r4` crate's models do).
//!
//! # Contents
//!
//! - [Quick start](#quick-start)
//! - [Interactions](#interactions)
//! - [Errors](#errors)
//! - [Retries and authentication](#retries-and-authentication)
//! - [Bounds](#bounds)
//! - [Lossless raw JSON](#lossless-raw-json)
//! - [Crate organization](#crate-organization)
//!
//! # Quick start
//!
//! ```no_run
//! use fhir_core::{BearerToken, Client, SearchParams};
//! use futures::TryStreamExt as _;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder("https://fhir.example.org/r4")
//!     .auth(BearerToken::new("an-access-token")?)
//!     .build()?;
//!
//! // Every matching Patient across all pages, following `next` links.
//! let mut patients = client.search_json("Patient").param("family", "Smith").count(100).resources();
//! while let Some(patient) = patients.try_next().await? {
//!     println!("Patient/{}", patient["id"].as_str().unwrap_or("?"));
//! }
//!
//! // Conditional create: only if no Patient has this identifier yet.
//! let patient = serde_json::json!({"resourceType": "Patient", "identifier": [{"system": "urn:mrn", "value": "42"}]});
//! let created = client
//!     .create(&patient)
//!     .if_none_exist(SearchParams::new().with_token("identifier", Some("urn:mrn"), "42"))
//!     .send()
//!     .await?;
//! println!("Patient/{} (new: {})", created.id().unwrap_or("?"), created.created());
//! # Ok(()) }
//! ```
//!
//! # Interactions
//!
//! | Interaction | Typed | Raw JSON |
//! |---|---|---|
//! | capabilities | [`Client::capabilities`] | same, with `Value` |
//! | read / vread | [`Client::read`], [`Client::vread`] | [`Client::read_json`], [`Client::vread_json`]; lossless: [`Client::read_raw`] |
//! | conditional read | [`ReadRequest::if_none_match`](interactions::ReadRequest::if_none_match), [`ReadRequest::if_modified_since`](interactions::ReadRequest::if_modified_since) | |
//! | search (type, system, compartment; GET or POST `_search`) | [`Client::search`], [`Client::search_compartment`] | [`Client::search_json`], [`Client::search_system`], [`Client::search_compartment_json`] |
//! | paging | [`SearchRequest::pages`](interactions::SearchRequest::pages), [`entries`](interactions::SearchRequest::entries), [`resources`](interactions::SearchRequest::resources) | |
//! | create (and `If-None-Exist`) | [`Client::create`] | |
//! | update (and `If-Match`, conditional) | [`Client::update`], [`Client::update_conditional`] | |
//! | patch (JSON Patch, conditional) | [`Client::patch`], [`Client::patch_conditional`] | [`Client::patch_json`], [`Client::patch_conditional_json`] |
//! | delete (conditional) | [`Client::delete`], [`Client::delete_conditional`] | [`Client::delete_json`], [`Client::delete_conditional_json`] |
//! | history (instance, type, system) | [`Client::history`], [`Client::history_type`] | [`Client::history_json`], [`Client::history_type_json`], [`Client::history_system`] |
//! | batch / transaction, entry by entry with `urn:uuid` references | [`Client::transaction`], [`Client::batch`] | [`Client::transaction_bundle`], [`Client::batch_bundle`] |
//! | operations (`$name`, GET or POST) | [`Client::operation`] | |
//! | read any reference | [`Client::get`] | |
//!
//! Every result carries a [`ResponseMeta`]: status, ETag and version id, `Location`,
//! `Last-Modified`. `Prefer: return=` is set per request or for the client ([`Prefer`]).
//!
//! # Errors
//!
//! One [`Error`] type: [`Error::kind`] says what went wrong, [`Error::status`] and
//! [`Error::operation_outcome`] what the server said, and predicates such as
//! [`Error::is_not_found`] or [`Error::is_precondition_failed`] make branching easy. A body that
//! is not what the interaction expects is a [`ErrorKind::Decode`] error whose
//! [`DecodeError`] names the JSON path. Credentials never appear in errors.
//!
//! # Retries and authentication
//!
//! Idempotent requests (GET, PUT by id, DELETE, POST `_search`) are retried on 429, 503 and
//! connection failures; other requests (create, conditional update, patch, batch,
//! transaction, operations by POST) only on 429 or when the connection could not be opened.
//! `Retry-After` is honoured; otherwise the delay grows exponentially with jitter
//! ([`RetryPolicy`]). When a retried delete or `If-Match` update ends in 404, 409, 410 or 412 after
//! an attempt whose outcome is unknown, the error says so ([`Error::earlier_attempt_unknown`]).
//! An [`AuthProvider`] supplies the `Authorization` header, only for URLs under the base URL,
//! and gets one chance to renew credentials on a 401 before the request is retried once
//! (never on 403).
//!
//! # Bounds
//!
//! A hostile or broken server cannot exhaust the client. Every call has a deadline (retries
//! and their waits included, [`ClientBuilder::deadline`]), every wait for data an idle timeout
//! ([`ClientBuilder::read_idle_timeout`]), every body a size limit applied after
//! decompression ([`ClientBuilder::max_response_bytes`], 256 MiB by default). Redirects are
//! followed by the client itself, hop by hop: credentials only under the base URL, default
//! headers only on its origin, never from https to http, never a request body to another
//! origin ([`ClientBuilder::max_redirects`]). Paged streams stop on cycles, on links to other
//! origins and on endless empty pages (see
//! [`SearchRequest::pages`](interactions::SearchRequest::pages)). A leading UTF-8 byte-order
//! mark is accepted. What counts as a secret, and how URLs and text lose them before they
//! reach an error or a log, is in [`credentials`].
//!
//! # Lossless raw JSON
//!
//! [`serde_json::Value`] is the quick way to read any resource, but it stores numbers as
//! floats: `1.50` comes back as `1.5`. Send back what you read with a typed model (`fhir-r4`
//! keeps decimal text), or with [`RawJson`] ([`Client::read_raw`]), which keeps the exact
//! text and edits members in place. The batch and transaction builders embed each resource as
//! its own encoding, never through `Value`.
//!
//! # Crate organization
//!
//! - [`Client`], [`ClientBuilder`]: configuration; the interactions are methods on `Client`
//!   returning builders from [`interactions`].
//! - [`resource`]: the [`Resource`] trait models implement, and decode errors.
//! - [`raw`]: [`RawJson`], a resource kept as its exact text, for lossless untyped edits.
//! - [`auth`]: [`AuthProvider`] and the built-in [`NoAuth`], [`BearerToken`], [`BasicAuth`].
//! - [`params`]: [`SearchParams`] and FHIR search escaping.
//! - [`query`]: [`SearchQuery`], the hook for typed searches built by a model crate
//!   ([`Client::search_with`]), and [`escape`](query::escape); available without `client`.
//! - [`page`]: search and history [`Page`]s and their entries.
//! - [`bundle`]: batch and transaction builders and their per-entry responses.
//! - [`credentials`]: where credentials may go and how URLs and text lose their secrets.
//! - [`retry`]: [`RetryPolicy`], `Retry-After`, and the injectable [`Timer`](retry::Timer).
//! - [`exchange`]: plain HTTP through the same transport ([`Client::send_http`],
//!   [`Client::send_streaming`]) for protocols on top of FHIR REST, such as Bulk Data.
//!
//! # Features
//!
//! - `client` (default): the HTTP client. Without it the crate is only the [`Resource`] trait
//!   and its errors, for model crates that must not pull an HTTP stack.
//! - `rustls` (default) or `native-tls`: the TLS implementation.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod raw;
pub mod resource;

#[cfg(feature = "client")]
pub mod auth;
#[cfg(feature = "client")]
pub mod bundle;
#[cfg(feature = "client")]
mod client;
#[cfg(feature = "client")]
pub mod credentials;
#[cfg(feature = "client")]
mod error;
#[cfg(feature = "client")]
pub mod exchange;
#[cfg(feature = "client")]
pub mod interactions;
mod outcome;
#[cfg(feature = "client")]
pub mod page;
#[cfg(feature = "client")]
pub mod params;
#[cfg(feature = "client")]
mod patch;
pub mod query;
#[cfg(feature = "client")]
mod request;
#[cfg(feature = "client")]
mod response;
#[cfg(feature = "client")]
pub mod retry;
#[cfg(feature = "client")]
mod secret;
#[cfg(feature = "client")]
mod transport;

#[cfg(feature = "client")]
pub use auth::{AuthProvider, BasicAuth, BearerToken, NoAuth};
#[cfg(feature = "client")]
pub use bundle::{BundleBuilder, BundleResponse, EntryHandle};
#[cfg(feature = "client")]
pub use client::{Client, ClientBuilder, DEFAULT_MAX_GET_URL_LEN, DEFAULT_MAX_RESPONSE_BYTES};
#[cfg(feature = "client")]
pub use error::{Error, ErrorKind};
#[cfg(feature = "client")]
pub use http;

pub use outcome::{Issue, OperationOutcome};
#[cfg(feature = "client")]
pub use page::{MAX_BUNDLE_ENTRIES, Page, SearchOutcomes};
#[cfg(feature = "client")]
pub use params::SearchParams;
#[cfg(feature = "client")]
pub use patch::JsonPatch;
pub use query::SearchQuery;
pub use raw::RawJson;
#[cfg(feature = "client")]
pub use request::{FHIR_JSON, JSON_PATCH, Prefer};
pub use resource::{DecodeError, DecodeErrorKind, EncodeError, Resource, TypedResource};
#[cfg(feature = "client")]
pub use response::{ConditionalRead, Response, ResponseMeta, WriteBody, WriteResponse};
#[cfg(feature = "client")]
pub use retry::RetryPolicy;
#[cfg(feature = "client")]
pub use secret::SecretString;
#[cfg(feature = "client")]
pub use url::Url;
