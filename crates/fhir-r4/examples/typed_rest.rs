//! Typed REST against a FHIR R4 server, with the R4 models of this crate.
//!
//! ```text
//! cargo run -p fhir-r4 --example typed_rest -- <BASE_URL>
//! ```
//!
//! In one transaction, creates a Patient (identifier `urn:fhir-rs:typed-rest|<random uuid>`)
//! and three Observations referencing it by `urn:uuid`; searches the Patient's Observations
//! by code with `_include=Observation:patient` and `_count=2` over all pages; creates the same
//! Patient again with `If-None-Exist` and gets the existing one back; updates it with a stale
//! `If-Match` and shows the precondition-failed error; deletes everything. Prints one line per
//! step and `typed_rest: ok`, or the error and exits non-zero. `FHIR_BEARER_TOKEN`, when set,
//! is sent as a bearer token.

// An example program talks to its user on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use fhir_core::{BearerToken, Client};

#[path = "typed_rest/flow.rs"]
mod flow;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(base_url) = std::env::args().nth(1) else {
        eprintln!("usage: typed_rest <BASE_URL>");
        return ExitCode::from(2);
    };
    let client = match client(&base_url) {
        Ok(client) => client,
        Err(err) => {
            eprintln!("typed_rest: {err}");
            return ExitCode::FAILURE;
        }
    };
    let identifier = uuid::Uuid::new_v4().to_string();
    println!(
        "patient identifier: {}|{identifier}",
        flow::IDENTIFIER_SYSTEM
    );
    match flow::run(&client, &identifier, &mut |line| println!("{line}")).await {
        Ok(_) => {
            println!("typed_rest: ok");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("typed_rest: failed: {err}");
            ExitCode::FAILURE
        }
    }
}

fn client(base_url: &str) -> Result<Client, Box<dyn std::error::Error>> {
    let mut builder = Client::builder(base_url);
    if let Ok(token) = std::env::var("FHIR_BEARER_TOKEN") {
        builder = builder.auth(BearerToken::new(token)?);
    }
    Ok(builder.build()?)
}
