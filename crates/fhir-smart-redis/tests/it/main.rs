//! fhir-smart-redis against a real `redis-server` each test starts on a free loopback port.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(unreachable_pub, missing_docs)]

mod support;

mod client;
mod fleet;
mod lease;
mod store;
