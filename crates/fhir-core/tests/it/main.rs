//! Integration tests of the client against wiremock servers: every interaction, asserting the
//! exact request the server received and the typed result.

// Tests unwrap freely: a panic is a test failure with a precise location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Helpers are `pub` for the test modules; nothing here is a public API.
#![allow(unreachable_pub, missing_docs)]

mod support;

mod auth;
mod bundles;
mod errors;
mod exchange;
mod history;
mod operations;
mod read;
mod retries;
mod search;
mod search_outcomes;
mod write;
