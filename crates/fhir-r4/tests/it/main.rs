//! Integration tests of the R4 models: fidelity rules, bad input and size budgets.

// Test helpers outside `#[test]` functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bad_input;
#[cfg(feature = "client")]
mod client_support;
mod fidelity;
mod open_values;
mod sizes;
#[cfg(all(feature = "client", feature = "patient", feature = "observation"))]
mod typed_bundles;
#[cfg(all(feature = "client", feature = "patient"))]
mod typed_operations;
#[cfg(all(feature = "client", feature = "patient", feature = "observation"))]
mod typed_pages;
#[cfg(all(
    feature = "client",
    feature = "rest",
    feature = "patient",
    feature = "observation"
))]
mod typed_search;
