//! Tests for the `assertion` module: signatures are checked by an independent JWS library.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

use super::*;
use crate::keys::{SigningAlgorithm, public_jwks_json};

const TOKEN_URL: &str = "https://auth.example.org/token";

fn verify(key: &SigningKey, jwt: &str) -> serde_json::Value {
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_str(&public_jwks_json([key]).unwrap()).unwrap();
    let header = decode_header(jwt).unwrap();
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let alg = match key.alg() {
        SigningAlgorithm::Es384 => Algorithm::ES384,
        SigningAlgorithm::Rs384 => Algorithm::RS384,
    };
    let mut validation = Validation::new(alg);
    validation.set_audience(&[TOKEN_URL]);
    validation.set_issuer(&["my-client"]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    decode::<serde_json::Value>(jwt, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

#[test]
fn es384_assertion_verifies_independently() {
    let key = SigningKey::generate(SigningAlgorithm::Es384, "k1").unwrap();
    let jwt = client_assertion(&key, "my-client", TOKEN_URL, &AssertionOptions::default()).unwrap();
    let claims = verify(&key, jwt.expose_secret());
    assert_eq!(claims["iss"], "my-client");
    assert_eq!(claims["sub"], "my-client");
    assert_eq!(claims["aud"], TOKEN_URL);
    // Raw R‖S, not DER.
    let signature = jwt.expose_secret().rsplit('.').next().unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(signature).unwrap().len(), 96);
}

#[test]
fn rs384_assertion_verifies_independently() {
    let key = SigningKey::generate(SigningAlgorithm::Rs384, "r1").unwrap();
    let jwt = client_assertion(&key, "my-client", TOKEN_URL, &AssertionOptions::default()).unwrap();
    let claims = verify(&key, jwt.expose_secret());
    assert_eq!(claims["sub"], "my-client");
}

#[test]
fn header_and_claim_rules() {
    let key = SigningKey::generate(SigningAlgorithm::Es384, "kid-9").unwrap();
    let jku = Url::parse("https://app.example.org/jwks.json").unwrap();
    let options = AssertionOptions::default().jku(jku.clone());
    let jwt = client_assertion(&key, "my-client", TOKEN_URL, &options).unwrap();
    let header = decode_header(jwt.expose_secret()).unwrap();
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(header.kid.as_deref(), Some("kid-9"));
    assert_eq!(header.jku.as_deref(), Some(jku.as_str()));
    let claims = verify(&key, jwt.expose_secret());
    let now = crate::store::now_secs();
    let exp = claims["exp"].as_u64().unwrap();
    assert!(exp > now && exp <= now + 240, "default lifetime is 240 s");
    assert!(claims["aud"].is_string(), "aud is one string, not an array");
    let jti = claims["jti"].as_str().unwrap();
    assert!(URL_SAFE_NO_PAD.decode(jti).unwrap().len() >= 16);

    let no_jku =
        client_assertion(&key, "my-client", TOKEN_URL, &AssertionOptions::default()).unwrap();
    assert_eq!(decode_header(no_jku.expose_secret()).unwrap().jku, None);
}

#[test]
fn lifetime_is_clamped_to_five_minutes() {
    let key = SigningKey::generate(SigningAlgorithm::Es384, "k1").unwrap();
    let options = AssertionOptions::default().lifetime(Duration::from_secs(3600));
    let jwt = client_assertion(&key, "my-client", TOKEN_URL, &options).unwrap();
    let claims = verify(&key, jwt.expose_secret());
    assert!(claims["exp"].as_u64().unwrap() <= crate::store::now_secs() + 300);
}

#[test]
fn every_assertion_has_a_fresh_jti() {
    let key = SigningKey::generate(SigningAlgorithm::Es384, "k1").unwrap();
    let jtis: HashSet<String> = (0..20)
        .map(|_| {
            let jwt = client_assertion(&key, "my-client", TOKEN_URL, &AssertionOptions::default())
                .unwrap();
            verify(&key, jwt.expose_secret())["jti"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(jtis.len(), 20);
}

#[test]
fn a_different_key_does_not_verify() {
    let key = SigningKey::generate(SigningAlgorithm::Es384, "k1").unwrap();
    let other = SigningKey::generate(SigningAlgorithm::Es384, "k1").unwrap();
    let jwt = client_assertion(&key, "my-client", TOKEN_URL, &AssertionOptions::default()).unwrap();
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_str(&public_jwks_json([&other]).unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::ES384);
    validation.set_audience(&[TOKEN_URL]);
    let result = decode::<serde_json::Value>(
        jwt.expose_secret(),
        &DecodingKey::from_jwk(&jwks.keys[0]).unwrap(),
        &validation,
    );
    assert!(result.is_err());
}
