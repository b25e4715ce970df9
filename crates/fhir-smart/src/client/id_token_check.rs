//! [`IdTokenCheck`]: how the id_token of a refresh response is verified (OpenID Connect
//! Core §12.2) when the launch verified its own.

use std::sync::{Arc, OnceLock};

use crate::Error;
use crate::http::HttpClient;
use crate::id_token::{Expectations, IdTokenVerifier};
use crate::secret::IdToken;

/// How the id_tokens of refresh responses are checked (set when the launch verified its
/// id_token).
#[derive(Debug, Clone)]
pub(crate) struct IdTokenCheck {
    pub(crate) verifier: Arc<OnceLock<IdTokenVerifier>>,
    pub(crate) expected: Expectations,
    /// `sub` of the verified id_token of the launch.
    pub(crate) sub: Option<String>,
}

impl IdTokenCheck {
    /// OpenID Connect Core §12.2: a refreshed id_token verifies like the first one, and its
    /// `iss` and `sub` are those of the original.
    pub(super) async fn verify(&self, http: &HttpClient, token: &IdToken) -> Result<(), Error> {
        let claims = self
            .verifier
            .get_or_init(|| IdTokenVerifier::new(http.clone()))
            .verify(token, &self.expected)
            .await?;
        if claims.sub != self.sub {
            return Err(Error::IdToken {
                reason: String::from("the refreshed id_token names another `sub`"),
            });
        }
        Ok(())
    }
}
