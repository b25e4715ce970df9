//! Plain HTTP exchanges through the transport (`Client::send_http`, `send_streaming`): headers
//! replaced as asked, every status handed back, credentials by scope, retries switchable.

use fhir_core::exchange::{CredentialScope, HttpRequest};
use fhir_core::{BearerToken, Client};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{FakeTimer, base, builder, server};

#[tokio::test]
async fn sends_the_headers_and_body_asked_for_and_hands_back_any_status() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/fhir/$export"))
        .and(header("accept", "application/fhir+json"))
        .and(header("prefer", "respond-async"))
        .and(header("content-type", "application/fhir+json"))
        .respond_with(
            ResponseTemplate::new(202).insert_header("content-location", "http://x/status/1"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server, &FakeTimer::default()).build().unwrap();
    let url = client.base_url().join("fhir/$export").unwrap();
    let request = HttpRequest::new(http::Method::POST, url)
        .header("prefer", "respond-async")
        .unwrap()
        .body("application/fhir+json", r#"{"resourceType":"Parameters"}"#)
        .unwrap();
    let response = client.send_http(request).await.unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(response.headers()["content-location"], "http://x/status/1");
    let received = &server.received_requests().await.unwrap()[0];
    assert_eq!(received.body, br#"{"resourceType":"Parameters"}"#);
}

#[tokio::test]
async fn authorization_cannot_be_set_as_a_header() {
    let url = url::Url::parse("https://h.example/x").unwrap();
    let err = HttpRequest::get(url)
        .header("Authorization", "Bearer x")
        .unwrap_err();
    assert_eq!(err.kind(), fhir_core::ErrorKind::InvalidRequest);
}

#[tokio::test]
async fn credentials_follow_the_scope() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let client = Client::builder(&base(&server))
        .auth(BearerToken::new("canary-token").unwrap())
        .build()
        .unwrap();
    let outside = url::Url::parse(&format!("{}/files/1.ndjson", server.uri())).unwrap();
    let under = url::Url::parse(&format!("{}/fhir/Patient", server.uri())).unwrap();
    let cases = [
        (outside.clone(), CredentialScope::UnderBase, false),
        (
            outside.clone(),
            CredentialScope::Origins(vec![outside.origin()]),
            true,
        ),
        (under.clone(), CredentialScope::Never, false),
        (under, CredentialScope::UnderBase, true),
    ];
    for (url, scope, expected) in cases {
        let response = client
            .send_http(HttpRequest::get(url.clone()).credentials(scope.clone()))
            .await
            .unwrap();
        assert_eq!(response.body().as_ref(), b"ok");
        let requests = server.received_requests().await.unwrap();
        let last = requests.last().unwrap();
        assert_eq!(
            last.headers.contains_key("authorization"),
            expected,
            "{url} with {scope:?}"
        );
    }
}

#[tokio::test]
async fn no_retries_hands_back_the_429() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/status"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "7")
                .set_body_json(json!({"resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": "throttled"}]})),
        )
        .mount(&server)
        .await;
    let timer = FakeTimer::default();
    let client = builder(&server, &timer).build().unwrap();
    let url = client.base_url().join("fhir/status").unwrap();
    let response = client
        .send_http(HttpRequest::get(url.clone()).no_retries())
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(
        response.retry_after(),
        Some(std::time::Duration::from_secs(7))
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert!(timer.sleeps().is_empty());
    let err = response.into_error();
    assert!(err.is_too_many_requests());
    assert_eq!(
        err.operation_outcome().unwrap().issues()[0].code,
        "throttled"
    );

    // With retries (the default) the client waits as the server asked.
    let response = client.send_http(HttpRequest::get(url)).await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(timer.sleeps()[0], std::time::Duration::from_secs(7));
}

#[tokio::test]
async fn streaming_hands_back_the_body_unread_and_errors_read() {
    let server = server().await;
    let body = "{\"resourceType\":\"Patient\"}\n".repeat(10_000);
    Mock::given(method("GET"))
        .and(path("/fhir/file"))
        .respond_with(ResponseTemplate::new(200).set_body_string(body.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fhir/gone"))
        .respond_with(ResponseTemplate::new(410).set_body_string("expired"))
        .mount(&server)
        .await;
    // A size limit below the file: a streamed body is the caller's to bound.
    let client = Client::builder(&base(&server))
        .max_response_bytes(Some(1024))
        .build()
        .unwrap();
    let url = client.base_url().join("fhir/file").unwrap();
    let response = client
        .send_streaming(HttpRequest::get(url))
        .await
        .unwrap()
        .unwrap();
    let mut stream = response.into_body();
    let mut read = Vec::new();
    while let Some(chunk) = stream.chunk().await.unwrap() {
        read.extend_from_slice(&chunk);
    }
    assert_eq!(read, body.as_bytes());

    let gone = client.base_url().join("fhir/gone").unwrap();
    let refused = client
        .send_streaming(HttpRequest::get(gone))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.status(), 410);
    assert_eq!(refused.body().as_ref(), b"expired");
}

#[tokio::test]
async fn a_redirect_chain_that_leaves_the_scope_never_regains_the_token() {
    let fhir = server().await;
    let storage = server().await;
    // FHIR-origin file → storage → back to a URL under the FHIR base.
    Mock::given(method("GET"))
        .and(path("/files/1.ndjson"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/object/1", storage.uri())),
        )
        .mount(&fhir)
        .await;
    Mock::given(method("GET"))
        .and(path("/object/1"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/fhir/Patient", fhir.uri())),
        )
        .mount(&storage)
        .await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&fhir)
        .await;
    let client = Client::builder(&base(&fhir))
        .auth(BearerToken::new("canary-token").unwrap())
        .build()
        .unwrap();
    let file = url::Url::parse(&format!("{}/files/1.ndjson", fhir.uri())).unwrap();
    let scope = CredentialScope::Origins(vec![file.origin()]);
    let response = client
        .send_http(HttpRequest::get(file).credentials(scope))
        .await
        .unwrap();
    assert_eq!(response.body().as_ref(), b"ok");
    let at_fhir = fhir.received_requests().await.unwrap();
    assert!(at_fhir[0].headers.contains_key("authorization"));
    assert!(
        !storage.received_requests().await.unwrap()[0]
            .headers
            .contains_key("authorization")
    );
    assert!(
        !at_fhir[1].headers.contains_key("authorization"),
        "the token came back after the chain left its scope"
    );
}

/// Records whether each request was marked as admitted outside the base URL.
#[derive(Debug, Default)]
struct RecordingAuth(std::sync::Mutex<Vec<(String, bool)>>);

impl fhir_core::auth::AuthProvider for RecordingAuth {
    fn authorization<'a>(
        &'a self,
        request: fhir_core::auth::AuthRequest<'a>,
    ) -> fhir_core::auth::BoxFuture<'a, Result<Option<http::HeaderValue>, fhir_core::auth::AuthError>>
    {
        self.0
            .lock()
            .unwrap()
            .push((request.url.path().to_owned(), request.outside_base));
        Box::pin(async { Ok(Some(http::HeaderValue::from_static("Bearer recorded"))) })
    }
}

#[tokio::test]
async fn providers_learn_when_the_scope_admits_a_url_outside_the_base() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let auth = std::sync::Arc::new(RecordingAuth::default());
    let client = Client::builder(&base(&server))
        .auth_shared(auth.clone())
        .build()
        .unwrap();
    let file = url::Url::parse(&format!("{}/files/1.ndjson", server.uri())).unwrap();
    let under = url::Url::parse(&format!("{}/fhir/Patient", server.uri())).unwrap();
    let scope = CredentialScope::Origins(vec![file.origin()]);
    for url in [file, under] {
        client
            .send_http(HttpRequest::get(url).credentials(scope.clone()))
            .await
            .unwrap();
    }
    assert_eq!(
        *auth.0.lock().unwrap(),
        [
            ("/files/1.ndjson".to_owned(), true),
            ("/fhir/Patient".to_owned(), false)
        ]
    );
}

#[tokio::test]
async fn a_per_request_cap_bounds_bodies_read_whole_and_debug_hides_url_secrets() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/manifest"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(4096)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fhir/file"))
        .respond_with(ResponseTemplate::new(500).set_body_string("e".repeat(4096)))
        .mount(&server)
        .await;
    let client = Client::builder(&base(&server)).build().unwrap();
    let manifest = client.base_url().join("fhir/manifest").unwrap();
    let err = client
        .send_http(HttpRequest::get(manifest.clone()).max_response_bytes(1024))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), fhir_core::ErrorKind::ResponseTooLarge);
    assert_eq!(err.size_limit(), Some(1024));
    let read = client
        .send_http(HttpRequest::get(manifest).max_response_bytes(8192))
        .await
        .unwrap();
    assert_eq!(read.body().len(), 4096);
    // A streamed download's error body is read whole, so the cap bounds it too.
    let file = client.base_url().join("fhir/file").unwrap();
    let err = client
        .send_streaming(HttpRequest::get(file).no_retries().max_response_bytes(100))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), fhir_core::ErrorKind::ResponseTooLarge);

    let signed =
        url::Url::parse("https://storage.example/o/1?X-Amz-Signature=s3cr3t&sig=s3cr3t").unwrap();
    let shown = format!(
        "{:?}",
        HttpRequest::get(signed)
            .header("range", "bytes=1-")
            .unwrap()
    );
    assert!(!shown.contains("s3cr3t"), "{shown}");
    assert!(shown.contains("range"), "{shown}");
}
