//! Per-endpoint rate limits (per user / per app windows, 24-hour caps) and their headers.

use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::problem::ApiError;
use crate::state::Inner;

const MIN15: i64 = 900;
const DAY: i64 = 86_400;
const MONTH: i64 = 30 * DAY;

/// Which limit table applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// X's documented per-endpoint limits (pay-per-use / Basic style).
    #[default]
    Standard,
    /// The free tier: 17 posts per 24 h per user and per app, tiny read limits.
    Free,
    /// Effectively no limits (benchmarks).
    Unlimited,
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "standard" => Ok(Profile::Standard),
            "free" => Ok(Profile::Free),
            "unlimited" => Ok(Profile::Unlimited),
            _ => Err(format!("unknown profile {s:?} (standard|free|unlimited)")),
        }
    }
}

/// Rate-limited endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ep {
    CreatePost,
    DeletePost,
    Like,
    Unlike,
    Retweet,
    Unretweet,
    LookupPosts,
    UserPosts,
    Me,
    UserById,
    Media,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    UserMain,
    AppMain,
    User24,
    App24,
    AppMonth,
}

pub type BucketKey = (Ep, Scope, u64);

#[derive(Clone, Copy, Debug)]
pub struct Bucket {
    pub reset_at: i64,
    pub count: u32,
}

/// The limits of one endpoint under one profile.
#[derive(Clone, Copy, Debug)]
struct Spec {
    window: i64,
    user: u32,
    app: u32,
    user24: Option<u32>,
    app24: Option<u32>,
    app_month: Option<u32>,
}

const fn s(window: i64, user: u32, app: u32) -> Spec {
    Spec {
        window,
        user,
        app,
        user24: None,
        app24: None,
        app_month: None,
    }
}

fn spec(profile: Profile, ep: Ep) -> Spec {
    use Ep::*;
    match profile {
        Profile::Unlimited => Spec {
            user24: matches!(ep, CreatePost | Like | Unlike).then_some(1_000_000_000),
            app24: matches!(ep, CreatePost).then_some(1_000_000_000),
            ..s(MIN15, 1_000_000_000, 1_000_000_000)
        },
        Profile::Standard => match ep {
            CreatePost => Spec {
                user24: Some(2_400),
                app24: Some(10_000),
                ..s(MIN15, 100, 0)
            },
            DeletePost => s(MIN15, 50, 0),
            Like | Unlike => Spec {
                user24: Some(1_000),
                ..s(MIN15, 50, 0)
            },
            Retweet | Unretweet => s(MIN15, 50, 0),
            LookupPosts => s(MIN15, 5_000, 3_500),
            UserPosts => s(MIN15, 900, 1_500),
            Me => s(MIN15, 75, 0),
            UserById => s(MIN15, 900, 300),
            Media => s(MIN15, 500, 0),
        },
        Profile::Free => match ep {
            CreatePost => Spec {
                user24: Some(17),
                app24: Some(17),
                app_month: Some(500),
                ..s(DAY, 17, 0)
            },
            DeletePost => s(DAY, 17, 0),
            Like | Unlike | Retweet | Unretweet => s(MIN15, 1, 0),
            LookupPosts | UserPosts | UserById => s(MIN15, 1, 1),
            Me => s(DAY, 25, 0),
            Media => s(DAY, 85, 0),
        },
    }
}

/// What the headers report for one bucket.
#[derive(Clone, Copy, Debug)]
struct Window {
    limit: u32,
    remaining: u32,
    reset: i64,
}

/// Rate-limit state to report on the response.
#[derive(Clone, Debug, Default)]
pub struct RateInfo {
    main: Option<Window>,
    user24: Option<Window>,
    app24: Option<Window>,
}

impl RateInfo {
    fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut out = Vec::with_capacity(9);
        let mut push = |prefix: &'static str, w: &Option<Window>| {
            if let Some(w) = w {
                for (suffix, v) in [
                    ("limit", w.limit as i64),
                    ("remaining", w.remaining as i64),
                    ("reset", w.reset),
                ] {
                    let name = HeaderName::try_from(format!("{prefix}{suffix}")).expect("name");
                    out.push((name, HeaderValue::from(v)));
                }
            }
        };
        push("x-rate-limit-", &self.main);
        push("x-user-limit-24hour-", &self.user24);
        push("x-app-limit-24hour-", &self.app24);
        out
    }

    /// Adds the headers to a response.
    pub fn apply(&self, mut resp: Response) -> Response {
        let h = resp.headers_mut();
        for (k, v) in self.headers() {
            h.insert(k, v);
        }
        resp
    }
}

/// Counts one request against every bucket of `ep` for `auth`; a 429 (with headers) past a limit.
pub fn check(inner: &mut Inner, now: i64, ep: Ep, auth: &Auth) -> Result<RateInfo, ApiError> {
    let sp = spec(inner.profile, ep);
    let (main_key, main_limit) = match auth {
        Auth::User { user_id, .. } => ((ep, Scope::UserMain, *user_id), sp.user),
        Auth::App { app_id } => ((ep, Scope::AppMain, *app_id), sp.app),
    };
    let app_id = auth.app_id();
    let mut wanted: Vec<(BucketKey, u32, i64)> = vec![(main_key, main_limit, sp.window)];
    if let (Some(l), Auth::User { user_id, .. }) = (sp.user24, auth) {
        wanted.push(((ep, Scope::User24, *user_id), l, DAY));
    }
    if let Some(l) = sp.app24 {
        wanted.push(((ep, Scope::App24, app_id), l, DAY));
    }
    if let Some(l) = sp.app_month {
        wanted.push(((ep, Scope::AppMonth, app_id), l, MONTH));
    }
    let mut exceeded = None;
    for (key, limit, window) in &wanted {
        let b = inner.buckets.entry(*key).or_insert(Bucket {
            reset_at: now + window,
            count: 0,
        });
        if now >= b.reset_at {
            *b = Bucket {
                reset_at: now + window,
                count: 0,
            };
        }
        if b.count >= *limit && exceeded.is_none() {
            exceeded = Some(key.1);
        }
    }
    let mut info = RateInfo::default();
    for (key, limit, _) in &wanted {
        let b = inner.buckets.get_mut(key).expect("bucket");
        if exceeded.is_none() {
            b.count += 1;
        }
        let w = Some(Window {
            limit: *limit,
            remaining: limit.saturating_sub(b.count),
            reset: b.reset_at,
        });
        match key.1 {
            Scope::UserMain | Scope::AppMain => info.main = w,
            Scope::User24 => info.user24 = w,
            Scope::App24 => info.app24 = w,
            Scope::AppMonth => {}
        }
    }
    match exceeded {
        None => Ok(info),
        Some(scope) => {
            let mut e = if scope == Scope::AppMonth {
                ApiError::usage_capped()
            } else {
                ApiError::too_many_requests()
            };
            e.headers = info.headers();
            Err(e)
        }
    }
}
