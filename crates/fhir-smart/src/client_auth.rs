//! Client authentication at the token endpoint: public, `client_secret_basic`,
//! `client_secret_post` and `private_key_jwt`.

use std::sync::Arc;

use base64::Engine as _;
use http::HeaderValue;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::Error;
use crate::assertion::{AssertionOptions, CLIENT_ASSERTION_TYPE, client_assertion};
use crate::discovery::{Capability, SmartConfiguration};
use crate::keys::SigningKey;
use crate::secret::ClientSecret;

/// How `client_secret_basic` encodes the id and secret before base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BasicEncoding {
    /// `base64(client_id ":" secret)` as in the SMART example (the default).
    #[default]
    Raw,
    /// Form-urlencode both parts first, as RFC 6749 §2.3.1 says.
    FormUrlEncoded,
}

/// A client authentication method by its registered name (RFC 7591 §2), as discovery lists
/// it (`token_endpoint_auth_methods_supported`) and a pending authorization or launch
/// session records it; [`ClientAuth`] is a method with its credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AuthMethod {
    /// `none`: a public client.
    #[serde(rename = "none")]
    None,
    /// `client_secret_basic`.
    #[serde(rename = "client_secret_basic")]
    ClientSecretBasic,
    /// `client_secret_post`.
    #[serde(rename = "client_secret_post")]
    ClientSecretPost,
    /// `private_key_jwt`.
    #[serde(rename = "private_key_jwt")]
    PrivateKeyJwt,
}

impl AuthMethod {
    /// The registered name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

impl std::fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the client authenticates to the token endpoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ClientAuth {
    /// A public client: `client_id` in the body, no secret.
    Public,
    /// `Authorization: Basic` with a client secret.
    ClientSecretBasic {
        /// The secret.
        secret: ClientSecret,
        /// The encoding before base64.
        encoding: BasicEncoding,
    },
    /// The secret in the form body (only when the server lists `client_secret_post`).
    ClientSecretPost {
        /// The secret.
        secret: ClientSecret,
    },
    /// A signed client assertion, fresh for every request.
    PrivateKeyJwt {
        /// The signing key.
        key: Arc<SigningKey>,
        /// Assertion lifetime and `jku`.
        options: AssertionOptions,
    },
}

impl ClientAuth {
    /// `client_secret_basic` with the raw encoding.
    pub fn basic(secret: impl Into<String>) -> Self {
        Self::ClientSecretBasic {
            secret: ClientSecret::new(secret),
            encoding: BasicEncoding::Raw,
        }
    }

    /// `private_key_jwt` with default assertion options.
    pub fn private_key_jwt(key: SigningKey) -> Self {
        Self::PrivateKeyJwt {
            key: Arc::new(key),
            options: AssertionOptions::default(),
        }
    }

    /// The method, without its credential.
    pub fn method(&self) -> AuthMethod {
        match self {
            Self::Public => AuthMethod::None,
            Self::ClientSecretBasic { .. } => AuthMethod::ClientSecretBasic,
            Self::ClientSecretPost { .. } => AuthMethod::ClientSecretPost,
            Self::PrivateKeyJwt { .. } => AuthMethod::PrivateKeyJwt,
        }
    }

    /// The method name used in `token_endpoint_auth_methods_supported`.
    pub fn method_name(&self) -> &'static str {
        self.method().as_str()
    }

    /// Chooses the method from what the client holds and what the server supports:
    /// `private_key_jwt` when there is a key and the server lists
    /// `client-confidential-asymmetric` or the `private_key_jwt` method; otherwise
    /// `client_secret_basic` with a secret; otherwise public.
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] when the client has only a key and the server does not
    /// support asymmetric authentication (never a silent downgrade).
    pub fn choose(
        config: &SmartConfiguration,
        secret: Option<ClientSecret>,
        key: Option<SigningKey>,
        options: AssertionOptions,
    ) -> Result<Self, Error> {
        let asymmetric = config.supports(&Capability::ClientConfidentialAsymmetric)
            || config
                .token_endpoint_auth_methods_supported
                .iter()
                .any(|m| m == AuthMethod::PrivateKeyJwt.as_str());
        match (key, secret) {
            (Some(key), _) if asymmetric => Ok(Self::PrivateKeyJwt {
                key: Arc::new(key),
                options,
            }),
            (_, Some(secret)) => Ok(Self::ClientSecretBasic {
                secret,
                encoding: BasicEncoding::Raw,
            }),
            (Some(_), None) => Err(Error::configuration(
                "private_key",
                "the server advertises neither client-confidential-asymmetric nor private_key_jwt",
            )),
            (None, None) => Ok(Self::Public),
        }
    }

    /// Adds this authentication to a token request: form parameters and an optional
    /// `Authorization` header. `include_client_id` adds `client_id` to the body for
    /// confidential clients too (public clients always send it).
    pub(crate) fn apply(
        &self,
        client_id: &str,
        token_endpoint: &Url,
        include_client_id: bool,
        form: &mut Vec<(&'static str, String)>,
    ) -> Result<Option<HeaderValue>, Error> {
        if include_client_id || matches!(self, Self::Public | Self::ClientSecretPost { .. }) {
            form.push(("client_id", client_id.to_owned()));
        }
        match self {
            Self::Public => Ok(None),
            Self::ClientSecretBasic { secret, encoding } => {
                let (id, secret) = match encoding {
                    BasicEncoding::Raw => (client_id.to_owned(), secret.expose_secret().to_owned()),
                    BasicEncoding::FormUrlEncoded => (
                        url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect(),
                        url::form_urlencoded::byte_serialize(secret.expose_secret().as_bytes())
                            .collect(),
                    ),
                };
                let encoded =
                    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
                fhir_core::auth::sensitive_header(&format!("Basic {encoded}"))
                    .map(Some)
                    .map_err(|_| {
                        Error::configuration("client_secret", "not valid in an HTTP header")
                    })
            }
            Self::ClientSecretPost { secret } => {
                form.push(("client_secret", secret.expose_secret().to_owned()));
                Ok(None)
            }
            Self::PrivateKeyJwt { key, options } => {
                let assertion = client_assertion(key, client_id, token_endpoint.as_str(), options)?;
                form.push(("client_assertion_type", CLIENT_ASSERTION_TYPE.to_owned()));
                form.push(("client_assertion", assertion.expose_secret().to_owned()));
                Ok(None)
            }
        }
    }
}

/// A client's identity at the token endpoint.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// The registered client id.
    pub client_id: String,
    /// How the client authenticates.
    pub auth: ClientAuth,
    /// Also send `client_id` in the body for confidential clients (some servers want it).
    pub include_client_id: bool,
}

impl ClientCredentials {
    /// A client id with its authentication method.
    pub fn new(client_id: impl Into<String>, auth: ClientAuth) -> Self {
        Self {
            client_id: client_id.into(),
            auth,
            include_client_id: false,
        }
    }
}

#[cfg(test)]
mod tests;
