//! Media upload: simple `POST /2/media/upload` (JSON base64 or multipart) and the chunked
//! `initialize` / `{id}/append` / `{id}/finalize` flow with `GET ?command=STATUS`.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::ctx::{parse_id, Ctx};
use crate::problem::{ok, ApiError, ApiResult};
use crate::ratelimit::{self, Ep};
use crate::state::{Media, SimState};
use crate::tweets::respond;

/// Seconds a video stays in processing after FINALIZE (sim clock).
pub const VIDEO_PROCESSING_SECS: i64 = 3;
const EXPIRES_AFTER: i64 = 86_400;
const SCOPES: &[&str] = &["media.write"];

/// Fields of a simple upload or an append: `media` bytes plus text fields.
#[derive(Default)]
struct Upload {
    media: Vec<u8>,
    fields: Vec<(String, String)>,
}

impl Upload {
    fn get(&self, k: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
}

async fn read_upload(ctx: &Ctx) -> Result<Upload, ApiError> {
    let ct = ctx
        .parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if ct.starts_with("multipart/form-data") {
        let req = Request::builder()
            .header(CONTENT_TYPE, ct)
            .body(Body::from(ctx.body.clone()))
            .map_err(|e| ApiError::invalid("", "", &e.to_string()))?;
        let bad = |e: String| ApiError::invalid("media", "", &e);
        let mut mp = Multipart::from_request(req, &())
            .await
            .map_err(|e| bad(e.body_text()))?;
        let mut up = Upload::default();
        while let Some(field) = mp.next_field().await.map_err(|e| bad(e.body_text()))? {
            let name = field.name().unwrap_or("").to_string();
            let data = field.bytes().await.map_err(|e| bad(e.body_text()))?;
            if name == "media" {
                up.media = data.to_vec();
            } else {
                up.fields
                    .push((name, String::from_utf8_lossy(&data).into_owned()));
            }
        }
        return Ok(up);
    }
    let v: Value = ctx.json()?;
    let mut up = Upload::default();
    for (k, val) in v.as_object().into_iter().flatten() {
        let s = match val {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if k == "media" {
            up.media = base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .map_err(|_| {
                    ApiError::invalid("media", "", "`media` must be base64-encoded bytes.")
                })?;
        } else {
            up.fields.push((k.clone(), s));
        }
    }
    Ok(up)
}

fn sniff(bytes: &[u8]) -> &'static str {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => "image/png",
        [0xFF, 0xD8, ..] => "image/jpeg",
        [b'G', b'I', b'F', ..] => "image/gif",
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => "image/webp",
        _ => "application/octet-stream",
    }
}

fn describe(m: &Media, now: i64) -> Value {
    let mut d = json!({
        "id": m.id.to_string(),
        "media_key": format!("{}_{}", if m.is_video() { 7 } else if m.is_gif() { 16 } else { 3 }, m.id),
        "size": m.received,
        "expires_after_secs": (m.created_at + EXPIRES_AFTER - now).max(0),
    });
    if m.is_video() {
        if let Some(t) = m.finalized_at {
            let el = now - t;
            let (state, pct) = match el {
                e if e < 1 => ("pending", 0),
                e if e < VIDEO_PROCESSING_SECS => ("in_progress", 50),
                _ => ("succeeded", 100),
            };
            let mut pi = json!({"state": state, "progress_percent": pct});
            if state != "succeeded" {
                pi["check_after_secs"] = json!(1);
            }
            d["processing_info"] = pi;
            d["video"] = json!({"video_type": m.media_type});
        }
    } else {
        d["image"] = json!({"image_type": m.media_type, "w": 1200, "h": 675});
    }
    d
}

async fn begin(st: &SimState, req: Request) -> Result<(Ctx, u64, ratelimit::RateInfo), ApiError> {
    let ctx = Ctx::read(req).await?;
    let auth = ctx.auth(st)?;
    let user = auth.user_with(SCOPES)?;
    let rl = ratelimit::check(&mut st.inner.lock(), st.clock.now(), Ep::Media, &auth)?;
    Ok((ctx, user, rl))
}

pub async fn simple(State(st): State<Arc<SimState>>, req: Request) -> ApiResult {
    let (ctx, user, rl) = begin(&st, req).await?;
    let r = async {
        let up = read_upload(&ctx).await?;
        let category = up
            .get("media_category")
            .unwrap_or("tweet_image")
            .to_string();
        if up.media.is_empty() {
            return Err(ApiError::invalid("media", "", "`media` is required."));
        }
        let media_type = up
            .get("media_type")
            .map(str::to_string)
            .unwrap_or_else(|| sniff(&up.media).to_string());
        let now = st.clock.now();
        let mut inner = st.inner.lock();
        let id = inner.next_id(st.clock.now_ms());
        let m = Media {
            id,
            owner: user,
            media_type,
            category,
            total_bytes: up.media.len() as u64,
            received: up.media.len() as u64,
            segments: HashSet::from([0]),
            finalized_at: Some(now),
            created_at: now,
        };
        let d = describe(&m, now);
        inner.media.insert(id, m);
        Ok(ok(&json!({"data": d})))
    }
    .await;
    respond(rl, r)
}

#[derive(Deserialize)]
struct InitReq {
    total_bytes: u64,
    media_type: String,
    media_category: Option<String>,
}

pub async fn initialize(State(st): State<Arc<SimState>>, req: Request) -> ApiResult {
    let (ctx, user, rl) = begin(&st, req).await?;
    let r = ctx.json::<InitReq>().map(|i| {
        let now = st.clock.now();
        let mut inner = st.inner.lock();
        let id = inner.next_id(st.clock.now_ms());
        let category = i.media_category.unwrap_or_else(|| {
            if i.media_type.starts_with("video/") { "tweet_video" } else { "tweet_image" }.into()
        });
        inner.media.insert(
            id,
            Media {
                id,
                owner: user,
                media_type: i.media_type,
                category,
                total_bytes: i.total_bytes,
                received: 0,
                segments: HashSet::new(),
                finalized_at: None,
                created_at: now,
            },
        );
        ok(&json!({"data": {"id": id.to_string(), "media_key": format!("3_{id}"), "expires_after_secs": EXPIRES_AFTER}}))
    });
    respond(rl, r)
}

fn own_media<'a>(
    inner: &'a mut crate::state::Inner,
    id: &str,
    user: u64,
) -> Result<&'a mut Media, ApiError> {
    parse_id(id)
        .and_then(|mid| inner.media.get_mut(&mid))
        .filter(|m| m.owner == user)
        .ok_or_else(|| ApiError::not_found("media", id))
}

pub async fn append(
    State(st): State<Arc<SimState>>,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult {
    let (ctx, user, rl) = begin(&st, req).await?;
    let r: Result<Response, ApiError> = async {
        let up = read_upload(&ctx).await?;
        let seg = up
            .get("segment_index")
            .and_then(|s| s.parse::<u32>().ok())
            .filter(|s| *s <= 999)
            .ok_or_else(|| {
                ApiError::invalid(
                    "segment_index",
                    "",
                    "`segment_index` must be an integer in 0..=999.",
                )
            })?;
        let mut inner = st.inner.lock();
        let m = own_media(&mut inner, &id, user)?;
        if m.finalized_at.is_some() {
            return Err(ApiError::invalid(
                "id",
                &id,
                "Media has already been finalized.",
            ));
        }
        if m.segments.insert(seg) {
            m.received += up.media.len() as u64;
        }
        Ok(ok(
            &json!({"data": {"expires_at": m.created_at + EXPIRES_AFTER}}),
        ))
    }
    .await;
    respond(rl, r)
}

pub async fn finalize(
    State(st): State<Arc<SimState>>,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult {
    let (_ctx, user, rl) = begin(&st, req).await?;
    let now = st.clock.now();
    let mut inner = st.inner.lock();
    let r = own_media(&mut inner, &id, user).and_then(|m| {
        if m.received != m.total_bytes {
            return Err(ApiError::invalid(
                "id",
                &id,
                &format!(
                    "File size mismatch: expected {} bytes, received {}.",
                    m.total_bytes, m.received
                ),
            ));
        }
        if m.finalized_at.is_none() {
            m.finalized_at = Some(now);
        }
        Ok(ok(&json!({"data": describe(m, now)})))
    });
    drop(inner);
    respond(rl, r)
}

pub async fn status(State(st): State<Arc<SimState>>, req: Request) -> ApiResult {
    let (ctx, user, rl) = begin(&st, req).await?;
    let now = st.clock.now();
    let id = ctx.param("media_id").unwrap_or_default();
    let mut inner = st.inner.lock();
    let r = own_media(&mut inner, &id, user).map(|m| ok(&json!({"data": describe(m, now)})));
    drop(inner);
    respond(rl, r)
}
