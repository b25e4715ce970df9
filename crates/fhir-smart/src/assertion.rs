//! Client-assertion JWTs for `private_key_jwt` (RFC 7523, SMART asymmetric client auth).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::Serialize;
use url::Url;

use crate::Error;
use crate::keys::SigningKey;
use crate::secret::ClientAssertion;

/// The `client_assertion_type` sent with a client assertion.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The longest assertion lifetime the specification allows.
pub const MAX_LIFETIME: Duration = Duration::from_secs(300);

/// Options for client assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AssertionOptions {
    /// How far ahead `exp` lies; default 240 s, clamped to 300 s.
    pub lifetime: Duration,
    /// The registered JWKS URL, sent as the `jku` header when set.
    pub jku: Option<Url>,
}

impl Default for AssertionOptions {
    fn default() -> Self {
        Self {
            lifetime: Duration::from_secs(240),
            jku: None,
        }
    }
}

impl AssertionOptions {
    /// Sets the lifetime (clamped to at most 300 s).
    #[must_use]
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Sends `jku` (the JWKS URL registered for the client).
    #[must_use]
    pub fn jku(mut self, jku: Url) -> Self {
        self.jku = Some(jku);
        self
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    jku: Option<&'a str>,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: u64,
    iat: u64,
    jti: String,
}

/// Signs a fresh client assertion: `iss = sub = client_id`, `aud = token_endpoint` (exactly
/// the string posted to), `exp` at most five minutes ahead, `iat`, and a new 192-bit `jti`.
///
/// # Errors
///
/// [`Error::Key`] when signing fails or the clock is before 1970.
pub fn client_assertion(
    key: &SigningKey,
    client_id: &str,
    token_endpoint: &str,
    options: &AssertionOptions,
) -> Result<ClientAssertion, Error> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Error::key("the system clock is before 1970"))?
        .as_secs();
    let lifetime = options.lifetime.min(MAX_LIFETIME).as_secs();
    let mut jti = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut jti);
    let header = Header {
        alg: key.alg().as_str(),
        typ: "JWT",
        kid: key.kid(),
        jku: options.jku.as_ref().map(Url::as_str),
    };
    let claims = Claims {
        iss: client_id,
        sub: client_id,
        aud: token_endpoint,
        exp: now + lifetime,
        iat: now,
        jti: URL_SAFE_NO_PAD.encode(jti),
    };
    let signing_input = format!("{}.{}", b64_json(&header)?, b64_json(&claims)?);
    let signature = key.sign(signing_input.as_bytes())?;
    Ok(ClientAssertion::new(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    )))
}

fn b64_json<T: Serialize>(value: &T) -> Result<String, Error> {
    let json = serde_json::to_vec(value).map_err(|_| Error::key("JWT encoding failed"))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

#[cfg(test)]
mod tests;
