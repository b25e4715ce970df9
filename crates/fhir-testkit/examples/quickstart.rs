//! The quickstart: SMART Backend Services and a FHIR client, end to end, in one command.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! By default it starts the embedded sandbox of `fhir-testkit` (a SMART authorization server
//! and a FHIR server on a loopback port), generates an ES384 key, registers its public JWKS,
//! authenticates with a signed client assertion, pages through the Patients, reads one, and
//! creates an Observation for them. With `SMART_ISS` set (and `SMART_CLIENT_ID`,
//! `SMART_PRIVATE_KEY`, `SMART_KID`, `SMART_ALG`, `SMART_SCOPE`), it does the same against that
//! server instead.

// An example program reports on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use fhir_core::Client;
use fhir_smart::keys::{SigningAlgorithm, SigningKey};
use fhir_smart::{BackendServices, HttpClient, SmartClient, SmartEnv};
use fhir_testkit::{ClientRegistration, Sandbox};
use futures::TryStreamExt as _;
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the sandbox alive for the whole run: dropping it stops the server.
    let (_sandbox, base, smart) = match std::env::var("SMART_ISS") {
        Ok(_) => {
            let env = SmartEnv::from_env();
            let (base, _) = env.fhir_base()?;
            println!("server: {base} (from SMART_ISS)");
            let smart = env
                .backend_services()?
                .http(HttpClient::new().allow_loopback_http(true))
                .connect()
                .await?;
            (None, base, smart)
        }
        Err(_) => {
            let sandbox = Sandbox::start().await;
            let base = sandbox.fhir_base_url();
            println!("sandbox: SMART + FHIR server at {base}");
            let (smart, kid) = backend_services_on(&sandbox).await?;
            println!(
                "key: generated ES384 key `{kid}`, public JWKS registered for client `quickstart`"
            );
            (Some(sandbox), base, smart)
        }
    };
    println!(
        "token: ok via signed client assertion, granted `{}`",
        smart.granted_scope().unwrap_or_default()
    );

    let fhir = Client::builder(&base).auth(smart).build()?;

    let mut pages = fhir.search_json("Patient").count(5).pages();
    let (mut page_count, mut patients) = (0, Vec::new());
    while let Some(page) = pages.try_next().await? {
        page_count += 1;
        patients.extend(page.resources()?);
    }
    println!(
        "search: {} Patients over {page_count} pages of 5",
        patients.len()
    );

    let first = patients
        .first()
        .and_then(|patient| patient["id"].as_str())
        .ok_or("the server has no Patients")?;
    let patient = fhir.read_json("Patient", first).send().await?;
    let name = &patient.resource()["name"][0];
    println!(
        "read: Patient/{first} {} {} (version {})",
        name["given"][0].as_str().unwrap_or(""),
        name["family"].as_str().unwrap_or(""),
        patient.meta().version_id().unwrap_or("?")
    );

    let observation = json!({
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
        "subject": {"reference": format!("Patient/{first}")},
        "effectiveDateTime": "2025-01-01T09:00:00Z",
        "valueQuantity": {"value": 68, "unit": "beats/minute", "system": "http://unitsofmeasure.org", "code": "/min"}
    });
    let created = fhir.create(&observation).send().await?;
    println!(
        "create: Observation/{} for Patient/{first} (version {})",
        created.id().unwrap_or("?"),
        created.version_id().unwrap_or("?")
    );
    Ok(())
}

/// Generates a key, registers it with the sandbox, and authenticates as a Backend Services
/// client.
async fn backend_services_on(
    sandbox: &Sandbox,
) -> Result<(SmartClient, String), Box<dyn std::error::Error>> {
    let key = SigningKey::generate(SigningAlgorithm::Es384, "quickstart-key")?;
    let jwks: serde_json::Value =
        serde_json::from_str(&fhir_smart::keys::public_jwks_json([&key])?)?;
    sandbox.register_client(ClientRegistration::backend("quickstart", jwks));
    let kid = key.kid().to_owned();
    let smart = BackendServices::new(
        sandbox.fhir_base_url().parse()?,
        "quickstart",
        key,
        "system/*.cruds".parse()?,
    )
    .http(HttpClient::new().allow_loopback_http(true))
    .connect()
    .await?;
    Ok((smart, kid))
}
