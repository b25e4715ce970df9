//! Integration tests of the R4 models: fidelity rules, bad input, strict and lenient decoding
//! and size budgets.

// Test helpers outside `#[test]` functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bad_input;
#[cfg(feature = "patient")]
mod byte_order_mark;
#[cfg(feature = "client")]
mod client_support;
mod construction;
mod fidelity;
#[cfg(all(
    feature = "patient",
    feature = "observation",
    feature = "bundle",
    feature = "basic"
))]
mod lenient_decoding;
mod open_values;
mod operation_outcome;
mod required_codes;
mod sizes;
#[cfg(all(
    feature = "patient",
    feature = "observation",
    feature = "bundle",
    feature = "parameters",
    feature = "basic"
))]
mod strict_decoding;
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
