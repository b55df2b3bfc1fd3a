//! Where a draft goes: its account, its instant (a chosen time or the account's next free
//! posting slot) and the 24-hour duplicate rule. Shared by create, update and bulk import.

use crate::compose::{self, Draft, When};
use crate::store::{self, Placement};
use accounts::AccountStatus;
use common::db::{Db, Param};
use common::error::{AppError, Code};
use identity::Caller;
use serde_json::json;
use uuid::Uuid;

/// Resolves the account: the one named, else the caller's active account (one statement).
/// Only "no such account" is the caller's mistake; a database outage stays a 503.
fn account_for(
    db: &Db,
    ws: Uuid,
    caller: &Caller,
    named: Option<Uuid>,
) -> Result<accounts::Account, AppError> {
    let missing = |message, why| {
        AppError::validation(message)
            .with_details(json!({ "errors": [{ "field": "accountId", "message": why }] }))
    };
    match accounts::store::named_or_active(db, ws, caller.user.id, named)? {
        Some(account) => Ok(account),
        None if named.is_some() => Err(missing(
            "Unknown account",
            "not an account of this workspace",
        )),
        None => Err(missing(
            "Name an accountId, or switch to an active account first",
            "required",
        )),
    }
}

/// Where the draft goes: its account (locked when queueing) and instant; enforces the account
/// state and the 24-hour duplicate rule for scheduled posts.
pub(super) fn place(
    db: &Db,
    ws: Uuid,
    caller: &Caller,
    draft: &Draft,
    except: Option<Uuid>,
    now_ms: i64,
) -> Result<Placement, AppError> {
    let account = account_for(db, ws, caller, draft.account_id)?;
    let scheduled = draft.status == compose::Status::Scheduled;
    if scheduled && account.status != AccountStatus::Active {
        return Err(AppError::new(
            Code::PostAccountInactive,
            format!(
                "The account is {}; it must be active to schedule posts",
                account.status.as_str()
            ),
        ));
    }
    let (scheduled_at_ms, queued) = match draft.when {
        When::Unscheduled => (None, false),
        When::At(t) => (Some(t.timestamp_millis()), false),
        When::NextFreeSlot => (Some(next_free_slot(db, &account, now_ms)?), true),
    };
    if let (true, Some(at), false) = (scheduled, scheduled_at_ms, draft.allow_duplicate) {
        let key = draft.first()?.text.duplicate_key();
        if let Some(other) = store::duplicate_of(db, account.id, &key, at, except)? {
            return Err(AppError::new(Code::DuplicatePost, "The same text is scheduled or published on this account within 24 hours; X would refuse it (send allowDuplicate: true to keep it anyway)",
            )
            .with_details(json!({ "postId": other })));
        }
    }
    Ok(Placement {
        account_id: account.id,
        scheduled_at_ms,
        queued,
    })
}

/// The account's next free posting slot, with the account locked until the caller commits.
fn next_free_slot(db: &Db, account: &accounts::Account, now_ms: i64) -> Result<i64, AppError> {
    // Two posts queued at once must not take the same slot: lock the account first.
    db.execute(
        "SELECT 1 FROM x_accounts WHERE id = $1::uuid FOR UPDATE",
        &[Param::from(account.id)],
    )?;
    if account.posting_slots.as_array().is_none_or(Vec::is_empty) {
        return Err(AppError::new(
            Code::NoSlots,
            "The account has no posting slots; set them or pick a time",
        ));
    }
    store::next_slot(db, account, now_ms)?.ok_or_else(|| {
        AppError::new(
            Code::QueueFull,
            "Every posting slot of the next 8 weeks is taken",
        )
    })
}
