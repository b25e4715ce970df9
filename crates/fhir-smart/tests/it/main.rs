//! Integration tests of fhir-smart: flows against wiremock servers, and end to end (`e2e`)
//! against the real SMART and FHIR servers of `sandbox/`. Loopback only, no network.
// Tests may unwrap and panic: a failure is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod backend;
mod canary;
mod discovery;
mod e2e;
mod id_token;
mod launch;
mod lease;
mod openid;
mod pending;
mod primitives;
mod refresh;
mod renewal;
mod restore;
mod secrets;
mod support;
