//! Developer tasks for the workspace, run as `cargo xtask <task>`.

// A command-line tool talks to its user on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let task = std::env::args().nth(1);
    match task.as_deref() {
        Some(other) => {
            eprintln!("xtask: unknown task `{other}`");
            ExitCode::FAILURE
        }
        None => {
            eprintln!("usage: cargo xtask <task>");
            ExitCode::FAILURE
        }
    }
}
