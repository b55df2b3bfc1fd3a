//! Where a draft goes: its account, its instant (a chosen time or the account's next free
//! posting slot) and the 24-hour duplicate rule. Shared by create, update and bulk import.

use crate::compose::{self, Draft, When};
use crate::store::{self, Found, Placement, Target};
use accounts::AccountStatus;
use common::db::{Db, Param};
use common::error::{AppError, Code};
use identity::Caller;
use serde_json::json;
use uuid::Uuid;

/// Resolves the account: the one named, else the caller's active one (one statement).
/// Only "no such account" is the caller's mistake; a database outage stays a 503.
fn account_for(
    db: &Db,
    ws: Uuid,
    caller: &Caller,
    named: Option<Uuid>,
) -> Result<accounts::Account, AppError> {
    accounts::store::named_or_active(db, ws, caller.user.id, named)?
        .ok_or_else(|| missing(named.is_some()))
}

/// No account: the one named is not of this workspace, or none was named and the caller has no
/// active account.
fn missing(named: bool) -> AppError {
    let (message, why) = match named {
        true => ("Unknown account", "not an account of this workspace"),
        false => (
            "Name an accountId, or switch to an active account first",
            "required",
        ),
    };
    AppError::validation(message)
        .with_details(json!({ "errors": [{ "field": "accountId", "message": why }] }))
}

/// Where the draft goes: its account and instant, with the account's state and the 24-hour
/// duplicate rule checked. One statement (`xmp_place`, migration 0019) after [`target`].
pub(super) fn place(
    db: &Db,
    ws: Uuid,
    caller: &Caller,
    draft: &Draft,
    except: Option<Uuid>,
    now_ms: i64,
) -> Result<Placement, AppError> {
    let target = target(db, ws, caller, draft, now_ms)?;
    let account_id = placed(store::place(db, ws, &target, except)?, &target)?;
    Ok(Placement {
        account_id,
        scheduled_at_ms: target.at_ms,
        queued: target.queued,
    })
}

/// What the draft asks for: the account it names (else the caller's active one) and its
/// instant. Reads nothing unless the draft takes its account's next free slot: then the account
/// is resolved, must be active, and stays locked until the caller commits.
pub(super) fn target(
    db: &Db,
    ws: Uuid,
    caller: &Caller,
    draft: &Draft,
    now_ms: i64,
) -> Result<Target, AppError> {
    let scheduled = draft.status == compose::Status::Scheduled;
    let (named, at_ms, queued) = match draft.when {
        When::Unscheduled => (draft.account_id, None, false),
        When::At(t) => (draft.account_id, Some(t.timestamp_millis()), false),
        When::NextFreeSlot => {
            let account = account_for(db, ws, caller, draft.account_id)?;
            if scheduled && account.status != AccountStatus::Active {
                return Err(inactive(account.status.as_str()));
            }
            (
                Some(account.id),
                Some(next_free_slot(db, &account, now_ms)?),
                true,
            )
        }
    };
    let hash = match (scheduled, at_ms, draft.allow_duplicate) {
        (true, Some(_), false) => Some(draft.first()?.text.duplicate_key()),
        _ => None,
    };
    Ok(Target {
        user: caller.user.id,
        named,
        scheduled,
        at_ms,
        queued,
        hash,
    })
}

/// The account `found` placed the draft on, or why it may not go there.
fn placed(found: Found, target: &Target) -> Result<Uuid, AppError> {
    match (found.placed, found.account) {
        (true, Some(account)) => Ok(account),
        _ => Err(refused(found, target)),
    }
}

/// Why `found` did not place the draft: no such account, a scheduled post's account that is not
/// active, or the same text on it within 24 hours.
pub(super) fn refused(found: Found, target: &Target) -> AppError {
    match found {
        Found { account: None, .. } => missing(target.named.is_some()),
        Found {
            duplicate_of: Some(other),
            ..
        } => AppError::new(Code::DuplicatePost, "The same text is scheduled or published on this account within 24 hours; X would refuse it (send allowDuplicate: true to keep it anyway)",
        )
        .with_details(json!({ "postId": other })),
        Found { status, .. } => inactive(status.as_deref().unwrap_or("unknown")),
    }
}

/// A scheduled post's account that is not active.
fn inactive(status: &str) -> AppError {
    AppError::new(
        Code::PostAccountInactive,
        format!("The account is {status}; it must be active to schedule posts"),
    )
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
