//! Authentication: headers only under the base URL, one re-authorization on 401, none on 403.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use fhir_core::auth::{AuthError, AuthRequest, BoxFuture, Unauthorized, sensitive_header};
use fhir_core::http::HeaderValue;
use fhir_core::{AuthProvider, BasicAuth, BearerToken, Client, ErrorKind};
use serde_json::Value;
use wiremock::matchers::{header as header_is, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

/// A provider that hands out `token-N` and moves to the next token when told it was rejected.
#[derive(Debug, Default)]
struct RotatingToken {
    generation: AtomicUsize,
    renewals: AtomicUsize,
    fail: bool,
}

impl AuthProvider for RotatingToken {
    fn authorization<'a>(
        &'a self,
        _request: AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Option<HeaderValue>, AuthError>> {
        Box::pin(async move {
            let token = format!("Bearer token-{}", self.generation.load(Ordering::SeqCst));
            Ok(Some(sensitive_header(&token)?))
        })
    }

    fn on_unauthorized<'a>(
        &'a self,
        _request: AuthRequest<'a>,
        response: Unauthorized<'a>,
    ) -> BoxFuture<'a, Result<bool, AuthError>> {
        Box::pin(async move {
            self.renewals.fetch_add(1, Ordering::SeqCst);
            if self.fail {
                return Err("the refresh token was revoked".into());
            }
            assert!(response.rejected.is_some());
            self.generation.fetch_add(1, Ordering::SeqCst);
            Ok(true)
        })
    }
}

#[tokio::test]
async fn a_401_renews_credentials_once_and_retries_once() {
    let server = server().await;
    Mock::given(header_is("authorization", "Bearer token-0"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("www-authenticate", "Bearer error=\"invalid_token\""),
        )
        .mount(&server)
        .await;
    Mock::given(header_is("authorization", "Bearer token-1"))
        .respond_with(fhir_json(&patient_json("1", "1")))
        .mount(&server)
        .await;
    let provider = Arc::new(RotatingToken::default());
    let client = Client::builder(&base(&server))
        .auth_shared(provider.clone())
        .build()
        .unwrap();

    client.read_json("Patient", "1").send().await.unwrap();

    assert_eq!(provider.renewals.load(Ordering::SeqCst), 1);
    let requests = received(&server).await;
    assert_eq!(requests.len(), 2);
    assert_eq!(
        header(&requests[1], "authorization"),
        Some("Bearer token-1")
    );
}

#[tokio::test]
async fn a_second_401_is_reported_not_retried_again() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("www-authenticate", "Bearer error=\"invalid_token\""),
        )
        .mount(&server)
        .await;
    let provider = Arc::new(RotatingToken::default());
    let client = Client::builder(&base(&server))
        .auth_shared(provider.clone())
        .build()
        .unwrap();

    let err = client.read_json("Patient", "1").send().await.unwrap_err();

    assert!(err.is_unauthorized());
    assert_eq!(
        err.www_authenticate(),
        Some("Bearer error=\"invalid_token\"")
    );
    assert_eq!(provider.renewals.load(Ordering::SeqCst), 1);
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn a_403_never_renews_credentials() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(outcome("forbidden", "insufficient scope")),
        )
        .mount(&server)
        .await;
    let provider = Arc::new(RotatingToken::default());
    let client = Client::builder(&base(&server))
        .auth_shared(provider.clone())
        .build()
        .unwrap();

    let err = client.read_json("Patient", "1").send().await.unwrap_err();

    assert!(err.is_forbidden());
    assert_eq!(
        err.operation_outcome().unwrap().summary(),
        "insufficient scope"
    );
    assert_eq!(provider.renewals.load(Ordering::SeqCst), 0);
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn a_failed_renewal_is_an_auth_error_with_its_source() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let provider = RotatingToken {
        fail: true,
        ..RotatingToken::default()
    };
    let client = Client::builder(&base(&server))
        .auth(provider)
        .build()
        .unwrap();

    let err = client.read_json("Patient", "1").send().await.unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(err.is_auth());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    let source = std::error::Error::source(&err).unwrap();
    assert_eq!(source.to_string(), "the refresh token was revoked");
}

#[tokio::test]
async fn a_static_token_does_not_retry_on_401() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let client = Client::builder(&base(&server))
        .auth(BearerToken::new("expired-token-value").unwrap())
        .build()
        .unwrap();
    let err = client.read_json("Patient", "1").send().await.unwrap_err();
    assert!(err.is_unauthorized());
    assert_eq!(received(&server).await.len(), 1);
    assert!(
        !format!("{err} {err:?}").contains("expired-token-value"),
        "no token in errors"
    );
}

#[tokio::test]
async fn basic_auth_is_sent_under_the_base() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(fhir_json(&patient_json("1", "1")))
        .mount(&server)
        .await;
    let client = Client::builder(&base(&server))
        .auth(BasicAuth::new("user", "pa55word").unwrap())
        .build()
        .unwrap();
    client.read_json("Patient", "1").send().await.unwrap();
    assert_eq!(
        header(&only_request(&server).await, "authorization"),
        Some("Basic dXNlcjpwYTU1d29yZA==")
    );
}

#[tokio::test]
async fn credentials_do_not_follow_a_redirect_to_another_host() {
    let server = server().await;
    let elsewhere = crate::support::server().await;
    Mock::given(path("/fhir/Binary/1"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/files/1", elsewhere.uri())),
        )
        .mount(&server)
        .await;
    Mock::given(path("/files/1"))
        .respond_with(fhir_json(
            &serde_json::json!({"resourceType": "Binary", "id": "1"}),
        ))
        .mount(&elsewhere)
        .await;
    let client = Client::builder(&base(&server))
        .auth(BearerToken::new("top-secret").unwrap())
        .build()
        .unwrap();

    let binary = client.read_json("Binary", "1").send().await.unwrap();

    assert_eq!(binary.resource()["id"], "1");
    assert_eq!(
        header(&only_request(&server).await, "authorization"),
        Some("Bearer top-secret")
    );
    assert_eq!(
        header(&only_request(&elsewhere).await, "authorization"),
        None
    );
}

#[tokio::test]
async fn an_absolute_reference_elsewhere_gets_no_credentials() {
    let server = server().await;
    let elsewhere = crate::support::server().await;
    Mock::given(method("GET"))
        .respond_with(fhir_json(&patient_json("1", "1")))
        .mount(&elsewhere)
        .await;
    let client = Client::builder(&base(&server))
        .auth(BearerToken::new("top-secret").unwrap())
        .build()
        .unwrap();
    client
        .get::<Value>(&format!("{}/fhir/Patient/1", elsewhere.uri()))
        .await
        .unwrap();
    assert_eq!(
        header(&only_request(&elsewhere).await, "authorization"),
        None
    );
}

#[tokio::test]
async fn default_headers_and_user_agent_are_sent() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(fhir_json(&patient_json("1", "1")))
        .mount(&server)
        .await;
    let client = Client::builder(&base(&server))
        .default_header("x-request-source", "etl-job")
        .user_agent("my-etl/2.0")
        .build()
        .unwrap();
    client.read_json("Patient", "1").send().await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(header(&request, "x-request-source"), Some("etl-job"));
    assert_eq!(header(&request, "user-agent"), Some("my-etl/2.0"));
}
