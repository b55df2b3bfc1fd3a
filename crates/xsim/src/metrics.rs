//! Engagement metrics that evolve deterministically with the simulator clock.
//!
//! Each post has a reach and a pace drawn from its id; its impressions approach the reach as
//! it ages, and the other counts follow at id-seeded rates. Real likes, reposts, replies and
//! quotes made through the simulator are added on top. Users gain followers with time.

use serde_json::{json, Value};

use crate::state::{Post, User};

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A number in [0, 1) drawn from `seed` and `salt`.
fn unit(seed: u64, salt: u64) -> f64 {
    (mix(seed ^ mix(salt)) >> 11) as f64 / (1u64 << 53) as f64
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PostMetrics {
    pub impressions: u64,
    pub likes: u64,
    pub retweets: u64,
    pub replies: u64,
    pub quotes: u64,
    pub bookmarks: u64,
    pub url_link_clicks: u64,
    pub user_profile_clicks: u64,
}

pub fn post_metrics(post: &Post, now_ms: i64) -> PostMetrics {
    let id = post.id;
    let age = ((now_ms - post.created_at_ms).max(0) as f64) / 1000.0;
    let reach = 200.0 + unit(id, 1) * 5_000.0;
    let tau = 3_600.0 * (1.0 + unit(id, 2) * 11.0);
    let impressions = (reach * (1.0 - (-age / tau).exp())).floor();
    let rate = 0.005 + unit(id, 3) * 0.04;
    let engaged = impressions * rate;
    let f = |x: f64| x.floor() as u64;
    let has_url = !post.entities.urls.is_empty();
    PostMetrics {
        impressions: impressions as u64,
        likes: f(engaged) + post.likes,
        retweets: f(engaged * (0.1 + unit(id, 4) * 0.2)) + post.retweets,
        replies: f(engaged * 0.15 * unit(id, 5)) + post.replies,
        quotes: f(engaged * 0.05 * unit(id, 6)) + post.quotes,
        bookmarks: f(engaged * 0.2 * unit(id, 7)),
        url_link_clicks: if has_url {
            f(impressions * 0.01 * (0.5 + unit(id, 8)))
        } else {
            0
        },
        user_profile_clicks: f(impressions * 0.004 * (0.5 + unit(id, 9))),
    }
}

impl PostMetrics {
    pub fn public(&self) -> Value {
        // X's OpenAPI names it `repost_count`; the live API still answers `retweet_count`.
        // Both are sent so that clients written against either stay true.
        json!({
            "retweet_count": self.retweets,
            "repost_count": self.retweets,
            "reply_count": self.replies,
            "like_count": self.likes,
            "quote_count": self.quotes,
            "bookmark_count": self.bookmarks,
            "impression_count": self.impressions,
        })
    }
    pub fn non_public(&self) -> Value {
        json!({
            "impression_count": self.impressions,
            "url_link_clicks": self.url_link_clicks,
            "user_profile_clicks": self.user_profile_clicks,
        })
    }
    pub fn organic(&self) -> Value {
        json!({
            "impression_count": self.impressions,
            "like_count": self.likes,
            "reply_count": self.replies,
            "retweet_count": self.retweets,
            "url_link_clicks": self.url_link_clicks,
            "user_profile_clicks": self.user_profile_clicks,
        })
    }
}

/// Counts the simulator knows from real activity.
pub struct UserActivity {
    pub posts: u64,
    pub likes: u64,
    pub media: u64,
}

pub fn user_public_metrics(user: &User, now: i64, act: &UserActivity) -> Value {
    let id = user.id;
    let days = ((now - user.created_at).max(0) as f64) / 86_400.0;
    let base = 100.0 + unit(id, 11) * 4_900.0;
    let growth = 0.5 + unit(id, 12) * 19.5;
    let wobble = (days * 6.0 + unit(id, 13) * std::f64::consts::TAU).sin() * 3.0;
    let followers = (base + growth * days + wobble).max(0.0) as u64;
    let following = (50.0 + unit(id, 14) * 500.0 + days * 0.1) as u64;
    json!({
        "followers_count": followers,
        "following_count": following,
        "tweet_count": act.posts,
        "post_count": act.posts,
        "listed_count": followers / 200,
        "like_count": act.likes,
        "media_count": act.media,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(id: u64) -> Post {
        Post {
            id,
            author_id: 1,
            app_id: 1,
            text: "hi https://t.co/abcdefghij".into(),
            sent_text: "hi https://x.com".into(),
            entities: Default::default(),
            created_at_ms: 0,
            deleted: false,
            reply_to: None,
            quote_of: None,
            media_ids: vec![],
            poll: None,
            reply_settings: None,
            likes: 0,
            retweets: 0,
            replies: 0,
            quotes: 0,
        }
    }

    #[test]
    fn deterministic_and_growing() {
        let p = post(1_900_000_000_000_000_123);
        assert_eq!(post_metrics(&p, 0).impressions, 0);
        let a = post_metrics(&p, 3_600_000);
        assert_eq!(a, post_metrics(&p, 3_600_000));
        let b = post_metrics(&p, 86_400_000);
        assert!(b.impressions > a.impressions && b.likes >= a.likes);
        assert!(b.impressions <= 5_200);
    }
}
