//! OpenID Connect id_token validation and the `fhirUser` claim.
//!
//! [`IdTokenVerifier::verify`] follows the SMART steps: read `iss`, GET
//! `{iss}/.well-known/openid-configuration`, fetch its `jwks_uri`, verify the signature with
//! the key named by `kid` (RS256, RS384, ES256 or ES384; never `none` or HMAC), then check
//! `iss`, `aud`/`azp`, `exp`, `iat` and `nonce`. JWKS documents are cached per issuer and
//! fetched again once when a `kid` is unknown (key rotation).
//! [`decode_unverified`] reads the claims without any check, for display only.
//!
//! To learn more about the user, read the [`FhirUser::url`] with `fhir_core::Client::get`
//! authorized by the [`SmartClient`](crate::SmartClient): the token is attached only when the
//! URL lies under the FHIR base URL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jose_jwk::{Jwk, Key};
use rsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts as _;
use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use crate::Error;
use crate::http::HttpClient;
use crate::secret::IdToken;
use crate::store::now_secs;

/// Resource types a `fhirUser` may name.
pub const FHIR_USER_TYPES: &[&str] = &[
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "RelatedPerson",
    "Person",
];

fn invalid(reason: impl Into<String>) -> Error {
    Error::IdToken {
        reason: reason.into(),
    }
}

/// The claims of an id_token.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IdTokenClaims {
    /// `iss`.
    pub iss: String,
    /// `sub`.
    pub sub: Option<String>,
    /// `aud`, as a list.
    pub aud: Vec<String>,
    /// `azp`.
    pub azp: Option<String>,
    /// `exp` (seconds since the Unix epoch).
    pub exp: Option<u64>,
    /// `iat`.
    pub iat: Option<u64>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// `fhirUser`: a URL, absolute or relative to the FHIR base.
    pub fhir_user: Option<String>,
    /// `profile` (SMART v1 predecessor of `fhirUser`).
    pub profile: Option<String>,
    /// Every claim, as sent.
    pub all: Map<String, Value>,
}

/// The user named by `fhirUser` (or the legacy `profile`), resolved against the FHIR base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirUser {
    /// The absolute URL of the resource.
    pub url: Url,
    /// The resource type (`Practitioner`, `Patient`, …).
    pub resource_type: String,
    /// The resource id.
    pub id: String,
}

impl FhirUser {
    /// Whether the type is one SMART allows for `fhirUser`.
    pub fn is_known_type(&self) -> bool {
        FHIR_USER_TYPES.contains(&self.resource_type.as_str())
    }
}

impl IdTokenClaims {
    fn from_json(all: Map<String, Value>) -> Result<Self, Error> {
        let text = |name: &str| all.get(name).and_then(Value::as_str).map(str::to_owned);
        let number = |name: &str| all.get(name).and_then(Value::as_u64);
        let iss = text("iss").ok_or_else(|| invalid("no `iss` claim"))?;
        let aud = match all.get("aud") {
            Some(Value::String(aud)) => vec![aud.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        Ok(Self {
            iss,
            sub: text("sub"),
            aud,
            azp: text("azp"),
            exp: number("exp"),
            iat: number("iat"),
            nonce: text("nonce"),
            fhir_user: text("fhirUser"),
            profile: text("profile"),
            all,
        })
    }

    /// The user's FHIR resource from `fhirUser` (else `profile`), resolved against `base`
    /// when relative (`Practitioner/123`) and kept when absolute.
    pub fn fhir_user(&self, base: &Url) -> Option<FhirUser> {
        let raw = self.fhir_user.as_deref().or(self.profile.as_deref())?;
        let mut dir = base.clone();
        if !dir.path().ends_with('/') {
            let path = format!("{}/", dir.path());
            dir.set_path(&path);
        }
        let url = dir.join(raw).ok()?;
        let mut segments = url.path_segments()?.filter(|s| !s.is_empty()).rev();
        let id = segments.next()?.to_owned();
        let resource_type = segments.next()?.to_owned();
        Some(FhirUser {
            url,
            resource_type,
            id,
        })
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

struct Parts {
    header: Header,
    claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

fn split(token: &IdToken) -> Result<Parts, Error> {
    let mut parts = token.secret().split('.');
    let (Some(header_b64), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("not a compact JWS with three parts"));
    };
    let decode = |part: &str, what: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| invalid(format!("the {what} is not base64url")))
    };
    let header: Header = serde_json::from_slice(&decode(header_b64, "header")?)
        .map_err(|_| invalid("the header is not a JOSE header"))?;
    let claims: Map<String, Value> = serde_json::from_slice(&decode(payload, "payload")?)
        .map_err(|_| invalid("the payload is not a JSON object"))?;
    Ok(Parts {
        signing_input: format!("{header_b64}.{payload}"),
        header,
        claims,
        signature: decode(signature, "signature")?,
    })
}

/// Decodes the claims **without verifying anything**: for display or debugging only, never
/// for an authorization decision.
///
/// # Errors
///
/// [`Error::IdToken`] when the token is not a readable JWS.
pub fn decode_unverified(token: &IdToken) -> Result<IdTokenClaims, Error> {
    IdTokenClaims::from_json(split(token)?.claims)
}

/// What an id_token must match.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Expectations {
    /// The app's client id (must be in `aud`).
    pub client_id: String,
    /// The issuer from discovery (must equal `iss` exactly). Required: verification fails
    /// when it is `None`, because keys are never fetched from an unverified token's `iss`.
    pub issuer: Option<String>,
    /// The nonce sent in the authorize request, if any.
    pub nonce: Option<String>,
}

impl Expectations {
    /// Expectations for `client_id`.
    pub fn new(client_id: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            issuer: None,
            nonce: None,
        }
    }

    /// Requires this issuer.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Requires this nonce.
    #[must_use]
    pub fn nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }
}

/// The least time between two JWKS fetches of one issuer caused by unknown `kid`s.
pub const DEFAULT_MIN_REFETCH: Duration = Duration::from_secs(30);

/// The cached JWKS of one issuer, and the lock that makes its fetches single-flight.
#[derive(Debug, Default)]
struct JwksSlot {
    keys: Option<Arc<Vec<Jwk>>>,
    /// Bumped on every fetch, so a caller can ask for keys newer than those it saw.
    generation: u64,
    fetched_at: Option<Instant>,
    flight: Arc<tokio::sync::Mutex<()>>,
}

/// Keys from [`IdTokenVerifier::jwks`].
struct FetchedKeys {
    keys: Arc<Vec<Jwk>>,
    generation: u64,
    /// Fetched by this call (so an unknown kid is not worth another fetch).
    fresh: bool,
}

/// Verifies id_tokens with the issuers' published keys; caches JWKS per issuer.
///
/// Fetches are single-flight per issuer and never hold a lock that other issuers wait on.
#[derive(Debug)]
pub struct IdTokenVerifier {
    http: HttpClient,
    leeway: Duration,
    min_refetch: Duration,
    cache: Mutex<HashMap<String, JwksSlot>>,
}

impl IdTokenVerifier {
    /// A verifier using `http`, with 60 s of clock-skew leeway, refetching an issuer's JWKS
    /// for an unknown `kid` at most every 30 s.
    pub fn new(http: HttpClient) -> Self {
        Self {
            http,
            leeway: Duration::from_secs(60),
            min_refetch: DEFAULT_MIN_REFETCH,
            cache: Mutex::default(),
        }
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<String, JwksSlot>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The issuer's cached keys, unless there are none or they are the generation `stale`
    /// (the caller saw them and missed a kid): then the lock to hold while fetching.
    fn cached(
        &self,
        issuer: &str,
        stale: Option<u64>,
    ) -> Result<FetchedKeys, Arc<tokio::sync::Mutex<()>>> {
        let mut slots = self.slots();
        let slot = slots.entry(issuer.to_owned()).or_default();
        let recent = slot
            .fetched_at
            .is_some_and(|at| at.elapsed() < self.min_refetch);
        match &slot.keys {
            Some(keys) if stale != Some(slot.generation) || recent => Ok(FetchedKeys {
                keys: Arc::clone(keys),
                generation: slot.generation,
                fresh: false,
            }),
            _ => Err(Arc::clone(&slot.flight)),
        }
    }

    /// The JWKS of `issuer`: cached, or fetched once however many callers wait for it.
    async fn jwks(&self, issuer: &str, stale: Option<u64>) -> Result<FetchedKeys, Error> {
        let flight = match self.cached(issuer, stale) {
            Ok(keys) => return Ok(keys),
            Err(flight) => flight,
        };
        let _flight = flight.lock().await;
        if let Ok(keys) = self.cached(issuer, stale) {
            return Ok(keys);
        }
        let keys = Arc::new(self.fetch_jwks(issuer).await?);
        let mut slots = self.slots();
        let slot = slots.entry(issuer.to_owned()).or_default();
        slot.keys = Some(Arc::clone(&keys));
        slot.generation = slot.generation.wrapping_add(1);
        slot.fetched_at = Some(Instant::now());
        Ok(FetchedKeys {
            keys,
            generation: slot.generation,
            fresh: true,
        })
    }

    /// Sets the clock-skew leeway for `exp` and `iat`.
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The least time between JWKS refetches for unknown `kid`s (default 30 s), so tokens
    /// with made-up kids cannot make the verifier hammer the issuer.
    #[must_use]
    pub fn min_refetch_interval(mut self, interval: Duration) -> Self {
        self.min_refetch = interval;
        self
    }

    async fn fetch_jwks(&self, issuer: &str) -> Result<Vec<Jwk>, Error> {
        let base = Url::parse(issuer).map_err(|_| invalid("`iss` is not a URL"))?;
        let config_url = Url::parse(&format!(
            "{}/.well-known/openid-configuration",
            base.as_str().trim_end_matches('/')
        ))
        .map_err(|_| invalid("cannot build the OpenID configuration URL"))?;
        let response = self.http.get(&config_url, "application/json").await?;
        if !response.is_success() {
            return Err(invalid(format!(
                "the OpenID configuration answered HTTP {}",
                response.status
            )));
        }
        let config: Value = serde_json::from_slice(&response.body)
            .map_err(|_| invalid("the OpenID configuration is not JSON"))?;
        if config.get("issuer").and_then(Value::as_str) != Some(issuer) {
            return Err(invalid(
                "the OpenID configuration `issuer` differs from the token `iss`",
            ));
        }
        let jwks_uri = config
            .get("jwks_uri")
            .and_then(Value::as_str)
            .and_then(|u| Url::parse(u).ok())
            .ok_or_else(|| invalid("the OpenID configuration has no valid `jwks_uri`"))?;
        let response = self.http.get(&jwks_uri, "application/json").await?;
        if !response.is_success() {
            return Err(invalid(format!(
                "the JWKS answered HTTP {}",
                response.status
            )));
        }
        let jwks: Value =
            serde_json::from_slice(&response.body).map_err(|_| invalid("the JWKS is not JSON"))?;
        // One unusable key must not hide the others.
        Ok(jwks
            .get("keys")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|key| serde_json::from_value(key.clone()).ok())
            .collect())
    }

    /// Verifies `token`'s signature and claims.
    ///
    /// # Errors
    ///
    /// [`Error::IdToken`] naming the failed check; transport errors while fetching keys.
    pub async fn verify(
        &self,
        token: &IdToken,
        expected: &Expectations,
    ) -> Result<IdTokenClaims, Error> {
        let parts = split(token)?;
        let claims = IdTokenClaims::from_json(parts.claims.clone())?;
        // J4: the issuer must be known beforehand (from discovery); keys are never fetched
        // from the `iss` of a token that is not verified yet.
        let Some(issuer) = &expected.issuer else {
            return Err(invalid(
                "no expected issuer: the issuer must come from discovery, not from the token",
            ));
        };
        if *issuer != claims.iss {
            return Err(invalid("`iss` differs from the server's issuer"));
        }
        let alg = parts.header.alg.as_str();
        if !matches!(alg, "RS256" | "RS384" | "ES256" | "ES384") {
            return Err(invalid(format!("algorithm `{alg}` is not accepted")));
        }
        let find = |keys: &[Jwk]| -> Option<Jwk> {
            keys.iter()
                .find(|k| match (&parts.header.kid, &k.prm.kid) {
                    (Some(wanted), Some(kid)) => wanted == kid,
                    (None, _) => key_fits(k, alg),
                    (Some(_), None) => false,
                })
                .cloned()
        };
        let cached = self.jwks(issuer, None).await?;
        let mut key = find(&cached.keys);
        if key.is_none() && !cached.fresh {
            // Unknown kid: the issuer may have rotated its keys.
            key = find(&self.jwks(issuer, Some(cached.generation)).await?.keys);
        }
        let key = key.ok_or_else(|| invalid("no key in the issuer's JWKS matches the `kid`"))?;
        verify_signature(&key, alg, parts.signing_input.as_bytes(), &parts.signature)?;
        self.check_claims(&claims, expected)?;
        Ok(claims)
    }

    fn check_claims(&self, claims: &IdTokenClaims, expected: &Expectations) -> Result<(), Error> {
        if !claims.aud.contains(&expected.client_id) {
            return Err(invalid("`aud` does not contain the client id"));
        }
        if claims.aud.len() > 1 && claims.azp.as_deref() != Some(expected.client_id.as_str()) {
            return Err(invalid("several audiences and `azp` is not the client id"));
        }
        let exp = claims.exp.ok_or_else(|| invalid("no `exp` claim"))?;
        if exp.saturating_add(self.leeway.as_secs()) <= now_secs() {
            return Err(invalid("the id_token has expired"));
        }
        if claims.sub.as_deref().is_none_or(str::is_empty) {
            return Err(invalid("no `sub` claim"));
        }
        let iat = claims.iat.ok_or_else(|| invalid("no `iat` claim"))?;
        if iat > now_secs().saturating_add(self.leeway.as_secs()) {
            return Err(invalid("`iat` is in the future"));
        }
        if let Some(nonce) = &expected.nonce
            && claims.nonce.as_ref() != Some(nonce)
        {
            return Err(invalid("`nonce` does not match the authorization request"));
        }
        Ok(())
    }
}

fn key_fits(key: &Jwk, alg: &str) -> bool {
    matches!(
        (&key.key, alg),
        (Key::Rsa(_), "RS256" | "RS384") | (Key::Ec(_), "ES256" | "ES384")
    )
}

fn verify_signature(key: &Jwk, alg: &str, message: &[u8], signature: &[u8]) -> Result<(), Error> {
    use jose_jwk::jose_jwa::{Algorithm, Signing};
    let declared = match alg {
        "RS256" => Signing::Rs256,
        "RS384" => Signing::Rs384,
        "ES256" => Signing::Es256,
        _ => Signing::Es384,
    };
    if key
        .prm
        .alg
        .as_ref()
        .is_some_and(|a| *a != Algorithm::Signing(declared))
    {
        return Err(invalid("the key is published for another algorithm"));
    }
    let bad = || invalid("the signature does not verify");
    match (&key.key, alg) {
        (Key::Rsa(rsa_key), "RS256" | "RS384") => {
            let public =
                rsa::RsaPublicKey::try_from(rsa_key).map_err(|_| invalid("bad RSA key"))?;
            if public.n().bits() < crate::keys::MIN_RSA_BITS {
                return Err(invalid("the RSA key is shorter than 2048 bits"));
            }
            let signature = rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| bad())?;
            let result = if alg == "RS256" {
                rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public).verify(message, &signature)
            } else {
                rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(public).verify(message, &signature)
            };
            result.map_err(|_| bad())
        }
        (Key::Ec(ec), "ES256") => {
            let public = p256::PublicKey::try_from(ec).map_err(|_| invalid("not a P-256 key"))?;
            let signature = p256::ecdsa::Signature::from_slice(signature).map_err(|_| bad())?;
            p256::ecdsa::VerifyingKey::from(&public)
                .verify(message, &signature)
                .map_err(|_| bad())
        }
        (Key::Ec(ec), "ES384") => {
            let public = p384::PublicKey::try_from(ec).map_err(|_| invalid("not a P-384 key"))?;
            let signature = p384::ecdsa::Signature::from_slice(signature).map_err(|_| bad())?;
            p384::ecdsa::VerifyingKey::from(&public)
                .verify(message, &signature)
                .map_err(|_| bad())
        }
        _ => Err(invalid("the key type does not match the algorithm")),
    }
}

#[cfg(test)]
mod tests;
