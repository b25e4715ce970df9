//! Item 6 and the secret canary: known secrets are sent, a hostile server echoes them back in
//! every way it can, and none may appear in an error's `Display` or `Debug`, in the client's
//! `Debug`, or in anything the client logs.

use fhir_core::{BasicAuth, BearerToken, Client, Error};
use futures::TryStreamExt as _;
use serde_json::json;

use crate::server::{Hostile, Reply, Seen};
use crate::support::{VirtualTimer, bounded, captured_tracing};

const TOKEN: &str = "canary-token-9f2c41";
const PASSWORD: &str = "canary-password-77ab";
const API_KEY: &str = "canary-apikey-3e1d";
const CODE: &str = "canary-code-5a5a";
/// `user:canary-password-77ab` in Basic's base64, as the server sees it.
const BASIC: &str = "dXNlcjpjYW5hcnktcGFzc3dvcmQtNzdhYg==";
const CANARIES: &[&str] = &[TOKEN, PASSWORD, API_KEY, CODE, BASIC];

/// What the server echoes of a request: its headers, as text.
fn echoed_headers(seen: &Seen) -> String {
    seen.headers
        .iter()
        .map(|(name, value)| format!("{name}: {}\n", value.to_str().unwrap_or("?")))
        .collect()
}

/// One hostile answer per path.
fn hostile(seen: &Seen, _: usize) -> Reply {
    let headers = echoed_headers(seen);
    let path = seen.uri.path().to_owned();
    match path.rsplit('/').next().unwrap_or_default() {
        "plain" => Reply::text(
            400,
            "text/plain",
            format!("bad request; you sent:\n{headers}"),
        ),
        "html" => Reply::text(
            500,
            "text/html",
            format!("<html><body><pre>{headers}</pre><p>token={TOKEN}</p></body></html>"),
        ),
        "json" => Reply::json(
            502,
            &json!({"error": "upstream", "request": {"headers": headers},
                    "access_token": TOKEN, "nested": [{"refresh_token": TOKEN}]}),
        ),
        "outcome" => Reply::json(
            422,
            &json!({"resourceType": "OperationOutcome", "issue": [{
                "severity": "error", "code": "invalid",
                "diagnostics": format!("rejected request with headers {headers}")}]}),
        ),
        "form" => Reply::text(
            401,
            "application/x-www-form-urlencoded",
            format!("error=invalid_token&access_token={TOKEN}&code={CODE}"),
        ),
        "redirect" => Reply::redirect(
            302,
            format!("/fhir/Patient/after?access_token={TOKEN}&code={CODE}#token={TOKEN}"),
        ),
        "after" => Reply::text(
            500,
            "text/plain",
            "Authorization: Bearer ".to_owned() + TOKEN,
        ),
        // The search itself (`/fhir/Patient`).
        "Patient" => Reply::json(
            200,
            &json!({"resourceType": "Bundle", "type": "searchset", "entry": [],
                    "link": [{"relation": "next",
                              "url": format!("https://elsewhere.test/fhir?code={CODE}&sig={TOKEN}")}]}),
        ),
        _ => Reply::HangUp,
    }
}

fn assert_clean(what: &str, text: &str) {
    for canary in CANARIES {
        assert!(!text.contains(canary), "{what} leaks {canary}: {text}");
    }
}

/// Every failure path of the client against the hostile server, collected as errors.
async fn failures(client: &Client) -> Vec<Error> {
    let mut errors = Vec::new();
    for id in [
        "plain", "html", "json", "outcome", "form", "redirect", "hangup",
    ] {
        errors.push(client.read_json("Patient", id).send().await.unwrap_err());
    }
    let search = client
        .search_json("Patient")
        .param("x", "search")
        .pages()
        .try_collect::<Vec<_>>()
        .await;
    errors.push(search.expect_err("the next link must be refused"));
    errors
}

#[tokio::test]
async fn no_secret_appears_in_errors_debug_or_logs() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(hostile).await;
    let timer = VirtualTimer::default();
    let bearer = Client::builder(&server.url("/fhir"))
        .timer(timer.clone())
        .auth(BearerToken::new(TOKEN).unwrap())
        .default_header("x-api-key", API_KEY)
        .build()
        .unwrap();
    let basic = Client::builder(&server.url("/fhir"))
        .timer(timer)
        .auth(BasicAuth::new("user", PASSWORD).unwrap())
        .build()
        .unwrap();

    let ((bearer_errors, basic_errors), logs) = captured_tracing(async {
        (
            bounded(failures(&bearer)).await,
            bounded(failures(&basic)).await,
        )
    })
    .await;

    // The traps were sprung: the server did receive the secrets.
    let seen = server.seen();
    assert!(
        seen.iter()
            .any(|s| s.header("authorization") == Some(&*format!("Bearer {TOKEN}")))
    );
    assert!(seen.iter().any(|s| s.header("x-api-key") == Some(API_KEY)));
    assert!(
        seen.iter()
            .any(|s| s.header("authorization") == Some(&*format!("Basic {BASIC}")))
    );
    assert!(
        seen.iter()
            .any(|s| s.uri.query().is_some_and(|q| q.contains(CODE)))
    );
    assert!(!logs.is_empty(), "nothing was logged");

    for err in bearer_errors.iter().chain(&basic_errors) {
        assert_clean("Display", &err.to_string());
        assert_clean("Debug", &format!("{err:?}"));
        assert_clean("url", err.url().map(|u| u.as_str()).unwrap_or_default());
        assert_clean("body excerpt", err.body_excerpt().unwrap_or_default());
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            assert_clean("source", &cause.to_string());
            source = cause.source();
        }
    }
    assert_clean("client Debug", &format!("{bearer:?} {basic:?}"));
    assert_clean("tracing", &logs);
}

#[tokio::test]
async fn the_outcome_itself_is_kept_for_the_caller() {
    let _serial = crate::support::serial().await;
    // Redaction is for output; the data the server sent stays available to code that asks.
    let server = Hostile::start(hostile).await;
    let client = Client::builder(&server.url("/fhir"))
        .auth(BearerToken::new(TOKEN).unwrap())
        .build()
        .unwrap();

    let err = client
        .read_json("Patient", "outcome")
        .send()
        .await
        .unwrap_err();

    assert!(err.is_unprocessable());
    let outcome = err.operation_outcome().unwrap();
    assert!(outcome.summary().contains(TOKEN));
    assert!(!err.to_string().contains(TOKEN));
}

#[tokio::test]
async fn a_base_url_with_a_password_is_refused_without_echoing_it() {
    let _serial = crate::support::serial().await;
    let with_password = format!("https://user:{PASSWORD}@fhir.example.org/r4");
    let err = Client::new(&with_password).unwrap_err();
    assert_eq!(err.kind(), fhir_core::ErrorKind::InvalidRequest);
    assert_clean("Display", &err.to_string());
    assert_clean("Debug", &format!("{err:?}"));
    let builder = Client::builder(&with_password);
    assert_clean("builder Debug", &format!("{builder:?}"));
    // Not even a malformed one is echoed.
    let err = Client::new(&format!("https://user:{PASSWORD}@[::1")).unwrap_err();
    assert_clean("Display", &err.to_string());
}

#[tokio::test]
async fn success_types_do_not_print_secrets_either() {
    let _serial = crate::support::serial().await;
    let presigned =
        format!("https://bucket.example/f?X-Amz-Signature={TOKEN}&X-Amz-Credential={CODE}");
    let next = presigned.clone();
    let server = Hostile::start(move |seen, _| {
        if seen.uri.path() == "/fhir/Patient" {
            Reply::json(
                200,
                &json!({"resourceType": "Bundle", "type": "searchset", "entry": [],
                        "link": [{"relation": "next", "url": next}]}),
            )
        } else {
            Reply::json(200, &json!({"resourceType": "Patient", "id": "p"}))
                .with_header("set-cookie", format!("session={TOKEN}; HttpOnly"))
                .with_header("location", presigned.clone())
        }
    })
    .await;
    let client = Client::new(&server.url("/fhir")).unwrap();

    let read = client.read_json("Patient", "p").send().await.unwrap();
    let page = client.search_json("Patient").send().await.unwrap();

    assert_clean("Response Debug", &format!("{read:?}"));
    assert_clean("Page Debug", &format!("{page:?}"));
    assert!(
        page.next_link().unwrap().contains(TOKEN),
        "the data itself is kept"
    );
}
