//! Tests for the `authorize` module.

use super::*;
use crate::discovery::Strictness;

fn config(endpoint: &str) -> SmartConfiguration {
    let doc = serde_json::json!({
        "authorization_endpoint": endpoint,
        "token_endpoint": "https://auth.example.org/token",
        "capabilities": ["launch-ehr", "launch-standalone"]
    });
    SmartConfiguration::from_json(
        &Url::parse("https://ehr.example.org/fhir").unwrap(),
        doc.to_string().as_bytes(),
        Strictness::Lenient,
    )
    .unwrap()
}

fn query(url: &Url) -> Vec<(String, String)> {
    url.query_pairs().into_owned().collect()
}

#[test]
fn the_callers_state_and_verifier_are_used_and_the_verifier_never_sent() {
    let state = State::new("app-owned-state-0123456789abcdef").unwrap();
    // The RFC 7636 Appendix B verifier and its challenge.
    let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
    let url = AuthorizeUrl::new(
        &config("https://auth.example.org/authorize?tenant=t1"),
        "my-app",
        "https://app.example.org/cb",
        &"launch patient/*.rs openid fhirUser".parse().unwrap(),
        "https://ehr.example.org/fhir",
        &state,
        &verifier,
    )
    .unwrap()
    .launch("a+b/c=")
    .nonce("n-1")
    .param("prompt", "none")
    .unwrap()
    .url()
    .unwrap();
    let expected: Vec<(String, String)> = [
        ("tenant", "t1"),
        ("response_type", "code"),
        ("client_id", "my-app"),
        ("redirect_uri", "https://app.example.org/cb"),
        ("launch", "a+b/c="),
        ("scope", "launch patient/*.rs openid fhirUser"),
        ("state", "app-owned-state-0123456789abcdef"),
        ("aud", "https://ehr.example.org/fhir"),
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
        ("nonce", "n-1"),
        ("prompt", "none"),
    ]
    .iter()
    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(query(&url), expected);
    assert!(!url.as_str().contains(verifier.expose_secret()));
}

#[test]
fn refusals() {
    let state = State::generate();
    let verifier = PkceVerifier::generate();
    let build = |endpoint: &str, scope: &str| {
        AuthorizeUrl::new(
            &config(endpoint),
            "app",
            "https://app/cb",
            &scope.parse().unwrap(),
            "https://ehr.example.org/fhir",
            &state,
            &verifier,
        )
    };
    assert!(matches!(
        build("https://a/authorize", ""),
        Err(Error::Configuration { .. })
    ));
    let plain = build("http://127.0.0.1:9/authorize", "patient/*.rs").unwrap();
    assert!(matches!(plain.url(), Err(Error::InsecureUrl { .. })));
    assert!(plain.allow_loopback_http(true).url().is_ok());
    assert!(matches!(
        build("http://auth.example.org/authorize", "patient/*.rs")
            .unwrap()
            .allow_loopback_http(true)
            .url(),
        Err(Error::InsecureUrl { .. })
    ));
    let request = build("https://a/authorize", "patient/*.rs").unwrap();
    assert!(request.clone().param("state", "x").is_err());
    assert!(request.clone().param("code_verifier", "x").is_err());
    assert!(request.param("id_token_hint", "x").is_ok());
}
