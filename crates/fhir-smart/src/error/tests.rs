//! Tests for the `error` module.

use super::*;

fn from_response(status: u16, content_type: Option<String>, body: &[u8]) -> TokenEndpointError {
    TokenEndpointError::from_response(status, content_type, body, &SentSecrets::default())
}

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
        let err = from_response(400, None, body.as_bytes());
        assert_eq!(err.error, Some(code.clone()));
        assert_eq!(code.as_str(), text);
        assert_eq!(err.description.as_deref(), Some("why"));
        assert_eq!(err.uri.as_deref(), Some("https://e/x"));
        assert_eq!(err.body, None);
    }
    let err = from_response(400, None, br#"{"error":"custom_thing"}"#);
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
    let err = from_response(
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
    let err = from_response(500, None, br#"{"access_token":"leaked","message":"oops"}"#);
    let body = err.body.unwrap();
    assert!(!body.contains("leaked"));
    assert!(body.contains("oops"));
}

#[test]
fn long_bodies_are_truncated() {
    let body = "x".repeat(5000);
    let err = from_response(502, None, body.as_bytes());
    assert!(err.body.unwrap().len() <= 2048 + '…'.len_utf8());
}

#[test]
fn serializes_to_json_with_code() {
    let err = Error::from(from_response(
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

#[test]
fn secret_members_are_redacted_at_any_depth_and_in_any_case() {
    let body = br#"{"message":"oops","detail":{"Refresh_Token":"rt-leak","nested":[{"CODE":"c-leak"},"password=pw-leak&x=1"]},"api_key":{"deep":"k-leak"}}"#;
    let err = from_response(500, Some(String::from("application/json")), body);
    let text = err.body.clone().unwrap();
    for leak in ["rt-leak", "c-leak", "pw-leak", "k-leak"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
    assert!(text.contains("oops") && text.contains("x=1"), "{text}");
}

#[test]
fn sent_secrets_are_redacted_in_every_field_and_encoding() {
    let sent = SentSecrets::of_request(
        &[
            ("grant_type", String::from("refresh_token")),
            ("refresh_token", String::from("rt+secret/value=")),
        ],
        None,
    );
    let description = "refresh token rt+secret/value= is unknown (sent rt%2Bsecret%2Fvalue%3D)";
    let body = serde_json::json!({"error": "invalid_grant", "error_description": description, "error_uri": "https://e/?t=rt+secret/value="});
    let err = TokenEndpointError::from_response(400, None, body.to_string().as_bytes(), &sent);
    let shown = format!("{err} {err:?} {}", Error::from(err.clone()).to_json());
    assert!(
        !shown.contains("rt+secret") && !shown.contains("rt%2Bsecret"),
        "{shown}"
    );
    assert!(shown.contains("is unknown"), "{shown}");
    let text = TokenEndpointError::from_response(
        401,
        Some(String::from("text/plain")),
        b"bad token rt+secret/value= here",
        &sent,
    );
    assert_eq!(text.body.as_deref(), Some("bad token [redacted] here"));
}

#[test]
fn the_workspace_vocabulary_knows_every_smart_credential_name() {
    // fhir-core owns the list; SMART relies on these names being in it.
    for name in [
        "access_token",
        "id_token",
        "refresh_token",
        "code",
        "code_verifier",
        "client_secret",
        "client_assertion",
        "assertion",
        "token",
        "key",
        "api_key",
        "password",
        "Code_Verifier",
        "clientAssertion",
    ] {
        assert!(fhir_core::credentials::is_secret_name(name), "{name}");
    }
}

#[test]
fn the_workspace_rules_apply_to_token_endpoint_errors() {
    // Secrets this request did not send, named the way fhir-core recognizes them: camelCase
    // members, a bearer credential in an echoed header, a pre-signed URL's signature.
    let body = br#"{"debug": {"refreshToken": "rt-not-ours-1"}, "echo": "Authorization: Bearer at-not-ours-2", "url": "https://s3.example/x?X-Amz-Signature=sig-not-ours-3"}"#;
    let err = from_response(500, Some(String::from("application/json")), body);
    let text = Error::from(err).to_json().to_string();
    for leaked in ["rt-not-ours-1", "at-not-ours-2", "sig-not-ours-3"] {
        assert!(!text.contains(leaked), "{leaked} in {text}");
    }
    let err = from_response(
        400,
        Some(String::from("text/plain")),
        b"upstream said: WWW-Authenticate: Bearer at-not-ours-4, apiKey=k-not-ours-5",
    );
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains("at-not-ours-4") && !text.contains("k-not-ours-5"),
        "{text}"
    );
}
