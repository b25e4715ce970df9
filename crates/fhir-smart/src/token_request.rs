//! One token request: its grant ([`TokenGrant`]), the client's authentication, the POST
//! (never retried) and the answer parsed. The grant's form is the one place its secrets
//! leave their newtypes.

use url::Url;

use crate::Error;
use crate::client_auth::ClientCredentials;
use crate::http::HttpClient;
use crate::pkce::PkceVerifier;
use crate::redact::SentSecrets;
use crate::secret::{AuthorizationCode, RefreshToken};
use crate::token::TokenResponse;

/// What a token request asks for (RFC 6749 §4.1.3, §4.4, §6).
#[derive(Debug, Clone, Copy)]
pub(crate) enum TokenGrant<'a> {
    /// `client_credentials` (Backend Services) for `scope`.
    ClientCredentials {
        /// The requested scope.
        scope: &'a str,
    },
    /// `authorization_code` (App Launch step 5).
    AuthorizationCode {
        /// The code from the callback.
        code: &'a AuthorizationCode,
        /// The `redirect_uri` of the authorize request, exactly.
        redirect_uri: &'a str,
        /// The PKCE verifier of the authorize request.
        verifier: &'a PkceVerifier,
    },
    /// `refresh_token`, optionally for a narrower scope.
    RefreshToken {
        /// The refresh token.
        refresh_token: &'a RefreshToken,
        /// A scope narrower than the granted one.
        scope: Option<&'a str>,
    },
}

impl TokenGrant<'_> {
    /// The `grant_type` value.
    pub(crate) fn grant_type(&self) -> &'static str {
        match self {
            Self::ClientCredentials { .. } => "client_credentials",
            Self::AuthorizationCode { .. } => "authorization_code",
            Self::RefreshToken { .. } => "refresh_token",
        }
    }

    /// The form parameters, `grant_type` first.
    fn form(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![("grant_type", self.grant_type().to_owned())];
        match self {
            Self::ClientCredentials { scope } => form.push(("scope", (*scope).to_owned())),
            Self::AuthorizationCode {
                code,
                redirect_uri,
                verifier,
            } => form.extend([
                ("code", code.expose_secret().to_owned()),
                ("redirect_uri", (*redirect_uri).to_owned()),
                ("code_verifier", verifier.expose_secret().to_owned()),
            ]),
            Self::RefreshToken {
                refresh_token,
                scope,
            } => {
                form.push(("refresh_token", refresh_token.expose_secret().to_owned()));
                if let Some(scope) = scope {
                    form.push(("scope", (*scope).to_owned()));
                }
            }
        }
        form
    }
}

/// POSTs `grant` to `token_endpoint` (never retried) with the client's authentication and
/// parses the answer; credentials of the request are redacted from any error.
pub(crate) async fn token_request(
    http: &HttpClient,
    token_endpoint: &Url,
    client: &ClientCredentials,
    grant: TokenGrant<'_>,
) -> Result<TokenResponse, Error> {
    http.check_url(token_endpoint)?;
    let mut form = grant.form();
    let authorization = client.auth.apply(
        &client.client_id,
        token_endpoint,
        client.include_client_id,
        &mut form,
    )?;
    // Only the endpoint, grant type and method are logged: the form holds credentials.
    tracing::debug!(
        endpoint = %crate::http::redact_url(token_endpoint),
        grant_type = grant.grant_type(),
        auth = client.auth.method_name(),
        "token request"
    );
    let basic = authorization
        .as_ref()
        .and_then(|header| header.to_str().ok())
        .filter(|header| header.starts_with("Basic "))
        .map(str::to_owned);
    let sent = SentSecrets::of_request(&form, basic.as_deref());
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = http
        .post_form(token_endpoint, &pairs, authorization)
        .await?;
    TokenResponse::from_http(&response, &sent)
}
