//! Runs a search against a FHIR server and follows every `next` link.
//!
//! ```text
//! cargo run -p fhir-core --example search -- <BASE_URL> <ResourceType> [name=value ...]
//! ```
//!
//! Prints one `ResourceType/id` line per matched resource, then `pages: N resources: M`.
//! `FHIR_BEARER_TOKEN`, when set, is sent as a bearer token. Errors print the status and the
//! server's OperationOutcome diagnostics (credentials masked) and exit non-zero. The client's
//! bounds hold: a server that pages forever, loops, leaves the origin, stalls or sends a
//! bomb ends the run with a typed error.

// An example program talks to its user on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use fhir_core::{BearerToken, Client, Error, SearchParams};
use futures::TryStreamExt as _;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(base_url), Some(resource_type)) = (args.next(), args.next()) else {
        eprintln!("usage: search <BASE_URL> <ResourceType> [name=value ...]");
        return ExitCode::from(2);
    };
    let mut params = SearchParams::new();
    for arg in args {
        let Some((name, value)) = arg.split_once('=') else {
            eprintln!("search parameters take the form name=value, not `{arg}`");
            return ExitCode::from(2);
        };
        params.push(name, value);
    }
    match run(&base_url, &resource_type, params).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report(&err);
            ExitCode::FAILURE
        }
    }
}

async fn run(base_url: &str, resource_type: &str, params: SearchParams) -> Result<(), Error> {
    let mut builder = Client::builder(base_url);
    if let Ok(token) = std::env::var("FHIR_BEARER_TOKEN") {
        match BearerToken::new(token) {
            Ok(auth) => builder = builder.auth(auth),
            Err(err) => eprintln!("ignoring FHIR_BEARER_TOKEN: {err}"),
        }
    }
    let client = builder.build()?;

    let mut pages = client.search_json(resource_type).params(params).pages();
    let (mut page_count, mut resource_count) = (0usize, 0usize);
    while let Some(page) = pages.try_next().await? {
        page_count += 1;
        for entry in page.matches() {
            let id = entry
                .decode::<serde_json::Value>()
                .ok()
                .and_then(|resource| {
                    resource
                        .get("id")
                        .and_then(|id| id.as_str())
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| String::from("?"));
            println!("{}/{id}", entry.resource_type().unwrap_or(resource_type));
            resource_count += 1;
        }
    }
    println!("pages: {page_count} resources: {resource_count}");
    Ok(())
}

fn report(err: &Error) {
    eprintln!("error: {err}");
    if let Some(status) = err.status() {
        eprintln!("status: {status}");
    }
    if let Some(outcome) = err.operation_outcome() {
        for issue in outcome.issues() {
            let text = issue
                .diagnostics
                .as_deref()
                .or(issue.details.as_deref())
                .unwrap_or("");
            // A server may echo the request, credentials included, in its diagnostics.
            let text = fhir_core::credentials::redact_text(text);
            eprintln!("issue: {} {}: {text}", issue.severity, issue.code);
        }
    } else if let Some(body) = err.body_excerpt() {
        eprintln!("body: {body}");
    }
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        eprintln!("caused by: {cause}");
        source = cause.source();
    }
}
