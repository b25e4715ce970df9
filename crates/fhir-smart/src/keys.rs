//! Private keys for `private_key_jwt`: ES384 (P-384) and RS384 (RSA ≥ 2048 bits).
//!
//! Keys come from PKCS#8 PEM (also SEC1 and PKCS#1 PEM) or from a private JWK, or are
//! generated; the public half is exported as a JWKS for registration with the server.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use jose_jwk::jose_jwa::{Algorithm, Signing};
use jose_jwk::{Class, Jwk, JwkSet, Key, Operations, Parameters};
use p384::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _};
use rsa::traits::PublicKeyParts as _;
use sha2::Sha384;

use crate::Error;
use crate::secret::PrivateKeyPem;

/// The smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// A client-assertion signing algorithm; SMART requires clients to support both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// ECDSA on P-384 with SHA-384; the JWS signature is raw `R‖S` (96 bytes).
    Es384,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
}

impl SigningAlgorithm {
    /// The JOSE name (`ES384`, `RS384`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es384 => "ES384",
            Self::Rs384 => "RS384",
        }
    }

    fn jwa(self) -> Algorithm {
        Algorithm::Signing(match self {
            Self::Es384 => Signing::Es384,
            Self::Rs384 => Signing::Rs384,
        })
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SigningAlgorithm {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_uppercase().as_str() {
            "ES384" => Ok(Self::Es384),
            "RS384" => Ok(Self::Rs384),
            _ => Err(Error::key(format!(
                "unsupported algorithm `{text}` (use ES384 or RS384)"
            ))),
        }
    }
}

#[derive(Clone)]
enum Material {
    Ec(p384::SecretKey),
    Rsa(Box<rsa::RsaPrivateKey>),
}

/// A private signing key with its algorithm and key id (`kid`).
///
/// `Debug` shows the algorithm and kid only.
#[derive(Clone)]
pub struct SigningKey {
    alg: SigningAlgorithm,
    kid: String,
    material: Material,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl SigningKey {
    /// Generates a new key: P-384 for ES384, 2048-bit RSA for RS384.
    ///
    /// # Errors
    ///
    /// [`Error::Key`] when the kid is empty or RSA generation fails.
    pub fn generate(alg: SigningAlgorithm, kid: impl Into<String>) -> Result<Self, Error> {
        let material = match alg {
            SigningAlgorithm::Es384 => {
                Material::Ec(p384::SecretKey::random(&mut rand::rngs::OsRng))
            }
            SigningAlgorithm::Rs384 => Material::Rsa(Box::new(
                rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, MIN_RSA_BITS)
                    .map_err(|_| Error::key("RSA key generation failed"))?,
            )),
        };
        Self::with_material(alg, kid.into(), material)
    }

    fn with_material(
        alg: SigningAlgorithm,
        kid: String,
        material: Material,
    ) -> Result<Self, Error> {
        if kid.is_empty() {
            return Err(Error::key("the key id (kid) is empty"));
        }
        match (&material, alg) {
            (Material::Ec(_), SigningAlgorithm::Es384) => {}
            (Material::Rsa(key), SigningAlgorithm::Rs384) => {
                let bits = key.n().bits();
                if bits < MIN_RSA_BITS {
                    return Err(Error::key(format!(
                        "RSA key has {bits} bits; at least {MIN_RSA_BITS} are required"
                    )));
                }
            }
            (Material::Ec(_), alg) | (Material::Rsa(_), alg) => {
                return Err(Error::key(format!(
                    "the key type does not match the algorithm {alg}"
                )));
            }
        }
        Ok(Self { alg, kid, material })
    }

    /// Imports a private key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`), SEC1
    /// (`BEGIN EC PRIVATE KEY`, P-384) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    ///
    /// `alg` defaults to the one the key type implies.
    ///
    /// # Errors
    ///
    /// [`Error::Key`] for unreadable PEM, a curve other than P-384, an RSA key under 2048 bits,
    /// or a key that does not match `alg`.
    pub fn from_pem(
        pem: &str,
        kid: impl Into<String>,
        alg: Option<SigningAlgorithm>,
    ) -> Result<Self, Error> {
        let pem = pem.trim();
        let material = if let Ok(key) = p384::SecretKey::from_pkcs8_pem(pem) {
            Material::Ec(key)
        } else if let Ok(key) = rsa::RsaPrivateKey::from_pkcs8_pem(pem) {
            Material::Rsa(Box::new(key))
        } else if let Ok(key) = p384::SecretKey::from_sec1_pem(pem) {
            Material::Ec(key)
        } else if let Ok(key) = rsa::RsaPrivateKey::from_pkcs1_pem(pem) {
            Material::Rsa(Box::new(key))
        } else {
            return Err(Error::key(
                "not a P-384 or RSA private key in PKCS#8, SEC1 or PKCS#1 PEM",
            ));
        };
        let alg = alg.unwrap_or(match material {
            Material::Ec(_) => SigningAlgorithm::Es384,
            Material::Rsa(_) => SigningAlgorithm::Rs384,
        });
        Self::with_material(alg, kid.into(), material)
    }

    /// Imports a private JWK (JSON text with `d`; RSA keys also need `p` and `q`).
    ///
    /// The kid comes from the JWK's `kid`; `alg` from the argument, else the JWK's `alg`, else
    /// the key type.
    ///
    /// # Errors
    ///
    /// [`Error::Key`] for invalid JSON, a public-only key, no `kid`, an unsupported key type or
    /// curve, or an algorithm mismatch.
    pub fn from_jwk(json: &str, alg: Option<SigningAlgorithm>) -> Result<Self, Error> {
        let jwk: Jwk = serde_json::from_str(json).map_err(|_| Error::key("invalid JWK JSON"))?;
        let kid = jwk
            .prm
            .kid
            .clone()
            .ok_or_else(|| Error::key("the JWK has no kid"))?;
        let material = match &jwk.key {
            Key::Ec(ec) => Material::Ec(
                p384::SecretKey::try_from(ec)
                    .map_err(|_| Error::key("not a private P-384 EC JWK"))?,
            ),
            Key::Rsa(key) => Material::Rsa(Box::new(
                rsa::RsaPrivateKey::try_from(key)
                    .map_err(|_| Error::key("not a private RSA JWK with d, p and q"))?,
            )),
            _ => return Err(Error::key("unsupported JWK key type (use EC or RSA)")),
        };
        let jwk_alg = match jwk.prm.alg {
            None => None,
            Some(a) if a == SigningAlgorithm::Es384.jwa() => Some(SigningAlgorithm::Es384),
            Some(a) if a == SigningAlgorithm::Rs384.jwa() => Some(SigningAlgorithm::Rs384),
            Some(_) => return Err(Error::key("the JWK alg is neither ES384 nor RS384")),
        };
        if let (Some(wanted), Some(declared)) = (alg, jwk_alg)
            && wanted != declared
        {
            return Err(Error::key(format!(
                "the JWK is declared for {declared}, not {wanted}"
            )));
        }
        let alg = alg.or(jwk_alg).unwrap_or(match material {
            Material::Ec(_) => SigningAlgorithm::Es384,
            Material::Rsa(_) => SigningAlgorithm::Rs384,
        });
        Self::with_material(alg, kid, material)
    }

    /// The signing algorithm.
    pub fn alg(&self) -> SigningAlgorithm {
        self.alg
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The private key as PKCS#8 PEM.
    ///
    /// # Errors
    ///
    /// [`Error::Key`] if encoding fails.
    pub fn to_pkcs8_pem(&self) -> Result<PrivateKeyPem, Error> {
        let pem = match &self.material {
            Material::Ec(key) => key.to_pkcs8_pem(LineEnding::LF),
            Material::Rsa(key) => key.to_pkcs8_pem(LineEnding::LF),
        }
        .map_err(|_| Error::key("PKCS#8 encoding failed"))?;
        Ok(PrivateKeyPem::new(pem.as_str()))
    }

    /// The public JWK: `kty`, `kid`, `alg`, `use: sig`, `key_ops: [verify]` and the public
    /// parameters only (never `d`, `p`, `q`, …).
    pub fn public_jwk(&self) -> Jwk {
        let key = match &self.material {
            Material::Ec(key) => Key::Ec(key.public_key().into()),
            Material::Rsa(key) => Key::Rsa(key.to_public_key().into()),
        };
        Jwk {
            key,
            prm: Parameters {
                alg: Some(self.alg.jwa()),
                kid: Some(self.kid.clone()),
                cls: Some(Class::Signing),
                ops: Some(BTreeSet::from([Operations::Verify])),
                ..Parameters::default()
            },
        }
    }

    /// Signs `message` (the JWS signing input) with this key's algorithm.
    ///
    /// ES384 signatures are raw `R‖S` (96 bytes), as JWS requires, not DER.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        match &self.material {
            Material::Ec(key) => {
                let signer = p384::ecdsa::SigningKey::from(key);
                let signature: p384::ecdsa::Signature = signer
                    .try_sign(message)
                    .map_err(|_| Error::key("ES384 signing failed"))?;
                Ok(signature.to_bytes().to_vec())
            }
            Material::Rsa(key) => {
                // PKCS#1 v1.5 signatures are deterministic; the RNG only blinds the private
                // key operation against timing side channels.
                let signer = rsa::pkcs1v15::SigningKey::<Sha384>::new(key.as_ref().clone());
                let signature = signer
                    .try_sign_with_rng(&mut rand::rngs::OsRng, message)
                    .map_err(|_| Error::key("RS384 signing failed"))?;
                Ok(signature.to_vec())
            }
        }
    }
}

/// The public JWKS of `keys`, for registration with the server or hosting at a JWKS URL.
///
/// # Errors
///
/// [`Error::Key`] when two keys share a kid (servers reject ambiguous key sets).
pub fn public_jwks<'a>(keys: impl IntoIterator<Item = &'a SigningKey>) -> Result<JwkSet, Error> {
    let mut set = JwkSet::default();
    let mut kids = BTreeSet::new();
    for key in keys {
        if !kids.insert(key.kid()) {
            return Err(Error::key(format!(
                "duplicate kid `{}` in the JWKS",
                key.kid()
            )));
        }
        set.keys.push(key.public_jwk());
    }
    Ok(set)
}

/// [`public_jwks`] as pretty-printed JSON.
///
/// # Errors
///
/// As [`public_jwks`].
pub fn public_jwks_json<'a>(
    keys: impl IntoIterator<Item = &'a SigningKey>,
) -> Result<String, Error> {
    let set = public_jwks(keys)?;
    serde_json::to_string_pretty(&set).map_err(|_| Error::key("JWKS encoding failed"))
}

#[cfg(test)]
mod tests;
