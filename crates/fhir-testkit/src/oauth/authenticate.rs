//! Who is asking at the token endpoint: Basic or form secrets compared, `private_key_jwt`
//! assertions verified with the registered JWKS (signature, `iss`/`sub`, `aud`, lifetime,
//! `jti` replay), public clients by id.

use super::*;

/// Who the client authenticated as, and how.
pub(super) struct Authenticated {
    pub(super) client_id: String,
    pub(super) confidential: bool,
}

pub(super) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Verifies a private_key_jwt assertion against the client's registered JWKS.
pub(super) fn verify_assertion(state: &mut State, assertion: &str) -> Result<String, String> {
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|err| format!("malformed assertion: {err}"))?;
    if header.typ.as_deref() != Some("JWT") {
        return Err("the assertion's typ must be JWT".into());
    }
    if !matches!(header.alg, Algorithm::ES384 | Algorithm::RS384) {
        return Err(format!(
            "alg {:?} is not accepted; use ES384 or RS384",
            header.alg
        ));
    }
    let kid = header.kid.ok_or("the assertion has no kid")?;
    // Read iss without verifying, to find the client's keys; the signature is verified next.
    let payload = assertion.split('.').nth(1).ok_or("malformed assertion")?;
    let claims: Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or("malformed assertion claims")?;
    let client_id = claims["iss"]
        .as_str()
        .ok_or("the assertion has no iss")?
        .to_owned();
    let client = state.clients.get(&client_id).ok_or("unknown client")?;
    let TokenEndpointAuth::PrivateKeyJwt(jwks) = &client.auth else {
        return Err("the client has no registered keys".into());
    };
    let set: JwkSet = serde_json::from_value(jwks.clone())
        .map_err(|err| format!("bad registered JWKS: {err}"))?;
    let matching: Vec<&Jwk> = set
        .keys
        .iter()
        .filter(|jwk| jwk.common.key_id.as_deref() == Some(kid.as_str()))
        .collect();
    let [jwk] = matching.as_slice() else {
        return Err(format!(
            "expected exactly one registered key with kid {kid}, found {}",
            matching.len()
        ));
    };
    let key =
        DecodingKey::from_jwk(jwk).map_err(|err| format!("unusable registered key: {err}"))?;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[state.token_endpoint()]);
    validation.set_issuer(&[client_id.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.leeway = 5;
    let data = jsonwebtoken::decode::<Value>(assertion, &key, &validation)
        .map_err(|err| format!("assertion rejected: {err}"))?;
    let claims = data.claims;
    if claims["sub"].as_str() != Some(client_id.as_str()) {
        return Err("sub must equal iss (the client_id)".into());
    }
    let exp = claims["exp"].as_u64().ok_or("exp must be an integer")?;
    if exp > now_secs() + 300 + 5 {
        return Err("exp is more than five minutes in the future".into());
    }
    let jti = claims["jti"]
        .as_str()
        .ok_or("the assertion has no jti")?
        .to_owned();
    if !state.used_jtis.insert(jti) {
        return Err("this jti was already used".into());
    }
    Ok(client_id)
}

pub(super) fn authenticate(
    state: &mut State,
    form: &[(String, String)],
    basic: Option<(String, String)>,
) -> Result<Authenticated, ResponseTemplate> {
    let get = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    if let Some(assertion_type) = get("client_assertion_type") {
        if assertion_type != JWT_BEARER {
            return Err(token_error(
                400,
                "invalid_request",
                "unsupported client_assertion_type",
            ));
        }
        let assertion = get("client_assertion").unwrap_or_default();
        return match verify_assertion(state, &assertion) {
            Ok(client_id) => Ok(Authenticated {
                client_id,
                confidential: true,
            }),
            Err(reason) => Err(token_error(401, "invalid_client", &reason)),
        };
    }
    let (client_id, secret) = match basic {
        Some((id, secret)) => (id, Some(secret)),
        None => match get("client_id") {
            Some(id) => (id, get("client_secret")),
            None => {
                return Err(token_error(
                    401,
                    "invalid_client",
                    "no client authentication",
                ));
            }
        },
    };
    let Some(client) = state.clients.get(&client_id) else {
        return Err(token_error(401, "invalid_client", "unknown client"));
    };
    match (&client.auth, secret) {
        (TokenEndpointAuth::Public, None) => Ok(Authenticated {
            client_id,
            confidential: false,
        }),
        (TokenEndpointAuth::Secret(expected), Some(given)) if *expected == given => {
            Ok(Authenticated {
                client_id,
                confidential: true,
            })
        }
        _ => Err(token_error(
            401,
            "invalid_client",
            "client authentication failed",
        )),
    }
}

/// Parses `Authorization: Basic` (RFC 6749 §2.3.1: both parts may be form-urlencoded).
pub(crate) fn parse_basic(header: Option<&str>) -> Option<(String, String)> {
    let encoded = header?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |part: &str| {
        url::form_urlencoded::parse(format!("x={part}").as_bytes())
            .next()
            .map_or_else(|| part.to_owned(), |(_, value)| value.into_owned())
    };
    Some((decode(id), decode(secret)))
}
