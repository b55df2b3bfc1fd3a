//! GET /2/users/me and GET /2/users/:id.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use serde_json::{json, Map, Value};

use crate::ctx::{parse_id, Ctx};
use crate::lookup::iso;
use crate::metrics::{user_public_metrics, UserActivity};
use crate::problem::{not_found_entry, ok, ApiError, ApiResult};
use crate::ratelimit::{self, Ep};
use crate::state::{Inner, SimState};
use crate::tweets::respond;

const SCOPES: &[&str] = &["tweet.read", "users.read"];

fn render(inner: &Inner, uid: u64, fields: &[String], now: i64) -> Option<Value> {
    let u = inner.users.get(&uid)?;
    let mut o = Map::new();
    o.insert("id".into(), json!(u.id.to_string()));
    o.insert("name".into(), json!(u.name));
    o.insert("username".into(), json!(u.username));
    for f in fields {
        let v = match f.as_str() {
            "created_at" => json!(iso(u.created_at * 1000)),
            "public_metrics" => {
                let tl = inner.timeline.get(&uid).map(Vec::as_slice).unwrap_or(&[]);
                let live = tl
                    .iter()
                    .filter_map(|i| inner.posts.get(i))
                    .filter(|p| !p.deleted);
                let (mut posts, mut media) = (0, 0);
                for p in live {
                    posts += 1;
                    media += p.media_ids.len() as u64;
                }
                let likes = inner.likes.iter().filter(|(u, _)| *u == uid).count() as u64;
                user_public_metrics(
                    u,
                    now,
                    &UserActivity {
                        posts,
                        likes,
                        media,
                    },
                )
            }
            "description" => json!(""),
            "protected" | "verified" => json!(false),
            "verified_type" => json!("none"),
            "profile_image_url" => {
                json!("https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png")
            }
            _ => continue,
        };
        o.insert(f.clone(), v);
    }
    Some(Value::Object(o))
}

pub async fn me(State(st): State<Arc<SimState>>, req: Request) -> ApiResult {
    let ctx = Ctx::read(req).await?;
    let auth = ctx.auth(&st)?;
    let uid = auth.user_with(SCOPES)?;
    let now = st.clock.now();
    let mut inner = st.inner.lock();
    let rl = ratelimit::check(&mut inner, now, Ep::Me, &auth)?;
    let fields = ctx.list("user.fields");
    let r = render(&inner, uid, &fields, now)
        .map(|u| ok(&json!({"data": u})))
        .ok_or_else(ApiError::unauthorized);
    drop(inner);
    respond(rl, r)
}

pub async fn by_id(
    State(st): State<Arc<SimState>>,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult {
    let ctx = Ctx::read(req).await?;
    let auth = ctx.auth(&st)?;
    auth.read(SCOPES)?;
    let now = st.clock.now();
    let mut inner = st.inner.lock();
    let rl = ratelimit::check(&mut inner, now, Ep::UserById, &auth)?;
    let fields = ctx.list("user.fields");
    let r = match parse_id(&id) {
        None => Err(ApiError::invalid(
            "id",
            &id,
            &format!("The `id` query parameter value [{id}] is not valid"),
        )),
        Some(uid) => Ok(match render(&inner, uid, &fields, now) {
            Some(u) => ok(&json!({"data": u})),
            None => ok(&json!({"errors": [not_found_entry("user", &id, "id")]})),
        }),
    };
    drop(inner);
    respond(rl, r)
}
