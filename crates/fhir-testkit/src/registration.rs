//! The clients the sandbox knows: [`ClientRegistration`](crate::ClientRegistration) and how
//! each authenticates at the token endpoint ([`TokenEndpointAuth`](crate::TokenEndpointAuth)).

use super::*;

/// How a registered client authenticates at the token endpoint.
#[derive(Clone)]
#[non_exhaustive]
pub enum TokenEndpointAuth {
    /// A public client: `client_id` in the body, no secret.
    Public,
    /// A confidential client with a shared secret (`client_secret_basic` or `client_secret_post`).
    Secret(String),
    /// A confidential client with keys (`private_key_jwt`): the public JWKS as JSON.
    PrivateKeyJwt(Value),
}

/// The old name of [`TokenEndpointAuth`]: it read like fhir-smart's `ClientAuth`, which is the
/// client's side of the same exchange.
#[deprecated(since = "0.2.0", note = "renamed `TokenEndpointAuth`")]
pub type ClientAuth = TokenEndpointAuth;

impl std::fmt::Debug for TokenEndpointAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Public => f.write_str("Public"),
            Self::Secret(_) => f.write_str("Secret([redacted])"),
            Self::PrivateKeyJwt(jwks) => f.debug_tuple("PrivateKeyJwt").field(jwks).finish(),
        }
    }
}

/// A client the sandbox knows.
#[derive(Debug, Clone)]
pub struct ClientRegistration {
    pub(super) client_id: String,
    pub(super) auth: TokenEndpointAuth,
    pub(super) redirect_uris: Vec<String>,
}

impl ClientRegistration {
    /// A public app (App Launch) with its redirect URIs.
    pub fn public(
        client_id: &str,
        redirect_uris: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self::new(client_id, TokenEndpointAuth::Public, redirect_uris)
    }

    /// A confidential app with a client secret.
    pub fn confidential(
        client_id: &str,
        secret: &str,
        redirect_uris: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self::new(
            client_id,
            TokenEndpointAuth::Secret(secret.to_owned()),
            redirect_uris,
        )
    }

    /// A confidential app or Backend Services client authenticating with keys from `jwks`
    /// (a JWKS document: `{"keys": [...]}`); backend clients have no redirect URIs.
    pub fn asymmetric(
        client_id: &str,
        jwks: Value,
        redirect_uris: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self::new(
            client_id,
            TokenEndpointAuth::PrivateKeyJwt(jwks),
            redirect_uris,
        )
    }

    /// A Backend Services client authenticating with keys from `jwks`.
    pub fn backend(client_id: &str, jwks: Value) -> Self {
        Self::new(
            client_id,
            TokenEndpointAuth::PrivateKeyJwt(jwks),
            Vec::<String>::new(),
        )
    }

    /// A Backend Services client with one public key, as a JWK: with fhir-smart,
    /// `ClientRegistration::backend_jwk("etl", key.public_jwk())` (no JWKS text to write or
    /// parse). The sandbox verifies assertions with its own JOSE library, not fhir-smart's.
    pub fn backend_jwk(client_id: &str, public_jwk: impl serde::Serialize) -> Self {
        Self::backend(client_id, jwks_of(public_jwk))
    }

    /// A confidential app (App Launch, `private_key_jwt`) with one public key, as a JWK.
    pub fn asymmetric_jwk(
        client_id: &str,
        public_jwk: impl serde::Serialize,
        redirect_uris: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self::asymmetric(client_id, jwks_of(public_jwk), redirect_uris)
    }

    pub(super) fn new(
        client_id: &str,
        auth: TokenEndpointAuth,
        redirect_uris: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            client_id: client_id.to_owned(),
            auth,
            redirect_uris: redirect_uris.into_iter().map(Into::into).collect(),
        }
    }
}

/// The JWKS of one JWK.
fn jwks_of(public_jwk: impl serde::Serialize) -> Value {
    // A JWK is plain strings: encoding it cannot fail; were it to, the empty set makes every
    // assertion of the client fail loudly at the token endpoint.
    serde_json::to_value(public_jwk)
        .map(|jwk| serde_json::json!({ "keys": [jwk] }))
        .unwrap_or_else(|_| serde_json::json!({ "keys": [] }))
}
