//! A buffered request: parts plus body bytes, with query and JSON helpers.

use axum::body::{to_bytes, Bytes};
use axum::extract::Request;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::auth::{self, Auth};
use crate::oauth1::parse_pairs;
use crate::problem::ApiError;
use crate::state::SimState;

/// Largest accepted body (media chunks are base64 or multipart of up to a few MB).
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

pub struct Ctx {
    pub parts: Parts,
    pub body: Bytes,
}

impl Ctx {
    pub async fn read(req: Request) -> Result<Ctx, ApiError> {
        let (parts, body) = req.into_parts();
        let body = to_bytes(body, BODY_LIMIT).await.map_err(|_| {
            ApiError::invalid(
                "",
                "",
                "The request body could not be read or is too large.",
            )
        })?;
        Ok(Ctx { parts, body })
    }

    pub fn auth(&self, st: &SimState) -> Result<Auth, ApiError> {
        auth::authenticate(st, &self.parts, &self.body)
    }

    pub fn query(&self) -> Vec<(String, String)> {
        self.parts.uri.query().map(parse_pairs).unwrap_or_default()
    }

    pub fn param(&self, key: &str) -> Option<String> {
        self.query()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Comma-separated values of a query parameter (e.g. `tweet.fields`).
    pub fn list(&self, key: &str) -> Vec<String> {
        self.param(key)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The body as JSON; a 400 invalid-request problem when it does not parse.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body).map_err(|e| ApiError::invalid("", "", &e.to_string()))
    }

    /// Form-encoded body pairs.
    pub fn form(&self) -> Vec<(String, String)> {
        parse_pairs(&String::from_utf8_lossy(&self.body))
    }
}

/// A numeric id of 1–19 digits.
pub fn parse_id(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}
