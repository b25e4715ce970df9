//! The hostile-server tier: a loopback server that misbehaves on purpose, one trap per promise
//! of the transport (bounded memory, bounded time, credentials only under the base, safe
//! retries, honest paging, lossless writes, no secret in any output). Each test asserts what
//! the server saw, the error kind, and where it matters, the peak heap.

// Tests unwrap freely: a panic is a test failure with a precise location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Helpers are `pub` for the test modules; nothing here is a public API.
#![allow(unreachable_pub, missing_docs)]

use peakmem_alloc::{INSTRUMENTED_SYSTEM, PeakMemAlloc};
use std::alloc::System;

/// Every allocation of this test binary is counted, so memory bounds are measured, not assumed.
#[global_allocator]
static GLOBAL: &PeakMemAlloc<System> = &INSTRUMENTED_SYSTEM;

mod server;
mod support;

mod body_size;
mod canary;
mod integrity;
mod paging;
mod redirects;
mod retries;
mod time_bounds;
