//! Tests for the `pending` module: expiry and bounds with an explicit clock.

use std::time::{Duration, Instant};

use super::*;
use crate::AppLaunch;
use crate::discovery::{SmartConfiguration, Strictness};

fn record() -> PendingAuthorization {
    let doc = serde_json::json!({
        "authorization_endpoint": "https://auth.example.org/authorize",
        "token_endpoint": "https://auth.example.org/token",
        "capabilities": ["launch-standalone"]
    });
    let config = SmartConfiguration::from_json(
        &url::Url::parse("https://ehr.example.org/fhir").unwrap(),
        doc.to_string().as_bytes(),
        Strictness::Lenient,
    )
    .unwrap();
    AppLaunch::new(
        "app",
        "https://app.example.org/callback",
        "patient/*.rs".parse().unwrap(),
    )
    .authorize(&config, "https://ehr.example.org/fhir", None)
    .unwrap()
    .pending
}

fn callback(pending: &PendingAuthorization) -> String {
    format!(
        "https://app.example.org/callback?code=c&state={}",
        pending.state()
    )
}

#[test]
fn expired_records_are_evicted_and_never_returned() {
    let keeper = PendingAuthorizations::new().ttl(Duration::from_secs(600));
    let t0 = Instant::now();
    let old = record();
    keeper.insert_at(t0, b"alice", old.clone()).unwrap();
    let url = callback(&old);
    // Ten minutes and a second later, the right session still gets nothing.
    let late = t0 + Duration::from_secs(601);
    assert!(keeper.take_at(late, b"alice", &url).is_err());
    assert!(keeper.is_empty(), "the expired record was evicted");

    // Eviction also happens on insert: an abandoned login does not stay in memory.
    let abandoned = record();
    keeper.insert_at(t0, b"bob", abandoned).unwrap();
    let fresh = record();
    keeper.insert_at(late, b"carol", fresh.clone()).unwrap();
    assert_eq!(keeper.len(), 1);
    assert!(keeper.take_at(late, b"carol", &callback(&fresh)).is_ok());
}

#[test]
fn a_record_within_its_ttl_is_returned_once() {
    let keeper = PendingAuthorizations::new().ttl(Duration::from_secs(60));
    let t0 = Instant::now();
    let pending = record();
    keeper.insert_at(t0, b"alice", pending.clone()).unwrap();
    let url = callback(&pending);
    let t1 = t0 + Duration::from_secs(59);
    assert_eq!(
        keeper.take_at(t1, b"alice", &url).unwrap().state(),
        pending.state()
    );
    assert!(keeper.take_at(t1, b"alice", &url).is_err());
}

#[test]
fn a_flood_of_begins_stays_bounded_and_evicts_the_oldest() {
    let keeper = PendingAuthorizations::new().capacity(50);
    let t0 = Instant::now();
    let victim = record();
    keeper.insert_at(t0, b"victim", victim.clone()).unwrap();
    let mut last = None;
    for i in 0..1_000u32 {
        let flood = record();
        last = Some(flood.clone());
        keeper
            .insert_at(t0, format!("attacker-{i}").as_bytes(), flood)
            .unwrap();
        assert!(keeper.len() <= 50);
    }
    assert_eq!(keeper.len(), 50);
    let records = keeper.records();
    assert!(records.order.len() <= 2 * records.by_state.len() + 16);
    drop(records);
    // The oldest record made room; the newest is kept, and new logins still work.
    assert!(keeper.take_at(t0, b"victim", &callback(&victim)).is_err());
    let last = last.unwrap();
    assert!(
        keeper
            .take_at(t0, b"attacker-999", &callback(&last))
            .is_ok()
    );
}

#[test]
fn taken_records_do_not_pile_up_in_the_queue() {
    let keeper = PendingAuthorizations::new().capacity(10);
    let t0 = Instant::now();
    for _ in 0..300 {
        let pending = record();
        keeper.insert_at(t0, b"s", pending.clone()).unwrap();
        keeper.take_at(t0, b"s", &callback(&pending)).unwrap();
    }
    assert!(keeper.is_empty());
    assert!(keeper.records().order.len() <= 16);
}

#[test]
fn an_empty_session_is_refused() {
    let keeper = PendingAuthorizations::new();
    assert!(matches!(
        keeper.insert("", record()),
        Err(Error::Configuration { .. })
    ));
}

#[test]
fn another_session_cannot_replace_a_pending_record_by_reinserting_its_state() {
    let keeper = PendingAuthorizations::new();
    let t0 = Instant::now();
    let alice = record();
    keeper.insert_at(t0, b"alice", alice.clone()).unwrap();
    // The record comes back from client storage (it is serializable): Mallory re-inserts a
    // copy of Alice's under her own session.
    let copy: PendingAuthorization =
        serde_json::from_value(serde_json::to_value(&alice).unwrap()).unwrap();
    assert!(matches!(
        keeper.insert_at(t0, b"mallory", copy),
        Err(Error::Configuration { .. })
    ));
    assert!(keeper.take_at(t0, b"mallory", &callback(&alice)).is_err());
    // Alice's record is intact, and Alice may replace her own.
    keeper.insert_at(t0, b"alice", alice.clone()).unwrap();
    assert_eq!(keeper.len(), 1);
    assert!(keeper.take_at(t0, b"alice", &callback(&alice)).is_ok());
}
