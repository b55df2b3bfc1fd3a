//! Refresh tokens: 256 random bits, given to the client once, stored only as SHA-256; 30 days;
//! grouped in families (one family = one login session). Rotation marks the presented token used
//! and issues its successor in the same family; presenting a used token again is reuse, which
//! revokes the whole family.

use super::config::REFRESH_TTL_SECS;
use base64::Engine;
use common::db::{Db, Param};
use common::error::AppError;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A fresh token: the secret for the client and its hash for the database.
pub struct NewRefreshToken {
    pub token: String,
    pub hash: String,
}

pub fn generate() -> Result<NewRefreshToken, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(format!("getrandom: {e}")))?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&token);
    Ok(NewRefreshToken { token, hash })
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Stores a new token of `family` for `user`, expiring 30 days after `now`.
pub fn store(
    db: &Db,
    user: Uuid,
    family: Uuid,
    token: &NewRefreshToken,
    now_secs: i64,
) -> Result<(), AppError> {
    db.execute(
        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at)
         VALUES ($1, $2, $3, $4, to_timestamp($5::int8))",
        &[
            Uuid::now_v7().into(),
            user.into(),
            family.into(),
            Param::Str(token.hash.clone()),
            Param::Int64(now_secs + REFRESH_TTL_SECS),
        ],
    )?;
    Ok(())
}

/// What presenting a refresh token led to. Reuse is returned (not an error) so that the
/// revocation commits before the caller answers 401.
pub enum Rotation {
    Rotated {
        user_id: Uuid,
        family_id: Uuid,
        token: NewRefreshToken,
    },
    Reused {
        user_id: Uuid,
        family_id: Uuid,
    },
    Invalid,
}

/// A presented token's row, read under its lock.
struct Presented {
    id: Uuid,
    user_id: Uuid,
    family_id: Uuid,
    used: bool,
    revoked: bool,
    expired: bool,
}

/// Rotates inside a transaction; the row lock serialises concurrent presentations, so of two
/// racing uses of one token exactly one rotates and the other is reuse.
pub fn rotate(db: &Db, presented: &str, now_secs: i64) -> Result<Rotation, AppError> {
    db.transaction(|db| {
        let found = db.query_opt(
            "SELECT id, user_id, family_id,
                    used_at IS NOT NULL AS used, revoked_at IS NOT NULL AS revoked,
                    expires_at <= to_timestamp($2::int8) AS expired
             FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
            &[Param::Str(hash(presented)), Param::Int64(now_secs)],
            |row| {
                Ok(Presented {
                    id: row.get("id")?,
                    user_id: row.get("user_id")?,
                    family_id: row.get("family_id")?,
                    used: row.get("used")?,
                    revoked: row.get("revoked")?,
                    expired: row.get("expired")?,
                })
            },
        )?;
        let Some(Presented {
            id,
            user_id,
            family_id,
            used,
            revoked,
            expired,
        }) = found
        else {
            return Ok(Rotation::Invalid);
        };
        if used && !revoked {
            revoke_family(db, family_id, now_secs)?;
            return Ok(Rotation::Reused { user_id, family_id });
        }
        if used || revoked || expired {
            return Ok(Rotation::Invalid);
        }
        db.execute(
            "UPDATE refresh_tokens SET used_at = to_timestamp($2::int8) WHERE id = $1",
            &[id.into(), Param::Int64(now_secs)],
        )?;
        let token = generate()?;
        store(db, user_id, family_id, &token, now_secs)?;
        Ok(Rotation::Rotated {
            user_id,
            family_id,
            token,
        })
    })
}

/// Revokes every token of a family (logout, reuse). Returns how many were still live.
pub fn revoke_family(db: &Db, family: Uuid, now_secs: i64) -> Result<u64, AppError> {
    db.execute(
        "UPDATE refresh_tokens SET revoked_at = to_timestamp($2::int8)
         WHERE family_id = $1 AND revoked_at IS NULL",
        &[family.into(), Param::Int64(now_secs)],
    )
}

/// Revokes every family of `user` except `keep` (a password change ends other sessions).
pub fn revoke_other_families(
    db: &Db,
    user: Uuid,
    keep: Uuid,
    now_secs: i64,
) -> Result<u64, AppError> {
    db.execute(
        "UPDATE refresh_tokens SET revoked_at = to_timestamp($3::int8)
         WHERE user_id = $1 AND family_id <> $2 AND revoked_at IS NULL",
        &[user.into(), keep.into(), Param::Int64(now_secs)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_token_has_256_bits_and_is_stored_as_its_sha256() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.token.len(), 43, "32 bytes in unpadded base64url");
        assert_ne!(a.token, b.token);
        assert_eq!(a.hash.len(), 64);
        assert_eq!(a.hash, hash(&a.token));
        assert!(!a.hash.contains(&a.token));
    }
}
