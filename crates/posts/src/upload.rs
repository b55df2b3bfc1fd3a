//! `POST /api/media`: an image, GIF or video uploaded to X for one account, streamed.
//!
//! The body is either the file itself (`Content-Type: image/png`, …) or `multipart/form-data`
//! whose file part is the last one. The first bytes decide the format (magic bytes, which must
//! agree with the declared type); small images go to X in one request, everything else through
//! X's chunked upload, one 1 MB segment at a time as the bytes arrive — a video is never held
//! whole. The media id is remembered for the workspace (24 hours, as X keeps it), so that
//! `mediaIds` can be checked when composing.

use crate::api::MEDIA_NAMESPACE;
use crate::media::{self, UploadPlan, SNIFF_LEN};
use crate::multipart::{self, Event};
use accounts::{self, AccountsConfig};
use chrono::DateTime;
use common::error::{AppError, Code};
use common::http::{Ctx, Reply};
use common::kv::Kv;
use common::x::client::MEDIA_CHUNK_BYTES;
use common::x::XClient;
use futures::{Stream, StreamExt};
use identity::audit::{self, Entry};
use identity::Caller;
use identity::Env;
use serde_json::json;
use uuid::Uuid;

/// X keeps uploaded media for 24 hours.
const MEDIA_TTL_MS: i64 = 24 * 3600 * 1000;
/// How long the request waits for X to finish processing a video.
const PROCESSING_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Where the upload stands.
enum Sink {
    /// Collecting the first bytes to decide the format.
    Sniffing(Vec<u8>),
    /// One-shot: the (small) file in memory.
    Buffer(UploadPlan, Vec<u8>),
    /// Chunked: the media id, the next segment index, the segment being filled, bytes sent.
    Chunked {
        plan: UploadPlan,
        media_id: String,
        index: u32,
        segment: Vec<u8>,
        received: u64,
    },
}

struct Upload<'a> {
    client: &'a XClient,
    declared: String,
    total: u64,
    sink: Sink,
    now: DateTime<chrono::Utc>,
}

impl<'a> Upload<'a> {
    /// An upload of `total` bytes declared as `declared`, its format still to be sniffed.
    fn new(
        client: &'a XClient,
        declared: String,
        total: u64,
        now: DateTime<chrono::Utc>,
    ) -> Upload<'a> {
        Upload {
            client,
            declared,
            total,
            sink: Sink::Sniffing(Vec::new()),
            now,
        }
    }

    async fn push(&mut self, bytes: &[u8]) -> Result<(), AppError> {
        if let Sink::Sniffing(head) = &mut self.sink {
            head.extend_from_slice(bytes);
            if (head.len() as u64) < (SNIFF_LEN as u64).min(self.total) {
                return Ok(());
            }
            let head = std::mem::take(head);
            let plan = media::check(&self.declared, &head, self.total)?;
            self.sink = if plan.chunked {
                let init = self
                    .client
                    .media_initialize(self.total, plan.kind.content_type(), plan.category)
                    .await
                    .map_err(|e| e.to_app_error(self.now))?;
                Sink::Chunked {
                    plan,
                    media_id: init.id,
                    index: 0,
                    segment: Vec::with_capacity(MEDIA_CHUNK_BYTES),
                    received: 0,
                }
            } else {
                Sink::Buffer(plan, Vec::new())
            };
            return Box::pin(self.push(&head)).await;
        }
        match &mut self.sink {
            Sink::Buffer(plan, data) => {
                if data.len() as u64 + bytes.len() as u64 > plan.total_len {
                    return Err(too_long());
                }
                data.extend_from_slice(bytes);
            }
            Sink::Chunked {
                media_id,
                index,
                segment,
                received,
                plan,
            } => {
                *received += bytes.len() as u64;
                if *received > plan.total_len {
                    return Err(too_long());
                }
                segment.extend_from_slice(bytes);
                while segment.len() >= MEDIA_CHUNK_BYTES {
                    let rest = segment.split_off(MEDIA_CHUNK_BYTES);
                    let full = std::mem::replace(segment, rest);
                    self.client
                        .media_append(media_id, *index, &full)
                        .await
                        .map_err(|e| e.to_app_error(self.now))?;
                    *index += 1;
                }
            }
            Sink::Sniffing(_) => {}
        }
        Ok(())
    }

    /// Sends what is left and answers what X made of it.
    async fn finish(self) -> Result<Uploaded, AppError> {
        let now = self.now;
        match self.sink {
            Sink::Sniffing(head) if head.is_empty() => {
                Err(AppError::validation("the file is empty"))
            }
            Sink::Sniffing(head) => {
                // A file shorter than the sniffing window.
                let plan = media::check(&self.declared, &head, head.len() as u64)?;
                if plan.chunked {
                    return Err(AppError::media_rejected(
                        "the file is too short to be a video",
                    ));
                }
                let m = self
                    .client
                    .upload_media(&head, plan.category)
                    .await
                    .map_err(|e| e.to_app_error(now))?;
                Ok(Uploaded {
                    id: m.id,
                    content_type: plan.kind.content_type(),
                    ready: true,
                })
            }
            Sink::Buffer(plan, data) => {
                if data.len() as u64 != plan.total_len {
                    return Err(short_by(plan.total_len, data.len() as u64));
                }
                let m = self
                    .client
                    .upload_media(&data, plan.category)
                    .await
                    .map_err(|e| e.to_app_error(now))?;
                Ok(Uploaded {
                    ready: m.is_ready(),
                    id: m.id,
                    content_type: plan.kind.content_type(),
                })
            }
            Sink::Chunked {
                plan,
                media_id,
                index,
                segment,
                received,
            } => {
                if received != plan.total_len {
                    return Err(short_by(plan.total_len, received));
                }
                if !segment.is_empty() {
                    self.client
                        .media_append(&media_id, index, &segment)
                        .await
                        .map_err(|e| e.to_app_error(now))?;
                }
                let media = self
                    .client
                    .media_finalize(&media_id)
                    .await
                    .map_err(|e| e.to_app_error(now))?;
                let media = self
                    .client
                    .wait_for_media(media, PROCESSING_WAIT)
                    .await
                    .map_err(|e| e.to_app_error(now))?;
                Ok(Uploaded {
                    ready: media.is_ready(),
                    id: media.id,
                    content_type: plan.kind.content_type(),
                })
            }
        }
    }
}

fn read_error(e: impl std::fmt::Display) -> AppError {
    AppError::new(Code::UnreadableBody, "The request body could not be read").with_cause(e)
}

fn too_long() -> AppError {
    AppError::new(
        Code::LengthMismatch,
        "The body is longer than its declared length",
    )
}

fn length_mismatch() -> AppError {
    AppError::new(
        Code::LengthMismatch,
        "The body is shorter than its declared length",
    )
}

fn short_by(declared: u64, received: u64) -> AppError {
    length_mismatch().with_details(json!({ "declared": declared, "received": received }))
}

/// What an upload request says before its body is read: the declared type and length, and the
/// account the media is for.
struct Request {
    content_type: String,
    /// Set when the body is `multipart/form-data`.
    boundary: Option<String>,
    length: u64,
    account: accounts::Account,
}

impl Request {
    /// Refuses what can be refused before reading the body: no length, an unknown account, a
    /// type that is neither media nor multipart, a raw body too large for its type.
    fn read(env: &Env, ctx: &Ctx, caller: &Caller, ws: Uuid) -> Result<Request, AppError> {
        let content_type = ctx.header("content-type").unwrap_or("").to_string();
        let length: u64 = ctx
            .header("content-length")
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| {
                AppError::new(
                    Code::LengthRequired,
                    "Content-Length is required for uploads",
                )
            })?;
        let named = ctx
            .query_param("accountId")
            .map(|s| {
                Uuid::parse_str(&s).map_err(|_| AppError::validation("accountId must be a UUID"))
            })
            .transpose()?;
        let account = accounts::store::named_or_active(&env.db, ws, caller.user.id, named)?
            .ok_or_else(|| match named {
                Some(_) => AppError::not_found("Account"),
                None => {
                    AppError::validation("Name an accountId, or switch to an active account first")
                }
            })?;
        let raw_kind = media::MediaKind::from_content_type(&content_type);
        let boundary = multipart::boundary(&content_type);
        if boundary.is_none() && raw_kind.is_none() {
            return Err(AppError::media_rejected(format!(
                "{content_type:?} is not an image, GIF or MP4 video (or multipart/form-data)"
            )));
        }
        // A raw body that is too large for its declared type is refused before reading it.
        if let Some(kind) = raw_kind {
            if length > kind.max_bytes() {
                return Err(AppError::media_too_large(kind.label(), kind.max_bytes()));
            }
        }
        Ok(Request {
            content_type,
            boundary,
            length,
            account,
        })
    }
}

/// What X answered for the file: its media id, its content type, whether it is ready.
struct Uploaded {
    id: String,
    content_type: &'static str,
    ready: bool,
}

pub async fn upload(env: &Env, ctx: &mut Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let Request {
        content_type,
        boundary,
        length,
        account,
    } = Request::read(env, ctx, caller, ws)?;
    let cfg = AccountsConfig::load()?;
    let client =
        accounts::refresh::client_for(&env.db, &cfg, &env.meta, &account, env.now_ms).await?;
    let now = DateTime::from_timestamp_millis(env.now_ms).unwrap_or_default();
    let request = ctx
        .take_request()
        .ok_or_else(|| AppError::new(Code::MissingBody, "A body is required"))?;
    let stream = request.into_body_stream();
    let uploaded = match boundary {
        None => {
            let up = Upload::new(&client, content_type, length, now);
            from_raw(up, stream).await?
        }
        Some(boundary) => from_multipart(&client, &boundary, length, now, stream).await?,
    };
    Kv::open(MEDIA_NAMESPACE)?.set_json(
        &format!("{ws}:{}", uploaded.id),
        &uploaded.content_type,
        Some(MEDIA_TTL_MS),
        env.now_ms,
    )?;
    audit::record(
        &env.db,
        &env.meta,
        Entry::new("media.uploaded")
            .actor(caller.user.id)
            .workspace(Some(ws))
            .target("media", &uploaded.id)
            .details(json!({ "accountId": account.id, "contentType": uploaded.content_type, "bytes": length })),
    )?;
    Ok(Reply::created(json!({
        "mediaId": uploaded.id,
        "contentType": uploaded.content_type,
        "accountId": account.id,
        "ready": uploaded.ready,
        "expiresAt": common::clock::rfc3339(env.now_ms + MEDIA_TTL_MS),
    })))
}

/// The body is the file itself.
async fn from_raw<E: std::fmt::Display>(
    mut up: Upload<'_>,
    mut stream: impl Stream<Item = Result<Vec<u8>, E>> + Unpin,
) -> Result<Uploaded, AppError> {
    while let Some(chunk) = stream.next().await {
        up.push(&chunk.map_err(read_error)?).await?;
    }
    up.finish().await
}

/// The body is `multipart/form-data`: the first part with a file name is the file, and its
/// length is what the declared length leaves after the parts before it and the closing
/// delimiter.
async fn from_multipart<E: std::fmt::Display>(
    client: &XClient,
    boundary: &str,
    length: u64,
    now: DateTime<chrono::Utc>,
    mut stream: impl Stream<Item = Result<Vec<u8>, E>> + Unpin,
) -> Result<Uploaded, AppError> {
    let mut reader = multipart::Reader::new(boundary);
    // The closing delimiter after the file part: `\r\n--boundary--\r\n`.
    let trailer = boundary.len() as u64 + 8;
    let mut up: Option<Upload> = None;
    let mut in_file = false;
    while let Some(chunk) = stream.next().await {
        for event in reader.feed(&chunk.map_err(read_error)?)? {
            match event {
                Event::Part {
                    filename,
                    content_type,
                    offset,
                    ..
                } if up.is_none() && filename.is_some() => {
                    let declared = content_type.unwrap_or_default();
                    let total = length
                        .checked_sub(offset + trailer)
                        .ok_or_else(length_mismatch)?;
                    up = Some(Upload::new(client, declared, total, now));
                    in_file = true;
                }
                Event::Data(bytes) if in_file => {
                    if let Some(up) = up.as_mut() {
                        up.push(&bytes).await?;
                    }
                }
                Event::PartEnd => in_file = false,
                _ => {}
            }
        }
    }
    reader.finish()?;
    let up = up.ok_or_else(|| AppError::validation("The multipart body has no file part"))?;
    up.finish().await
}
