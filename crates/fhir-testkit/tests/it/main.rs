//! The sandbox end to end: discovery, the three grants, client authentication, the FHIR API
//! and failure injection, driven over HTTP as a client would.

// Tests unwrap freely: a panic is a test failure with a precise location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(unreachable_pub, missing_docs)]

mod support;

mod app_launch;
mod backend;
mod bulk_export;
mod bundles;
mod fhir_api;
mod quickstart;
