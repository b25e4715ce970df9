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
        assert_eq!(stored.token.access_token.secret(), "at-r2");
        assert_eq!(
            restored.token_response().unwrap().access_token.secret(),
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
    assert_eq!(stored.token.access_token.secret(), "at-new-grant");
    assert_eq!(stored.version, 4, "written over the version it read");
}
