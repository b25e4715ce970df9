//! [`EncryptionKey`]: AES-256-GCM over stored token sets, bound to their Redis key and
//! version (the associated data), a fresh random nonce per write.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore as _;

use crate::error::RedisStoreError;

/// The nonce length of AES-GCM (96 bits).
const NONCE_LEN: usize = 12;

/// A 256-bit key for the token sets at rest. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct EncryptionKey {
    cipher: Aes256Gcm,
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey([redacted])")
    }
}

impl EncryptionKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(&bytes.into()),
        }
    }

    /// A key from 32 bytes in standard base64 (`openssl rand -base64 32`).
    ///
    /// # Errors
    ///
    /// [`RedisStoreError::InvalidKey`] for text that is not base64 of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, RedisStoreError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| RedisStoreError::InvalidKey {
                reason: "not base64",
            })?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| RedisStoreError::InvalidKey {
            reason: "not 32 bytes",
        })?;
        Ok(Self::from_bytes(bytes))
    }

    /// A new random key (for tests and first setup; keep it outside Redis).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    /// `nonce ‖ ciphertext` of `plain`, bound to `aad`.
    pub(crate) fn seal(&self, plain: &[u8], aad: &[u8]) -> Result<Vec<u8>, RedisStoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: plain, aad })
            .map_err(|_| RedisStoreError::InvalidKey {
                reason: "encryption failed",
            })?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The plaintext of `nonce ‖ ciphertext`, if it opens with this key and `aad`.
    pub(crate) fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        self.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests;
