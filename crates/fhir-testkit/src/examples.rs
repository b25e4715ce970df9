//! Finding the binary of a crate's example from its integration tests, to run it as users do.

use std::path::{Path, PathBuf};

/// The example binary `name`, which `cargo test -p <crate>` builds beside the test
/// binaries (`target/<profile>/examples/<name>`).
///
/// # Panics
///
/// When the binary is missing (a plain `cargo test --test it` builds no examples), saying
/// how to build it.
#[allow(clippy::panic)] // A test harness: a missing binary is a test failure.
pub fn example_binary(name: &str) -> PathBuf {
    let profile = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().and_then(Path::parent).map(Path::to_path_buf))
        .unwrap_or_default();
    let path = profile
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        panic!(
            "{} is missing: run the tests with `cargo test -p <crate>` (a plain `--test it` builds no examples)",
            path.display()
        );
    }
    path
}
