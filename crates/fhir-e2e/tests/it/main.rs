//! End-to-end tests against the real servers of `sandbox/`: every REST interaction of
//! `fhir-core` against Medplum's FHIR server, behind oidc-provider's tokens.

// Tests unwrap freely: a panic is a test failure with a precise location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(unreachable_pub, missing_docs)]

mod bulk;
mod rest;
mod typed_rest;
