//! The seeds' primitives for apps with their own session layer: an authorize URL from the
//! app's own state and PKCE verifier, and the code exchange as one call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use fhir_smart::client_auth::{ClientAuth, ClientCredentials};
use fhir_smart::discovery::{Strictness, discover};
use fhir_smart::pkce::PkceVerifier;
use fhir_smart::secret::AuthorizationCode;
use fhir_smart::state::State;
use fhir_smart::{AuthorizeUrl, Error, SmartClient, exchange_code};
use serde_json::json;
use sha2::Digest as _;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::*;

const REDIRECT: &str = "https://app.example.org/callback";

/// What the token endpoint saw: each request's form and Authorization header.
type Seen = Arc<Mutex<Vec<(HashMap<String, String>, Option<String>)>>>;

/// A token endpoint that accepts `code-1` once, with the verifier whose challenge it was
/// told, and records each request's form and Authorization header.
async fn token_endpoint(server: &MockServer, challenge: Arc<Mutex<String>>) -> Seen {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(move |request: &Request| {
            let form = form(request);
            let authorization = request
                .headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned());
            log.lock().unwrap().push((form.clone(), authorization));
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(verifier.as_bytes()));
            if form.get("code").map(String::as_str) != Some("code-1")
                || computed != *challenge.lock().unwrap()
            {
                return ResponseTemplate::new(400).set_body_json(
                    json!({"error": "invalid_grant", "error_description": "bad code or verifier"}),
                );
            }
            ResponseTemplate::new(200).set_body_json(json!({
                "access_token": "at-1", "token_type": "Bearer", "expires_in": 3600,
                "refresh_token": "rt-1", "scope": "launch/patient patient/*.rs offline_access",
                "patient": "p-7"
            }))
        })
        .mount(server)
        .await;
    seen
}

#[tokio::test]
async fn an_app_with_its_own_session_layer_authorizes_and_exchanges_with_the_primitives() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(smart_configuration(&server)))
        .mount(&server)
        .await;
    let challenge: Arc<Mutex<String>> = Arc::default();
    let seen = token_endpoint(&server, Arc::clone(&challenge)).await;
    let config = discover(&http(), &fhir_base(&server), Strictness::Lenient)
        .await
        .unwrap();

    // `/login`: the app's session layer made and keeps these.
    let state = State::new("session-layer-state-7f3a9b2c4d5e").unwrap();
    let verifier = PkceVerifier::generate();
    let url = AuthorizeUrl::new(
        &config,
        "app-1",
        REDIRECT,
        &"launch/patient patient/*.rs offline_access"
            .parse()
            .unwrap(),
        fhir_base(&server).as_str(),
        &state,
        &verifier,
    )
    .unwrap()
    .allow_loopback_http(true)
    .url()
    .unwrap();
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["state"], state.as_str());
    assert_eq!(query["code_challenge"], verifier.challenge().as_str());
    assert_eq!(query["aud"], fhir_base(&server).as_str());
    assert!(!url.as_str().contains(verifier.expose_secret()));
    *challenge.lock().unwrap() = query["code_challenge"].clone();

    // `/callback`: the app checks its state, then exchanges the code.
    assert!(state.matches("session-layer-state-7f3a9b2c4d5e"));
    for (auth, basic) in [
        (ClientAuth::Public, None),
        (ClientAuth::basic("s3cret"), Some("Basic YXBwLTE6czNjcmV0")),
    ] {
        let token = exchange_code(
            &http(),
            &config.token_endpoint,
            &ClientCredentials::new("app-1", auth.clone()),
            &AuthorizationCode::new("code-1"),
            &verifier,
            REDIRECT,
        )
        .await
        .unwrap();
        assert_eq!(token.patient.as_deref(), Some("p-7"));
        let (form, authorization) = seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(form["grant_type"], "authorization_code");
        assert_eq!(form["redirect_uri"], REDIRECT);
        assert_eq!(form["code_verifier"], verifier.expose_secret());
        assert!(!form.contains_key("state"), "G11: state is not sent");
        assert_eq!(authorization.as_deref(), basic);
        assert_eq!(form.contains_key("client_id"), basic.is_none());

        // The token response feeds a SmartClient like any other.
        let smart = SmartClient::builder(
            fhir_base(&server),
            config.token_endpoint.clone(),
            ClientCredentials::new("app-1", auth),
        )
        .http(http())
        .store_subject("user-1")
        .token(token)
        .build()
        .await
        .unwrap();
        assert_eq!(smart.patient_id().as_deref(), Some("p-7"));
    }

    // Another verifier (an attacker's) does not redeem the code.
    let err = exchange_code(
        &http(),
        &config.token_endpoint,
        &ClientCredentials::new("app-1", ClientAuth::Public),
        &AuthorizationCode::new("code-1"),
        &PkceVerifier::generate(),
        REDIRECT,
    )
    .await
    .unwrap_err();
    assert_eq!(err.oauth_code(), Some("invalid_grant"));
    // And a plain-HTTP token endpoint is refused before anything is sent.
    let before = server.received_requests().await.unwrap().len();
    let err = exchange_code(
        &fhir_smart::HttpClient::new(),
        &config.token_endpoint,
        &ClientCredentials::new("app-1", ClientAuth::Public),
        &AuthorizationCode::new("code-1"),
        &verifier,
        REDIRECT,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::InsecureUrl { .. }), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), before);
}
