//! Tests for the `error` module.

use super::*;

#[test]
fn every_rfc6749_token_error_code_maps() {
    for (text, code) in [
        ("invalid_request", TokenErrorCode::InvalidRequest),
        ("invalid_client", TokenErrorCode::InvalidClient),
        ("invalid_grant", TokenErrorCode::InvalidGrant),
        ("unauthorized_client", TokenErrorCode::UnauthorizedClient),
        (
            "unsupported_grant_type",
            TokenErrorCode::UnsupportedGrantType,
        ),
        ("invalid_scope", TokenErrorCode::InvalidScope),
    ] {
        let body =
            format!(r#"{{"error":"{text}","error_description":"why","error_uri":"https://e/x"}}"#);
        let err = TokenEndpointError::from_response(400, None, body.as_bytes());
        assert_eq!(err.error, Some(code.clone()));
        assert_eq!(code.as_str(), text);
        assert_eq!(err.description.as_deref(), Some("why"));
        assert_eq!(err.uri.as_deref(), Some("https://e/x"));
        assert_eq!(err.body, None);
    }
    let err = TokenEndpointError::from_response(400, None, br#"{"error":"custom_thing"}"#);
    assert_eq!(
        err.error,
        Some(TokenErrorCode::Other(String::from("custom_thing")))
    );
}

#[test]
fn every_authorize_error_code_maps() {
    for text in [
        "invalid_request",
        "unauthorized_client",
        "access_denied",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "invalid_client",
        "login_required",
        "interaction_required",
        "consent_required",
        "account_selection_required",
    ] {
        let code = AuthorizeErrorCode::from(text);
        assert!(!matches!(code, AuthorizeErrorCode::Other(_)), "{text}");
        assert_eq!(code.as_str(), text);
    }
    assert_eq!(
        AuthorizeErrorCode::from("weird"),
        AuthorizeErrorCode::Other(String::from("weird"))
    );
}

#[test]
fn non_json_body_is_kept_raw() {
    let err = TokenEndpointError::from_response(
        401,
        Some(String::from("text/plain")),
        b"Unauthorized: bad client",
    );
    assert_eq!(err.error, None);
    assert_eq!(err.body.as_deref(), Some("Unauthorized: bad client"));
    assert_eq!(err.to_string(), "token endpoint answered HTTP 401");
}

#[test]
fn json_without_error_member_is_redacted() {
    let err = TokenEndpointError::from_response(
        500,
        None,
        br#"{"access_token":"leaked","message":"oops"}"#,
    );
    let body = err.body.unwrap();
    assert!(!body.contains("leaked"));
    assert!(body.contains("oops"));
}

#[test]
fn long_bodies_are_truncated() {
    let body = "x".repeat(5000);
    let err = TokenEndpointError::from_response(502, None, body.as_bytes());
    assert!(err.body.unwrap().len() <= 2048 + '…'.len_utf8());
}

#[test]
fn serializes_to_json_with_code() {
    let err = Error::from(TokenEndpointError::from_response(
        400,
        Some(String::from("application/json")),
        br#"{"error":"invalid_grant","error_description":"expired"}"#,
    ));
    assert_eq!(err.oauth_code(), Some("invalid_grant"));
    let json = err.to_json();
    assert_eq!(json["kind"], "token_endpoint");
    assert_eq!(json["error"], "invalid_grant");
    assert_eq!(json["status"], 400);
    assert_eq!(json["error_description"], "expired");
    assert_eq!(
        err.to_string(),
        "token endpoint error invalid_grant (HTTP 400): expired"
    );
    let config = Error::configuration("SMART_CLIENT_ID", "is not set");
    assert_eq!(config.to_json()["name"], "SMART_CLIENT_ID");
    assert!(config.to_string().contains("SMART_CLIENT_ID"));
}

#[test]
fn authorization_error_display() {
    let err = Error::Authorization {
        code: AuthorizeErrorCode::AccessDenied,
        description: Some(String::from("user said no")),
        uri: None,
    };
    assert_eq!(
        err.to_string(),
        "authorization failed: access_denied: user said no"
    );
    assert_eq!(err.oauth_code(), Some("access_denied"));
}
