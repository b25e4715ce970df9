//! Helpers: keys, assertions and token requests, built with crates independent of the sandbox.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p384::pkcs8::EncodePrivateKey as _;
use serde_json::{Value, json};

/// An ES384 key pair: the private key for jsonwebtoken and the public JWKS for registration.
pub struct Es384Key {
    pub encoding: EncodingKey,
    pub jwks: Value,
    pub kid: String,
}

pub fn es384_key(kid: &str) -> Es384Key {
    let secret = p384::SecretKey::random(&mut rand::thread_rng());
    let pem = secret.to_pkcs8_pem(p384::pkcs8::LineEnding::LF).unwrap();
    let encoding = EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
    let point = secret.public_key().to_sec1_bytes();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // An uncompressed SEC1 point is 0x04 || x (48 bytes) || y (48 bytes).
    let jwks = json!({"keys": [{"kty": "EC", "crv": "P-384", "kid": kid, "alg": "ES384", "use": "sig",
        "x": b64.encode(&point[1..49]), "y": b64.encode(&point[49..97])}]});
    Es384Key {
        encoding,
        jwks,
        kid: kid.to_owned(),
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A client assertion with the given claims overrides.
pub fn assertion(key: &Es384Key, client_id: &str, aud: &str, overrides: Value) -> String {
    let mut header = Header::new(Algorithm::ES384);
    header.typ = Some("JWT".into());
    header.kid = Some(key.kid.clone());
    let mut claims = json!({"iss": client_id, "sub": client_id, "aud": aud, "exp": now() + 240,
                            "jti": format!("{}", rand::random::<u128>())});
    if let (Some(claims), Some(overrides)) = (claims.as_object_mut(), overrides.as_object()) {
        for (name, value) in overrides {
            claims.insert(name.clone(), value.clone());
        }
    }
    jsonwebtoken::encode(&header, &claims, &key.encoding).unwrap()
}

/// POSTs a form to the token endpoint; returns status and JSON body.
pub async fn token_request(
    endpoint: &str,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(endpoint).form(form);
    if let Some((user, password)) = basic {
        request = request.basic_auth(user, Some(password));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
