//! Tests for the `id_token` module (claim checks; signatures are tested end to end in
//! `tests/it/id_token.rs`).

use serde_json::json;

use super::*;

fn unsigned(claims: Value) -> IdToken {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"k"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    IdToken::new(format!("{header}.{payload}.c2ln"))
}

fn claims(value: Value) -> IdTokenClaims {
    decode_unverified(&unsigned(value)).unwrap()
}

#[test]
fn decodes_claims_without_verifying() {
    let c = claims(
        json!({"iss": "https://i", "aud": ["a", "b"], "azp": "a", "exp": 10, "fhirUser": "Practitioner/7"}),
    );
    assert_eq!(c.iss, "https://i");
    assert_eq!(c.aud, ["a", "b"]);
    assert_eq!(c.exp, Some(10));
    assert!(decode_unverified(&IdToken::new("a.b")).is_err());
    assert!(decode_unverified(&IdToken::new("!!.!!.!!")).is_err());
}

#[test]
fn fhir_user_relative_absolute_and_profile() {
    let base = Url::parse("https://ehr.example.org/fhir").unwrap();
    let relative = claims(json!({"iss": "i", "fhirUser": "Practitioner/123"}));
    let user = relative.fhir_user(&base).unwrap();
    assert_eq!(
        user.url.as_str(),
        "https://ehr.example.org/fhir/Practitioner/123"
    );
    assert_eq!(user.resource_type, "Practitioner");
    assert_eq!(user.id, "123");
    assert!(user.is_known_type());

    let absolute =
        claims(json!({"iss": "i", "fhirUser": "https://other.example.org/r4/Patient/9"}));
    let user = absolute.fhir_user(&base).unwrap();
    assert_eq!(user.url.as_str(), "https://other.example.org/r4/Patient/9");
    assert_eq!(user.resource_type, "Patient");

    let legacy = claims(json!({"iss": "i", "profile": "RelatedPerson/5"}));
    assert_eq!(
        legacy.fhir_user(&base).unwrap().resource_type,
        "RelatedPerson"
    );
    let odd = claims(json!({"iss": "i", "fhirUser": "Device/1"}));
    assert!(!odd.fhir_user(&base).unwrap().is_known_type());
    assert!(claims(json!({"iss": "i"})).fhir_user(&base).is_none());
}

#[test]
fn claim_checks() {
    let verifier = IdTokenVerifier::new(HttpClient::new());
    let now = now_secs();
    let good =
        json!({"iss": "i", "sub": "u", "aud": "app", "exp": now + 100, "iat": now, "nonce": "n"});
    let expected = Expectations::new("app").nonce("n");
    assert!(
        verifier
            .check_claims(&claims(good.clone()), &expected)
            .is_ok()
    );

    let mut other_aud = good.clone();
    other_aud["aud"] = json!("someone-else");
    assert!(
        verifier
            .check_claims(&claims(other_aud), &expected)
            .is_err()
    );

    let mut multi = good.clone();
    multi["aud"] = json!(["app", "api"]);
    assert!(
        verifier
            .check_claims(&claims(multi.clone()), &expected)
            .is_err(),
        "azp required"
    );
    multi["azp"] = json!("app");
    assert!(verifier.check_claims(&claims(multi), &expected).is_ok());

    let mut expired = good.clone();
    expired["exp"] = json!(now - 120);
    assert!(verifier.check_claims(&claims(expired), &expected).is_err());
    let mut within_leeway = good.clone();
    within_leeway["exp"] = json!(now - 10);
    assert!(
        verifier
            .check_claims(&claims(within_leeway), &expected)
            .is_ok()
    );

    let mut no_iat = good.clone();
    no_iat.as_object_mut().unwrap().remove("iat");
    assert!(verifier.check_claims(&claims(no_iat), &expected).is_err());

    let mut wrong_nonce = good;
    wrong_nonce["nonce"] = json!("m");
    assert!(
        verifier
            .check_claims(&claims(wrong_nonce), &expected)
            .is_err()
    );
}

/// The worked RS384 example of the SMART asymmetric-authentication page, with the IG's
/// published sample public key (`RS384.public.json`).
const IG_RS384_PUBLIC_JWK: &str = r#"{"kty":"RSA","alg":"RS384","n":"wJq2RHIA-7RT6q4go7wjcbHdW7ck7Kz22A8wf-kN7Wi5CWvhFG2_Y7nQp1lDpb2IKMQr-Q4n_vgJ6d5rWPspJpSPY7iffUK4ipQCEbzID5DJ6fQMBZOfCTXyxkuMh3jYGKEF3Ziw2oxbM1H9j-eJAPtrj5stUG6kVoXowegdox-bSjWP0iI5PnkwUNzcekLMug4M3LRluEQgGR9O_BAML6-w3igZ_rZA_gunyrLAMbfmCVaceW5ohLp679kyM7U6W2gDK_NbkDKcINUakVmPeoG5h8RzgGzvGrySR0k0VDFiZv60Ua07DqHTeDGH9e4NV07AECae-oykIj5NDCs3pw","e":"AQAB","key_ops":["verify"],"ext":true,"kid":"eee9f17a3b598fd86417a980b591fbe6"}"#;
const IG_RS384_JWT: &str = "eyJhbGciOiJSUzM4NCIsImtpZCI6ImVlZTlmMTdhM2I1OThmZDg2NDE3YTk4MGI1OTFmYmU2IiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2JpbGktbW9uaXRvci5leGFtcGxlLmNvbSIsInN1YiI6Imh0dHBzOi8vYmlsaS1tb25pdG9yLmV4YW1wbGUuY29tIiwiYXVkIjoiaHR0cHM6Ly9hdXRob3JpemUuc21hcnRoZWFsdGhpdC5vcmcvdG9rZW4iLCJleHAiOjE0MjI1Njg4NjAsImp0aSI6InJhbmRvbS1ub24tcmV1c2FibGUtand0LWlkLTEyMyJ9.D5kAqNJwaftCqsRdVVQDq6dMBxuGFOF5svQJuXbcYp-oEyg5qOwK9ZE5cGLTHxqwfpUPNzRKgVdIGuhawAA-8g0s1nKQae8CuKs33hhKh4J34xSEwW3MYs1gwI4GHTtR_g3kYSX6QCi14Ed3GIAvYFgqRqt-gD7sewMUXL4SB8I8cXcDbCqVizm7uPVhjw6QaeKZygJJ_AVLhM4Xs9LTy4HAhdCHpN0FrNmCerUIYJvHDpcod7A0jDmxdoeW1KIBYlhdhQNwjtsTvT1ce4qacN_3KIv_fIzCKLIgDv9eWxkjAtxOmIm8aW5gX9xX7X0nbd0QglIyiic_bZVNNEh0kg";

#[test]
fn ig_rs384_worked_example_verifies() {
    let jwk: Jwk = serde_json::from_str(IG_RS384_PUBLIC_JWK).unwrap();
    let (input, signature) = IG_RS384_JWT.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert!(verify_signature(&jwk, "RS384", input.as_bytes(), &signature).is_ok());
    assert!(verify_signature(&jwk, "RS256", input.as_bytes(), &signature).is_err());
    let mut tampered = input.as_bytes().to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(verify_signature(&jwk, "RS384", &tampered, &signature).is_err());
    let claims = decode_unverified(&IdToken::new(IG_RS384_JWT)).unwrap();
    assert_eq!(claims.iss, "https://bili-monitor.example.com");
    assert_eq!(claims.aud, ["https://authorize.smarthealthit.org/token"]);
}

/// JWKS cache tests: a mock issuer whose JWKS can change, tokens signed with ES384 by
/// `SigningKey`, and the cache read at chosen instants (no sleeping).
mod jwks_cache {
    use std::time::{Duration, Instant};

    use serde_json::{Value, json};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::keys::{SigningAlgorithm, SigningKey};

    fn key(kid: &str) -> SigningKey {
        SigningKey::generate(SigningAlgorithm::Es384, kid).unwrap()
    }

    fn sign(key: &SigningKey, issuer: &str) -> IdToken {
        let header = URL_SAFE_NO_PAD
            .encode(json!({"alg": "ES384", "kid": key.kid(), "typ": "JWT"}).to_string());
        let now = now_secs();
        let claims = json!({"iss": issuer, "sub": "u", "aud": "app", "exp": now + 300, "iat": now});
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{payload}");
        let signature = URL_SAFE_NO_PAD.encode(key.sign(input.as_bytes()).unwrap());
        IdToken::new(format!("{input}.{signature}"))
    }

    /// An issuer serving `keys` with `cache_control`; later mounts take precedence.
    async fn serve(server: &MockServer, keys: &[&SigningKey], cache_control: Option<&str>) {
        server.reset().await;
        Mock::given(method("GET"))
            .and(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "issuer": server.uri(), "jwks_uri": format!("{}/jwks", server.uri())
            })))
            .mount(server)
            .await;
        let jwks: Vec<Value> = keys
            .iter()
            .map(|k| serde_json::to_value(k.public_jwk()).unwrap())
            .collect();
        let mut response = ResponseTemplate::new(200).set_body_json(json!({"keys": jwks}));
        if let Some(cache_control) = cache_control {
            response = response.insert_header("cache-control", cache_control);
        }
        Mock::given(method("GET"))
            .and(path("/jwks"))
            .respond_with(response)
            .mount(server)
            .await;
    }

    async fn jwks_fetches(server: &MockServer) -> usize {
        server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path() == "/jwks")
            .count()
    }

    fn verifier() -> IdTokenVerifier {
        IdTokenVerifier::new(HttpClient::new().allow_loopback_http(true))
    }

    fn expected(server: &MockServer) -> Expectations {
        Expectations::new("app").issuer(server.uri())
    }

    #[tokio::test]
    async fn a_removed_key_stops_being_trusted_after_the_ttl() {
        let server = MockServer::start().await;
        let old = key("old");
        let new = key("new");
        serve(&server, &[&old, &new], None).await;
        let verifier = verifier();
        let t0 = Instant::now();
        let token = sign(&old, &server.uri());
        verifier
            .verify_at(&token, &expected(&server), t0)
            .await
            .unwrap();
        // The issuer removes the key (compromised, retired).
        serve(&server, &[&new], None).await;
        let within = t0 + DEFAULT_JWKS_TTL - Duration::from_secs(1);
        verifier
            .verify_at(&token, &expected(&server), within)
            .await
            .unwrap();
        assert_eq!(jwks_fetches(&server).await, 0, "served from the cache");
        let after = t0 + DEFAULT_JWKS_TTL + Duration::from_secs(1);
        let err = verifier
            .verify_at(&token, &expected(&server), after)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("kid"), "{err}");
        assert_eq!(jwks_fetches(&server).await, 1);
        // The key that is still published still verifies.
        verifier
            .verify_at(&sign(&new, &server.uri()), &expected(&server), after)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_unknown_kid_refetches_at_most_once_per_window() {
        let server = MockServer::start().await;
        let known = key("known");
        serve(&server, &[&known], Some("max-age=3600")).await;
        let verifier = verifier();
        let t0 = Instant::now();
        verifier
            .verify_at(&sign(&known, &server.uri()), &expected(&server), t0)
            .await
            .unwrap();
        server.reset().await;
        serve(&server, &[&known], Some("max-age=3600")).await;
        let attack = |i: u32, at: Instant| {
            let token = sign(&key(&format!("made-up-{i}")), &server.uri());
            let expected = expected(&server);
            let verifier = &verifier;
            async move { verifier.verify_at(&token, &expected, at).await }
        };
        // A burst of made-up kids right after the fetch: no request at all.
        for i in 0..10 {
            assert!(attack(i, t0 + Duration::from_secs(1)).await.is_err());
        }
        assert_eq!(jwks_fetches(&server).await, 0);
        // After the window: one refetch for the whole next burst.
        let later = t0 + DEFAULT_MIN_REFETCH + Duration::from_secs(1);
        for i in 10..30 {
            assert!(attack(i, later).await.is_err());
        }
        assert_eq!(jwks_fetches(&server).await, 1);
        // Known kids keep verifying from the cache meanwhile.
        verifier
            .verify_at(&sign(&known, &server.uri()), &expected(&server), later)
            .await
            .unwrap();
        assert_eq!(jwks_fetches(&server).await, 1);
    }

    #[tokio::test]
    async fn a_failing_jwks_endpoint_is_not_hammered() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "issuer": server.uri(), "jwks_uri": format!("{}/jwks", server.uri())
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/jwks"))
            .respond_with(ResponseTemplate::new(503))
            .mount(&server)
            .await;
        let verifier = verifier();
        let t0 = Instant::now();
        for i in 0..20 {
            let token = sign(&key(&format!("k{i}")), &server.uri());
            let err = verifier
                .verify_at(&token, &expected(&server), t0 + Duration::from_millis(i))
                .await
                .unwrap_err();
            assert!(err.to_string().contains("503"), "{err}");
        }
        assert_eq!(jwks_fetches(&server).await, 1, "one attempt per window");
        let later = t0 + DEFAULT_MIN_REFETCH + Duration::from_secs(1);
        let token = sign(&key("k"), &server.uri());
        assert!(
            verifier
                .verify_at(&token, &expected(&server), later)
                .await
                .is_err()
        );
        assert_eq!(jwks_fetches(&server).await, 2);
    }

    #[tokio::test]
    async fn cache_control_is_honoured_within_bounds() {
        for (cache_control, ttl) in [
            (Some("public, max-age=120"), Duration::from_secs(120)),
            (Some("max-age=5"), MIN_JWKS_TTL),
            (Some("no-store"), MIN_JWKS_TTL),
            (Some("max-age=31536000"), MAX_JWKS_TTL),
            (None, DEFAULT_JWKS_TTL),
        ] {
            let server = MockServer::start().await;
            let signer = key("k");
            serve(&server, &[&signer], cache_control).await;
            let verifier = verifier();
            let token = sign(&signer, &server.uri());
            let t0 = Instant::now();
            verifier
                .verify_at(&token, &expected(&server), t0)
                .await
                .unwrap();
            let before = t0 + ttl - Duration::from_secs(1);
            verifier
                .verify_at(&token, &expected(&server), before)
                .await
                .unwrap();
            assert_eq!(jwks_fetches(&server).await, 1, "{cache_control:?}: cached");
            let after = t0 + ttl + Duration::from_secs(1);
            verifier
                .verify_at(&token, &expected(&server), after)
                .await
                .unwrap();
            assert_eq!(
                jwks_fetches(&server).await,
                2,
                "{cache_control:?}: refetched"
            );
        }
    }

    #[test]
    fn ttl_parsing() {
        let policy = crate::jwks::JwksPolicy::default();
        assert_eq!(
            policy.ttl(Some("max-age=600, must-revalidate")),
            Duration::from_secs(600)
        );
        assert_eq!(
            policy.ttl(Some("MAX-AGE=\"300\"")),
            Duration::from_secs(300)
        );
        assert_eq!(policy.ttl(Some("no-cache")), MIN_JWKS_TTL);
        assert_eq!(policy.ttl(Some("max-age=garbage")), DEFAULT_JWKS_TTL);
    }
}
