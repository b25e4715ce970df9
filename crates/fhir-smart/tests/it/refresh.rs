//! App Launch sessions: refresh, rotation across clients sharing a store, launch context.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fhir_smart::client_auth::{ClientAuth, ClientCredentials};
use fhir_smart::keys::{SigningAlgorithm, SigningKey};
use fhir_smart::token::TokenResponse;
use fhir_smart::{Error, MemoryTokenStore, SmartClient, TokenStore};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::*;

/// A refresh endpoint that rotates refresh tokens (`rt-0` → `rt-1` → …) and fails any reuse.
#[derive(Clone, Default)]
pub(crate) struct RotatingEndpoint {
    pub(crate) valid: Arc<Mutex<String>>,
    pub(crate) calls: Arc<AtomicUsize>,
    pub(crate) rotate: bool,
    pub(crate) delay: Duration,
    pub(crate) reused: Arc<Mutex<Vec<String>>>,
    pub(crate) forms: Arc<Mutex<Vec<HashMap<String, String>>>>,
    pub(crate) check: Option<Arc<AssertionCheck>>,
}

impl RotatingEndpoint {
    pub(crate) fn new(rotate: bool) -> Self {
        Self {
            valid: Arc::new(Mutex::new(String::from("rt-0"))),
            rotate,
            ..Self::default()
        }
    }
}

impl Respond for RotatingEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let form = form(request);
        self.forms.lock().unwrap().push(form.clone());
        if let Some(check) = &self.check
            && let Err(problem) = check.verify(&form)
        {
            return ResponseTemplate::new(401)
                .set_body_json(json!({"error": "invalid_client", "error_description": problem}));
        }
        let presented = form.get("refresh_token").cloned().unwrap_or_default();
        let mut valid = self.valid.lock().unwrap();
        if form.get("grant_type").map(String::as_str) != Some("refresh_token")
            || presented != *valid
        {
            self.reused.lock().unwrap().push(presented);
            return ResponseTemplate::new(400).set_body_json(
                json!({"error": "invalid_grant", "error_description": "refresh token reused"}),
            );
        }
        let mut body = json!({
            "access_token": format!("at-r{n}"),
            "token_type": "Bearer",
            "expires_in": "3600",
            "scope": "launch/patient patient/*.rs offline_access"
        });
        if self.rotate {
            *valid = format!("rt-{n}");
            body["refresh_token"] = json!(*valid);
        }
        ResponseTemplate::new(200)
            .set_body_json(body)
            .set_delay(self.delay)
    }
}

pub(crate) fn initial_token(expires_in: u64) -> TokenResponse {
    TokenResponse::from_json(
        json!({
            "access_token": "at-0",
            "token_type": "bearer",
            "expires_in": expires_in,
            "refresh_token": "rt-0",
            "scope": "launch/patient patient/*.rs offline_access",
            "patient": "p-123",
            "encounter": "e-9",
            "id_token": "header.payload.sig",
            "fhirContext": [{"reference": "Questionnaire/q1"}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap()
}

pub(crate) async fn mount(server: &MockServer, endpoint: &RotatingEndpoint) {
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(endpoint.clone())
        .mount(server)
        .await;
}

async fn client(
    server: &MockServer,
    auth: ClientAuth,
    store: Option<Arc<dyn TokenStore>>,
    token: Option<TokenResponse>,
) -> SmartClient {
    let mut builder = SmartClient::builder(
        fhir_base(server),
        token_url(server),
        ClientCredentials::new("launch-app", auth),
    )
    .http(http())
    .store_subject("user-1")
    .scope(
        &"launch/patient patient/*.rs offline_access"
            .parse()
            .unwrap(),
    );
    if let Some(store) = store {
        builder = builder.store(store);
    }
    if let Some(token) = token {
        builder = builder.token(token);
    }
    builder.build().await.unwrap()
}

#[tokio::test]
async fn refresh_keeps_launch_context_and_public_client_sends_client_id() {
    let server = server().await;
    let endpoint = RotatingEndpoint::new(false);
    mount(&server, &endpoint).await;
    let smart = client(&server, ClientAuth::Public, None, Some(initial_token(0))).await;
    assert_eq!(smart.access_token().await.unwrap().expose_secret(), "at-r1");
    let token = smart.token_response().unwrap();
    assert_eq!(
        token.refresh_token.unwrap().expose_secret(),
        "rt-0",
        "kept when none is returned"
    );
    assert_eq!(smart.patient_id().as_deref(), Some("p-123"));
    assert_eq!(smart.encounter_id().as_deref(), Some("e-9"));
    assert_eq!(smart.fhir_context().len(), 1);
    assert!(token.id_token.is_some());
    let form = endpoint.forms.lock().unwrap()[0].clone();
    assert_eq!(form["client_id"], "launch-app");
    assert!(!form.contains_key("scope"));
    assert!(!form.contains_key("state"));
    // The refresh token was not rotated, so a second refresh may reuse it.
    smart.refresh().await.unwrap();
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn two_clients_sharing_a_store_never_reuse_a_rotated_refresh_token() {
    let server = server().await;
    let endpoint = RotatingEndpoint::new(true);
    mount(&server, &endpoint).await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let a = client(
        &server,
        ClientAuth::Public,
        Some(Arc::clone(&store)),
        Some(initial_token(3600)),
    )
    .await;
    let b = client(&server, ClientAuth::Public, Some(Arc::clone(&store)), None).await;
    a.refresh().await.unwrap();
    b.refresh().await.unwrap();
    a.refresh().await.unwrap();
    assert!(
        endpoint.reused.lock().unwrap().is_empty(),
        "{:?}",
        endpoint.reused.lock().unwrap()
    );
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 3);
    assert_eq!(a.access_token().await.unwrap().expose_secret(), "at-r3");
    // b's cached access token is still valid; its next renewal reads the store back.
    assert_eq!(b.access_token().await.unwrap().expose_secret(), "at-r2");
    b.refresh().await.unwrap();
    assert_eq!(b.access_token().await.unwrap().expose_secret(), "at-r4");
    assert!(
        endpoint.reused.lock().unwrap().is_empty(),
        "{:?}",
        endpoint.reused.lock().unwrap()
    );
    assert_eq!(
        b.patient_id().as_deref(),
        Some("p-123"),
        "launch context survives rotation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_expired_access_across_clients_makes_one_refresh() {
    let server = server().await;
    let mut endpoint = RotatingEndpoint::new(true);
    endpoint.delay = Duration::from_millis(200);
    mount(&server, &endpoint).await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let a = client(
        &server,
        ClientAuth::Public,
        Some(Arc::clone(&store)),
        Some(initial_token(0)),
    )
    .await;
    let b = client(&server, ClientAuth::Public, Some(Arc::clone(&store)), None).await;
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let c = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(
                async move { c.access_token().await.map(|t| t.expose_secret().to_owned()) },
            )
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), "at-r1");
    }
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 1);
    assert!(endpoint.reused.lock().unwrap().is_empty());
}

#[tokio::test]
async fn rejected_refresh_requires_reauthorization_and_forgets_the_token() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"error": "invalid_grant", "error_description": "expired"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let smart = client(
        &server,
        ClientAuth::Public,
        Some(Arc::clone(&store)),
        Some(initial_token(0)),
    )
    .await;
    let err = smart.access_token().await.unwrap_err();
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    assert_eq!(err.oauth_code(), Some("invalid_grant"));
    // The dead refresh token is never presented again, and the expired access token is not
    // sent either.
    match smart.access_token().await {
        Err(Error::ReauthorizationRequired { source: None, .. }) => {}
        other => panic!("expected ReauthorizationRequired, got {other:?}"),
    }
    assert!(smart.token_response().unwrap().refresh_token.is_none());
    assert!(store.get(smart.store_key()).await.unwrap().is_none());
}

#[tokio::test]
async fn confidential_refresh_uses_basic_or_a_fresh_assertion() {
    let server = server().await;
    let endpoint = RotatingEndpoint::new(true);
    mount(&server, &endpoint).await;
    let smart = client(
        &server,
        ClientAuth::basic("s3cret"),
        None,
        Some(initial_token(0)),
    )
    .await;
    smart.access_token().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let auth = requests[0]
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(auth, "Basic bGF1bmNoLWFwcDpzM2NyZXQ=");
    assert!(!endpoint.forms.lock().unwrap()[0].contains_key("client_id"));

    let server = crate::support::server().await;
    let key = SigningKey::generate(SigningAlgorithm::Rs384, "k-rs").unwrap();
    let mut endpoint = RotatingEndpoint::new(true);
    endpoint.check = Some(Arc::new(AssertionCheck::new(
        &key,
        "launch-app",
        token_url(&server).as_str(),
    )));
    mount(&server, &endpoint).await;
    let smart = client(
        &server,
        ClientAuth::private_key_jwt(key),
        None,
        Some(initial_token(0)),
    )
    .await;
    smart.access_token().await.unwrap();
    smart.refresh().await.unwrap();
    assert_eq!(smart.access_token().await.unwrap().expose_secret(), "at-r2");
    assert!(endpoint.reused.lock().unwrap().is_empty());
}

#[tokio::test]
async fn unauthorized_without_refresh_token_is_not_retried() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient/p-123"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    let mut token = initial_token(3600);
    token.refresh_token = None;
    let smart = client(&server, ClientAuth::Public, None, Some(token)).await;
    let fhir = fhir_core::Client::builder(fhir_base(&server).as_str())
        .auth(smart)
        .build()
        .unwrap();
    let err = fhir.read_json("Patient", "p-123").send().await.unwrap_err();
    assert!(err.is_unauthorized());
}

#[tokio::test]
async fn refresh_with_scope_only_narrows() {
    let server = server().await;
    let endpoint = RotatingEndpoint::new(true);
    mount(&server, &endpoint).await;
    let smart = client(&server, ClientAuth::Public, None, Some(initial_token(3600))).await;
    let wider = "patient/*.cruds".parse().unwrap();
    assert!(matches!(
        smart.refresh_with_scope(&wider).await,
        Err(Error::Configuration { .. })
    ));
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 0, "refused locally");
    let narrower = "patient/Observation.rs".parse().unwrap();
    smart.refresh_with_scope(&narrower).await.unwrap();
    let form = endpoint.forms.lock().unwrap()[0].clone();
    assert_eq!(form["scope"], "patient/Observation.rs");
}

#[tokio::test]
async fn a_client_never_adopts_the_token_set_of_another_launch_under_its_key() {
    let server = server().await;
    let endpoint = RotatingEndpoint::new(true);
    mount(&server, &endpoint).await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let a = client(
        &server,
        ClientAuth::Public,
        Some(Arc::clone(&store)),
        Some(initial_token(3600)),
    )
    .await;
    // A second launch under the same key (same client, scope and user): another patient.
    let mut other = initial_token(3600);
    other.access_token = fhir_smart::secret::AccessToken::new("at-other-launch");
    other.patient = Some(String::from("p-other"));
    other.encounter = None;
    let b = client(
        &server,
        ClientAuth::Public,
        Some(Arc::clone(&store)),
        Some(other),
    )
    .await;
    match a.refresh().await {
        Err(Error::Store { reason }) => assert!(reason.contains("another launch"), "{reason}"),
        other => panic!("expected a refused adoption, got {other:?}"),
    }
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 0, "nothing was sent");
    assert_eq!(a.patient_id().as_deref(), Some("p-123"));
    assert_eq!(a.access_token().await.unwrap().expose_secret(), "at-0");
    // The launch that owns the stored set renews normally and keeps its patient.
    b.refresh().await.unwrap();
    assert_eq!(b.patient_id().as_deref(), Some("p-other"));
}

#[tokio::test]
async fn transient_refresh_failures_keep_the_refresh_token() {
    for (status, body) in [
        (
            503,
            Some(json!({"error": "temporarily_unavailable", "error_description": "maintenance"})),
        ),
        (500, Some(json!({"error": "server_error"}))),
        (401, Some(json!({"error": "invalid_client"}))),
        (429, None),
        (502, None),
    ] {
        let server = server().await;
        let mut failure = ResponseTemplate::new(status);
        if let Some(body) = &body {
            failure = failure.set_body_json(body.clone());
        }
        Mock::given(method("POST"))
            .and(path("/auth/token"))
            .respond_with(failure)
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        let endpoint = RotatingEndpoint::new(true);
        mount(&server, &endpoint).await;
        let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
        let smart = client(
            &server,
            ClientAuth::Public,
            Some(Arc::clone(&store)),
            Some(initial_token(0)),
        )
        .await;
        let err = smart.access_token().await.unwrap_err();
        match &err {
            Error::TokenEndpoint(e) => assert_eq!(e.status, status),
            other => panic!("HTTP {status}: expected the token endpoint error, got {other:?}"),
        }
        let code = body.as_ref().map(|b| b["error"].as_str().unwrap());
        assert_eq!(err.oauth_code(), code);
        // Kept in memory and in the store, and used by the next attempt.
        assert_eq!(
            smart
                .token_response()
                .unwrap()
                .refresh_token
                .unwrap()
                .expose_secret(),
            "rt-0",
            "HTTP {status}"
        );
        let stored = store.get(smart.store_key()).await.unwrap().unwrap();
        assert_eq!(stored.token.refresh_token.unwrap().expose_secret(), "rt-0");
        assert_eq!(smart.access_token().await.unwrap().expose_secret(), "at-r1");
    }
}

#[tokio::test]
async fn only_invalid_grant_drops_the_refresh_token() {
    for status in [400, 401, 403] {
        let server = server().await;
        Mock::given(method("POST"))
            .and(path("/auth/token"))
            .respond_with(
                ResponseTemplate::new(status).set_body_json(json!({"error": "invalid_grant"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
        let smart = client(
            &server,
            ClientAuth::Public,
            Some(Arc::clone(&store)),
            Some(initial_token(0)),
        )
        .await;
        match smart.access_token().await {
            Err(Error::ReauthorizationRequired {
                source: Some(source),
                ..
            }) => assert_eq!(source.status, status),
            other => panic!("HTTP {status}: expected ReauthorizationRequired, got {other:?}"),
        }
        assert!(smart.token_response().unwrap().refresh_token.is_none());
        assert!(store.get(smart.store_key()).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn a_bare_400_401_or_403_keeps_the_stored_tokens() {
    let bodies: [(&str, Option<&str>); 4] = [
        ("", None),
        (
            "<html><body>Forbidden by policy</body></html>",
            Some("text/html"),
        ),
        ("Unauthorized", Some("text/plain")),
        (r#"{"message":"denied"}"#, Some("application/json")),
    ];
    for status in [400, 401, 403] {
        for (body, content_type) in bodies {
            let server = server().await;
            let mut bare = ResponseTemplate::new(status).set_body_string(body);
            if let Some(content_type) = content_type {
                bare = bare.insert_header("content-type", content_type);
            }
            Mock::given(method("POST"))
                .and(path("/auth/token"))
                .respond_with(bare)
                .up_to_n_times(1)
                .with_priority(1)
                .mount(&server)
                .await;
            let endpoint = RotatingEndpoint::new(true);
            mount(&server, &endpoint).await;
            let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
            let smart = client(
                &server,
                ClientAuth::Public,
                Some(Arc::clone(&store)),
                Some(initial_token(0)),
            )
            .await;
            let case = format!("HTTP {status} {content_type:?}");
            match smart.access_token().await {
                Err(Error::TokenEndpoint(err)) => assert_eq!(err.status, status, "{case}"),
                other => panic!("{case}: expected the token endpoint error, got {other:?}"),
            }
            let stored = store.get(smart.store_key()).await.unwrap();
            let stored = stored.unwrap_or_else(|| panic!("{case}: the stored set was deleted"));
            assert_eq!(
                stored.token.refresh_token.unwrap().expose_secret(),
                "rt-0",
                "{case}"
            );
            // The next attempt presents the kept refresh token and succeeds.
            assert_eq!(
                smart.access_token().await.unwrap().expose_secret(),
                "at-r1",
                "{case}"
            );
        }
    }
}

#[tokio::test]
async fn an_expired_token_without_a_refresh_token_is_never_sent() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient/p-123"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"resourceType": "Patient"})))
        .expect(0)
        .mount(&server)
        .await;
    let mut token = initial_token(0);
    token.refresh_token = None;
    let smart = client(&server, ClientAuth::Public, None, Some(token)).await;
    match smart.access_token().await {
        Err(Error::ReauthorizationRequired { .. }) => {}
        other => panic!("expected ReauthorizationRequired, got {other:?}"),
    }
    let fhir = fhir_core::Client::builder(fhir_base(&server).as_str())
        .auth(smart)
        .build()
        .unwrap();
    assert!(fhir.read_json("Patient", "p-123").send().await.is_err());
    // A token that has not expired yet is still sent, even without a refresh token.
    let mut token = initial_token(3600);
    token.refresh_token = None;
    let smart = client(&server, ClientAuth::Public, None, Some(token)).await;
    assert_eq!(smart.access_token().await.unwrap().expose_secret(), "at-0");
}

#[tokio::test]
async fn a_custom_reqwest_builder_never_follows_a_token_redirect_to_another_origin() {
    let server = server().await;
    let elsewhere = crate::support::server().await;
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("{}/auth/token", elsewhere.uri())),
        )
        .expect(1)
        .mount(&server)
        .await;
    // reqwest's own default policy would follow this redirect and re-send the POST body.
    let http = fhir_smart::HttpClient::from_builder(reqwest::Client::builder())
        .unwrap()
        .allow_loopback_http(true);
    let smart = SmartClient::builder(
        fhir_base(&server),
        token_url(&server),
        ClientCredentials::new("launch-app", ClientAuth::basic("s3cret")),
    )
    .http(http)
    .token(initial_token(0))
    .build()
    .await
    .unwrap();
    match smart.refresh().await {
        Err(Error::TokenEndpoint(err)) => assert_eq!(err.status, 307),
        other => panic!("expected the unfollowed redirect, got {other:?}"),
    }
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "the refresh token and secret went to another origin"
    );
}

#[tokio::test]
async fn app_launch_401_refreshes_once_and_retries_once() {
    use wiremock::matchers::header;

    let server = server().await;
    let endpoint = RotatingEndpoint::new(true);
    mount(&server, &endpoint).await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient/p-123"))
        .and(header("authorization", "Bearer at-0"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient/p-123"))
        .and(header("authorization", "Bearer at-r1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"resourceType": "Patient", "id": "p-123"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    // The access token looks fresh: only the server's 401 says it is revoked.
    let smart = client(&server, ClientAuth::Public, None, Some(initial_token(3600))).await;
    let fhir = fhir_core::Client::builder(fhir_base(&server).as_str())
        .auth(smart.clone())
        .build()
        .unwrap();
    fhir.read_json("Patient", "p-123").send().await.unwrap();
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 1, "one refresh");
    assert_eq!(smart.access_token().await.unwrap().expose_secret(), "at-r1");

    // A 401 on the retry too: no loop, the error surfaces after one refresh and one retry.
    let server = crate::support::server().await;
    let endpoint = RotatingEndpoint::new(true);
    mount(&server, &endpoint).await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient/p-123"))
        .respond_with(ResponseTemplate::new(401))
        .expect(2)
        .mount(&server)
        .await;
    let smart = client(&server, ClientAuth::Public, None, Some(initial_token(3600))).await;
    let fhir = fhir_core::Client::builder(fhir_base(&server).as_str())
        .auth(smart)
        .build()
        .unwrap();
    let err = fhir.read_json("Patient", "p-123").send().await.unwrap_err();
    assert!(err.is_unauthorized());
    assert_eq!(
        endpoint.calls.load(Ordering::SeqCst),
        1,
        "one refresh, no loop"
    );
}

/// Stores, as another process would, a newer version of the set under `key`.
async fn other_process_writes(store: &Arc<dyn TokenStore>, key: &fhir_smart::StoreKey) {
    let mut newer = store.get(key).await.unwrap().unwrap();
    newer.version += 1;
    newer.token.access_token = fhir_smart::secret::AccessToken::new("at-other-process");
    store.set(key, newer).await.unwrap();
}

#[tokio::test]
async fn a_renewal_never_overwrites_a_set_another_process_stored_meanwhile() {
    let server = server().await;
    let mut endpoint = RotatingEndpoint::new(false);
    endpoint.delay = Duration::from_millis(600);
    mount(&server, &endpoint).await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let smart = client(
        &server,
        ClientAuth::Public,
        Some(Arc::clone(&store)),
        Some(initial_token(3600)),
    )
    .await;
    let key = smart.store_key().clone();
    let renewal = {
        let smart = smart.clone();
        tokio::spawn(async move { smart.refresh().await })
    };
    // Once the refresh request is in flight, another process writes.
    while endpoint.calls.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    other_process_writes(&store, &key).await;
    renewal.await.unwrap().unwrap();
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(
        stored.token.access_token.expose_secret(),
        "at-other-process"
    );
    assert_eq!(smart.access_token().await.unwrap().expose_secret(), "at-r1");
    // Without interference, renewals are written and versioned.
    smart.refresh().await.unwrap();
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.token.access_token.expose_secret(), "at-r2");
    assert_eq!(stored.version, 2);
}

#[tokio::test]
async fn a_rejected_refresh_does_not_delete_a_set_another_process_stored_meanwhile() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "invalid_grant"}))
                .set_delay(Duration::from_millis(600)),
        )
        .mount(&server)
        .await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let smart = client(
        &server,
        ClientAuth::Public,
        Some(Arc::clone(&store)),
        Some(initial_token(3600)),
    )
    .await;
    let key = smart.store_key().clone();
    let renewal = {
        let smart = smart.clone();
        tokio::spawn(async move { smart.refresh().await })
    };
    while server.received_requests().await.unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    other_process_writes(&store, &key).await;
    assert!(matches!(
        renewal.await.unwrap(),
        Err(Error::ReauthorizationRequired { .. })
    ));
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(
        stored.token.access_token.expose_secret(),
        "at-other-process"
    );
}
