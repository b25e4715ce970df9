//! [`PendingAuthorization`]: what an app keeps between the authorize redirect and the
//! callback.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::client_auth::AuthMethod;
use crate::pkce::PkceVerifier;
use crate::state::State;

/// What an app keeps between the authorize redirect and the callback.
///
/// Serializable so it can go into a session store; it holds the PKCE verifier, so that store
/// must be private to the app. It carries no client secret or key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingAuthorization {
    pub(super) state: State,
    pub(super) code_verifier: PkceVerifier,
    pub(super) redirect_uri: String,
    pub(super) aud: String,
    pub(super) token_endpoint: Url,
    pub(super) issuer: Option<String>,
    pub(super) jwks_uri: Option<Url>,
    pub(super) client_id: String,
    pub(super) auth_method: AuthMethod,
    pub(super) scope: String,
    pub(super) launch: Option<String>,
    pub(super) nonce: Option<String>,
    pub(super) created_at: u64,
    /// A random id of this launch, part of the store key of the resulting client.
    #[serde(default)]
    pub(super) launch_id: String,
}

impl PendingAuthorization {
    /// The random id of this launch: the resulting client's tokens are stored under a key
    /// that includes it ([`StoreKey::for_launch`](crate::StoreKey::for_launch)), so two
    /// launches never share a token set.
    pub fn launch_id(&self) -> &str {
        &self.launch_id
    }

    /// The state sent in the authorize request: the key to store this record under.
    pub fn state(&self) -> &str {
        self.state.as_str()
    }

    /// The redirect URI the authorize request named.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The FHIR base URL (`aud`).
    pub fn aud(&self) -> &str {
        &self.aud
    }

    /// The requested scope.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The `nonce` sent for OpenID Connect, if any.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// The server's OpenID issuer from discovery, if any.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The server's `jwks_uri` from discovery, if any.
    pub fn jwks_uri(&self) -> Option<&Url> {
        self.jwks_uri.as_ref()
    }

    /// When the request was made (seconds since the Unix epoch).
    pub fn created_at(&self) -> u64 {
        self.created_at
    }

    /// Whether `received` is this record's state (constant time).
    pub(crate) fn state_matches(&self, received: &str) -> bool {
        self.state.matches(received)
    }
}
