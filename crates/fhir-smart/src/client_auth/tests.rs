//! Tests for the `client_auth` module.

use super::*;
use crate::discovery::Strictness;
use crate::keys::SigningAlgorithm;

fn token_url() -> Url {
    Url::parse("https://auth.example.org/token").unwrap()
}

#[test]
fn basic_header_matches_the_spec_vector() {
    let auth = ClientAuth::basic("my-app-secret-123");
    let mut form = Vec::new();
    let header = auth
        .apply("my-app", &token_url(), false, &mut form)
        .unwrap()
        .unwrap();
    assert_eq!(
        header.to_str().unwrap(),
        "Basic bXktYXBwOm15LWFwcC1zZWNyZXQtMTIz"
    );
    assert!(header.is_sensitive());
    assert!(
        form.is_empty(),
        "confidential clients omit client_id by default"
    );
}

#[test]
fn basic_header_can_urlencode() {
    let auth = ClientAuth::ClientSecretBasic {
        secret: ClientSecret::new("a b:c"),
        encoding: BasicEncoding::FormUrlEncoded,
    };
    let mut form = Vec::new();
    let header = auth
        .apply("id:1", &token_url(), true, &mut form)
        .unwrap()
        .unwrap();
    let expected = base64::engine::general_purpose::STANDARD.encode("id%3A1:a+b%3Ac");
    assert_eq!(header.to_str().unwrap(), format!("Basic {expected}"));
    assert_eq!(form, vec![("client_id", String::from("id:1"))]);
}

#[test]
fn public_and_post_put_client_id_in_the_body() {
    let mut form = Vec::new();
    assert!(
        ClientAuth::Public
            .apply("app", &token_url(), false, &mut form)
            .unwrap()
            .is_none()
    );
    assert_eq!(form, vec![("client_id", String::from("app"))]);

    let mut form = Vec::new();
    let post = ClientAuth::ClientSecretPost {
        secret: ClientSecret::new("s"),
    };
    assert!(
        post.apply("app", &token_url(), false, &mut form)
            .unwrap()
            .is_none()
    );
    assert_eq!(
        form,
        vec![
            ("client_id", String::from("app")),
            ("client_secret", String::from("s"))
        ]
    );
}

#[test]
fn private_key_jwt_adds_a_fresh_assertion() {
    let key = SigningKey::generate(SigningAlgorithm::Es384, "k1").unwrap();
    let auth = ClientAuth::private_key_jwt(key);
    let mut first = Vec::new();
    assert!(
        auth.apply("app", &token_url(), false, &mut first)
            .unwrap()
            .is_none()
    );
    let mut second = Vec::new();
    auth.apply("app", &token_url(), false, &mut second).unwrap();
    assert_eq!(
        first[0],
        ("client_assertion_type", String::from(CLIENT_ASSERTION_TYPE))
    );
    assert_eq!(first[1].0, "client_assertion");
    assert_ne!(first[1].1, second[1].1, "never reused");
    assert!(
        !first
            .iter()
            .any(|(k, _)| *k == "client_id" || *k == "client_secret")
    );
}

fn config(capabilities: &[&str], methods: &[&str]) -> SmartConfiguration {
    let doc = serde_json::json!({
        "token_endpoint": "https://h/token",
        "grant_types_supported": ["authorization_code"],
        "capabilities": capabilities,
        "token_endpoint_auth_methods_supported": methods,
        "code_challenge_methods_supported": ["S256"]
    });
    SmartConfiguration::from_json(
        &Url::parse("https://h/fhir").unwrap(),
        doc.to_string().as_bytes(),
        Strictness::Lenient,
    )
    .unwrap()
}

#[test]
fn choose_follows_b8() {
    let key = || Some(SigningKey::generate(SigningAlgorithm::Es384, "k").unwrap());
    let secret = || Some(ClientSecret::new("s"));
    let opts = AssertionOptions::default;
    let asym = config(&["client-confidential-asymmetric"], &[]);
    let by_method = config(&[], &["private_key_jwt"]);
    let sym = config(&["client-confidential-symmetric"], &["client_secret_basic"]);

    assert_eq!(
        ClientAuth::choose(&asym, None, key(), opts())
            .unwrap()
            .method_name(),
        "private_key_jwt"
    );
    assert_eq!(
        ClientAuth::choose(&by_method, secret(), key(), opts())
            .unwrap()
            .method_name(),
        "private_key_jwt"
    );
    assert_eq!(
        ClientAuth::choose(&sym, secret(), key(), opts())
            .unwrap()
            .method_name(),
        "client_secret_basic"
    );
    assert_eq!(
        ClientAuth::choose(&sym, secret(), None, opts())
            .unwrap()
            .method_name(),
        "client_secret_basic"
    );
    assert_eq!(
        ClientAuth::choose(&sym, None, None, opts())
            .unwrap()
            .method_name(),
        "none"
    );
    let err = ClientAuth::choose(&sym, None, key(), opts()).unwrap_err();
    assert!(
        matches!(err, Error::Configuration { .. }),
        "no silent downgrade"
    );
}

#[test]
fn debug_hides_secrets() {
    let auth = ClientAuth::basic("very-secret");
    assert!(!format!("{auth:?}").contains("very-secret"));
}
