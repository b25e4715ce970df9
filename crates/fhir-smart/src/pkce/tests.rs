//! Tests for the `pkce` module.

use super::*;

// The value printed in RFC 7636 Appendix B. (The checklist's E9 quotes a different,
// wrong challenge for this verifier.)
#[test]
fn rfc7636_appendix_b_vector() {
    let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
    assert_eq!(
        verifier.challenge().as_str(),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

#[test]
fn generated_verifiers_are_valid_and_fresh() {
    let (challenge, verifier) = PkceChallenge::new_s256();
    assert_eq!(challenge.method(), "S256");
    assert_eq!(verifier.expose_secret().len(), 43);
    assert!(PkceVerifier::new(verifier.expose_secret()).is_ok());
    assert_eq!(verifier.challenge(), challenge);
    let (_, other) = PkceChallenge::new_s256();
    assert_ne!(other.expose_secret(), verifier.expose_secret());
}

#[test]
fn rejects_invalid_verifiers() {
    assert!(PkceVerifier::new("a".repeat(42)).is_err());
    assert!(PkceVerifier::new("a".repeat(129)).is_err());
    assert!(PkceVerifier::new("a".repeat(128)).is_ok());
    assert!(PkceVerifier::new(format!("{}+", "a".repeat(43))).is_err());
    assert!(PkceVerifier::new(format!("{}-._~", "a".repeat(43))).is_ok());
}

#[test]
fn debug_is_redacted_and_serde_validates() {
    let verifier = PkceVerifier::generate();
    assert!(!format!("{verifier:?}").contains(verifier.expose_secret()));
    let json = serde_json::to_string(&verifier).unwrap();
    let back: PkceVerifier = serde_json::from_str(&json).unwrap();
    assert_eq!(back, verifier);
    assert!(serde_json::from_str::<PkceVerifier>("\"short\"").is_err());
}
