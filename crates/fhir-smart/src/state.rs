//! The OAuth `state` value: unpredictable, compared in constant time.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

/// A CSRF `state`: 32 bytes (256 bits) from the operating system's CSPRNG, base64url-encoded.
///
/// It is not secret once sent, but it binds the callback to the session that started the
/// authorization, so it is compared in constant time and `Debug` does not print it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct State(String);

impl State {
    /// A fresh, unpredictable state.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The value sent in the authorize request.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `received` equals this state exactly, compared in constant time.
    pub fn matches(&self, received: &str) -> bool {
        self.0.as_bytes().ct_eq(received.as_bytes()).into()
    }
}

/// A random identifier (128 bits from the OS CSPRNG, base64url): launch ids, lineage markers.
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("State([redacted])")
    }
}

#[cfg(test)]
mod tests;
