//! `PATCH /api/accounts/:id`: label, time zone, posting slots, pause and the daily cap, every
//! invalid field reported in one 422.

use super::detail;
use crate::slots::{self, SlotInput};
use crate::store::{self, Settings};
use common::error::AppError;
use common::http::{Ctx, Reply};
use identity::audit::{self, Entry};
use identity::Caller;
use identity::Env;
use serde::Deserialize;
use serde_json::json;

/// `PATCH` body. `label` and `dailyPostCap` may be `null` to clear them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchBody {
    #[serde(default, deserialize_with = "present")]
    label: Option<Option<String>>,
    timezone: Option<String>,
    posting_slots: Option<Vec<SlotInput>>,
    paused: Option<bool>,
    #[serde(default, deserialize_with = "present_integer")]
    daily_post_cap: Option<Option<i64>>,
}

/// Distinguishes a field sent as `null` (`Some(None)`) from a missing one (`None`).
fn present<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// [`present`] for an integer written in any JSON notation (`60` or `60.0`).
fn present_integer<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<i64>>, D::Error> {
    Option::<common::json::Integer>::deserialize(d).map(|i| Some(i.map(|i| i.0)))
}

pub fn update(env: &Env, ctx: &Ctx, caller: &Caller, body: PatchBody) -> Result<Reply, AppError> {
    let ws = caller.acting_workspace()?;
    let id = store::path_id(ctx.param("id"))?;
    let settings = validate(env, body)?;
    let before = store::update(&env.db, ws, id, &settings)?;
    let account = store::get(&env.db, ws, id)?;
    let changed = audit::changed(&[
        ("label", settings.label.is_some()),
        ("timezone", settings.timezone.is_some()),
        ("postingSlots", settings.posting_slots.is_some()),
        ("paused", settings.paused.is_some()),
        ("dailyPostCap", settings.daily_post_cap.is_some()),
    ]);
    audit::record(
        &env.db,
        &env.meta,
        Entry::new("account.updated")
            .actor(caller.user.id)
            .workspace(Some(ws))
            .target("x_account", id)
            .details(
                json!({ "changed": changed, "statusBefore": before, "status": account.status }),
            ),
    )?;
    Ok(Reply::ok(detail(env, ws, caller, &account)?))
}

/// The change a body asks for, or one 422 that lists every invalid field.
fn validate(env: &Env, body: PatchBody) -> Result<Settings, AppError> {
    let mut errors = Vec::new();
    let label = body.label.clone().map(|l| {
        l.map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .inspect(|s| {
                if s.chars().count() > 100 {
                    errors.push(json!({ "field": "label", "message": "at most 100 characters" }));
                }
            })
    });
    let timezone = body.timezone.as_deref().map(str::trim).map(str::to_string);
    if let Some(zone) = &timezone {
        if zone.is_empty() || zone.len() > 64 || !store::zone_exists(&env.db, zone)? {
            errors.push(json!({ "field": "timezone", "message": "not an IANA time zone name" }));
        }
    }
    if let Some(Some(cap)) = body.daily_post_cap {
        if !(1..=2400).contains(&cap) {
            errors.push(json!({ "field": "dailyPostCap", "message": "between 1 and 2400" }));
        }
    }
    let posting_slots = match body.posting_slots.as_deref().map(slots::parse).transpose() {
        Ok(s) => s,
        Err(e) => {
            errors.push(
                json!({ "field": "postingSlots", "message": e.message, "details": e.details }),
            );
            None
        }
    };
    if !errors.is_empty() {
        return Err(AppError::validation("Invalid account settings")
            .with_details(json!({ "errors": errors })));
    }
    Ok(Settings {
        label,
        timezone,
        posting_slots,
        paused: body.paused,
        daily_post_cap: body.daily_post_cap,
    })
}
