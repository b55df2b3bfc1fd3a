//! Credentials at rest: XChaCha20-Poly1305 with associated data that binds each ciphertext to
//! what it protects (e.g. `x_account:<workspace>:<account>:access_token`), so a ciphertext
//! copied onto another row does not decrypt. Each ciphertext names the key that sealed it; the
//! previous key still opens old ones, and callers re-seal them with the current key on write.
//!
//! Sealed form: `v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`; the key id is the first
//! 8 hex digits of SHA-256 of the key, which identifies it without revealing it.

use crate::config::Secret;
use crate::error::AppError;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

const VERSION: &str = "v1";
const NONCE_LEN: usize = 24;

struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

/// The current key and, during a rotation, the previous one.
pub struct Keyring {
    current: Key,
    previous: Option<Key>,
}

/// A decrypted value, and whether it should be re-sealed with the current key.
#[derive(Debug)]
pub struct Opened {
    pub plaintext: Secret<Vec<u8>>,
    pub stale_key: bool,
}

impl Keyring {
    /// Keys are 32 bytes, base64 (standard alphabet) in the Spin variables `encryption_key` and
    /// `encryption_key_previous` (empty = none).
    pub fn from_base64(
        current: &Secret<String>,
        previous: Option<&Secret<String>>,
    ) -> Result<Keyring, AppError> {
        let current = key_from_base64("encryption_key", current.expose())?;
        let previous = match previous
            .map(|p| p.expose().trim())
            .filter(|p| !p.is_empty())
        {
            Some(p) => Some(key_from_base64("encryption_key_previous", p)?),
            None => None,
        };
        Ok(Keyring { current, previous })
    }

    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// Seals `plaintext`, bound to `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &str) -> Result<String, AppError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|e| AppError::internal(format!("no randomness: {e}")))?;
        let sealed = self
            .current
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| AppError::internal("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!(
            "{VERSION}.{}.{}",
            self.current.id,
            URL_SAFE_NO_PAD.encode(out)
        ))
    }

    /// Opens a sealed value; fails (as an internal error, never showing the value) when the key
    /// is unknown, the data was altered, or it belongs to something else (`aad` differs).
    pub fn open(&self, sealed: &str, aad: &str) -> Result<Opened, AppError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(kid), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(AppError::internal("sealed value has an unknown format"));
        };
        let (key, stale_key) = if kid == self.current.id {
            (&self.current, false)
        } else {
            match &self.previous {
                Some(p) if p.id == kid => (p, true),
                _ => {
                    return Err(AppError::internal(format!(
                        "sealed with unknown key id {kid}"
                    )))
                }
            }
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| AppError::internal("sealed value is not base64"))?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(AppError::internal("sealed value is truncated"));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plaintext = key
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| AppError::internal("sealed value failed authentication"))?;
        Ok(Opened {
            plaintext: Secret::new(plaintext),
            stale_key,
        })
    }
}

fn key_from_base64(name: &str, b64: &str) -> Result<Key, AppError> {
    let raw = STANDARD
        .decode(b64.trim())
        .map_err(|_| AppError::config(format!("variable {name} is not base64")))?;
    if raw.len() != 32 {
        return Err(AppError::config(format!(
            "variable {name} must be 32 bytes of base64 (e.g. `openssl rand -base64 32`), found {} bytes",
            raw.len()
        )));
    }
    let id = hex::encode(
        Sha256::digest(&raw)
            .iter()
            .take(4)
            .copied()
            .collect::<Vec<u8>>(),
    );
    let cipher = XChaCha20Poly1305::new_from_slice(&raw)
        .map_err(|_| AppError::config(format!("variable {name}: bad key")))?;
    Ok(Key { id, cipher })
}

/// Whether `presented` is the configured secret `expected`. An unset secret matches nothing,
/// and the comparison takes the same time wherever the first difference is (both sides are
/// hashed first, so not even the length shows).
pub fn secret_matches(expected: &str, presented: &str) -> bool {
    if expected.trim().is_empty() {
        return false;
    }
    let a = Sha256::digest(expected.as_bytes());
    let b = Sha256::digest(presented.as_bytes());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    #[test]
    fn the_secret_must_be_set_and_equal() {
        assert!(secret_matches("s3cret-value", "s3cret-value"));
        assert!(!secret_matches("s3cret-value", "s3cret-valuE"));
        assert!(!secret_matches("s3cret-value", ""));
        assert!(!secret_matches("", ""));
        assert!(!secret_matches("  ", "  "));
    }

    fn key(byte: u8) -> Secret<String> {
        Secret::new(STANDARD.encode([byte; 32]))
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_own_associated_data() {
        let ring = Keyring::from_base64(&key(1), None).unwrap();
        let sealed = ring
            .seal(b"access-token-123", "x_account:w1:a1:access")
            .unwrap();

        assert!(!sealed.contains("access-token-123"));
        let opened = ring.open(&sealed, "x_account:w1:a1:access").unwrap();
        assert_eq!(opened.plaintext.expose(), b"access-token-123");
        assert!(!opened.stale_key);
        assert!(
            ring.open(&sealed, "x_account:w2:a1:access").is_err(),
            "another workspace"
        );
        assert!(
            ring.open(&sealed, "x_account:w1:a2:access").is_err(),
            "another account"
        );
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let ring = Keyring::from_base64(&key(1), None).unwrap();
        assert_ne!(
            ring.seal(b"same", "a").unwrap(),
            ring.seal(b"same", "a").unwrap()
        );
    }

    #[test]
    fn tampering_is_detected() {
        let ring = Keyring::from_base64(&key(1), None).unwrap();
        let sealed = ring.seal(b"secret", "a").unwrap();
        let mut chars: Vec<char> = sealed.chars().collect();
        let last = chars.len() - 2;
        chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        assert!(ring.open(&tampered, "a").is_err());
        assert!(
            ring.open("v1.deadbeef.AAAA", "a").is_err(),
            "unknown key id"
        );
        assert!(ring.open("garbage", "a").is_err());
    }

    #[test]
    fn the_previous_key_still_opens_and_asks_for_a_reseal() {
        let old = Keyring::from_base64(&key(1), None).unwrap();
        let sealed = old.seal(b"secret", "a").unwrap();
        let rotated = Keyring::from_base64(&key(2), Some(&key(1))).unwrap();

        let opened = rotated.open(&sealed, "a").unwrap();

        assert!(opened.stale_key);
        let resealed = rotated.seal(opened.plaintext.expose(), "a").unwrap();
        assert!(resealed.contains(rotated.current_key_id()));
        let after = Keyring::from_base64(&key(2), None).unwrap();
        assert!(
            after.open(&sealed, "a").is_err(),
            "without the previous key the old value is gone"
        );
        assert!(after.open(&resealed, "a").is_ok());
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        for (bad, why) in [("not base64!", "alphabet"), ("AAAA", "too short")] {
            let err = Keyring::from_base64(&Secret::new(bad.to_string()), None)
                .err()
                .expect(why);
            assert_eq!(err.code, Code::Config, "{why}");
            assert!(
                !format!("{err}").contains(bad) || why == "too short",
                "{why}: value not echoed"
            );
        }
    }
}
