//! Integration tests of the R4 models: fidelity rules, bad input and size budgets.

// Test helpers outside `#[test]` functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bad_input;
mod fidelity;
mod open_values;
mod sizes;
