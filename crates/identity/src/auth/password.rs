//! Passwords: argon2id with OWASP's minimum parameters (m = 19 MiB, t = 2, p = 1), a length of
//! 8–128 characters and a list of common passwords. Verification of an unknown email runs
//! against [`DUMMY_HASH`] so that it costs the same time as a known one.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use common::config::Secret;
use common::error::AppError;

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

/// A valid PHC string with the production parameters whose hash matches no password.
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// A password that passed the policy; it never prints.
pub struct Password(Secret<String>);

impl Password {
    /// Applies the policy. The message names the rule, never echoes the password.
    pub fn parse(raw: &str) -> Result<Password, AppError> {
        let len = raw.chars().count();
        if !(MIN_LEN..=MAX_LEN).contains(&len) {
            return Err(AppError::validation(format!(
                "The password must be {MIN_LEN} to {MAX_LEN} characters long"
            ))
            .with_details(serde_json::json!({ "field": "password" })));
        }
        if is_common(raw) {
            return Err(
                AppError::validation("This password is too common; choose another")
                    .with_details(serde_json::json!({ "field": "password" })),
            );
        }
        Ok(Password(Secret::new(raw.to_string())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

fn argon2() -> Argon2<'static> {
    // The parameters are constants within argon2's bounds, so this cannot fail.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes with a fresh 128-bit salt into a PHC string.
pub fn hash(password: &Password) -> Result<String, AppError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::internal(format!("getrandom: {e}")))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| AppError::internal(format!("salt: {e}")))?;
    argon2()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("argon2: {e}")))
}

/// Verifies `candidate` against a stored PHC string; `None` (unknown user) verifies against the
/// dummy hash and fails, at the same cost.
pub fn verify(candidate: &str, stored: Option<&str>) -> bool {
    let phc = stored.unwrap_or(DUMMY_HASH);
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let ok = argon2()
        .verify_password(candidate.as_bytes(), &parsed)
        .is_ok();
    ok && stored.is_some()
}

fn is_common(raw: &str) -> bool {
    let lower = raw.to_lowercase();
    COMMON.contains(&lower.as_str())
}

/// The most common passwords of at least 8 characters (from public breach corpora).
const COMMON: &[&str] = &[
    "password",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyuiop",
    "password1",
    "iloveyou",
    "11111111",
    "00000000",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "welcome1",
    "abc12345",
    "qwerty123",
    "1q2w3e4r",
    "1qaz2wsx",
    "password123",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "superman",
    "trustno1",
    "starwars",
    "whatever",
    "computer",
    "michelle",
    "jennifer",
    "12341234",
    "87654321",
    "123123123",
    "qwertyui",
    "asdfghjk",
    "zxcvbnm1",
    "liverpool",
    "chocolate",
    "password12",
    "letmein1",
    "welcome123",
    "admin123",
    "changeme",
    "iloveyou1",
    "q1w2e3r4",
    "aa123456",
    "11223344",
    "123qweasd",
    "qwer1234",
    "1234qwer",
    "abcd1234",
    "monkey123",
    "dragon123",
    "master123",
    "shadow123",
    "football1",
    "baseball1",
    "123456789a",
    "a123456789",
    "987654321",
    "55555555",
    "88888888",
    "66666666",
    "12121212",
    "zaq12wsx",
    "!qaz2wsx",
    "qazwsxedc",
    "1qazxsw2",
    "password!",
    "secret123",
    "test1234",
    "testtest",
    "administrator",
    "letmeinplease",
    "blink182",
    "mustang1",
    "michael1",
    "charlie1",
    "jordan23",
    "harley123",
    "hello123",
    "iloveyou2",
    "1234abcd",
    "access14",
    "qwerty12",
    "qwertyuiop123",
    "welcome",
    "password2",
    "passwort",
    "motdepasse",
    "contraseña",
    "senha123",
    "12345qwert",
    "qwerty1234",
    "1111111111",
    "0987654321",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_refuses_short_long_and_common_passwords() {
        let long = "x".repeat(MAX_LEN + 1);
        let cases = [
            ("short", false, "7 chars"),
            (long.as_str(), false, "129 chars"),
            ("Password1", false, "common, any case"),
            ("correct horse battery", true, "a passphrase"),
            (&*"é".repeat(8), true, "8 characters, 16 bytes"),
        ];
        for (raw, ok, why) in cases {
            assert_eq!(Password::parse(raw).is_ok(), ok, "{why}");
        }
    }

    /// The API document states the list as a pattern that matches each common password in any
    /// case (`NewPassword`'s `not.pattern`), so that clients and the contract run know what the
    /// policy refuses: each character becomes the class of every character that lowercases to it.
    #[test]
    fn the_api_document_refuses_exactly_the_common_passwords() {
        let used: std::collections::BTreeSet<char> =
            COMMON.iter().flat_map(|p| p.chars()).collect();
        let mut variants: std::collections::BTreeMap<char, String> = Default::default();
        for v in (0..=char::MAX as u32).filter_map(char::from_u32) {
            let mut lower = v.to_lowercase();
            if let (Some(l), None) = (lower.next(), lower.next()) {
                if used.contains(&l) {
                    variants.entry(l).or_default().push(v);
                }
            }
        }
        let class = |c: char| match variants[&c].as_str() {
            one if one.len() == 1 && c.is_ascii_alphanumeric() => one.to_string(),
            many => format!("[{many}]"),
        };
        let alternatives: Vec<String> = COMMON
            .iter()
            .map(|p| p.chars().map(class).collect())
            .collect();
        let expected = format!("^(?:{})$", alternatives.join("|"));

        let doc: serde_json::Value = serde_json::from_str(common::openapi::DOCUMENT).unwrap();
        let pattern = doc.pointer("/components/schemas/NewPassword/not/pattern");
        assert_eq!(pattern.and_then(|p| p.as_str()), Some(expected.as_str()));
    }

    #[test]
    fn hashes_verify_and_the_dummy_hash_never_matches() {
        let pw = Password::parse("correct horse battery").unwrap();
        let phc = hash(&pw).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery", Some(&phc)));
        assert!(!verify("wrong horse battery", Some(&phc)));
        assert!(!verify("correct horse battery", None));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok(), "dummy hash parses");
    }
}
