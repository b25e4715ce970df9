//! Renewal under pressure: callers that stop waiting (a timeout, fhir-core's deadline around
//! the 401 hook), tokens that expire at once, and a slow JWKS while an id_token is checked.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use fhir_core::Client;
use fhir_smart::client_auth::{ClientAuth, ClientCredentials};
use fhir_smart::keys::{SigningAlgorithm, SigningKey};
use fhir_smart::{BackendServices, MemoryTokenStore, SmartClient, TokenStore};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::refresh::{RotatingEndpoint, initial_token, mount};
use crate::support::*;

async fn launch_client(
    server: &MockServer,
    store: &Arc<dyn TokenStore>,
    expires_in: u64,
) -> SmartClient {
    SmartClient::builder(
        fhir_base(server),
        token_url(server),
        ClientCredentials::new("launch-app", ClientAuth::Public),
    )
    .http(http())
    .store_subject("user-1")
    .store(Arc::clone(store))
    .token(initial_token(expires_in))
    .build()
    .await
    .unwrap()
}

#[tokio::test]
async fn a_dropped_renewal_still_stores_the_rotated_refresh_token() {
    let server = server().await;
    let mut endpoint = RotatingEndpoint::new(true);
    endpoint.delay = Duration::from_millis(400);
    mount(&server, &endpoint).await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let smart = launch_client(&server, &store, 0).await;
    // The caller gives up while the refresh request is in flight; the server has already
    // rotated rt-0 to rt-1 by then.
    let gave_up = tokio::time::timeout(Duration::from_millis(50), smart.access_token()).await;
    assert!(gave_up.is_err(), "the caller stopped waiting");
    // The renewal finished anyway: the next caller gets its token, and rt-1 is stored.
    assert_eq!(smart.access_token().await.unwrap().expose_secret(), "at-r1");
    let stored = store.get(smart.store_key()).await.unwrap().unwrap();
    assert_eq!(stored.token.refresh_token.unwrap().expose_secret(), "rt-1");
    smart.refresh().await.unwrap();
    assert!(
        endpoint.reused.lock().unwrap().is_empty(),
        "a rotated refresh token was lost and rt-0 presented again: {:?}",
        endpoint.reused.lock().unwrap()
    );
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_401_renewal_cut_off_by_fhir_cores_deadline_still_stores_the_rotated_token() {
    let server = server().await;
    let mut endpoint = RotatingEndpoint::new(true);
    endpoint.delay = Duration::from_millis(500);
    mount(&server, &endpoint).await;
    // The FHIR server refuses the current token, accepts the refreshed one.
    Mock::given(method("GET"))
        .and(path("/fhir/Patient/p-123"))
        .and(header("authorization", "Bearer at-r1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"resourceType": "Patient", "id": "p-123"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient/p-123"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let smart = launch_client(&server, &store, 3600).await;
    let fhir = Client::builder(fhir_base(&server).as_str())
        .auth(smart.clone())
        .deadline(Some(Duration::from_millis(200)))
        .build()
        .unwrap();
    let err = fhir.read_json("Patient", "p-123").send().await.unwrap_err();
    assert!(err.to_string().contains("deadline"), "{err}");
    // The refresh it started is not lost with the request.
    let fhir = Client::builder(fhir_base(&server).as_str())
        .auth(smart.clone())
        .build()
        .unwrap();
    fhir.read_json("Patient", "p-123").send().await.unwrap();
    let stored = store.get(smart.store_key()).await.unwrap().unwrap();
    assert_eq!(stored.token.refresh_token.unwrap().expose_secret(), "rt-1");
    assert!(endpoint.reused.lock().unwrap().is_empty());
}

/// FHIR requests through `smart`, and the token requests they cost.
async fn requests_per_token(server: &MockServer, smart: SmartClient, requests: usize) {
    Mock::given(method("GET"))
        .and(path("/fhir/Patient"))
        .respond_with(ResponseTemplate::new(200).set_body_json(patient_bundle("p1")))
        .mount(server)
        .await;
    let fhir = Client::builder(fhir_base(server).as_str())
        .auth(smart)
        .build()
        .unwrap();
    for _ in 0..requests {
        fhir.search_json("Patient").send().await.unwrap();
    }
}

#[tokio::test]
async fn expires_in_0_or_1_does_not_cost_a_token_request_per_fhir_request() {
    for lifetime in [0, 1] {
        // Backend Services: a new assertion per token request.
        let server = server().await;
        let key = SigningKey::generate(SigningAlgorithm::Es384, "k1").unwrap();
        let check = AssertionCheck::new(&key, "backend-client", token_url(&server).as_str());
        let endpoint = BackendTokenEndpoint::new(check, "system/*.rs", &[lifetime]);
        Mock::given(method("POST"))
            .and(path("/auth/token"))
            .respond_with(endpoint.clone())
            .mount(&server)
            .await;
        let smart = BackendServices::new(
            fhir_base(&server),
            "backend-client",
            key,
            "system/*.rs".parse().unwrap(),
        )
        .http(http())
        .token_endpoint(token_url(&server))
        .connect()
        .await
        .unwrap();
        requests_per_token(&server, smart, 20).await;
        assert_eq!(
            endpoint.calls(),
            1,
            "expires_in {lifetime}: one token request"
        );

        // App Launch: every refresh answers with the same short lifetime.
        let server = crate::support::server().await;
        let refreshes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&refreshes);
        Mock::given(method("POST"))
            .and(path("/auth/token"))
            .respond_with(move |_: &Request| {
                let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
                ResponseTemplate::new(200).set_body_json(json!({
                    "access_token": format!("at-r{n}"), "token_type": "bearer",
                    "expires_in": lifetime, "refresh_token": format!("rt-{n}"),
                }))
            })
            .mount(&server)
            .await;
        let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
        let smart = launch_client(&server, &store, 0).await;
        requests_per_token(&server, smart, 20).await;
        assert_eq!(
            refreshes.load(Ordering::SeqCst),
            1,
            "expires_in {lifetime}: the expired initial token is refreshed once"
        );
    }
}
