//! Tests for the `secret` module.

use super::*;

#[test]
fn debug_never_shows_the_secret() {
    let token = AccessToken::new("s3cr3t-token");
    assert_eq!(format!("{token:?}"), "AccessToken([redacted])");
    assert_eq!(token.expose_secret(), "s3cr3t-token");
    let secret = ClientSecret::new("hunter2");
    assert!(!format!("{secret:?}").contains("hunter2"));
    let code = AuthorizationCode::new("the-code");
    assert!(!format!("{:?}", Some(&code)).contains("the-code"));
}

#[test]
fn serializes_as_plain_string_for_storage() {
    let token = RefreshToken::new("r1");
    assert_eq!(serde_json::to_string(&token).unwrap(), "\"r1\"");
    let back: RefreshToken = serde_json::from_str("\"r1\"").unwrap();
    assert_eq!(back, token);
}
