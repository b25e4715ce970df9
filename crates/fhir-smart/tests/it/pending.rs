//! Pending authorizations under attack: another user's state, a wrong session, replays.

use fhir_smart::{AppLaunch, Error, PendingAuthorizations};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

async fn app(server: &MockServer) -> AppLaunch {
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(smart_configuration(server)))
        .mount(server)
        .await;
    AppLaunch::new(
        "app-1",
        "http://127.0.0.1:9/callback",
        "patient/*.rs".parse().unwrap(),
    )
    .fhir_base(fhir_base(server).as_str())
    .http(http())
}

fn callback(state: &str) -> String {
    format!("http://127.0.0.1:9/callback?code=attacker-code&state={state}")
}

#[tokio::test]
async fn another_users_state_from_a_wrong_session_neither_consumes_nor_cancels_it() {
    let server = server().await;
    let app = app(&server).await;
    let keeper = PendingAuthorizations::new();
    let alice = app.standalone().await.unwrap();
    let mallory = app.standalone().await.unwrap();
    let alice_state = alice.pending.state().to_owned();
    let mallory_state = mallory.pending.state().to_owned();
    keeper.insert("alice-session", alice.pending).unwrap();
    keeper.insert("mallory-session", mallory.pending).unwrap();

    // Mallory replays Alice's state from her own session, then an error callback with it
    // (an attempt to cancel Alice's login), then a made-up state.
    for url in [
        callback(&alice_state),
        format!("http://127.0.0.1:9/callback?error=access_denied&state={alice_state}"),
        callback("made-up"),
    ] {
        match keeper.take("mallory-session", &url) {
            Err(Error::InvalidCallback { .. }) => {}
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    // Login CSRF: Mallory's state planted in Alice's browser does not give Alice
    // Mallory's record (Mallory's account).
    assert!(
        keeper
            .take("alice-session", &callback(&mallory_state))
            .is_err()
    );
    assert_eq!(keeper.len(), 2, "nothing was consumed or cancelled");

    // Each record still goes to its own session, once.
    let taken = keeper
        .take("alice-session", &callback(&alice_state))
        .unwrap();
    assert_eq!(taken.state(), alice_state);
    assert!(
        keeper
            .take("alice-session", &callback(&alice_state))
            .is_err()
    );
    assert!(
        keeper
            .take("mallory-session", &callback(&mallory_state))
            .is_ok()
    );
    assert!(keeper.is_empty());
}

#[tokio::test]
async fn unknown_and_foreign_states_get_the_same_answer() {
    let server = server().await;
    let app = app(&server).await;
    let keeper = PendingAuthorizations::new();
    let alice = app.standalone().await.unwrap();
    let state = alice.pending.state().to_owned();
    keeper.insert("alice-session", alice.pending).unwrap();
    let foreign = keeper
        .take("other", &callback(&state))
        .unwrap_err()
        .to_string();
    let unknown = keeper
        .take("other", &callback("nope"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        foreign, unknown,
        "an attacker cannot probe which states exist"
    );
}
