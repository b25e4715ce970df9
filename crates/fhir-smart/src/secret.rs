//! Newtypes for credentials: their `Debug` prints `[redacted]` and they have no `Display`.
//!
//! They implement `Serialize`/`Deserialize` (as the plain string) so a [`TokenStore`] or a
//! session store can persist them; such storage must be app-specific and protected.
//!
//! [`TokenStore`]: crate::TokenStore

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(secret: impl Into<String>) -> Self {
                Self(secret.into())
            }

            /// The secret value (the name `fhir_core::secret::SecretString` uses too).
            ///
            /// # Security Warning
            ///
            /// The returned text is the credential itself: never log, display or put it in an
            /// error message.
            pub fn expose_secret(&self) -> &str {
                &self.0
            }

            /// The secret value.
            #[deprecated(since = "0.2.0", note = "renamed `expose_secret`, as in fhir-core")]
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_type! {
    /// An OAuth access token, sent as `Authorization: Bearer …`.
    AccessToken
}
secret_type! {
    /// An OAuth refresh token.
    RefreshToken
}
secret_type! {
    /// An OpenID Connect id_token (a signed JWT).
    IdToken
}
secret_type! {
    /// A client secret for `client_secret_basic` or `client_secret_post`.
    ClientSecret
}
secret_type! {
    /// An authorization code received at the redirect URI.
    AuthorizationCode
}
secret_type! {
    /// A signed client-assertion JWT (`private_key_jwt`).
    ClientAssertion
}
secret_type! {
    /// A private key as PKCS#8 PEM text.
    PrivateKeyPem
}

#[cfg(test)]
mod tests;
