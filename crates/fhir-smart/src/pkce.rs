//! PKCE (RFC 7636), S256 only: the `plain` method is never offered.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::Error;

/// The only `code_challenge_method` this crate sends.
pub const CODE_CHALLENGE_METHOD: &str = "S256";

/// A PKCE code verifier: 43–128 characters from `[A-Za-z0-9-._~]`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PkceVerifier(String);

impl PkceVerifier {
    /// A fresh verifier: 32 bytes from the operating system's CSPRNG, base64url-encoded
    /// (43 characters, 256 bits).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Wraps an existing verifier after checking its length and alphabet.
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] when the verifier is not 43–128 unreserved characters.
    pub fn new(verifier: impl Into<String>) -> Result<Self, Error> {
        let verifier = verifier.into();
        let valid_len = (43..=128).contains(&verifier.len());
        let valid_chars = verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if valid_len && valid_chars {
            Ok(Self(verifier))
        } else {
            Err(Error::configuration(
                "code_verifier",
                "must be 43-128 characters from [A-Za-z0-9-._~]",
            ))
        }
    }

    /// The verifier.
    ///
    /// # Security Warning
    ///
    /// The verifier proves possession of the authorization request: never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The verifier.
    #[deprecated(since = "0.2.0", note = "renamed `expose_secret`, as in fhir-core")]
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// The S256 challenge of this verifier.
    pub fn challenge(&self) -> PkceChallenge {
        PkceChallenge(URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.as_bytes())))
    }
}

impl TryFrom<String> for PkceVerifier {
    type Error = Error;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<PkceVerifier> for String {
    fn from(value: PkceVerifier) -> Self {
        value.0
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

/// A PKCE S256 code challenge: `BASE64URL(SHA-256(verifier))` without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkceChallenge(String);

impl PkceChallenge {
    /// A fresh verifier and its challenge.
    pub fn new_s256() -> (Self, PkceVerifier) {
        let verifier = PkceVerifier::generate();
        (verifier.challenge(), verifier)
    }

    /// The challenge value (public: it is sent in the authorize URL).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Always `S256`.
    pub fn method(&self) -> &'static str {
        CODE_CHALLENGE_METHOD
    }
}

#[cfg(test)]
mod tests;
