//! Tests for the `store` module.

use super::*;

fn token(access: &str) -> TokenResponse {
    TokenResponse::from_json(
        serde_json::json!({"access_token": access, "token_type": "bearer", "expires_in": 100})
            .to_string()
            .as_bytes(),
    )
    .unwrap()
}

#[test]
fn key_includes_endpoint_client_scope_and_subject() {
    let a = Url::parse("https://a/token").unwrap();
    let b = Url::parse("https://b/token").unwrap();
    let base = StoreKey::for_user(&a, "c", "s", "u1");
    assert_ne!(base, StoreKey::for_user(&b, "c", "s", "u1"));
    assert_ne!(base, StoreKey::for_user(&a, "d", "s", "u1"));
    assert_ne!(base, StoreKey::for_user(&a, "c", "t", "u1"));
    assert_ne!(base, StoreKey::for_user(&a, "c", "s", "u2"));
    assert_ne!(base, StoreKey::for_system(&a, "c", "s"));
    // Separators inside a part cannot forge another key.
    assert_ne!(
        StoreKey::for_system(&a, "c s", "t"),
        StoreKey::for_system(&a, "c", "s t")
    );
}

#[test]
fn expiry_uses_expires_in_or_default() {
    let stored = StoredToken::new(token("a"), Duration::from_secs(5));
    assert!(stored.expires_at >= now_secs() + 99);
    assert!(!stored.expires_within(Duration::from_secs(10)));
    assert!(stored.expires_within(Duration::from_secs(200)));
    let mut no_exp = token("a");
    no_exp.expires_in = None;
    let stored = StoredToken::new(no_exp, Duration::from_secs(5));
    assert!(stored.expires_at <= now_secs() + 5);
}

#[tokio::test]
async fn memory_store_get_set_delete() {
    let store = MemoryTokenStore::new();
    let key = StoreKey::for_user(&Url::parse("https://a/token").unwrap(), "c", "s", "u");
    assert!(store.get(&key).await.unwrap().is_none());
    store
        .set(&key, StoredToken::new(token("a1"), Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(
        store
            .get(&key)
            .await
            .unwrap()
            .unwrap()
            .token
            .access_token
            .expose_secret(),
        "a1"
    );
    assert!(!format!("{store:?}").contains("a1"));
    store.delete(&key).await.unwrap();
    assert!(store.get(&key).await.unwrap().is_none());
}

#[test]
fn stored_token_round_trips_through_json() {
    let stored = StoredToken::new(token("a1"), Duration::ZERO);
    let json = serde_json::to_string(&stored).unwrap();
    let back: StoredToken = serde_json::from_str(&json).unwrap();
    assert_eq!(back, stored);
}

#[test]
fn renewal_margin_is_at_most_half_the_lifetime() {
    let long = StoredToken::new(token("a"), Duration::ZERO);
    assert!(
        !long.needs_renewal(Duration::from_secs(60)),
        "100 s token, 50 s margin"
    );
    let mut short = StoredToken::new(token("a"), Duration::ZERO);
    short.expires_at = short.issued_at + 20;
    assert!(
        !short.needs_renewal(Duration::from_secs(60)),
        "20 s token: 10 s margin, not 60"
    );
    let mut expired = StoredToken::new(token("a"), Duration::ZERO);
    expired.expires_at = expired.issued_at;
    assert!(expired.needs_renewal(Duration::from_secs(60)));
}

#[test]
fn keys_of_two_launches_never_collide() {
    let a = Url::parse("https://a/token").unwrap();
    let shared = StoreKey::for_user(&a, "c", "s", "u1");
    let one = StoreKey::for_launch(&a, "c", "s", Some("u1"), "launch-1");
    let two = StoreKey::for_launch(&a, "c", "s", Some("u1"), "launch-2");
    assert_ne!(one, two);
    assert_ne!(one, shared);
    // No kind of key equals another, whatever the parts.
    assert_ne!(
        StoreKey::for_launch(&a, "c", "s", None, "l"),
        StoreKey::for_user(&a, "c", "s", "l")
    );
    assert_ne!(
        StoreKey::for_launch(&a, "c", "s", Some("u"), "l"),
        StoreKey::for_system(&a, "c", "s")
    );
}

/// A store with only the required methods: exercises the default `compare_and_set`.
#[derive(Debug, Default)]
struct Plain(MemoryTokenStore);

impl TokenStore for Plain {
    fn get<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<Option<StoredToken>, Error>> {
        self.0.get(key)
    }
    fn set<'a>(
        &'a self,
        key: &'a StoreKey,
        token: StoredToken,
    ) -> BoxFuture<'a, Result<(), Error>> {
        self.0.set(key, token)
    }
    fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), Error>> {
        self.0.delete(key)
    }
}

#[tokio::test]
async fn compare_and_set_writes_only_over_the_expected_version() {
    let memory = MemoryTokenStore::new();
    let plain = Plain::default();
    let stores: [&dyn TokenStore; 2] = [&memory, &plain];
    for store in stores {
        let key = StoreKey::for_user(&Url::parse("https://a/token").unwrap(), "c", "s", "u");
        let mut first = StoredToken::new(token("a1"), Duration::ZERO);
        assert!(
            !store
                .compare_and_set(&key, Some(0), first.clone())
                .await
                .unwrap()
        );
        assert!(
            store
                .compare_and_set(&key, None, first.clone())
                .await
                .unwrap()
        );
        assert!(
            !store
                .compare_and_set(&key, None, first.clone())
                .await
                .unwrap()
        );
        first.version = 1;
        first.token.access_token = crate::secret::AccessToken::new("a2");
        assert!(
            store
                .compare_and_set(&key, Some(0), first.clone())
                .await
                .unwrap()
        );
        let mut stale = first.clone();
        stale.token.access_token = crate::secret::AccessToken::new("stale");
        assert!(!store.compare_and_set(&key, Some(0), stale).await.unwrap());
        let stored = store.get(&key).await.unwrap().unwrap();
        assert_eq!(stored.token.access_token.expose_secret(), "a2");
        assert_eq!(stored.version, 1);
    }
}

#[test]
fn a_renewed_set_remembers_what_it_replaced_within_a_bound() {
    let first = StoredToken::new(token("access-0"), Duration::ZERO);
    let mut current = first.clone();
    for i in 1..=(MAX_ANCESTORS + 5) {
        let mut next = StoredToken::new(token(&format!("access-{i}")), Duration::ZERO);
        next.replaces(&current);
        current = next;
    }
    assert_eq!(current.ancestors.len(), MAX_ANCESTORS);
    assert!(current.descends_from(&current.token));
    assert!(current.descends_from(&token(&format!("access-{}", MAX_ANCESTORS + 4))));
    assert!(current.descends_from(&token("access-5")));
    // Beyond the bound, and for another grant, the stored set is not known to be newer.
    assert!(!current.descends_from(&first.token));
    assert!(!current.descends_from(&token("other")));
    // Fingerprints, never the tokens themselves.
    let json = serde_json::to_string(&current.ancestors).unwrap();
    assert!(!json.contains("access"));
}
