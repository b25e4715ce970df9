//! Developer tasks for the workspace, run as `cargo xtask <task>`.
//!
//! - `cargo xtask spec`: obtains the pinned FHIR R4 definitions and examples into `.cache/spec/`.
//! - `cargo xtask codegen [--check]`: regenerates `crates/fhir-r4/src/generated/`.
//! - `cargo xtask roundtrip [PATH]...`: parses and re-serializes every resource under the paths.
//! - `cargo xtask build-cost [--only <all|patient-observation>] [--profile <debug|release>]
//!   [--keep]`: clean build time, peak memory and binary size of tiny programs using `fhir-r4`.
//! - `cargo xtask corpus [--patients N] [--out DIR]`: writes the deterministic clinical corpus
//!   of the model benchmarks into `.cache/corpus/clinical/` (NDJSON per type, a Bundle per
//!   patient).

// A command-line tool talks to its user on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod build_cost;
mod codegen;
mod corpus;
#[cfg(feature = "roundtrip")]
mod roundtrip;
mod spec;
mod tidy;

use std::path::PathBuf;
use std::process::ExitCode;

/// The error of a task: a message for the user.
type Result<T, E = String> = std::result::Result<T, E>;

/// The root of the workspace.
fn project_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("spec") => spec::ensure().map(|spec| {
            println!("spec: {}", spec.package_dir.display());
            true
        }),
        Some("codegen") => {
            let check = args.iter().skip(1).any(|a| a == "--check");
            codegen::run(if check {
                codegen::Mode::Check
            } else {
                codegen::Mode::Write
            })
            .map(|()| true)
        }
        #[cfg(feature = "roundtrip")]
        Some("roundtrip") => roundtrip::run(&args[1..]),
        Some("build-cost") => build_cost::run(&args[1..]),
        Some("corpus") => corpus::run(&args[1..]),
        Some(other) => Err(format!("unknown task `{other}`")),
        None => Err(String::from(
            "usage: cargo xtask <spec | codegen [--check] | roundtrip [PATH]... | build-cost \
             [--only <all|patient-observation>] [--profile <debug|release>] [--keep] | corpus \
             [--patients N] [--out DIR]>",
        )),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
