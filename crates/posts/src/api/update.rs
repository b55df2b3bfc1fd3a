//! `PUT /api/tweets/:id`: a full replacement of a draft or scheduled post, recorded as
//! `rescheduled` and/or `edited`.

use super::place::place;
use super::{post_id, validate_request};
use crate::compose::PostRequest;
use crate::status::EventKind;
use crate::store::{self, Post};
use common::error::{AppError, Code};
use common::http::{Ctx, Reply};
use identity::audit::{self, Entry};
use identity::Caller;
use identity::Env;
use serde_json::json;
use uuid::Uuid;

/// `PUT /api/tweets/:id`: a full replacement of a draft or scheduled post (409 otherwise).
pub async fn update(env: &Env, ctx: &mut Ctx, caller: &Caller) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let id = post_id(ctx)?;
    let req: PostRequest = ctx.json().await?;
    env.db.transaction(|db| {
        let status = store::lock(db, ws, id)?.status;
        if !status.editable() {
            return Err(AppError::new(
                Code::NotEditable,
                format!(
                    "A {} post can no longer be edited or rescheduled",
                    status.as_str()
                ),
            ));
        }
        let before = store::get(db, ws, id)?;
        let draft = validate_request(env, ws, &req)?;
        let placement = place(db, ws, caller, &draft, Some(id), env.now_ms)?;
        store::replace(db, ws, id, &draft, &placement)?;
        let after = store::get(db, ws, id)?;
        let rescheduled = before.scheduled_at != after.scheduled_at;
        let edited = Written::of(&before) != Written::of(&after);
        if rescheduled {
            store::event(
                db,
                ws,
                id,
                Some(caller.user.id),
                EventKind::Rescheduled,
                json!({ "from": before.scheduled_at, "to": after.scheduled_at }),
            )?;
        }
        if edited || !rescheduled {
            store::event(
                db,
                ws,
                id,
                Some(caller.user.id),
                EventKind::Edited,
                json!({ "status": after.status }),
            )?;
        }
        audit::record(
            db,
            &env.meta,
            Entry::new("post.updated")
                .actor(caller.user.id)
                .workspace(Some(ws))
                .target("post", id)
                .details(json!({ "rescheduled": rescheduled, "status": after.status })),
        )?;
        Ok(Reply::ok(store::get(db, ws, id)?.to_json()?))
    })
}

/// What an edit changes, as opposed to when (or whether) the post goes out: the text, media,
/// account, poll, quote and reply of the head, and each later part's text and media (parts get
/// new ids when a thread is replaced, so ids are not compared).
#[derive(PartialEq)]
struct Written<'a> {
    content: &'a str,
    media_ids: &'a [String],
    account: Option<Uuid>,
    poll: Option<&'a str>,
    quote_of: Option<&'a str>,
    reply_to: Option<&'a str>,
    parts: Vec<(&'a str, &'a [String])>,
}

impl<'a> Written<'a> {
    fn of(post: &'a Post) -> Written<'a> {
        Written {
            content: &post.content,
            media_ids: &post.media_ids,
            account: post.account_id,
            poll: post.poll.as_deref(),
            quote_of: post.quote_of.as_deref(),
            reply_to: post.reply_to.as_deref(),
            parts: post
                .thread
                .iter()
                .map(|part| (part.content.as_str(), part.media_ids.as_slice()))
                .collect(),
        }
    }
}
