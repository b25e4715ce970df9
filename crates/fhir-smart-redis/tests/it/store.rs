//! The store against a real Redis: round trips, what Redis holds, compare-and-set races,
//! expiry, encryption (wrong key, altered values, downgrades), a restart.

use std::sync::Arc;

use fhir_smart::TokenStore;
use fhir_smart_redis::{EncryptionKey, RedisTokenStore};
use redis::AsyncCommands as _;

use crate::support::*;

async fn store(server: &RedisServer) -> RedisTokenStore {
    RedisTokenStore::connect(&server.url()).await.unwrap()
}

#[tokio::test]
async fn sets_round_trip_under_a_namespaced_hashed_key() {
    let server = RedisServer::start();
    let store = store(&server).await.namespace("test-a");
    let other = RedisTokenStore::connect(&server.url())
        .await
        .unwrap()
        .namespace("test-b");
    let key = key("alice");
    assert!(store.get(&key).await.unwrap().is_none());
    let set = token_set(3, 3600, true);
    store.set(&key, set.clone()).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), Some(set));
    assert!(
        other.get(&key).await.unwrap().is_none(),
        "namespaces do not see each other"
    );

    let mut raw = server.raw().await;
    let keys: Vec<String> = raw.keys("*").await.unwrap();
    assert_eq!(keys, [store.redis_key(&key)]);
    assert!(keys[0].starts_with("test-a:"));
    assert!(
        !keys[0].contains("alice") && !keys[0].contains("client"),
        "the key is hashed: {}",
        keys[0]
    );
    // Without encryption the set is plain JSON, as documented.
    let payload: Vec<u8> = raw.hget(&keys[0], "payload").await.unwrap();
    assert!(String::from_utf8_lossy(&payload).contains(ACCESS));

    store.delete(&key).await.unwrap();
    assert!(store.get(&key).await.unwrap().is_none());
    store.delete(&key).await.unwrap();
}

#[tokio::test]
async fn compare_and_set_lets_exactly_one_of_many_racing_writers_win() {
    let server = RedisServer::start();
    let key = key("fleet");
    let first = store(&server).await;
    assert!(
        first
            .compare_and_set(&key, None, token_set(0, 3600, true))
            .await
            .unwrap()
    );
    assert!(
        !first
            .compare_and_set(&key, None, token_set(0, 3600, true))
            .await
            .unwrap(),
        "something is stored"
    );
    assert!(
        !first
            .compare_and_set(&key, Some(5), token_set(6, 3600, true))
            .await
            .unwrap(),
        "another version"
    );
    // 8 stores (connections) x 25 tasks all renew from version 0: one write lands.
    let mut stores = Vec::new();
    for _ in 0..8 {
        stores.push(Arc::new(store(&server).await));
    }
    let mut tasks = Vec::new();
    for (i, store) in stores.iter().enumerate() {
        for j in 0..25 {
            let store = Arc::clone(store);
            let key = key.clone();
            tasks.push(tokio::spawn(async move {
                let mut set = token_set(1, 3600 + (i * 25 + j) as u64, true);
                set.version = 1;
                store.compare_and_set(&key, Some(0), set).await.unwrap()
            }));
        }
    }
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await.unwrap());
    }
    assert_eq!(wins, 1, "exactly one renewal from version 0 is stored");
    assert_eq!(first.get(&key).await.unwrap().unwrap().version, 1);
}

#[tokio::test]
async fn sets_without_a_refresh_token_expire_after_their_access_token() {
    let server = RedisServer::start();
    let store = store(&server)
        .await
        .expiry_grace(std::time::Duration::from_secs(30));
    let key = key("ttl");
    let mut raw = server.raw().await;
    store.set(&key, token_set(0, 600, false)).await.unwrap();
    let ttl: i64 = raw.pttl(store.redis_key(&key)).await.unwrap();
    assert!(
        (620_000..=630_000).contains(&ttl),
        "600 s + 30 s grace, got {ttl} ms"
    );
    // A set with a refresh token outlives its access token: it is kept (the TTL is dropped).
    store.set(&key, token_set(1, 600, true)).await.unwrap();
    let ttl: i64 = raw.pttl(store.redis_key(&key)).await.unwrap();
    assert_eq!(ttl, -1, "no expiry");
    let kept = store.refresh_token_ttl(Some(std::time::Duration::from_secs(86_400)));
    kept.set(&key, token_set(2, 600, true)).await.unwrap();
    let ttl: i64 = raw.pttl(kept.redis_key(&key)).await.unwrap();
    assert!((86_390_000..=86_400_000).contains(&ttl), "{ttl}");
    // An access token that expired already still gets its grace, never a zero TTL.
    kept.set(&key, token_set(3, 0, false)).await.unwrap();
    let ttl: i64 = raw.pttl(kept.redis_key(&key)).await.unwrap();
    assert!(ttl > 0, "{ttl}");
}

#[tokio::test]
async fn encrypted_sets_hide_their_tokens_and_open_only_with_their_key() {
    let server = RedisServer::start();
    let secret = EncryptionKey::generate();
    let store = store(&server).await.encryption(secret.clone());
    let key = key("sealed");
    let set = token_set(4, 3600, true);
    store.set(&key, set.clone()).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), Some(set.clone()));

    let mut raw = server.raw().await;
    let redis_key = store.redis_key(&key);
    let payload: Vec<u8> = raw.hget(&redis_key, "payload").await.unwrap();
    for canary in [ACCESS, REFRESH, "system/*.rs"] {
        assert!(
            !payload
                .windows(canary.len())
                .any(|w| w == canary.as_bytes()),
            "{canary} is readable in Redis"
        );
    }

    let texts = |err: fhir_smart::Error| [err.to_string(), format!("{err:?}")];
    // Another key, a plain-JSON store reading a sealed value, and a sealed store reading a
    // plain one: typed errors, never a token.
    let wrong = RedisTokenStore::connect(&server.url())
        .await
        .unwrap()
        .encryption(EncryptionKey::generate());
    let err = wrong.get(&key).await.unwrap_err();
    assert!(err.to_string().contains("does not decrypt"), "{err}");
    let plain = RedisTokenStore::connect(&server.url()).await.unwrap();
    let err = plain.get(&key).await.unwrap_err();
    assert!(err.to_string().contains("aes256gcm"), "{err}");
    let other_key = key_of_subject("plain");
    plain
        .set(&other_key, token_set(0, 3600, true))
        .await
        .unwrap();
    let err = store.get(&other_key).await.unwrap_err();
    assert!(
        err.to_string().contains("is json"),
        "a downgrade is refused: {err}"
    );
    for err in [
        wrong.get(&key).await.unwrap_err(),
        plain.get(&key).await.unwrap_err(),
        store.get(&other_key).await.unwrap_err(),
    ] {
        for text in texts(err) {
            assert!(!text.contains(ACCESS) && !text.contains(REFRESH), "{text}");
        }
    }

    // The value is bound to its version and key: changing either makes it unreadable.
    let _: () = raw.hset(&redis_key, "version", "5").await.unwrap();
    assert!(
        store
            .get(&key)
            .await
            .unwrap_err()
            .to_string()
            .contains("does not decrypt")
    );
    let _: () = raw.hset(&redis_key, "version", "4").await.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), Some(set));
    let copied = store.redis_key(&other_key);
    let _: () = raw.del(&copied).await.unwrap();
    let _: () = raw
        .hset_multiple(&copied, &[("version", "4"), ("format", "aes256gcm")])
        .await
        .unwrap();
    let _: () = raw.hset(&copied, "payload", payload).await.unwrap();
    assert!(
        store
            .get(&other_key)
            .await
            .unwrap_err()
            .to_string()
            .contains("does not decrypt")
    );
}

fn key_of_subject(subject: &str) -> fhir_smart::StoreKey {
    key(subject)
}

#[tokio::test]
async fn malformed_values_are_typed_errors() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let key = key("bad");
    let redis_key = store.redis_key(&key);
    let mut raw = server.raw().await;
    for (version, format, payload, expected) in [
        ("x", "json", "{}", "version is not a number"),
        ("1", "json", "not json", "not a stored token set"),
        ("1", "rot13", "{}", "an unknown format"),
    ] {
        let _: () = raw.del(&redis_key).await.unwrap();
        let _: () = raw
            .hset_multiple(
                &redis_key,
                &[
                    ("version", version),
                    ("format", format),
                    ("payload", payload),
                ],
            )
            .await
            .unwrap();
        let err = store.get(&key).await.unwrap_err();
        assert!(err.to_string().contains(expected), "{err}");
    }
    // The stored set's own version must agree with the hash's.
    let mut set = token_set(2, 3600, true);
    store.set(&key, set.clone()).await.unwrap();
    set.version = 9;
    let _: () = raw.hset(&redis_key, "version", "9").await.unwrap();
    assert!(
        store
            .get(&key)
            .await
            .unwrap_err()
            .to_string()
            .contains("differs")
    );
}

#[tokio::test]
async fn a_redis_restart_is_a_clear_error_then_the_store_recovers() {
    let mut server = RedisServer::start();
    let store = store(&server).await;
    let key = key("restart");
    store.set(&key, token_set(0, 3600, true)).await.unwrap();
    let port = server.port;
    server.stop();
    let err = store.get(&key).await.unwrap_err();
    assert!(err.to_string().contains("redis get failed"), "{err}");
    assert!(!err.to_string().contains(ACCESS));
    let _server = RedisServer::start_on(port);
    // The connection comes back by itself (the data did not: no persistence here).
    let mut recovered = None;
    for _ in 0..50 {
        match store.get(&key).await {
            Ok(found) => {
                recovered = Some(found);
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    assert_eq!(
        recovered,
        Some(None),
        "the store answers again after the restart"
    );
    store.set(&key, token_set(1, 3600, true)).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap().unwrap().version, 1);
}
