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
        encoding: EncodingKey::from_rsa_pem(key.to_pkcs8_pem().unwrap().expose_secret().as_bytes())
            .unwrap(),
        jwk,
        alg,
        kid: kid.to_owned(),
    }
}

fn es384_signer(kid: &str) -> Signer {
    let key = SigningKey::generate(SigningAlgorithm::Es384, kid).unwrap();
    Signer {
        encoding: EncodingKey::from_ec_pem(key.to_pkcs8_pem().unwrap().expose_secret().as_bytes())
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
    // No refetch cooldown, so the rotation right after the first fetch is picked up.
    let verifier = IdTokenVerifier::new(http()).min_refetch_interval(std::time::Duration::ZERO);
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

    let reason = |result: Result<_, fhir_smart::Error>| match result {
        Err(fhir_smart::Error::IdToken { reason }) => reason,
        other => panic!("expected an id_token error, got {other:?}"),
    };

    // Signed by another key under the same kid.
    let impostor = es384_signer("k");
    let forged = impostor.sign(&claims(&server));
    let why = reason(verifier.verify(&forged, &expected(&server)).await);
    assert!(why.contains("signature does not verify"), "{why}");

    // Payload swapped after signing.
    let token = signer.sign(&claims(&server));
    let mut parts: Vec<String> = token
        .expose_secret()
        .split('.')
        .map(str::to_owned)
        .collect();
    let mut other = claims(&server);
    other["sub"] = json!("admin");
    parts[1] = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        other.to_string(),
    );
    let tampered = IdToken::new(parts.join("."));
    let why = reason(verifier.verify(&tampered, &expected(&server)).await);
    assert!(why.contains("signature does not verify"), "{why}");

    // alg none and HMAC are refused outright, by the algorithm allow-list, even when the
    // header names a kid the issuer publishes.
    let header = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        br#"{"alg":"none","kid":"k"}"#,
    );
    let none = IdToken::new(format!("{header}.{}.", parts[1]));
    let why = reason(verifier.verify(&none, &expected(&server)).await);
    assert!(why.contains("algorithm `none` is not accepted"), "{why}");
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(String::from("k"));
    let hs = encode(
        &hs_header,
        &claims(&server),
        &EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    let why = reason(verifier.verify(&IdToken::new(hs), &expected(&server)).await);
    assert!(why.contains("algorithm `HS256` is not accepted"), "{why}");

    // Wrong nonce, wrong audience, wrong issuer.
    let good = signer.sign(&claims(&server));
    let issuer = server.uri();
    let why = reason(
        verifier
            .verify(
                &good,
                &Expectations::new("app-1").issuer(&issuer).nonce("other"),
            )
            .await,
    );
    assert!(why.contains("nonce"), "{why}");
    let why = reason(
        verifier
            .verify(&good, &Expectations::new("app-2").issuer(&issuer))
            .await,
    );
    assert!(why.contains("`aud`"), "{why}");
    let why = reason(
        verifier
            .verify(&good, &Expectations::new("app-1").issuer("https://x"))
            .await,
    );
    assert!(why.contains("`iss`"), "{why}");
    assert!(verifier.verify(&good, &expected(&server)).await.is_ok());
}

#[tokio::test]
async fn without_a_known_issuer_verification_fails_closed_and_fetches_nothing() {
    let server = server().await;
    let signer = es384_signer("k");
    issuer(&server, &[&signer]).await;
    let verifier = IdTokenVerifier::new(http());
    // A perfectly signed token whose `iss` hosts its own keys: still refused, because the
    // issuer must come from discovery, never from the token itself.
    let token = signer.sign(&claims(&server));
    match verifier
        .verify(&token, &Expectations::new("app-1").nonce("nonce-1"))
        .await
    {
        Err(fhir_smart::Error::IdToken { reason }) => {
            assert!(reason.contains("no expected issuer"), "{reason}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(server.received_requests().await.unwrap().is_empty());
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_issuer_does_not_block_other_issuers() {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    let slow = server().await;
    let slow_signer = es384_signer("s");
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({
                    "issuer": slow.uri(), "jwks_uri": format!("{}/jwks", slow.uri())
                }))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&slow)
        .await;
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": [slow_signer.jwk]})))
        .mount(&slow)
        .await;
    let fast = server().await;
    let fast_signer = es384_signer("f");
    issuer(&fast, &[&fast_signer]).await;
    let verifier = Arc::new(IdTokenVerifier::new(http()));
    let pending = {
        let verifier = Arc::clone(&verifier);
        let token = slow_signer.sign(&claims(&slow));
        let expected = expected(&slow);
        tokio::spawn(async move { verifier.verify(&token, &expected).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    verifier
        .verify(&fast_signer.sign(&claims(&fast)), &expected(&fast))
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "waited {:?} for another issuer's keys",
        started.elapsed()
    );
    pending.await.unwrap().unwrap();
}

#[tokio::test]
async fn unknown_kids_cannot_make_the_verifier_hammer_the_issuer() {
    let server = server().await;
    let signer = es384_signer("k");
    issuer(&server, &[&signer]).await;
    let verifier = IdTokenVerifier::new(http());
    verifier
        .verify(&signer.sign(&claims(&server)), &expected(&server))
        .await
        .unwrap();
    for i in 0..5 {
        let stranger = es384_signer(&format!("made-up-{i}"));
        let err = verifier
            .verify(&stranger.sign(&claims(&server)), &expected(&server))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("kid"), "{err}");
    }
    let fetches = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/jwks")
        .count();
    assert_eq!(fetches, 1, "refetches are rate-limited");
}

#[tokio::test]
async fn sub_is_required_and_iat_may_not_lie_in_the_future() {
    let server = server().await;
    let signer = es384_signer("k");
    issuer(&server, &[&signer]).await;
    let verifier = IdTokenVerifier::new(http());
    let mut no_sub = claims(&server);
    no_sub.as_object_mut().unwrap().remove("sub");
    let mut future = claims(&server);
    future["iat"] = json!(now() + 3600);
    for (claims, why) in [(no_sub, "`sub`"), (future, "`iat` is in the future")] {
        match verifier
            .verify(&signer.sign(&claims), &expected(&server))
            .await
        {
            Err(fhir_smart::Error::IdToken { reason }) => assert!(reason.contains(why), "{reason}"),
            other => panic!("expected {why}, got {other:?}"),
        }
    }
    let mut skewed = claims(&server);
    skewed["iat"] = json!(now() + 10);
    assert!(
        verifier
            .verify(&signer.sign(&skewed), &expected(&server))
            .await
            .is_ok()
    );
}
