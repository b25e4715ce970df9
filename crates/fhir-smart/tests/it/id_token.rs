//! id_token validation against a mock OpenID issuer; tokens are signed by `jsonwebtoken`.

use fhir_smart::id_token::{Expectations, IdTokenVerifier};
use fhir_smart::keys::{SigningAlgorithm, SigningKey};
use fhir_smart::secret::IdToken;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use p256::pkcs8::EncodePrivateKey as _;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(server: &MockServer) -> Value {
    json!({
        "iss": server.uri(),
        "sub": "user-1",
        "aud": "app-1",
        "exp": now() + 300,
        "iat": now(),
        "nonce": "nonce-1",
        "fhirUser": "Practitioner/p7"
    })
}

struct Signer {
    encoding: EncodingKey,
    jwk: Value,
    alg: Algorithm,
    kid: String,
}

impl Signer {
    fn sign(&self, claims: &Value) -> IdToken {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        IdToken::new(encode(&header, claims, &self.encoding).unwrap())
    }
}

fn rsa_signer(kid: &str, alg: Algorithm, jwk_alg: &str) -> Signer {
    let key = SigningKey::generate(SigningAlgorithm::Rs384, kid).unwrap();
    let mut jwk = serde_json::to_value(key.public_jwk()).unwrap();
    jwk["alg"] = json!(jwk_alg);
    Signer {
        encoding: EncodingKey::from_rsa_pem(key.to_pkcs8_pem().unwrap().secret().as_bytes())
            .unwrap(),
        jwk,
        alg,
        kid: kid.to_owned(),
    }
}

fn es384_signer(kid: &str) -> Signer {
    let key = SigningKey::generate(SigningAlgorithm::Es384, kid).unwrap();
    Signer {
        encoding: EncodingKey::from_ec_pem(key.to_pkcs8_pem().unwrap().secret().as_bytes())
            .unwrap(),
        jwk: serde_json::to_value(key.public_jwk()).unwrap(),
        alg: Algorithm::ES384,
        kid: kid.to_owned(),
    }
}

fn es256_signer(kid: &str) -> Signer {
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let pem = secret.to_pkcs8_pem(p256::pkcs8::LineEnding::LF).unwrap();
    let jwk = jose_jwk::Jwk {
        key: jose_jwk::Key::Ec((&secret.public_key()).into()),
        prm: jose_jwk::Parameters {
            kid: Some(kid.to_owned()),
            ..Default::default()
        },
    };
    Signer {
        encoding: EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        jwk: serde_json::to_value(jwk).unwrap(),
        alg: Algorithm::ES256,
        kid: kid.to_owned(),
    }
}

async fn issuer(server: &MockServer, keys: &[&Signer]) {
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": server.uri(),
            "jwks_uri": format!("{}/jwks", server.uri())
        })))
        .mount(server)
        .await;
    let keys: Vec<Value> = keys.iter().map(|k| k.jwk.clone()).collect();
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": keys})))
        .mount(server)
        .await;
}

fn expected(server: &MockServer) -> Expectations {
    Expectations::new("app-1")
        .issuer(server.uri())
        .nonce("nonce-1")
}

#[tokio::test]
async fn every_required_algorithm_verifies() {
    let server = server().await;
    let rs256 = rsa_signer("rs256", Algorithm::RS256, "RS256");
    let rs384 = rsa_signer("rs384", Algorithm::RS384, "RS384");
    let es256 = es256_signer("es256");
    let es384 = es384_signer("es384");
    issuer(&server, &[&rs256, &rs384, &es256, &es384]).await;
    let verifier = IdTokenVerifier::new(http());
    let base = fhir_base(&server);
    for signer in [&rs256, &rs384, &es256, &es384] {
        let token = signer.sign(&claims(&server));
        let verified = verifier.verify(&token, &expected(&server)).await.unwrap();
        let user = verified.fhir_user(&base).unwrap();
        assert_eq!(user.resource_type, "Practitioner");
        assert_eq!(user.url.as_str(), format!("{base}/Practitioner/p7"));
    }
    let jwks_fetches = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/jwks")
        .count();
    assert_eq!(jwks_fetches, 1, "the JWKS is cached");
}

#[tokio::test]
async fn unknown_kid_refetches_the_jwks_once() {
    let server = server().await;
    let old = es384_signer("old");
    let new = es384_signer("new");
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": server.uri(), "jwks_uri": format!("{}/jwks", server.uri())
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": [old.jwk]})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": [old.jwk, new.jwk]})))
        .mount(&server)
        .await;
    let verifier = IdTokenVerifier::new(http());
    verifier
        .verify(&old.sign(&claims(&server)), &expected(&server))
        .await
        .unwrap();
    verifier
        .verify(&new.sign(&claims(&server)), &expected(&server))
        .await
        .unwrap();
    // A kid nobody publishes: one more fetch, then a clear error.
    let stranger = es384_signer("stranger");
    let err = verifier
        .verify(&stranger.sign(&claims(&server)), &expected(&server))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("kid"), "{err}");
    let fetches = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/jwks")
        .count();
    assert_eq!(fetches, 3);
}

#[tokio::test]
async fn forged_and_unacceptable_tokens_fail() {
    let server = server().await;
    let signer = es384_signer("k");
    issuer(&server, &[&signer]).await;
    let verifier = IdTokenVerifier::new(http());

    // Signed by another key under the same kid.
    let impostor = es384_signer("k");
    let forged = impostor.sign(&claims(&server));
    assert!(verifier.verify(&forged, &expected(&server)).await.is_err());

    // Payload swapped after signing.
    let token = signer.sign(&claims(&server));
    let mut parts: Vec<String> = token.secret().split('.').map(str::to_owned).collect();
    let mut other = claims(&server);
    other["sub"] = json!("admin");
    parts[1] = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        other.to_string(),
    );
    let tampered = IdToken::new(parts.join("."));
    assert!(
        verifier
            .verify(&tampered, &expected(&server))
            .await
            .is_err()
    );

    // alg none and HMAC are refused outright.
    let header = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        br#"{"alg":"none"}"#,
    );
    let none = IdToken::new(format!("{header}.{}.", parts[1]));
    assert!(
        verifier
            .verify(&none, &expected(&server))
            .await
            .unwrap_err()
            .to_string()
            .contains("none")
    );
    let hs = encode(
        &Header::new(Algorithm::HS256),
        &claims(&server),
        &EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    assert!(
        verifier
            .verify(&IdToken::new(hs), &expected(&server))
            .await
            .is_err()
    );

    // Wrong nonce, wrong audience, wrong issuer.
    let good = signer.sign(&claims(&server));
    assert!(
        verifier
            .verify(&good, &Expectations::new("app-1").nonce("other"))
            .await
            .is_err()
    );
    assert!(
        verifier
            .verify(&good, &Expectations::new("app-2"))
            .await
            .is_err()
    );
    assert!(
        verifier
            .verify(&good, &Expectations::new("app-1").issuer("https://x"))
            .await
            .is_err()
    );
    assert!(verifier.verify(&good, &expected(&server)).await.is_ok());
}

#[tokio::test]
async fn key_published_for_another_algorithm_is_refused() {
    let server = server().await;
    let signer = rsa_signer("r", Algorithm::RS256, "RS384");
    issuer(&server, &[&signer]).await;
    let verifier = IdTokenVerifier::new(http());
    let err = verifier
        .verify(&signer.sign(&claims(&server)), &expected(&server))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another algorithm"), "{err}");
}
