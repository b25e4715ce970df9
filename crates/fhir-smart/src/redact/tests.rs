//! Tests for the `redact` module.

use super::*;

fn sent(values: &[(&'static str, &str)]) -> SentSecrets {
    let form: Vec<(&str, String)> = values.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
    SentSecrets::of_request(&form, None)
}

#[test]
fn pairs_in_text_lose_their_values() {
    let none = SentSecrets::default();
    assert_eq!(
        redact_text("refresh_token=abc&scope=x", &none),
        "refresh_token=[redacted]&scope=x"
    );
    assert_eq!(
        redact_text(r#"got "Client_Secret": "s p a c e" ok"#, &none),
        r#"got "Client_Secret": "[redacted]" ok"#
    );
    assert_eq!(
        redact_text("password: hunter22.", &none),
        "password: [redacted]"
    );
    // Words that merely contain a secret name are left alone.
    assert_eq!(
        redact_text("monkey=1 access_tokens=2 authcode=3", &none),
        "monkey=1 access_tokens=2 authcode=3"
    );
    assert_eq!(redact_text("the code expired", &none), "the code expired");
}

#[test]
fn sent_secrets_are_found_in_every_encoding() {
    let sent = sent(&[("code", "a b+c/d=é"), ("grant_type", "authorization_code")]);
    for echo in [
        "a b+c/d=é",
        "a+b%2Bc%2Fd%3D%C3%A9",
        "a%20b%2Bc%2Fd%3D%C3%A9",
    ] {
        let out = redact_text(&format!("<p>echo {echo} end</p>"), &sent);
        assert_eq!(out, "<p>echo [redacted] end</p>", "{echo}");
    }
    // The grant type is not a secret.
    assert_eq!(
        redact_text("authorization_code", &sent),
        "authorization_code"
    );
}

#[test]
fn basic_credentials_are_secrets() {
    let header = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("app:top-secret")
    );
    let sent = SentSecrets::of_request(&[], Some(&header));
    let out = redact_text(&format!("{header} / top-secret"), &sent);
    assert!(
        !out.contains("top-secret") && !out.contains(&header[6..]),
        "{out}"
    );
}

#[test]
fn bodies_of_every_shape() {
    let sent = sent(&[("refresh_token", "rt-CANARY-1")]);
    let json = br#"{"a":[{"b":{"Access_Token":"x"}}, "rt-CANARY-1"], "rt-CANARY-1": 1}"#;
    let out = redact_body(Some("application/json"), json, &sent);
    assert!(!out.contains("CANARY") && !out.contains("\"x\""), "{out}");
    let form = b"refresh_token=whatever&echo=rt-CANARY-1&ok=1";
    let out = redact_body(Some("application/x-www-form-urlencoded"), form, &sent);
    assert_eq!(out, "refresh_token=%5Bredacted%5D&echo=%5Bredacted%5D&ok=1");
    // Untyped but form-shaped, with an encoded name.
    let out = redact_body(None, b"refresh%5Ftoken=zzz9&ok=1", &sent);
    assert!(!out.contains("zzz9"), "{out}");
    let out = redact_body(Some("text/html"), b"<b>rt-CANARY-1</b>", &sent);
    assert_eq!(out, "<b>[redacted]</b>");
}

#[test]
fn short_sent_values_are_not_searched() {
    let sent = sent(&[("code", "c")]);
    assert_eq!(redact_text("cache", &sent), "cache");
}
