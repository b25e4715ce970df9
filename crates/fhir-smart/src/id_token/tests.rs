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
