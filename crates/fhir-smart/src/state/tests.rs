//! Tests for the `state` module.

use super::*;

#[test]
fn state_has_enough_entropy_and_is_unique() {
    let a = State::generate();
    let b = State::generate();
    // 43 base64url characters carry 256 bits, well above the 122 required.
    assert_eq!(a.as_str().len(), 43);
    assert!(
        a.as_str()
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );
    assert_ne!(a.as_str(), b.as_str());
}

#[test]
fn matches_exactly() {
    let state = State::generate();
    assert!(state.matches(state.as_str()));
    assert!(!state.matches(&state.as_str()[1..]));
    assert!(!state.matches(""));
    let mut altered = state.as_str().to_owned();
    altered.push('x');
    assert!(!state.matches(&altered));
    assert!(!format!("{state:?}").contains(state.as_str()));
}

#[test]
fn an_apps_own_state_needs_room_for_entropy() {
    let uuid = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    assert_eq!(State::new(uuid).unwrap().as_str(), uuid);
    for bad in [
        "",
        "short",
        "has\nnewline-and-is-long-enough",
        &"x".repeat(513),
    ] {
        assert!(State::new(bad).is_err(), "{bad:?}");
    }
}
