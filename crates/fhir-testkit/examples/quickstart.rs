//! The quickstart: SMART Backend Services and a FHIR client, end to end, in one command.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! By default it starts the embedded sandbox of `fhir-testkit` (a SMART authorization server
//! and a FHIR server on a loopback port), generates an ES384 key, registers its public JWKS,
//! authenticates with a signed client assertion, pages through the Patients, reads one, and
//! creates an Observation for them, all with the typed R4 models of `fhir-r4`. With `SMART_ISS` set (and `SMART_CLIENT_ID`,
//! `SMART_PRIVATE_KEY`, `SMART_KID`, `SMART_ALG`, `SMART_SCOPE`), it does the same against that
//! server instead.

// An example program reports on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use fhir_core::Client;
use fhir_r4::codes::ObservationStatus;
use fhir_r4::prelude::*;
use fhir_r4::resources::{Observation, Patient};
use fhir_smart::keys::{SigningAlgorithm, SigningKey};
use fhir_smart::{BackendServices, HttpClient, SmartClient, SmartEnv};
use fhir_testkit::{ClientRegistration, Sandbox};
use futures::TryStreamExt as _;

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

    let mut pages = fhir.search::<Patient>().count(5).pages();
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
        .and_then(|patient| patient.id.clone())
        .ok_or("the server has no Patients")?;
    let patient = fhir.read::<Patient>(&first).send().await?;
    let name = patient.resource().name.first().map(ToString::to_string);
    println!(
        "read: Patient/{first} {} (version {})",
        name.unwrap_or_default(),
        patient.meta().version_id().unwrap_or("?")
    );

    let observation = Observation::default()
        .with_status(ObservationStatus::Final)
        .with_code(Coding::new("http://loinc.org", "8867-4").with_display("Heart rate"))
        .with_subject(Reference::to::<Patient>(&first))
        .with_effective(DateTime::now())
        .with_value(Quantity::ucum(68, "/min").with_unit("beats/minute"));
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
    sandbox.register_client(ClientRegistration::backend_jwk(
        "quickstart",
        key.public_jwk(),
    ));
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
