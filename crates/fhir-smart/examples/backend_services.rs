//! SMART Backend Services against a real server.
//!
//! Reads `SMART_ISS` (or `FHIR_BASE_URL`), `SMART_CLIENT_ID`, `SMART_SCOPE`,
//! `SMART_PRIVATE_KEY`, `SMART_KID`, `SMART_ALG` (default ES384) and optional `SMART_JKU`;
//! discovers, obtains a token and searches `Patient?_count=5`. Plain `http://` is accepted
//! on loopback hosts only.
// An example program reports on stdout/stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use fhir_smart::{HttpClient, SmartEnv};

/// Prints the error chain, and the OAuth error code where there is one.
fn report(err: &(dyn std::error::Error + 'static)) {
    eprintln!("error: {err}");
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(code) = e
            .downcast_ref::<fhir_smart::Error>()
            .and_then(fhir_smart::Error::oauth_code)
        {
            eprintln!("oauth error: {code}");
        }
        if !std::ptr::eq(e, err) {
            eprintln!("  caused by: {e}");
        }
        current = e.source();
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let env = SmartEnv::from_env();
    let (base, _) = env.fhir_base()?;
    let smart = env
        .backend_services()?
        .http(HttpClient::new().allow_loopback_http(true))
        .connect()
        .await?;
    let token = smart.token_response().ok_or("no token after connect")?;
    match token.expires_in {
        Some(seconds) => println!("token: ok expires_in={seconds}"),
        None => println!("token: ok expires_in=unknown"),
    }
    println!("granted: {}", token.scope.unwrap_or_default());

    let fhir = fhir_core::Client::builder(&base).auth(smart).build()?;
    let page = fhir.search_json("Patient").count(5).send().await?;
    for entry in page.matches() {
        let resource: serde_json::Value = entry.decode()?;
        println!("Patient/{}", resource["id"].as_str().unwrap_or("?"));
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            report(err.as_ref());
            ExitCode::FAILURE
        }
    }
}
