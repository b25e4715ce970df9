//! fhir-bulk against wiremock servers: the exact protocol (headers, parameters, bodies,
//! statuses, Retry-After forms, token rules), downloads, consumption and resume.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(unreachable_pub, missing_docs)]

mod support;

mod download;
mod example;
mod hostile;
mod ignored;
mod kickoff;
mod sandbox;
mod secrets;
mod sink;
mod status;
