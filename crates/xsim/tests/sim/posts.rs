//! Creating, deleting and reading posts; weighted length; rate limits.

use reqwest::{Client, Method};
use serde_json::{json, Value};
use xsim::{Profile, SimHandle};

use crate::common::*;

#[tokio::test]
async fn create_duplicate_delete_and_lookup() {
    let (sim, c) = start(Profile::Standard).await;
    let t = user_token(&sim);
    let id = a_create_answers_a_19_digit_id_and_its_duplicate_a_403(&c, &sim, &t).await;
    let id2 = a_later_post_has_a_greater_id_and_the_first_is_deleted(&c, &sim, &t, &id).await;
    a_lookup_answers_the_live_post_and_not_found_for_the_deleted_one(&c, &sim, &t, &id, &id2).await;
    metrics_grow_with_the_clock_and_the_access_token_expires(&c, &sim, &t, &id2).await;
    let t = user_token(&sim);
    only_a_user_posts_and_likes_as_themselves(&c, &sim, &t, &id2).await;
    exclusive_attachments_bad_polls_and_blank_text_are_refused(&c, &sim, &t, &id2).await;
}

/// Answers the post's id.
async fn a_create_answers_a_19_digit_id_and_its_duplicate_a_403(
    c: &Client,
    sim: &SimHandle,
    t: &str,
) -> String {
    let r = post_text(c, sim, t, "hello world").await;
    assert_eq!(r.status(), 201);
    assert!(r.headers().contains_key("x-rate-limit-remaining"));
    let body: Value = r.json().await.unwrap();
    let id = body["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 19);
    assert_eq!(body["data"]["edit_history_tweet_ids"], json!([id]));

    let r = post_text(c, sim, t, "hello world").await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403})
    );
    id
}

/// Answers the second post's id.
async fn a_later_post_has_a_greater_id_and_the_first_is_deleted(
    c: &Client,
    sim: &SimHandle,
    t: &str,
    id: &str,
) -> String {
    let id2 = post_text(c, sim, t, "second")
        .await
        .json::<Value>()
        .await
        .unwrap()["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(id2.parse::<u64>().unwrap() > id.parse::<u64>().unwrap());
    let r = send_json(bearer(
        c,
        sim,
        Method::DELETE,
        &format!("/2/tweets/{id}"),
        t,
    ))
    .await;
    assert_eq!(r, json!({"data": {"deleted": true}}));
    id2
}

/// Lookup with a deleted id: data for the live one, a resource-not-found entry for the other.
async fn a_lookup_answers_the_live_post_and_not_found_for_the_deleted_one(
    c: &Client,
    sim: &SimHandle,
    t: &str,
    id: &str,
    id2: &str,
) {
    let r = send_json(bearer(c, sim, Method::GET, "/2/tweets", t).query(&[
        ("ids", format!("{id},{id2}")),
        (
            "tweet.fields",
            "public_metrics,non_public_metrics,created_at,author_id".into(),
        ),
    ]))
    .await;
    assert_eq!(r["data"][0]["id"], id2);
    assert_eq!(r["data"][0]["author_id"], xsim::DEFAULT_USER_ID.to_string());
    assert!(r["data"][0]["public_metrics"]["impression_count"].is_u64());
    assert!(r["data"][0]["non_public_metrics"]["user_profile_clicks"].is_u64());
    assert_eq!(r["errors"][0]["resource_id"], id);
    assert!(r["errors"][0]["type"]
        .as_str()
        .unwrap()
        .ends_with("/resource-not-found"));
}

/// Metrics grow with the sim clock; the app-only token gets no private metrics; a day later
/// the 2-hour access token has expired.
async fn metrics_grow_with_the_clock_and_the_access_token_expires(
    c: &Client,
    sim: &SimHandle,
    t: &str,
    id2: &str,
) {
    advance(c, sim, 86_400).await;
    let lookup = bearer(c, sim, Method::GET, "/2/tweets", xsim::DEFAULT_APP_BEARER);
    let r = send_json(lookup.query(&[
        ("ids", id2),
        ("tweet.fields", "public_metrics,non_public_metrics"),
    ]))
    .await;
    assert!(
        r["data"][0]["public_metrics"]["impression_count"]
            .as_u64()
            .unwrap()
            > 100
    );
    assert!(r["data"][0].get("non_public_metrics").is_none());
    assert!(r["errors"][0]["type"]
        .as_str()
        .unwrap()
        .ends_with("/not-authorized-for-field"));
    assert_eq!(post_text(c, sim, t, "expired").await.status(), 401);
}

/// App-only auth cannot post; another user's id in the path is refused; the user's own likes,
/// unlikes and reposts answer X's bodies.
async fn only_a_user_posts_and_likes_as_themselves(
    c: &Client,
    sim: &SimHandle,
    t: &str,
    id2: &str,
) {
    let r = post_text(c, sim, xsim::DEFAULT_APP_BEARER, "app only").await;
    assert_eq!(r.status(), 403);
    assert!(r.json::<Value>().await.unwrap()["type"]
        .as_str()
        .unwrap()
        .ends_with("/unsupported-authentication"));
    let target = json!({"tweet_id": id2});
    let r = send(bearer(c, sim, Method::POST, "/2/users/123/likes", t).json(&target)).await;
    assert_eq!(r.status(), 403);
    let me = xsim::DEFAULT_USER_ID;
    let r =
        send_json(bearer(c, sim, Method::POST, &format!("/2/users/{me}/likes"), t).json(&target))
            .await;
    assert_eq!(r, json!({"data": {"liked": true}}));
    let unlike = format!("/2/users/{me}/likes/{id2}");
    let r = send_json(bearer(c, sim, Method::DELETE, &unlike, t)).await;
    assert_eq!(r, json!({"data": {"liked": false}}));
    let repost = bearer(c, sim, Method::POST, &format!("/2/users/{me}/retweets"), t);
    let r = send_json(repost.json(&target)).await;
    assert_eq!(r, json!({"data": {"retweeted": true}}));
}

/// Mutually exclusive attachments, bad polls and blank text.
async fn exclusive_attachments_bad_polls_and_blank_text_are_refused(
    c: &Client,
    sim: &SimHandle,
    t: &str,
    id2: &str,
) {
    let both = json!({"text": "x", "quote_tweet_id": id2, "poll": {"options": ["a", "b"], "duration_minutes": 60}});
    let r = send(bearer(c, sim, Method::POST, "/2/tweets", t).json(&both)).await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["type"]
        .as_str()
        .unwrap()
        .ends_with("/invalid-request"));
    let one_option =
        json!({"text": "poll", "poll": {"options": ["only one"], "duration_minutes": 60}});
    let r = send(bearer(c, sim, Method::POST, "/2/tweets", t).json(&one_option)).await;
    assert_eq!(r.status(), 400);
    let r = post_text(c, sim, t, "   ").await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn weighted_length_280_vs_281() {
    let (sim, c) = start(Profile::Standard).await;
    let t = user_token(&sim);
    // 257 + 23 for the URL = 280.
    let ok_text = format!("{} https://example.com/{}", "a".repeat(256), "p".repeat(60));
    assert_eq!(xsim::text::weighted_length(&ok_text), 280);
    assert_eq!(post_text(&c, &sim, &t, &ok_text).await.status(), 201);
    // CJK weighs 2: 140 of them is 280, one more is 282; 279 ASCII + an emoji is 281.
    assert_eq!(
        post_text(&c, &sim, &t, &"日".repeat(140)).await.status(),
        201
    );
    assert_eq!(
        post_text(&c, &sim, &t, &"本".repeat(141)).await.status(),
        403
    );
    let r = post_text(&c, &sim, &t, &format!("{}😀", "b".repeat(279))).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap()["detail"],
        "You are not permitted to perform this action."
    );
    assert_eq!(
        post_text(&c, &sim, &t, &"c".repeat(280)).await.status(),
        201
    );
    assert_eq!(
        post_text(&c, &sim, &t, &"d".repeat(281)).await.status(),
        403
    );
}

#[tokio::test]
async fn free_profile_rate_limits() {
    let (sim, c) = start(Profile::Free).await;
    let t = user_token(&sim);
    for i in 0..17 {
        let r = post_text(&c, &sim, &t, &format!("post {i}")).await;
        assert_eq!(r.status(), 201);
        let h = r.headers();
        assert_eq!(h["x-rate-limit-limit"], "17");
        assert_eq!(h["x-rate-limit-remaining"], (16 - i).to_string().as_str());
        assert_eq!(h["x-user-limit-24hour-limit"], "17");
        assert_eq!(
            h["x-app-limit-24hour-remaining"],
            (16 - i).to_string().as_str()
        );
        let reset: i64 = h["x-rate-limit-reset"].to_str().unwrap().parse().unwrap();
        assert!(reset > sim.state().clock.now());
    }
    let r = post_text(&c, &sim, &t, "one too many").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_none());
    assert_eq!(r.headers()["x-user-limit-24hour-remaining"], "0");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429})
    );
    // A day later the windows reset.
    advance(&c, &sim, 86_401).await;
    let t = user_token(&sim);
    assert_eq!(post_text(&c, &sim, &t, "next day").await.status(), 201);

    // Standard profile: GET /2/users/me is 75 per 15 minutes.
    c.post(format!("{}/__admin/profile", sim.base_url()))
        .json(&json!({"profile": "standard"}))
        .send()
        .await
        .unwrap();
    let mut last = None;
    for _ in 0..76 {
        last = Some(
            c.get(format!("{}/2/users/me", sim.base_url()))
                .bearer_auth(&t)
                .send()
                .await
                .unwrap(),
        );
    }
    let last = last.unwrap();
    assert_eq!(last.status(), 429);
    assert_eq!(last.headers()["x-rate-limit-limit"], "75");
}

/// The code points of `text` from `start` to `end` (end exclusive), as X's indices count.
fn span(text: &str, start: &Value, end: &Value) -> String {
    let (s, e) = (
        start.as_u64().unwrap() as usize,
        end.as_u64().unwrap() as usize,
    );
    text.chars().skip(s).take(e - s).collect()
}

#[tokio::test]
async fn urls_come_back_as_tco_links_with_entities_on_create_timeline_and_lookup() {
    // Arrange
    let (sim, c) = start(Profile::Standard).await;
    let t = user_token(&sim);
    let sent = "  🚀 日本語 https://example.com/launch?x=1 and docs.example.org/guide, hi @xmp_demo @nobody_here #Rust $BTC  ";

    // Act
    let created: Value = post_text(&c, &sim, &t, sent).await.json().await.unwrap();
    let id = created["data"]["id"].as_str().unwrap().to_string();
    let fields = ("tweet.fields", "entities,created_at");
    let timeline_path = format!("/2/users/{}/tweets", xsim::DEFAULT_USER_ID);
    let timeline =
        send_json(bearer(&c, &sim, Method::GET, &timeline_path, &t).query(&[fields])).await;
    let looked_up = send_json(
        bearer(&c, &sim, Method::GET, "/2/tweets", &t).query(&[("ids", id.as_str()), fields]),
    )
    .await;
    let plain =
        send_json(bearer(&c, &sim, Method::GET, "/2/tweets", &t).query(&[("ids", id.as_str())]))
            .await;

    // Assert: the text is trimmed, each URL a 23-character t.co link.
    let text = created["data"]["text"].as_str().unwrap();
    let re = regex::Regex::new(
        r"^🚀 日本語 (https://t\.co/[A-Za-z0-9]{10}) and (https://t\.co/[A-Za-z0-9]{10}), hi @xmp_demo @nobody_here #Rust \$BTC$",
    )
    .unwrap();
    let caps = re.captures(text).unwrap_or_else(|| panic!("{text}"));
    let post = &timeline["data"][0];
    assert_eq!(post["text"], text, "the timeline answers the same text");
    assert_eq!(looked_up["data"][0], *post, "lookup and timeline agree");
    assert!(
        plain["data"][0].get("entities").is_none(),
        "only when asked"
    );
    assert!(
        created["data"].get("entities").is_none(),
        "create answers id and text"
    );
    let e = &post["entities"];
    assert_url_entities(text, [&caps[1], &caps[2]], e);
    assert_mention_hashtag_and_cashtag_entities(text, e);
    let admin = &sim.state().posts_of(Some(xsim::DEFAULT_USER_ID))[0];
    assert_eq!(
        admin["sent_text"], sent,
        "the admin log keeps what was sent"
    );

    // The duplicate rule looks at the text as written, not at the fresh t.co links.
    let again = post_text(&c, &sim, &t, sent.trim()).await;
    assert_eq!(again.status(), 403);
}

/// The two URLs of the test's text, `links` being their t.co forms in the text.
fn assert_url_entities(text: &str, links: [&str; 2], e: &Value) {
    let urls = e["urls"].as_array().unwrap();
    assert_eq!(urls.len(), 2);
    assert_eq!(urls[0]["url"], links[0].to_string());
    assert_eq!(urls[0]["expanded_url"], "https://example.com/launch?x=1");
    assert_eq!(urls[0]["display_url"], "example.com/launch?x=1");
    assert_eq!(urls[1]["url"], links[1].to_string());
    assert_eq!(
        urls[1]["expanded_url"], "http://docs.example.org/guide",
        "scheme added"
    );
    // Code points, not bytes or UTF-16 units: 🚀 is one.
    assert_eq!(
        (urls[0]["start"].as_u64(), urls[0]["end"].as_u64()),
        (Some(6), Some(29))
    );
    for u in urls {
        assert_eq!(
            span(text, &u["start"], &u["end"]),
            u["url"].as_str().unwrap()
        );
    }
}

/// A known and an unknown mention, `#Rust` and `$BTC`.
fn assert_mention_hashtag_and_cashtag_entities(text: &str, e: &Value) {
    let mentions = e["mentions"].as_array().unwrap();
    assert_eq!(mentions.len(), 2);
    assert_eq!(
        span(text, &mentions[0]["start"], &mentions[0]["end"]),
        "@xmp_demo"
    );
    assert_eq!(mentions[0]["username"], "xmp_demo");
    assert_eq!(mentions[0]["id"], xsim::DEFAULT_USER_ID.to_string());
    assert!(mentions[1].get("id").is_none(), "an unknown user has no id");
    assert_eq!(e["hashtags"][0]["tag"], "Rust");
    assert_eq!(
        span(text, &e["hashtags"][0]["start"], &e["hashtags"][0]["end"]),
        "#Rust"
    );
    assert_eq!(e["cashtags"][0]["tag"], "BTC");
}
