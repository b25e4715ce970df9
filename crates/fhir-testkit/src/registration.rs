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
