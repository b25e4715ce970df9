//! OpenID Connect id_token validation and the `fhirUser` claim.
//!
//! [`IdTokenVerifier::verify`] follows the SMART steps: read `iss`, GET
//! `{iss}/.well-known/openid-configuration`, fetch its `jwks_uri`, verify the signature with
//! the key named by `kid` (RS256, RS384, ES256 or ES384; never `none` or HMAC), then check
//! `iss`, `aud`/`azp`, `exp`, `iat` and `nonce`. JWKS documents are cached per issuer for
//! their `Cache-Control` lifetime (bounded to 1 minute … 1 hour), and fetched again when a
//! `kid` is unknown (key rotation), at most once per 30 s.
//! [`decode_unverified`] reads the claims without any check, for display only.
//!
//! [`AppLaunch`](crate::AppLaunch) verifies the id_token whenever `openid` is requested,
//! unless told not to ([`AppLaunch::verify_id_token`](crate::AppLaunch::verify_id_token));
//! [`SmartClient::fhir_user`](crate::SmartClient::fhir_user) reads a verified one.
//!
//! To learn more about the user, read the [`FhirUser::url`] with `fhir_core::Client::get`
//! authorized by the [`SmartClient`](crate::SmartClient): the token is attached only when the
//! URL lies under the FHIR base URL.

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
use crate::jwks::{JwksCache, JwksPolicy};
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
    let mut parts = token.expose_secret().split('.');
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

pub use crate::jwks::{DEFAULT_JWKS_TTL, DEFAULT_MIN_REFETCH, MAX_JWKS_TTL, MIN_JWKS_TTL};

/// Verifies id_tokens with the issuers' published keys; caches JWKS per issuer.
///
/// The cache is bounded in time: a JWKS is trusted for its `Cache-Control: max-age` (else
/// [`DEFAULT_JWKS_TTL`], 10 minutes), kept within [`MIN_JWKS_TTL`] and [`MAX_JWKS_TTL`]
/// (1 minute to 1 hour), so a key the issuer removes stops being trusted at most an hour
/// later. An unknown `kid` makes the verifier fetch the JWKS again (key rotation) at most
/// once per [`DEFAULT_MIN_REFETCH`] (30 s) per issuer, and a failed fetch is not retried
/// within that window either, so tokens with made-up kids cannot make the verifier hammer
/// the issuer. Fetches are single-flight per issuer and never hold a lock that other issuers
/// wait on.
#[derive(Debug)]
pub struct IdTokenVerifier {
    http: HttpClient,
    leeway: Duration,
    policy: JwksPolicy,
    cache: JwksCache,
}

impl IdTokenVerifier {
    /// A verifier using `http`, with 60 s of clock-skew leeway and the default JWKS cache
    /// policy.
    pub fn new(http: HttpClient) -> Self {
        Self {
            http,
            leeway: Duration::from_secs(60),
            policy: JwksPolicy::default(),
            cache: JwksCache::default(),
        }
    }

    /// Sets the clock-skew leeway for `exp` and `iat`.
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The least time between JWKS fetches of one issuer caused by unknown `kid`s or after
    /// a failed fetch (default 30 s).
    #[must_use]
    pub fn min_refetch_interval(mut self, interval: Duration) -> Self {
        self.policy.min_refetch = interval;
        self
    }

    /// How long a JWKS without `Cache-Control: max-age` is trusted (default 10 minutes;
    /// always within the [bounds](Self::jwks_ttl_bounds)).
    #[must_use]
    pub fn jwks_default_ttl(mut self, ttl: Duration) -> Self {
        self.policy.default_ttl = ttl;
        self
    }

    /// The shortest and longest time a JWKS is trusted, whatever its `Cache-Control` says
    /// (default 1 minute and 1 hour). The longest bounds how long a removed key is trusted.
    #[must_use]
    pub fn jwks_ttl_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.policy.min_ttl = min;
        self.policy.max_ttl = max;
        self
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
        self.verify_at(token, expected, Instant::now()).await
    }

    /// [`verify`](Self::verify) with the JWKS cache read at `now` (tests move the clock).
    pub(crate) async fn verify_at(
        &self,
        token: &IdToken,
        expected: &Expectations,
        now: Instant,
    ) -> Result<IdTokenClaims, Error> {
        let parts = split(token)?;
        let claims = IdTokenClaims::from_json(parts.claims.clone())?;
        // The issuer must be known beforehand (from discovery); keys are never fetched
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
        let jwks = |stale| {
            self.cache
                .keys(&self.http, issuer, stale, now, &self.policy)
        };
        let cached = jwks(None).await?;
        let mut key = find(&cached.keys);
        if key.is_none() && !cached.fresh {
            // Unknown kid: the issuer may have rotated its keys (rate-limited refetch).
            key = find(&jwks(Some(cached.generation)).await?.keys);
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
