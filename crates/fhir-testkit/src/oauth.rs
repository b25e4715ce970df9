//! The authorization server: discovery, authorize (no UI), token (authorization_code,
//! refresh_token with rotation, client_credentials), client authentication (public,
//! client_secret_basic, client_secret_post, private_key_jwt) and the id_token key.
//!
//! Client assertions are verified with `jsonwebtoken`, an implementation independent of the
//! signing code in `fhir-smart`.

// Handlers return early with a ready response; its size does not matter on this path.
#![allow(clippy::result_large_err)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use url::Url;
use wiremock::ResponseTemplate;

use crate::state::{Grant, LaunchContext, PendingCode, RefreshGrant, State, random_token};
use crate::{TokenEndpointAuth, TokenRequestRecord};

mod authenticate;

use authenticate::*;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// How long an authorization code may wait before exchange.
const CODE_LIFETIME: Duration = Duration::from_secs(60);

/// The sandbox's id_token signing key (RS256, generated on first use).
pub(crate) struct SigningKey {
    encoding: EncodingKey,
    public_jwk: Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("public_jwk", &self.public_jwk)
            .finish_non_exhaustive()
    }
}

const ID_TOKEN_KID: &str = "sandbox-rs256";

fn signing_key(state: &mut State) -> Option<&SigningKey> {
    if state.id_token_key.is_none() {
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        use rsa::traits::PublicKeyParts as _;
        let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).ok()?;
        let pem = private.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).ok()?;
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).ok()?;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let public_jwk = json!({
            "kty": "RSA", "kid": ID_TOKEN_KID, "alg": "RS256", "use": "sig",
            "n": b64.encode(private.n().to_bytes_be()),
            "e": b64.encode(private.e().to_bytes_be()),
        });
        state.id_token_key = Some(SigningKey {
            encoding,
            public_jwk,
        });
    }
    state.id_token_key.as_ref()
}

/// `/.well-known/smart-configuration` on the FHIR base.
pub(crate) fn smart_configuration(state: &State) -> Value {
    let root = &state.root;
    json!({
        "issuer": state.issuer(),
        "jwks_uri": format!("{root}/auth/jwks"),
        "authorization_endpoint": format!("{root}/auth/authorize"),
        "token_endpoint": state.token_endpoint(),
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES384", "RS384"],
        "scopes_supported": ["openid", "fhirUser", "launch", "launch/patient", "offline_access", "online_access",
                             "patient/*.rs", "user/*.cruds", "system/*.cruds"],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": ["launch-ehr", "launch-standalone", "authorize-post", "client-public",
                         "client-confidential-symmetric", "client-confidential-asymmetric",
                         "sso-openid-connect", "context-ehr-patient", "context-ehr-encounter",
                         "context-standalone-patient", "permission-offline", "permission-online",
                         "permission-patient", "permission-user", "permission-v1", "permission-v2"]
    })
}

/// The OpenID configuration at `{issuer}/.well-known/openid-configuration`.
pub(crate) fn openid_configuration(state: &State) -> Value {
    let root = &state.root;
    json!({
        "issuer": state.issuer(),
        "jwks_uri": format!("{root}/auth/jwks"),
        "authorization_endpoint": format!("{root}/auth/authorize"),
        "token_endpoint": state.token_endpoint(),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"]
    })
}

/// The public keys that sign id_tokens.
pub(crate) fn jwks(state: &mut State) -> Value {
    match signing_key(state) {
        Some(key) => json!({"keys": [key.public_jwk.clone()]}),
        None => json!({"keys": []}),
    }
}

fn redirect(uri: &str, params: &[(&str, &str)]) -> ResponseTemplate {
    let location = match Url::parse(uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            url.to_string()
        }
        Err(_) => uri.to_owned(),
    };
    ResponseTemplate::new(302).insert_header("location", location)
}

fn error_page(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(message.to_owned(), "text/plain")
}

/// The authorize endpoint, GET or POST: validates and redirects at once with a code (the
/// sandbox has no login page; the resource owner always approves).
pub(crate) fn authorize(state: &mut State, params: &[(String, String)]) -> ResponseTemplate {
    let get = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let Some(client_id) = get("client_id") else {
        return error_page(400, "client_id is missing");
    };
    let Some(client) = state.clients.get(client_id).cloned() else {
        return error_page(400, "unknown client_id");
    };
    let Some(redirect_uri) = get("redirect_uri") else {
        return error_page(400, "redirect_uri is missing");
    };
    if !client
        .redirect_uris
        .iter()
        .any(|registered| registered == redirect_uri)
    {
        // Never redirect to an unregistered URI.
        return error_page(400, "redirect_uri is not registered for this client");
    }
    let state_param = get("state").unwrap_or_default();
    let fail = |error: &str, description: &str| {
        redirect(
            redirect_uri,
            &[
                ("error", error),
                ("error_description", description),
                ("state", state_param),
            ],
        )
    };
    if get("response_type") != Some("code") {
        return fail("unsupported_response_type", "response_type must be code");
    }
    let Some(code_challenge) = get("code_challenge") else {
        return fail(
            "invalid_request",
            "PKCE is required: code_challenge is missing",
        );
    };
    if get("code_challenge_method") != Some("S256") {
        return fail("invalid_request", "code_challenge_method must be S256");
    }
    if get("aud") != Some(state.fhir_base().as_str()) {
        return fail("invalid_request", "aud must be the FHIR base URL");
    }
    let scope = get("scope").unwrap_or_default();
    if scope.trim().is_empty() {
        return fail("invalid_scope", "scope is required");
    }
    if state_param.is_empty() {
        return fail("invalid_request", "state is required");
    }
    let mut context = LaunchContext::default();
    if let Some(launch) = get("launch") {
        match state.launches.get(launch) {
            Some(launched) => context = launched.clone(),
            None => return fail("invalid_request", "unknown launch"),
        }
    } else if scope.split_whitespace().any(|s| s == "launch/patient") {
        context.patient = state.settings.default_patient.clone().or_else(|| {
            state
                .store
                .search("Patient", &[])
                .matches
                .first()
                .and_then(|p| p["id"].as_str().map(str::to_owned))
        });
    }
    let code = random_token();
    state.codes.insert(
        code.clone(),
        PendingCode {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            code_challenge: code_challenge.to_owned(),
            scope: scope.to_owned(),
            context,
            nonce: get("nonce").map(str::to_owned),
            issued: Instant::now(),
            used: false,
        },
    );
    redirect(redirect_uri, &[("code", &code), ("state", state_param)])
}

/// A token response: `Ok` for a success, `Err` for an RFC 6749 error response.
type Reply = Result<ResponseTemplate, ResponseTemplate>;

/// An RFC 6749 §5.2 error response.
fn token_error(status: u16, error: &str, description: &str) -> ResponseTemplate {
    let mut response = ResponseTemplate::new(status)
        .set_body_json(json!({"error": error, "error_description": description}))
        .insert_header("cache-control", "no-store")
        .insert_header("pragma", "no-cache");
    if status == 401 {
        response = response.insert_header("www-authenticate", "Basic realm=\"sandbox\"");
    }
    response
}

/// The token endpoint.
pub(crate) fn token(
    state: &mut State,
    form: &[(String, String)],
    authorization: Option<&str>,
) -> ResponseTemplate {
    let get = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let grant_type = get("grant_type").unwrap_or_default();
    let client = match authenticate(state, form, parse_basic(authorization)) {
        Ok(client) => client,
        Err(response) => {
            state.token_requests.push(TokenRequestRecord {
                grant_type,
                client_id: get("client_id"),
                succeeded: false,
            });
            return response;
        }
    };
    let result = match grant_type.as_str() {
        "authorization_code" => exchange_code(state, &client, form),
        "refresh_token" => refresh(state, &client, form),
        "client_credentials" => client_credentials(state, &client, form),
        "" => Err(token_error(400, "invalid_request", "grant_type is missing")),
        _ => Err(token_error(
            400,
            "unsupported_grant_type",
            "this grant type is not supported",
        )),
    };
    state.token_requests.push(TokenRequestRecord {
        grant_type,
        client_id: Some(client.client_id),
        succeeded: result.is_ok(),
    });
    result.unwrap_or_else(|error| error)
}

fn exchange_code(state: &mut State, client: &Authenticated, form: &[(String, String)]) -> Reply {
    let get = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let code = get("code").unwrap_or_default();
    let Some(pending) = state.codes.get_mut(&code) else {
        return Err(token_error(
            400,
            "invalid_grant",
            "unknown authorization code",
        ));
    };
    if pending.used {
        return Err(token_error(
            400,
            "invalid_grant",
            "the authorization code was already used",
        ));
    }
    pending.used = true;
    let pending = pending.clone();
    if pending.issued.elapsed() > CODE_LIFETIME {
        return Err(token_error(
            400,
            "invalid_grant",
            "the authorization code expired",
        ));
    }
    if pending.client_id != client.client_id {
        return Err(token_error(
            400,
            "invalid_grant",
            "the code was issued to another client",
        ));
    }
    if get("redirect_uri").as_deref() != Some(pending.redirect_uri.as_str()) {
        return Err(token_error(
            400,
            "invalid_grant",
            "redirect_uri differs from the authorize request",
        ));
    }
    let Some(verifier) = get("code_verifier") else {
        return Err(token_error(
            400,
            "invalid_grant",
            "code_verifier is missing",
        ));
    };
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    if challenge != pending.code_challenge {
        return Err(token_error(
            400,
            "invalid_grant",
            "code_verifier does not match the code_challenge",
        ));
    }
    let family = state.next_family;
    state.next_family += 1;
    Ok(issue(
        state,
        &client.client_id,
        &pending.scope,
        &pending.context,
        pending.nonce.as_deref(),
        Some(family),
        true,
    ))
}

fn refresh(state: &mut State, client: &Authenticated, form: &[(String, String)]) -> Reply {
    let get = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let token = get("refresh_token").unwrap_or_default();
    let Some(grant) = state.refresh_tokens.get_mut(&token) else {
        return Err(token_error(400, "invalid_grant", "unknown refresh token"));
    };
    if grant.client_id != client.client_id {
        return Err(token_error(
            400,
            "invalid_grant",
            "the refresh token belongs to another client",
        ));
    }
    let family = grant.family;
    if grant.used {
        // A rotated token came back: someone holds a copy. Revoke the whole family.
        state.revoked_families.insert(family);
        return Err(token_error(
            400,
            "invalid_grant",
            "the refresh token was already used; the grant is revoked",
        ));
    }
    if state.revoked_families.contains(&family) {
        return Err(token_error(400, "invalid_grant", "the grant was revoked"));
    }
    grant.used = true;
    let grant = grant.clone();
    let scope = match get("scope") {
        Some(requested) => {
            let granted: Vec<&str> = grant.scope.split_whitespace().collect();
            if !requested
                .split_whitespace()
                .all(|scope| granted.contains(&scope))
            {
                return Err(token_error(
                    400,
                    "invalid_scope",
                    "a refresh may only narrow the scope",
                ));
            }
            requested
        }
        None => grant.scope.clone(),
    };
    // Launch context and id_token are not repeated on refresh (SMART allows either).
    Ok(issue(
        state,
        &client.client_id,
        &scope,
        &LaunchContext::default(),
        None,
        Some(family),
        true,
    ))
}

fn client_credentials(
    state: &mut State,
    client: &Authenticated,
    form: &[(String, String)],
) -> Reply {
    if !client.confidential {
        return Err(token_error(
            401,
            "invalid_client",
            "client_credentials needs a confidential client",
        ));
    }
    let Some(scope) = form
        .iter()
        .find(|(key, _)| key == "scope")
        .map(|(_, value)| value.clone())
    else {
        return Err(token_error(400, "invalid_scope", "scope is required"));
    };
    if scope.trim().is_empty() {
        return Err(token_error(400, "invalid_scope", "scope is required"));
    }
    Ok(issue(
        state,
        &client.client_id,
        &scope,
        &LaunchContext::default(),
        None,
        None,
        false,
    ))
}

/// Issues an access token (and, for user grants with offline or online access, a refresh
/// token; with `openid`, an id_token).
fn issue(
    state: &mut State,
    client_id: &str,
    scope: &str,
    context: &LaunchContext,
    nonce: Option<&str>,
    family: Option<u64>,
    user_grant: bool,
) -> ResponseTemplate {
    let ttl = state.settings.access_token_ttl;
    let access_token = random_token();
    state.access_tokens.insert(
        access_token.clone(),
        Grant {
            scope: scope.to_owned(),
            expires: Instant::now() + ttl,
        },
    );
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl.as_secs(),
        "scope": scope,
    });
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    if let Some(family) = family
        && user_grant
        && (scopes.contains(&"offline_access") || scopes.contains(&"online_access"))
    {
        let refresh_token = random_token();
        state.refresh_tokens.insert(
            refresh_token.clone(),
            RefreshGrant {
                client_id: client_id.to_owned(),
                scope: scope.to_owned(),
                family,
                used: false,
            },
        );
        body["refresh_token"] = json!(refresh_token);
    }
    if let Some(patient) = &context.patient {
        body["patient"] = json!(patient);
        body["need_patient_banner"] = json!(true);
    }
    if let Some(encounter) = &context.encounter {
        body["encounter"] = json!(encounter);
    }
    if scopes.contains(&"openid") && (scopes.contains(&"fhirUser") || scopes.contains(&"profile")) {
        let issuer = state.issuer();
        let fhir_user = match &context.patient {
            Some(patient) if scopes.iter().any(|s| s.starts_with("patient/")) => {
                format!("Patient/{patient}")
            }
            _ => String::from("Practitioner/prac-001"),
        };
        let now = now_secs();
        let mut claims = json!({
            "iss": issuer, "sub": fhir_user, "aud": client_id, "iat": now, "exp": now + ttl.as_secs(),
            "fhirUser": fhir_user,
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        if let Some(key) = signing_key(state) {
            let mut header = Header::new(Algorithm::RS256);
            header.kid = Some(ID_TOKEN_KID.to_owned());
            if let Ok(id_token) = jsonwebtoken::encode(&header, &claims, &key.encoding) {
                body["id_token"] = json!(id_token);
            }
        }
    }
    ResponseTemplate::new(200)
        .set_body_json(body)
        .insert_header("cache-control", "no-store")
        .insert_header("pragma", "no-cache")
}
