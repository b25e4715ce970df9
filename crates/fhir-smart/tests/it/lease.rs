//! Stores with a renewal lease across processes (`TokenStore::acquire_lease`): the client
//! renews under it, adopts what another process stored while it waited, always gives it
//! back, and says clearly when a lapsed lease may have cost the refresh token.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fhir_core::auth::BoxFuture;
use fhir_smart::client_auth::{ClientAuth, ClientCredentials};
use fhir_smart::{
    Error, MemoryTokenStore, RenewalLease, SmartClient, StoreKey, StoredToken, TokenStore,
};

use crate::refresh::{RotatingEndpoint, initial_token, mount};
use crate::support::*;

/// A memory store with a lease that counts takes and releases, and that can play another
/// process: renewing the set while the client waits for the lease, or having died holding it.
#[derive(Debug, Default)]
struct LeasedStore {
    inner: MemoryTokenStore,
    taken: AtomicUsize,
    released: Arc<AtomicUsize>,
    ttls: Mutex<Vec<Duration>>,
    /// Stored by "another process" while the client waits for the lease.
    renewed_elsewhere: Mutex<Option<StoredToken>>,
    taken_over: bool,
}

impl TokenStore for LeasedStore {
    fn get<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<Option<StoredToken>, Error>> {
        self.inner.get(key)
    }
    fn set<'a>(
        &'a self,
        key: &'a StoreKey,
        token: StoredToken,
    ) -> BoxFuture<'a, Result<(), Error>> {
        self.inner.set(key, token)
    }
    fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), Error>> {
        self.inner.delete(key)
    }
    fn compare_and_set<'a>(
        &'a self,
        key: &'a StoreKey,
        expected: Option<u64>,
        token: StoredToken,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        self.inner.compare_and_set(key, expected, token)
    }
    fn acquire_lease<'a>(
        &'a self,
        key: &'a StoreKey,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<RenewalLease>, Error>> {
        Box::pin(async move {
            self.taken.fetch_add(1, Ordering::SeqCst);
            self.ttls.lock().unwrap().push(ttl);
            let elsewhere = self.renewed_elsewhere.lock().unwrap().take();
            if let Some(newer) = elsewhere {
                self.inner.set(key, newer).await?;
            }
            let released = Arc::clone(&self.released);
            Ok(Some(RenewalLease::new(
                Box::new(move || {
                    released.fetch_add(1, Ordering::SeqCst);
                    Box::pin(async { Ok(()) })
                }),
                self.taken_over,
            )))
        })
    }
}

async fn client(server: &wiremock::MockServer, store: Arc<LeasedStore>) -> SmartClient {
    let store: Arc<dyn TokenStore> = store;
    SmartClient::builder(
        fhir_base(server),
        token_url(server),
        ClientCredentials::new("launch-app", ClientAuth::Public),
    )
    // All at once, then the store: `token_client_options` sets every setting it holds.
    .token_client_options(
        fhir_smart::TokenClientOptions::default()
            .http(http())
            .lease_ttl(Duration::from_secs(7)),
    )
    .store_subject("user-1")
    .store(store)
    .token(initial_token(0))
    .build()
    .await
    .unwrap()
}

#[tokio::test]
async fn renewals_run_under_the_lease_and_always_give_it_back() {
    let server = server().await;
    let endpoint = RotatingEndpoint::new(true);
    mount(&server, &endpoint).await;
    let store = Arc::new(LeasedStore::default());
    let smart = client(&server, Arc::clone(&store)).await;
    assert_eq!(smart.access_token().await.unwrap().expose_secret(), "at-r1");
    assert_eq!(endpoint.calls.load(Ordering::SeqCst), 1);
    assert_eq!(store.taken.load(Ordering::SeqCst), 1);
    assert_eq!(store.released.load(Ordering::SeqCst), 1);
    assert_eq!(*store.ttls.lock().unwrap(), [Duration::from_secs(7)]);
    // A failed renewal gives the lease back too.
    *endpoint.valid.lock().unwrap() = String::from("not-the-stored-one");
    let err = smart.refresh().await.unwrap_err();
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("stopped mid-renewal"), "{err}");
    assert_eq!(
        store.released.load(Ordering::SeqCst),
        store.taken.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn a_set_another_process_stored_while_waiting_is_adopted_without_a_request() {
    let server = server().await;
    let endpoint = RotatingEndpoint::new(true);
    mount(&server, &endpoint).await;
    let store = Arc::new(LeasedStore::default());
    let smart = client(&server, Arc::clone(&store)).await;
    let mut newer = store.get(smart.store_key()).await.unwrap().unwrap();
    newer.token = fhir_smart::token::TokenResponse::from_json(
        br#"{"access_token":"at-other","token_type":"bearer","expires_in":3600,"refresh_token":"rt-other","patient":"p-123","encounter":"e-9"}"#,
    )
    .unwrap();
    newer.expires_at = newer.issued_at + 3600;
    newer.version += 1;
    *store.renewed_elsewhere.lock().unwrap() = Some(newer);
    assert_eq!(
        smart.access_token().await.unwrap().expose_secret(),
        "at-other"
    );
    assert_eq!(
        endpoint.calls.load(Ordering::SeqCst),
        0,
        "no refresh token presented"
    );
    assert_eq!(store.released.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_rejected_refresh_after_a_lapsed_lease_says_what_may_have_happened() {
    let server = server().await;
    let endpoint = RotatingEndpoint::new(true);
    mount(&server, &endpoint).await;
    *endpoint.valid.lock().unwrap() = String::from("rotated-by-the-dead-holder");
    let store = Arc::new(LeasedStore {
        taken_over: true,
        ..LeasedStore::default()
    });
    let smart = client(&server, Arc::clone(&store)).await;
    let err = smart.access_token().await.unwrap_err();
    assert!(
        matches!(&err, Error::ReauthorizationRequired { reason, .. } if reason.contains("stopped mid-renewal")),
        "{err:?}"
    );
}
