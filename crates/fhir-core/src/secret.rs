//! [`SecretString`]: a string that never shows in `Debug`, `Display` or logs.

use std::fmt;

/// A secret (token, password) whose `Debug` output is `[redacted]`.
///
/// # Security Warning
///
/// [`expose_secret`](Self::expose_secret) returns the secret itself; never log its result.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps `secret`.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret value.
    ///
    /// # Security Warning
    ///
    /// The returned text is the secret itself: do not log or display it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for SecretString {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl From<&str> for SecretString {
    fn from(secret: &str) -> Self {
        Self(secret.to_owned())
    }
}
