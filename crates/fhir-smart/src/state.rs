//! The OAuth `state` value: unpredictable, compared in constant time.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use crate::Error;

/// The shortest state accepted from an app ([`State::new`]): 22 base64url characters carry
/// 132 bits.
const MIN_STATE_LEN: usize = 22;
/// The longest state accepted from an app: authorize URLs have length limits.
const MAX_STATE_LEN: usize = 512;

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

    /// Wraps a state the app made itself (its own session layer), after checking that it
    /// can carry enough entropy: 22 to 512 printable ASCII characters (RFC 6749 `VSCHAR`),
    /// so at least 128 bits in base64url; a random v4 UUID (122 bits, 36 characters) also
    /// passes. Make it unpredictable and new for every authorization request.
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] for a shorter or longer value, or one with other characters.
    pub fn new(state: impl Into<String>) -> Result<Self, Error> {
        let state = state.into();
        let printable = state.bytes().all(|b| (0x20..=0x7e).contains(&b));
        if (MIN_STATE_LEN..=MAX_STATE_LEN).contains(&state.len()) && printable {
            Ok(Self(state))
        } else {
            Err(Error::configuration(
                "state",
                "must be 22-512 printable ASCII characters, unpredictable and new per request",
            ))
        }
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
