//! [`exchange_code`]: the authorization-code exchange (SMART App Launch step 5) as a
//! primitive, for apps with their own session layer (the seeds' `exchangeCode`).
//!
//! [`AppLaunch::complete`](crate::AppLaunch::complete) checks the callback and the pending
//! record, then calls it; an app that keeps state and verifier itself checks the callback's
//! `state` (in constant time, [`State::matches`](crate::state::State::matches)) and calls it
//! directly. The id_token of the answer is **not** verified here: verify it with
//! [`IdTokenVerifier`](crate::id_token::IdTokenVerifier) and the nonce that was sent.
//!
//! ```no_run
//! use fhir_smart::client_auth::{ClientAuth, ClientCredentials};
//! use fhir_smart::pkce::PkceVerifier;
//! use fhir_smart::secret::AuthorizationCode;
//! use fhir_smart::{HttpClient, exchange_code};
//!
//! # async fn demo(code: &str, verifier: PkceVerifier) -> Result<(), Box<dyn std::error::Error>> {
//! let token = exchange_code(
//!     &HttpClient::new(),
//!     &"https://ehr.example.org/token".parse()?,
//!     &ClientCredentials::new("my-app", ClientAuth::Public),
//!     &AuthorizationCode::new(code),
//!     &verifier,
//!     "https://app.example.org/callback",
//! )
//! .await?;
//! println!("patient: {:?}", token.patient);
//! # Ok(()) }
//! ```

use url::Url;

use crate::Error;
use crate::client_auth::ClientCredentials;
use crate::http::HttpClient;
use crate::pkce::PkceVerifier;
use crate::secret::AuthorizationCode;
use crate::token::TokenResponse;
use crate::token_request::{TokenGrant, token_request};

/// Exchanges an authorization `code` at `token_endpoint`: `grant_type=authorization_code`,
/// the code, the `redirect_uri` of the authorize request (exactly), the PKCE `verifier`, and
/// the client's authentication (`client_id` in the body for public clients, Basic or a fresh
/// assertion for confidential ones). Never retried (a code is single use); never sends
/// `state`.
///
/// # Errors
///
/// [`Error::TokenEndpoint`] with the RFC 6749 code (secrets redacted),
/// [`Error::InvalidTokenResponse`], [`Error::InsecureUrl`] for a plain-HTTP endpoint the
/// client does not allow, key and transport errors.
pub async fn exchange_code(
    http: &HttpClient,
    token_endpoint: &Url,
    client: &ClientCredentials,
    code: &AuthorizationCode,
    verifier: &PkceVerifier,
    redirect_uri: &str,
) -> Result<TokenResponse, Error> {
    let grant = TokenGrant::AuthorizationCode {
        code,
        redirect_uri,
        verifier,
    };
    token_request(http, token_endpoint, client, grant).await
}
