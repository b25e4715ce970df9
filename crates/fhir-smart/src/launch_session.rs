//! [`LaunchSession`]: the small, secret-free record of one launch that an app keeps with the
//! user's session, to rebuild the launch's client later.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::client_auth::AuthMethod;

/// What an app keeps to restore a launch's client later (another request, another process):
/// which launch it was, with which server and client authentication.
///
/// It holds no token, secret or key (the tokens stay in the [`TokenStore`](crate::TokenStore)),
/// but it names a token set, so keep it with the user's session, like a
/// [`PendingAuthorization`](crate::PendingAuthorization). Get it from
/// [`SmartClient::launch_session`](crate::SmartClient::launch_session); give it back to [`AppLaunch::restore`](crate::AppLaunch::restore).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchSession {
    pub(crate) launch_id: String,
    pub(crate) aud: String,
    pub(crate) token_endpoint: Url,
    pub(crate) issuer: Option<String>,
    pub(crate) client_id: String,
    pub(crate) auth_method: AuthMethod,
    pub(crate) scope: String,
    /// `sub` of the launch's verified id_token (none when nothing was verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) id_token_sub: Option<String>,
}

impl LaunchSession {
    /// The launch id: part of the store key of the launch's token set.
    pub fn launch_id(&self) -> &str {
        &self.launch_id
    }

    /// The FHIR base URL (`aud`) of the launch.
    pub fn aud(&self) -> &str {
        &self.aud
    }

    /// The scope the launch requested (part of the store key).
    pub fn scope(&self) -> &str {
        &self.scope
    }
}
