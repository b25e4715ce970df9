//! The renewal lease on a real Redis: one holder at a time across connections, waiters get
//! it when it is given back, a holder that dies is outlived (and the next one told), and a
//! wait has a bound.

use std::time::{Duration, Instant};

use fhir_smart::TokenStore;
use fhir_smart_redis::RedisTokenStore;

use crate::support::*;

#[tokio::test]
async fn one_holder_at_a_time_and_waiters_get_it_when_given_back() {
    let server = RedisServer::start();
    let a = RedisTokenStore::connect(&server.url()).await.unwrap();
    let b = RedisTokenStore::connect(&server.url()).await.unwrap();
    let key = key("lease");
    let held = a
        .acquire_lease(&key, Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert!(!held.taken_over());
    let waiter = tokio::spawn(async move {
        let key = crate::support::key("lease");
        let started = Instant::now();
        let lease = b
            .acquire_lease(&key, Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        (started.elapsed(), lease.taken_over(), lease.release().await)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "the second holder waits");
    held.release().await.unwrap();
    let (waited, taken_over, released) = waiter.await.unwrap();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(!taken_over, "the lease was given back, not lapsed");
    released.unwrap();
    // Another key's lease is independent.
    let other = a
        .acquire_lease(&crate::support::key("other"), Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    other.release().await.unwrap();
}

#[tokio::test]
async fn a_holder_that_dies_is_outlived_and_the_next_one_is_told() {
    let server = RedisServer::start();
    let a = RedisTokenStore::connect(&server.url()).await.unwrap();
    let b = RedisTokenStore::connect(&server.url()).await.unwrap();
    let key = key("dies");
    // Dropped, never released: the holder died.
    drop(
        a.acquire_lease(&key, Duration::from_millis(400))
            .await
            .unwrap()
            .unwrap(),
    );
    let started = Instant::now();
    let next = b
        .acquire_lease(&key, Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert!(next.taken_over(), "the predecessor never finished");
    next.release().await.unwrap();
    let after = b
        .acquire_lease(&key, Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert!(!after.taken_over(), "a released lease leaves no marker");
    after.release().await.unwrap();
}

#[tokio::test]
async fn a_lapsed_holder_cannot_release_its_successors_lease_and_waits_are_bounded() {
    let server = RedisServer::start();
    let a = RedisTokenStore::connect(&server.url()).await.unwrap();
    let b = RedisTokenStore::connect(&server.url())
        .await
        .unwrap()
        .lease_wait(Duration::from_millis(300));
    let key = key("fence");
    let stale = a
        .acquire_lease(&key, Duration::from_millis(200))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let current = a
        .acquire_lease(&key, Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    // The first holder wakes up late and gives back what is no longer its own: nothing.
    stale.release().await.unwrap();
    let err = b
        .acquire_lease(&key, Duration::from_secs(30))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("was not free within"), "{err}");
    current.release().await.unwrap();
    let free = b
        .acquire_lease(&key, Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    free.release().await.unwrap();
}
