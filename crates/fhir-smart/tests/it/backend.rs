//! Backend Services against a mock server that verifies every assertion.

use std::sync::Arc;
use std::time::Duration;

use fhir_core::Client;
use fhir_smart::keys::{SigningAlgorithm, SigningKey};
use fhir_smart::{BackendServices, Error, HttpClient, SmartClient};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const SCOPE: &str = "system/Patient.rs system/Observation.rs";

async fn setup(
    alg: SigningAlgorithm,
    lifetimes: &[u64],
) -> (MockServer, SigningKey, BackendTokenEndpoint) {
    let server = server().await;
    let key = SigningKey::generate(alg, "key-1").unwrap();
    let check = AssertionCheck::new(&key, "backend-client", token_url(&server).as_str());
    let endpoint = BackendTokenEndpoint::new(check, SCOPE, lifetimes);
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(smart_configuration(&server)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(endpoint.clone())
        .mount(&server)
        .await;
    (server, key, endpoint)
}

async fn connect(server: &MockServer, key: SigningKey) -> Result<SmartClient, Error> {
    BackendServices::new(
        fhir_base(server),
        "backend-client",
        key,
        SCOPE.parse().unwrap(),
    )
    .http(http())
    .connect()
    .await
}

async fn search_patients(
    server: &MockServer,
    auth: SmartClient,
) -> Result<Vec<String>, fhir_core::Error> {
    let client = Client::builder(fhir_base(server).as_str())
        .auth(auth)
        .build()?;
    let page = client.search_json("Patient").count(5).send().await?;
    Ok(page
        .entries()
        .iter()
        .filter_map(|e| e.resource_type().map(str::to_owned))
        .collect())
}

#[tokio::test]
async fn es384_client_credentials_end_to_end() {
    let (server, key, endpoint) = setup(SigningAlgorithm::Es384, &[300]).await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient"))
        .and(header("authorization", "Bearer at-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(patient_bundle("p1")))
        .expect(1)
        .mount(&server)
        .await;
    let smart = connect(&server, key).await.unwrap();
    assert_eq!(smart.granted_scope().as_deref(), Some(SCOPE));
    let types = search_patients(&server, smart).await.unwrap();
    assert_eq!(types, ["Patient"]);
    assert_eq!(endpoint.calls(), 1);
    assert!(endpoint.failures().is_empty(), "{:?}", endpoint.failures());
}

#[tokio::test]
async fn rs384_client_credentials_verifies() {
    let (server, key, endpoint) = setup(SigningAlgorithm::Rs384, &[300]).await;
    let smart = connect(&server, key).await.unwrap();
    assert_eq!(smart.access_token().await.unwrap().expose_secret(), "at-1");
    assert!(endpoint.failures().is_empty(), "{:?}", endpoint.failures());
}

#[tokio::test]
async fn wrong_key_is_rejected_by_the_server() {
    let (server, _registered, endpoint) = setup(SigningAlgorithm::Es384, &[300]).await;
    let impostor = SigningKey::generate(SigningAlgorithm::Es384, "key-1").unwrap();
    let err = connect(&server, impostor).await.unwrap_err();
    assert_eq!(err.oauth_code(), Some("invalid_client"));
    assert!(endpoint.failures().iter().any(|f| f.contains("signature")));
}

#[tokio::test]
async fn expiring_token_is_replaced_with_a_fresh_assertion_not_refreshed() {
    // A zero lifetime and no reuse window: the first token is due at once.
    let (server, key, endpoint) = setup(SigningAlgorithm::Es384, &[0, 3600]).await;
    let smart = BackendServices::new(
        fhir_base(&server),
        "backend-client",
        key,
        SCOPE.parse().unwrap(),
    )
    .http(http())
    .min_token_reuse(Duration::ZERO)
    .connect()
    .await
    .unwrap();
    assert_eq!(smart.access_token().await.unwrap().expose_secret(), "at-2");
    assert_eq!(
        smart.access_token().await.unwrap().expose_secret(),
        "at-2",
        "cached"
    );
    assert_eq!(endpoint.calls(), 2);
    // The check rejects reused jti values, so both assertions were fresh.
    assert!(endpoint.failures().is_empty(), "{:?}", endpoint.failures());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_waiters_share_exactly_one_token_request() {
    let (server, key, mut endpoint) = setup(SigningAlgorithm::Es384, &[0, 3600]).await;
    endpoint.delay = Duration::from_millis(200);
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(endpoint.clone())
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient"))
        .and(header("authorization", "Bearer at-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(patient_bundle("p1")))
        .expect(40)
        .mount(&server)
        .await;
    let smart = BackendServices::new(
        fhir_base(&server),
        "backend-client",
        key,
        SCOPE.parse().unwrap(),
    )
    .http(http())
    .token_endpoint(token_url(&server))
    .min_token_reuse(Duration::ZERO)
    .connect()
    .await
    .unwrap();
    assert_eq!(endpoint.calls(), 1);
    let client = Client::builder(fhir_base(&server).as_str())
        .auth(smart)
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.search_json("Patient").send().await.map(|_| ()) })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(
        endpoint.calls(),
        2,
        "exactly one renewal for 40 waiting requests"
    );
    assert!(endpoint.failures().is_empty(), "{:?}", endpoint.failures());
}

#[tokio::test]
async fn a_401_renews_once_and_retries_once() {
    let (server, key, endpoint) = setup(SigningAlgorithm::Es384, &[3600]).await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient"))
        .and(header("authorization", "Bearer at-1"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("www-authenticate", "Bearer error=\"invalid_token\""),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient"))
        .and(header("authorization", "Bearer at-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(patient_bundle("p1")))
        .expect(1)
        .mount(&server)
        .await;
    let smart = connect(&server, key).await.unwrap();
    search_patients(&server, smart).await.unwrap();
    assert_eq!(endpoint.calls(), 2);
}

#[tokio::test]
async fn a_403_is_not_refreshed() {
    let (server, key, endpoint) = setup(SigningAlgorithm::Es384, &[3600]).await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient"))
        .respond_with(ResponseTemplate::new(403))
        .expect(1)
        .mount(&server)
        .await;
    let smart = connect(&server, key).await.unwrap();
    let err = search_patients(&server, smart).await.unwrap_err();
    assert!(err.is_forbidden());
    assert_eq!(endpoint.calls(), 1);
}

#[tokio::test]
async fn token_errors_are_typed_and_never_retried() {
    let server = server().await;
    let key = SigningKey::generate(SigningAlgorithm::Es384, "k").unwrap();
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": "invalid_scope", "error_description": "not pre-authorized", "error_uri": "https://e/doc"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let err = BackendServices::new(fhir_base(&server), "c", key.clone(), SCOPE.parse().unwrap())
        .http(http())
        .token_endpoint(token_url(&server))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(err.oauth_code(), Some("invalid_scope"));
    let json = err.to_json();
    assert_eq!(json["error_description"], "not pre-authorized");
    assert_eq!(json["error_uri"], "https://e/doc");
    server.verify().await;

    // A 500 with a plain-text body: kept raw, and not retried.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream exploded"))
        .expect(1)
        .mount(&server)
        .await;
    let err = BackendServices::new(fhir_base(&server), "c", key, SCOPE.parse().unwrap())
        .http(http())
        .token_endpoint(token_url(&server))
        .request_token()
        .await
        .unwrap_err();
    match err {
        Error::TokenEndpoint(e) => {
            assert_eq!(e.status, 500);
            assert_eq!(e.body.as_deref(), Some("upstream exploded"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn plain_http_token_endpoint_is_refused_without_opt_in() {
    let (server, key, endpoint) = setup(SigningAlgorithm::Es384, &[300]).await;
    let err = BackendServices::new(
        fhir_base(&server),
        "backend-client",
        key,
        SCOPE.parse().unwrap(),
    )
    .http(HttpClient::new())
    .token_endpoint(token_url(&server))
    .connect()
    .await
    .unwrap_err();
    assert!(matches!(err, Error::InsecureUrl { .. }), "{err:?}");
    assert_eq!(endpoint.calls(), 0);
}

#[tokio::test]
async fn token_is_not_sent_to_other_servers() {
    use fhir_core::AuthProvider as _;
    use fhir_core::auth::AuthRequest;
    let (server, key, _endpoint) = setup(SigningAlgorithm::Es384, &[300]).await;
    let smart = connect(&server, key).await.unwrap();
    let get = http::Method::GET;
    let inside = url::Url::parse(&format!("{}/fhir/Patient/1", server.uri())).unwrap();
    let sibling = url::Url::parse(&format!("{}/fhir2/Patient/1", server.uri())).unwrap();
    let elsewhere = url::Url::parse("https://evil.example.org/fhir/Patient/1").unwrap();
    assert!(
        smart
            .authorization(AuthRequest::new(&get, &inside))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        smart
            .authorization(AuthRequest::new(&get, &sibling))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        smart
            .authorization(AuthRequest::new(&get, &elsewhere))
            .await
            .unwrap()
            .is_none()
    );
    let header = smart
        .authorization(AuthRequest::new(&get, &inside))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        header.to_str().unwrap(),
        "Bearer at-1",
        "capital B whatever token_type said"
    );
    assert!(header.is_sensitive());
}

#[tokio::test]
async fn shared_store_is_used() {
    let (server, key, endpoint) = setup(SigningAlgorithm::Es384, &[3600]).await;
    let store: Arc<dyn fhir_smart::TokenStore> = Arc::new(fhir_smart::MemoryTokenStore::new());
    let make = |key: SigningKey| {
        BackendServices::new(
            fhir_base(&server),
            "backend-client",
            key,
            SCOPE.parse().unwrap(),
        )
        .http(http())
        .store(Arc::clone(&store))
    };
    let a = make(key.clone()).connect().await.unwrap();
    let b = make(key).connect().await.unwrap();
    assert_eq!(a.access_token().await.unwrap().expose_secret(), "at-1");
    assert_eq!(b.access_token().await.unwrap().expose_secret(), "at-1");
    assert_eq!(
        endpoint.calls(),
        1,
        "the second client reuses the stored token"
    );
}

#[tokio::test]
async fn bearer_token_is_never_sent_over_plain_http() {
    use fhir_core::AuthProvider as _;
    use fhir_core::auth::AuthRequest;
    use fhir_smart::client_auth::{ClientAuth, ClientCredentials};
    let token = fhir_smart::token::TokenResponse::from_json(
        br#"{"access_token":"at","token_type":"bearer","expires_in":3600}"#,
    )
    .unwrap();
    let smart = SmartClient::builder(
        url::Url::parse("http://fhir.example.org/r4").unwrap(),
        url::Url::parse("https://auth.example.org/token").unwrap(),
        ClientCredentials::new("c", ClientAuth::Public),
    )
    .token(token)
    .build()
    .await
    .unwrap();
    let get = http::Method::GET;
    let plain = url::Url::parse("http://fhir.example.org/r4/Patient").unwrap();
    let err = smart
        .authorization(AuthRequest::new(&get, &plain))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("plain HTTP"), "{err}");
}

#[tokio::test]
async fn token_requests_do_not_follow_cross_origin_redirects() {
    let server = server().await;
    let elsewhere = crate::support::server().await;
    let key = SigningKey::generate(SigningAlgorithm::Es384, "k").unwrap();
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("{}/steal", elsewhere.uri()).as_str()),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = BackendServices::new(fhir_base(&server), "c", key, SCOPE.parse().unwrap())
        .http(http())
        .token_endpoint(token_url(&server))
        .request_token()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TokenEndpoint(e) if e.status == 307),
        "{err:?}"
    );
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn every_rfc6749_error_code_over_http() {
    // Statuses as real servers send them: classified by the code, not the status.
    for (status, code) in [
        (400, "invalid_request"),
        (401, "invalid_client"),
        (403, "invalid_grant"),
        (400, "unauthorized_client"),
        (400, "unsupported_grant_type"),
        (401, "invalid_scope"),
        (400, "vendor_specific"),
    ] {
        let server = server().await;
        let key = SigningKey::generate(SigningAlgorithm::Es384, "k").unwrap();
        Mock::given(method("POST"))
            .and(path("/auth/token"))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(serde_json::json!({"error": code, "error_description": "d"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let err = BackendServices::new(fhir_base(&server), "c", key, SCOPE.parse().unwrap())
            .http(http())
            .token_endpoint(token_url(&server))
            .request_token()
            .await
            .unwrap_err();
        assert_eq!(err.oauth_code(), Some(code));
        let Error::TokenEndpoint(e) = &err else {
            panic!("unexpected {err:?}")
        };
        assert_eq!(e.status, status);
        assert_eq!(
            e.error,
            Some(fhir_smart::TokenErrorCode::from(code)),
            "{code}"
        );
        assert_eq!(
            matches!(e.error, Some(fhir_smart::TokenErrorCode::Other(_))),
            code == "vendor_specific"
        );
    }
}

#[tokio::test]
async fn one_options_value_configures_every_client_that_takes_it() {
    for (min_reuse, calls) in [(Duration::ZERO, 2), (Duration::from_secs(600), 1)] {
        // The first token lives 0 s: whether the next use renews it is the reuse setting's.
        let (server, key, endpoint) = setup(SigningAlgorithm::Es384, &[0, 3600]).await;
        let store: Arc<dyn fhir_smart::TokenStore> = Arc::new(fhir_smart::MemoryTokenStore::new());
        // The HTTP client that allows the loopback server, the shared store and the reuse
        // window: each must reach the client through the one value.
        let options = fhir_smart::TokenClientOptions::default()
            .http(http())
            .store(Arc::clone(&store))
            .min_token_reuse(min_reuse);
        let client = BackendServices::new(
            fhir_base(&server),
            "backend-client",
            key,
            SCOPE.parse().unwrap(),
        )
        .token_client_options(options)
        .connect()
        .await
        .unwrap();
        assert!(
            store.get(client.store_key()).await.unwrap().is_some(),
            "the token set is in the shared store"
        );
        client.access_token().await.unwrap();
        assert_eq!(endpoint.calls(), calls, "min_token_reuse {min_reuse:?}");
    }
}
