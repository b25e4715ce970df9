//! Store keys and restoring clients from a shared store: every key names its subject, a
//! client built from a saved (older) token response never overwrites the newer stored set,
//! and a client restored without a token never adopts another user's set.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use fhir_smart::client_auth::{ClientAuth, ClientCredentials};
use fhir_smart::token::TokenResponse;
use fhir_smart::{Error, MemoryTokenStore, SmartClient, SmartClientBuilder, TokenStore};
use wiremock::MockServer;

use crate::refresh::{RotatingEndpoint, initial_token, mount};
use crate::support::*;

const SCOPE: &str = "launch/patient patient/*.rs offline_access";

fn builder(server: &MockServer, store: &Arc<dyn TokenStore>) -> SmartClientBuilder {
    SmartClient::builder(
        fhir_base(server),
        token_url(server),
        ClientCredentials::new("launch-app", ClientAuth::Public),
    )
    .http(http())
    .scope(&SCOPE.parse().unwrap())
    .store(Arc::clone(store))
}

fn with_access_token(mut token: TokenResponse, access: &str) -> TokenResponse {
    token.access_token = fhir_smart::secret::AccessToken::new(access);
    token
}

#[tokio::test]
async fn a_client_restored_without_a_token_never_adopts_another_users_set() {
    let server = server().await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    // Alice's client, built without naming a subject (the app forgot to).
    let alice = builder(&server, &store)
        .token(initial_token(3600))
        .build()
        .await
        .unwrap();
    assert_eq!(
        store.get(alice.store_key()).await.unwrap().unwrap().version,
        0
    );
    // Restoring "the" client of this app, without a subject, has nothing to restore.
    match builder(&server, &store).build().await {
        Err(Error::Configuration { name, .. }) => assert_eq!(name, "store_subject"),
        other => panic!("expected a configuration error, got {other:?}"),
    }
    // Bob's client, restored under his user key, finds no token set and sends nothing.
    let bob = builder(&server, &store)
        .store_subject("bob")
        .build()
        .await
        .unwrap();
    assert!(bob.token_response().is_none());
    assert!(matches!(
        bob.access_token().await,
        Err(Error::ReauthorizationRequired { .. })
    ));
    assert_ne!(bob.store_key(), alice.store_key());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn building_from_a_saved_token_response_never_overwrites_the_newer_stored_set() {
    let server = server().await;
    let endpoint = RotatingEndpoint::new(true);
    mount(&server, &endpoint).await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let saved = initial_token(3600);
    let first = builder(&server, &store)
        .store_subject("alice")
        .token(saved.clone())
        .build()
        .await
        .unwrap();
    first.refresh().await.unwrap(); // rt-0 → rt-1
    let saved_later = first.token_response().unwrap();
    first.refresh().await.unwrap(); // rt-1 → rt-2

    // The app rebuilds its client from either saved response (the one of the code
    // exchange, or one it saved after a refresh): the stored, newer set is kept and used.
    for saved in [saved, saved_later] {
        let restored = builder(&server, &store)
            .store_subject("alice")
            .token(saved)
            .build()
            .await
            .unwrap();
        let stored = store.get(restored.store_key()).await.unwrap().unwrap();
        assert_eq!(stored.token.access_token.expose_secret(), "at-r2");
        assert_eq!(
            restored
                .token_response()
                .unwrap()
                .access_token
                .expose_secret(),
            "at-r2"
        );
    }
    let restored = builder(&server, &store)
        .store_subject("alice")
        .build()
        .await
        .unwrap();
    restored.refresh().await.unwrap();
    assert!(
        endpoint.reused.lock().unwrap().is_empty(),
        "a rotated refresh token was presented again: {:?}",
        endpoint.reused.lock().unwrap()
    );
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 3);

    // A token response of another grant (the user authorized again) replaces the set.
    let fresh = with_access_token(initial_token(3600), "at-new-grant");
    let replaced = builder(&server, &store)
        .store_subject("alice")
        .token(fresh)
        .build()
        .await
        .unwrap();
    let stored = store.get(replaced.store_key()).await.unwrap().unwrap();
    assert_eq!(stored.token.access_token.expose_secret(), "at-new-grant");
    assert_eq!(stored.version, 4, "written over the version it read");
}

/// An App Launch token endpoint (discovery and the issuer are mounted already): its code
/// exchange gives patient `p-1` and `first`, and whose refreshes rotate (`rt-<n>`, reuse
/// refused) and carry the id_token in `refresh_id_token`.
async fn launch_server(
    server: &MockServer,
    first: String,
) -> (
    Arc<std::sync::Mutex<Option<String>>>,
    Arc<std::sync::Mutex<Vec<String>>>,
) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, Request, ResponseTemplate};
    let refresh_id_token: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let reused: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let valid = Arc::new(std::sync::Mutex::new((0usize, String::from("rt-0"))));
    let (id_token, reuse) = (Arc::clone(&refresh_id_token), Arc::clone(&reused));
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(move |request: &Request| {
            let form = form(request);
            let scope = "openid fhirUser launch/patient patient/*.rs offline_access";
            if form["grant_type"] == "authorization_code" {
                return ResponseTemplate::new(200).set_body_json(serde_json::json!({
                    "access_token": "at-0", "token_type": "bearer", "expires_in": 3600,
                    "refresh_token": "rt-0", "scope": scope, "patient": "p-1",
                    "id_token": first,
                }));
            }
            let mut valid = valid.lock().unwrap();
            if form.get("refresh_token") != Some(&valid.1) {
                reuse.lock().unwrap().push(form["refresh_token"].clone());
                return ResponseTemplate::new(400)
                    .set_body_json(serde_json::json!({"error": "invalid_grant"}));
            }
            valid.0 += 1;
            valid.1 = format!("rt-{}", valid.0);
            ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": format!("at-{}", valid.0), "token_type": "bearer",
                "expires_in": 3600, "refresh_token": valid.1, "scope": scope,
                "id_token": *id_token.lock().unwrap(),
            }))
        })
        .mount(server)
        .await;
    (refresh_id_token, reused)
}

fn app_for(server: &MockServer, store: &Arc<dyn TokenStore>, user: &str) -> fhir_smart::AppLaunch {
    fhir_smart::AppLaunch::new(
        "app-1",
        "http://127.0.0.1:9/callback",
        "openid fhirUser patient/*.rs offline_access"
            .parse()
            .unwrap(),
    )
    .fhir_base(fhir_base(server).as_str())
    .http(http())
    .client_auth(ClientAuth::Public)
    .store(Arc::clone(store), user)
}

/// `session` as JSON, edited by `tamper`, read back (the app's session storage).
fn tampered(
    session: &fhir_smart::LaunchSession,
    tamper: impl FnOnce(&mut serde_json::Value),
) -> fhir_smart::LaunchSession {
    let mut json = serde_json::to_value(session).unwrap();
    tamper(&mut json);
    serde_json::from_value(json).unwrap()
}

#[tokio::test]
async fn a_launch_is_restored_from_the_store_in_one_call_refreshed_id_tokens_included() {
    use fhir_smart::keys::{SigningAlgorithm, SigningKey};
    use serde_json::json;

    let server = server().await;
    let key = SigningKey::generate(SigningAlgorithm::Rs384, "idt").unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    let sign = id_token_issuer(&server, &key).await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(
            "/fhir/.well-known/smart-configuration",
        ))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(smart_configuration(&server)),
        )
        .mount(&server)
        .await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let app = app_for(&server, &store, "alice");
    let request = app.standalone().await.unwrap();
    let first = sign(
        pem.expose_secret(),
        json!({"nonce": request.pending.nonce().unwrap(), "fhirUser": "Practitioner/dr-1"}),
    );
    let (refresh_id_token, reused) = launch_server(&server, first).await;
    let callback = format!(
        "http://127.0.0.1:9/callback?code=c&state={}",
        request.pending.state()
    );
    let smart = app.complete(request.pending, &callback).await.unwrap();
    // What the app keeps with the user's session: no token in it.
    let saved = serde_json::to_string(&smart.launch_session().unwrap()).unwrap();
    assert!(
        !saved.contains("at-0") && !saved.contains("rt-0"),
        "{saved}"
    );
    drop(smart);

    // Another request, another process: a new AppLaunch (no cache in common) restores it.
    let session: fhir_smart::LaunchSession = serde_json::from_str(&saved).unwrap();
    let restored = app_for(&server, &store, "alice")
        .restore(&session)
        .await
        .unwrap();
    assert_eq!(restored.patient_id().as_deref(), Some("p-1"));
    assert_eq!(
        restored.access_token().await.unwrap().expose_secret(),
        "at-0"
    );
    assert_eq!(restored.fhir_user().unwrap().id, "dr-1");

    // A refreshed id_token for the same user is verified and kept, in the store too.
    *refresh_id_token.lock().unwrap() = Some(sign(
        pem.expose_secret(),
        json!({"fhirUser": "Practitioner/dr-2"}),
    ));
    restored.refresh().await.unwrap();
    assert_eq!(restored.fhir_user().unwrap().id, "dr-2");
    // One for another user (`sub`), or unsigned by the issuer, is discarded.
    *refresh_id_token.lock().unwrap() = Some(sign(
        pem.expose_secret(),
        json!({"sub": "mallory", "fhirUser": "Practitioner/dr-x"}),
    ));
    restored.refresh().await.unwrap();
    let impostor = SigningKey::generate(SigningAlgorithm::Rs384, "idt").unwrap();
    *refresh_id_token.lock().unwrap() = Some(sign(
        impostor.to_pkcs8_pem().unwrap().expose_secret(),
        json!({"fhirUser": "Practitioner/dr-y"}),
    ));
    restored.refresh().await.unwrap();
    assert_eq!(restored.fhir_user().unwrap().id, "dr-2");
    drop(restored);

    // Restored once more: the newest set, with the refreshed id_token, and no reuse.
    let again = app_for(&server, &store, "alice")
        .restore(&session)
        .await
        .unwrap();
    assert_eq!(again.access_token().await.unwrap().expose_secret(), "at-3");
    assert_eq!(again.fhir_user().unwrap().id, "dr-2");
    assert_eq!(again.patient_id().as_deref(), Some("p-1"), "context kept");
    *refresh_id_token.lock().unwrap() = None;
    again.refresh().await.unwrap();
    assert_eq!(
        again.fhir_user().unwrap().id,
        "dr-2",
        "kept when a refresh omits it"
    );
    assert!(
        reused.lock().unwrap().is_empty(),
        "{:?}",
        reused.lock().unwrap()
    );

    // The session is not trusted: it must match the app, its server and its user.
    let other_app = app_for(&server, &store, "alice");
    for (case, session) in [
        (
            "client id",
            tampered(&session, |j| j["client_id"] = json!("app-2")),
        ),
        (
            "token endpoint",
            tampered(&session, |j| {
                j["token_endpoint"] = json!("https://evil.example/token")
            }),
        ),
        (
            "aud",
            tampered(&session, |j| j["aud"] = json!("https://evil.example/fhir")),
        ),
    ] {
        match other_app.restore(&session).await {
            Err(Error::InvalidCallback { .. } | Error::IssNotAllowed { .. }) => {}
            other => panic!("{case}: expected a refusal, got {other:?}"),
        }
    }
    match app_for(&server, &store, "bob").restore(&session).await {
        Err(Error::ReauthorizationRequired { .. }) => {}
        other => panic!("another user restores nothing, got {other:?}"),
    }
    let without_store = fhir_smart::AppLaunch::new(
        "app-1",
        "http://127.0.0.1:9/callback",
        "openid fhirUser patient/*.rs offline_access"
            .parse()
            .unwrap(),
    )
    .fhir_base(fhir_base(&server).as_str())
    .http(http());
    assert!(matches!(
        without_store.restore(&session).await,
        Err(Error::Configuration { .. })
    ));
}
