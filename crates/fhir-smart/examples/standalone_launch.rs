//! A SMART standalone launch against a real server, with a loopback redirect URI.
//!
//! Reads `SMART_ISS`, `SMART_CLIENT_ID`, `SMART_REDIRECT_URI` (`http://127.0.0.1:<port>/<path>`),
//! `SMART_SCOPE`, and optionally `SMART_CLIENT_SECRET` or `SMART_PRIVATE_KEY` (+ `SMART_KID`).
//! Prints the authorize URL, waits for the browser's callback on the redirect URI, exchanges
//! the code, refreshes if a refresh token was issued, and reads the Patient in context.
// An example program reports on stdout/stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use fhir_smart::{HttpClient, SmartEnv};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

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

/// Serves the redirect URI until a request for its path arrives; returns the full callback URL.
async fn wait_for_callback(redirect: &url::Url) -> Result<String, Box<dyn std::error::Error>> {
    if redirect.scheme() != "http" {
        return Err(
            "SMART_REDIRECT_URI must be http://127.0.0.1:<port>/<path> for this example".into(),
        );
    }
    let host = redirect
        .host_str()
        .ok_or("SMART_REDIRECT_URI has no host")?;
    let port = redirect
        .port_or_known_default()
        .ok_or("SMART_REDIRECT_URI has no port")?;
    let listener = TcpListener::bind((host, port)).await?;
    loop {
        let (mut socket, _) = listener.accept().await?;
        let mut buffer = vec![0u8; 16 * 1024];
        let mut read = 0;
        while !buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") && read < buffer.len() {
            let n = socket.read(&mut buffer[read..]).await?;
            if n == 0 {
                break;
            }
            read += n;
        }
        let request = String::from_utf8_lossy(&buffer[..read]);
        let target = request
            .lines()
            .next()
            .and_then(|line| line.split_whitespace().nth(1))
            .unwrap_or("/");
        let callback = redirect.join(target)?;
        if callback.path() != redirect.path() {
            socket
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await?;
            continue;
        }
        let body = "Authorization received; you can close this window.";
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(response.as_bytes()).await?;
        return Ok(callback.to_string());
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let env = SmartEnv::from_env();
    let (base, _) = env.fhir_base()?;
    // The id_token (when `openid` is requested) is checked against the issuer's JWKS.
    let app = env
        .app_launch()?
        .http(HttpClient::new().allow_loopback_http(true))
        .verify_id_token(true);
    let request = app.standalone().await?;
    println!("authorize: {}", request.url);
    let redirect = url::Url::parse(request.pending.redirect_uri())?;
    let callback = wait_for_callback(&redirect).await?;
    let smart = app.complete(request.pending, &callback).await?;
    let patient = smart.patient_id();
    println!("patient: {}", patient.as_deref().unwrap_or("(none)"));
    println!("granted: {}", smart.granted_scope().unwrap_or_default());
    if smart
        .token_response()
        .is_some_and(|t| t.refresh_token.is_some())
    {
        smart.refresh().await?;
        println!("refresh: ok");
    }
    if let Some(id) = patient {
        let fhir = fhir_core::Client::builder(&base).auth(smart).build()?;
        let response = fhir.read_json("Patient", &id).send().await?;
        println!(
            "Patient/{}",
            response.resource()["id"].as_str().unwrap_or(&id)
        );
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
