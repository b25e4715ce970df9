//! Integration tests of the generator: snapshots of generated code, and proof that they compile.

// Test helpers outside `#[test]` functions may unwrap and panic too: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod compile;
mod snapshots;
