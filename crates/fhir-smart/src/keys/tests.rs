//! Tests for the `keys` module.

use super::*;

fn jwks_value(key: &SigningKey) -> serde_json::Value {
    serde_json::from_str(&public_jwks_json([key]).unwrap()).unwrap()
}

#[test]
fn es384_public_jwk_has_only_public_members() {
    let key = SigningKey::generate(SigningAlgorithm::Es384, "k1").unwrap();
    let jwks = jwks_value(&key);
    let jwk = &jwks["keys"][0];
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-384");
    assert_eq!(jwk["kid"], "k1");
    assert_eq!(jwk["alg"], "ES384");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["key_ops"], serde_json::json!(["verify"]));
    assert!(jwk["x"].is_string() && jwk["y"].is_string());
    assert!(jwk.get("d").is_none());
}

#[test]
fn rs384_public_jwk_has_only_public_members() {
    let key = SigningKey::generate(SigningAlgorithm::Rs384, "r1").unwrap();
    let jwks = jwks_value(&key);
    let jwk = &jwks["keys"][0];
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["alg"], "RS384");
    assert!(jwk["n"].is_string() && jwk["e"].is_string());
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(jwk.get(private).is_none(), "{private} leaked");
    }
}

#[test]
fn pkcs8_pem_round_trip_keeps_the_key() {
    for alg in [SigningAlgorithm::Es384, SigningAlgorithm::Rs384] {
        let key = SigningKey::generate(alg, "k").unwrap();
        let pem = key.to_pkcs8_pem().unwrap();
        assert!(
            pem.expose_secret()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        let back = SigningKey::from_pem(pem.expose_secret(), "k", None).unwrap();
        assert_eq!(back.alg(), alg);
        assert_eq!(back.public_jwk(), key.public_jwk());
    }
}

#[test]
fn rejects_algorithm_mismatch() {
    let ec = SigningKey::generate(SigningAlgorithm::Es384, "k").unwrap();
    let pem = ec.to_pkcs8_pem().unwrap();
    let err =
        SigningKey::from_pem(pem.expose_secret(), "k", Some(SigningAlgorithm::Rs384)).unwrap_err();
    assert!(matches!(err, Error::Key { .. }));
}

#[test]
fn rejects_small_rsa_keys() {
    let small = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
    let pem = small.to_pkcs8_pem(LineEnding::LF).unwrap();
    let err = SigningKey::from_pem(&pem, "k", None).unwrap_err();
    assert!(err.to_string().contains("2048"), "{err}");
}

#[test]
fn rejects_garbage_and_empty_kid() {
    assert!(SigningKey::from_pem("not a key", "k", None).is_err());
    let ec = SigningKey::generate(SigningAlgorithm::Es384, "k").unwrap();
    let pem = ec.to_pkcs8_pem().unwrap();
    assert!(SigningKey::from_pem(pem.expose_secret(), "", None).is_err());
}

#[test]
fn imports_private_jwks() {
    let ec = p384::SecretKey::random(&mut rand::rngs::OsRng);
    let mut jwk = Jwk {
        key: Key::Ec((&ec).into()),
        prm: Parameters {
            kid: Some(String::from("ec-1")),
            ..Parameters::default()
        },
    };
    let json = serde_json::to_string(&jwk).unwrap();
    let key = SigningKey::from_jwk(&json, None).unwrap();
    assert_eq!(key.kid(), "ec-1");
    assert_eq!(key.alg(), SigningAlgorithm::Es384);
    assert!(SigningKey::from_jwk(&json, Some(SigningAlgorithm::Rs384)).is_err());

    // A public-only JWK is refused.
    if let Key::Ec(ec) = &mut jwk.key {
        ec.d = None;
    }
    let public = serde_json::to_string(&jwk).unwrap();
    assert!(SigningKey::from_jwk(&public, None).is_err());
}

#[test]
fn duplicate_kids_are_refused() {
    let a = SigningKey::generate(SigningAlgorithm::Es384, "same").unwrap();
    let b = SigningKey::generate(SigningAlgorithm::Es384, "same").unwrap();
    assert!(public_jwks([&a, &b]).is_err());
}

#[test]
fn debug_hides_key_material() {
    let key = SigningKey::generate(SigningAlgorithm::Es384, "k1").unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    let debug = format!("{key:?} {pem:?}");
    assert!(debug.contains("k1"));
    assert!(!debug.contains("BEGIN"));
}

#[test]
fn parses_algorithm_names() {
    assert_eq!(
        "ES384".parse::<SigningAlgorithm>().unwrap(),
        SigningAlgorithm::Es384
    );
    assert_eq!(
        "rs384".parse::<SigningAlgorithm>().unwrap(),
        SigningAlgorithm::Rs384
    );
    assert!("HS256".parse::<SigningAlgorithm>().is_err());
}

/// The Bulk Data IG's published sample ES384 key (`sample-jwks/ES384.private.json`):
/// the private entry, and the public entry a server would register.
const IG_ES384_PRIVATE_JWK: &str = r#"{"kty":"EC","crv":"P-384","d":"hQCNmfvZEUjOon8zLc0bULlmrDPFHrieFHRVZUGMuiQscx9IO7MT03TsaCPdPv0u","x":"pyqburM9y8HPcFhNosDW6ngoVEJitqXi_HJgI5hYqX21PoFDwCbYirGy_o0oapIU","y":"95bxkCnMKoHvgbcPAIAcgzzu8scd81mXfM_IzuJFNfkUNkGYBFGvuEU1KPi5j1ob","key_ops":["sign"],"ext":true,"kid":"cd520211e5661dbba2256f67f6d53f97","alg":"ES384"}"#;
const IG_ES384_PUBLIC_JWK: &str = r#"{"kty":"EC","crv":"P-384","x":"pyqburM9y8HPcFhNosDW6ngoVEJitqXi_HJgI5hYqX21PoFDwCbYirGy_o0oapIU","y":"95bxkCnMKoHvgbcPAIAcgzzu8scd81mXfM_IzuJFNfkUNkGYBFGvuEU1KPi5j1ob","key_ops":["verify"],"ext":true,"kid":"cd520211e5661dbba2256f67f6d53f97","alg":"ES384"}"#;

#[test]
fn ig_sample_es384_key_imports_and_signs_verifiably() {
    let key = SigningKey::from_jwk(IG_ES384_PRIVATE_JWK, None).unwrap();
    assert_eq!(key.kid(), "cd520211e5661dbba2256f67f6d53f97");
    assert_eq!(key.alg(), SigningAlgorithm::Es384);
    let exported = serde_json::to_value(key.public_jwk()).unwrap();
    let published: serde_json::Value = serde_json::from_str(IG_ES384_PUBLIC_JWK).unwrap();
    assert_eq!(exported["x"], published["x"]);
    assert_eq!(exported["y"], published["y"]);

    let jwt = crate::assertion::client_assertion(
        &key,
        "https://bili-monitor.example.com",
        "https://authorize.smarthealthit.org/token",
        &crate::assertion::AssertionOptions::default(),
    )
    .unwrap();
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_str(IG_ES384_PUBLIC_JWK).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES384);
    validation.set_audience(&["https://authorize.smarthealthit.org/token"]);
    let decoded = jsonwebtoken::decode::<serde_json::Value>(
        jwt.expose_secret(),
        &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
        &validation,
    )
    .unwrap();
    assert_eq!(decoded.claims["iss"], "https://bili-monitor.example.com");
}

#[test]
fn rs384_signatures_are_blinded_pkcs1_v15_and_deterministic() {
    use rsa::signature::Verifier as _;
    let key = SigningKey::generate(SigningAlgorithm::Rs384, "r").unwrap();
    let first = key.sign(b"header.payload").unwrap();
    // The blinding RNG does not change the PKCS#1 v1.5 signature itself.
    assert_eq!(first, key.sign(b"header.payload").unwrap());
    assert_eq!(first.len(), 256);
    let Material::Rsa(private) = &key.material else {
        panic!("an RSA key")
    };
    let verifier = rsa::pkcs1v15::VerifyingKey::<Sha384>::new(private.to_public_key());
    let signature = rsa::pkcs1v15::Signature::try_from(first.as_slice()).unwrap();
    assert!(verifier.verify(b"header.payload", &signature).is_ok());
    assert!(verifier.verify(b"header.payloaD", &signature).is_err());
}
