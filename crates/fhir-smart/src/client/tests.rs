//! Tests for the `client` module.

use serde_json::json;

use super::renewal::merge;
use super::*;

fn token(value: serde_json::Value) -> TokenResponse {
    TokenResponse::from_json(value.to_string().as_bytes()).unwrap()
}

#[test]
fn merge_keeps_what_a_refresh_omits() {
    let old = token(json!({
        "access_token": "a0", "token_type": "bearer", "refresh_token": "r0", "scope": "s",
        "patient": "p", "encounter": "e", "id_token": "i", "fhirContext": [{"reference": "X/1"}],
        "need_patient_banner": true, "tenant": "t"
    }));
    let new = token(json!({"access_token": "a1", "token_type": "bearer", "expires_in": 60}));
    let merged = merge(old.clone(), new);
    assert_eq!(merged.access_token.expose_secret(), "a1");
    assert_eq!(merged.expires_in, Some(60));
    assert_eq!(merged.refresh_token.unwrap().expose_secret(), "r0");
    assert_eq!(merged.patient.as_deref(), Some("p"));
    assert_eq!(merged.encounter.as_deref(), Some("e"));
    assert!(merged.id_token.is_some());
    assert_eq!(merged.fhir_context.len(), 1);
    assert_eq!(merged.need_patient_banner, Some(true));
    assert_eq!(merged.scope.as_deref(), Some("s"));

    let rotated = token(
        json!({"access_token": "a2", "token_type": "bearer", "refresh_token": "r2", "patient": "q"}),
    );
    let merged = merge(old, rotated);
    assert_eq!(merged.refresh_token.unwrap().expose_secret(), "r2");
    assert_eq!(merged.patient.as_deref(), Some("q"));
}

#[test]
fn rejected_header_comparison() {
    let stored = StoredToken::new(
        token(json!({"access_token": "a1", "token_type": "bearer"})),
        Duration::from_secs(60),
    );
    let same = HeaderValue::from_static("Bearer a1");
    let other = HeaderValue::from_static("Bearer a0");
    assert!(is_rejected(&stored, Some(&same)));
    assert!(!is_rejected(&stored, Some(&other)));
    assert!(is_rejected(&stored, None));
}

#[tokio::test]
async fn cached_authorization_is_the_fresh_token_under_the_base_only() {
    let base = Url::parse("https://fhir.example/r4").unwrap();
    let token_endpoint = Url::parse("https://auth.example/token").unwrap();
    let build = |expires_in: u64| {
        SmartClient::builder(
            base.clone(),
            token_endpoint.clone(),
            ClientCredentials::new("app", crate::client_auth::ClientAuth::Public),
        )
        .token(token(json!({
            "access_token": "a1", "token_type": "bearer", "expires_in": expires_in,
            "refresh_token": "r1"
        })))
        .build()
    };
    let get = http::Method::GET;
    let under = Url::parse("https://fhir.example/r4/Patient/1").unwrap();
    let elsewhere = Url::parse("https://other.example/r4/Patient/1").unwrap();
    let plain = Url::parse("http://fhir.example/r4/Patient/1").unwrap();

    let fresh = build(3600).await.unwrap();
    let header = fresh
        .cached_authorization(AuthRequest::new(&get, &under))
        .unwrap();
    assert_eq!(header.as_bytes(), b"Bearer a1");
    assert!(header.is_sensitive());
    for url in [&elsewhere, &plain] {
        assert!(
            fresh
                .cached_authorization(AuthRequest::new(&get, url))
                .is_none()
        );
    }
    // A token due for renewal is not at hand: `authorization` renews it.
    let expired = build(0).await.unwrap();
    assert!(
        expired
            .cached_authorization(AuthRequest::new(&get, &under))
            .is_none()
    );
}

#[tokio::test]
async fn the_token_never_goes_to_a_path_that_only_looks_under_the_base() {
    let smart = SmartClient::builder(
        Url::parse("https://fhir.example/r4").unwrap(),
        Url::parse("https://auth.example/token").unwrap(),
        ClientCredentials::new("app", crate::client_auth::ClientAuth::Public),
    )
    .token(token(json!({
        "access_token": "a1", "token_type": "bearer", "expires_in": 3600
    })))
    .build()
    .await
    .unwrap();
    let get = http::Method::GET;
    // Servers that decode `%2F` or read `..;` as a dot segment route these outside `/r4`.
    for url in [
        "https://fhir.example/r4/..%2Fadmin",
        "https://fhir.example/r4/%2e%2e/admin",
        "https://fhir.example/r4/..;/admin",
        "https://fhir.example/r4x/Patient",
    ] {
        let url = Url::parse(url).unwrap();
        let request = AuthRequest::new(&get, &url);
        assert!(smart.cached_authorization(request).is_none(), "{url}");
        assert_eq!(smart.authorization(request).await.unwrap(), None, "{url}");
    }
}
