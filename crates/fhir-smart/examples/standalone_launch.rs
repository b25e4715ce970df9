//! A SMART standalone launch against a real server, with a loopback redirect URI.
//!
//! Reads `SMART_ISS`, `SMART_CLIENT_ID`, `SMART_REDIRECT_URI` (`http://127.0.0.1:<port>/<path>`),
//! `SMART_SCOPE`, and optionally `SMART_CLIENT_SECRET` or `SMART_PRIVATE_KEY` (+ `SMART_KID`).
//! Prints the authorize URL, waits for the browser's callback on the redirect URI, exchanges
//! the code, refreshes if a refresh token was issued, and reads the Patient in context.
// An example program reports on stdout/stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use bytes::Bytes;
use fhir_smart::{HttpClient, SmartEnv};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
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

/// Serves the redirect URI (with hyper) until a request for its path arrives; returns the full
/// callback URL.
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
    let (found, mut callback) = tokio::sync::mpsc::channel::<String>(1);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted?;
                let redirect = redirect.clone();
                let found = found.clone();
                let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                    let target = request.uri().path_and_query().map_or("/", |target| target.as_str());
                    let callback = redirect.join(target).ok().filter(|url| url.path() == redirect.path());
                    let found = found.clone();
                    async move {
                        let (status, body) = match callback {
                            Some(callback) => {
                                let _ = found.send(callback.to_string()).await;
                                (200, "Authorization received; you can close this window.")
                            }
                            None => (404, "Not the redirect URI."),
                        };
                        Response::builder()
                            .status(status)
                            .header("content-type", "text/plain")
                            .body(Full::new(Bytes::from_static(body.as_bytes())))
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(url) = callback.recv() => return Ok(url),
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let env = SmartEnv::from_env();
    let (base, _) = env.fhir_base()?;
    // The id_token (when `openid` is requested) is checked against the issuer's JWKS: the
    // default, turned off only by `.verify_id_token(false)`.
    let app = env
        .app_launch()?
        .http(HttpClient::new().allow_loopback_http(true));
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
