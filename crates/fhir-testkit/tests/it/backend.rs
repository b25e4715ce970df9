//! Backend Services: client_credentials with private_key_jwt.

use fhir_testkit::{ClientRegistration, Sandbox};
use serde_json::json;

use crate::support::*;

async fn sandbox_with_backend() -> (Sandbox, Es384Key) {
    let sandbox = Sandbox::start().await;
    let key = es384_key("k1");
    sandbox.register_client(ClientRegistration::backend("etl", key.jwks.clone()));
    (sandbox, key)
}

#[tokio::test]
async fn a_valid_assertion_gets_a_token_that_reads_fhir() {
    let (sandbox, key) = sandbox_with_backend().await;
    let endpoint = sandbox.token_endpoint();
    let jwt = assertion(&key, "etl", &endpoint, json!({}));
    let (status, body) = token_request(
        &endpoint,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "system/Patient.rs"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &jwt),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "system/Patient.rs");
    assert!(
        body.get("refresh_token").is_none(),
        "backend services get no refresh token"
    );
    let client = fhir_core::Client::builder(&sandbox.fhir_base_url())
        .auth(fhir_core::BearerToken::new(body["access_token"].as_str().unwrap()).unwrap())
        .build()
        .unwrap();
    let page = client.search_json("Patient").count(5).send().await.unwrap();
    assert_eq!(page.total(), Some(20));
    let records = sandbox.token_requests();
    assert_eq!(records.len(), 1);
    assert!(records[0].succeeded);
    assert_eq!(records[0].client_id.as_deref(), Some("etl"));
}

#[tokio::test]
async fn bad_assertions_are_invalid_client() {
    let (sandbox, key) = sandbox_with_backend().await;
    let endpoint = sandbox.token_endpoint();
    let other_key = es384_key("k1");
    let cases = [
        (
            "wrong aud",
            assertion(&key, "etl", "https://elsewhere/token", json!({})),
        ),
        (
            "exp too far",
            assertion(&key, "etl", &endpoint, json!({"exp": now() + 3600})),
        ),
        (
            "expired",
            assertion(&key, "etl", &endpoint, json!({"exp": now() - 60})),
        ),
        (
            "sub differs",
            assertion(&key, "etl", &endpoint, json!({"sub": "someone"})),
        ),
        (
            "wrong key",
            assertion(&other_key, "etl", &endpoint, json!({})),
        ),
        (
            "unknown client",
            assertion(&key, "nobody", &endpoint, json!({})),
        ),
    ];
    for (case, jwt) in cases {
        let (status, body) = token_request(
            &endpoint,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "system/*.rs"),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", &jwt),
            ],
            None,
        )
        .await;
        assert_eq!(status, 401, "{case}: {body}");
        assert_eq!(body["error"], "invalid_client", "{case}");
    }
}

#[tokio::test]
async fn a_replayed_jti_is_refused() {
    let (sandbox, key) = sandbox_with_backend().await;
    let endpoint = sandbox.token_endpoint();
    let jwt = assertion(&key, "etl", &endpoint, json!({"jti": "same"}));
    let form = [
        ("grant_type", "client_credentials"),
        ("scope", "system/*.rs"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", jwt.as_str()),
    ];
    assert_eq!(token_request(&endpoint, &form, None).await.0, 200);
    let (status, body) = token_request(&endpoint, &form, None).await;
    assert_eq!(status, 401);
    assert!(body["error_description"].as_str().unwrap().contains("jti"));
}

#[tokio::test]
async fn client_credentials_needs_a_scope_and_a_confidential_client() {
    let (sandbox, key) = sandbox_with_backend().await;
    let endpoint = sandbox.token_endpoint();
    let jwt = assertion(&key, "etl", &endpoint, json!({}));
    let (status, body) = token_request(
        &endpoint,
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &jwt),
        ],
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );

    sandbox.register_client(ClientRegistration::public("app", ["http://127.0.0.1/cb"]));
    let (status, body) = token_request(
        &endpoint,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "system/*.rs"),
            ("client_id", "app"),
        ],
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    let (status, body) = token_request(
        &endpoint,
        &[("grant_type", "password"), ("client_id", "app")],
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
}
