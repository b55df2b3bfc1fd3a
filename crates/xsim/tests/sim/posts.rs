//! Creating, deleting and reading posts; weighted length; rate limits.

use serde_json::{json, Value};
use xsim::Profile;

use crate::common::*;

#[tokio::test]
async fn create_duplicate_delete_and_lookup() {
    let (sim, c) = start(Profile::Standard).await;
    let t = user_token(&sim);
    let r = post_text(&c, &sim, &t, "hello world").await;
    assert_eq!(r.status(), 201);
    assert!(r.headers().contains_key("x-rate-limit-remaining"));
    let body: Value = r.json().await.unwrap();
    let id = body["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 19);
    assert_eq!(body["data"]["edit_history_tweet_ids"], json!([id]));

    let r = post_text(&c, &sim, &t, "hello world").await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403})
    );

    let id2 = post_text(&c, &sim, &t, "second")
        .await
        .json::<Value>()
        .await
        .unwrap()["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(id2.parse::<u64>().unwrap() > id.parse::<u64>().unwrap());
    let r = c
        .delete(format!("{}/2/tweets/{id}", sim.base_url()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"data": {"deleted": true}})
    );

    // Lookup with a deleted id: data for the live one, a resource-not-found entry for the other.
    let r: Value = c
        .get(format!("{}/2/tweets", sim.base_url()))
        .query(&[
            ("ids", format!("{id},{id2}")),
            (
                "tweet.fields",
                "public_metrics,non_public_metrics,created_at,author_id".into(),
            ),
        ])
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["data"][0]["id"], id2);
    assert_eq!(r["data"][0]["author_id"], xsim::DEFAULT_USER_ID.to_string());
    assert!(r["data"][0]["public_metrics"]["impression_count"].is_u64());
    assert!(r["data"][0]["non_public_metrics"]["user_profile_clicks"].is_u64());
    assert_eq!(r["errors"][0]["resource_id"], id);
    assert!(r["errors"][0]["type"]
        .as_str()
        .unwrap()
        .ends_with("/resource-not-found"));

    // Metrics grow with the sim clock; the app-only token gets no private metrics.
    advance(&c, &sim, 86_400).await;
    let r: Value = c
        .get(format!("{}/2/tweets", sim.base_url()))
        .query(&[
            ("ids", id2.as_str()),
            ("tweet.fields", "public_metrics,non_public_metrics"),
        ])
        .bearer_auth(xsim::DEFAULT_APP_BEARER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    // The 2-hour access token has expired by now.
    assert_eq!(post_text(&c, &sim, &t, "expired").await.status(), 401);
    let t = user_token(&sim);

    // App-only auth cannot post; another user's id in the path is refused.
    let r = post_text(&c, &sim, xsim::DEFAULT_APP_BEARER, "app only").await;
    assert_eq!(r.status(), 403);
    assert!(r.json::<Value>().await.unwrap()["type"]
        .as_str()
        .unwrap()
        .ends_with("/unsupported-authentication"));
    let r = c
        .post(format!("{}/2/users/123/likes", sim.base_url()))
        .bearer_auth(&t)
        .json(&json!({"tweet_id": id2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let me = xsim::DEFAULT_USER_ID;
    let r: Value = c
        .post(format!("{}/2/users/{me}/likes", sim.base_url()))
        .bearer_auth(&t)
        .json(&json!({"tweet_id": id2}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r, json!({"data": {"liked": true}}));
    let r: Value = c
        .delete(format!("{}/2/users/{me}/likes/{id2}", sim.base_url()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r, json!({"data": {"liked": false}}));
    let r: Value = c
        .post(format!("{}/2/users/{me}/retweets", sim.base_url()))
        .bearer_auth(&t)
        .json(&json!({"tweet_id": id2}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r, json!({"data": {"retweeted": true}}));

    // Mutually exclusive attachments and bad polls.
    let r = c.post(format!("{}/2/tweets", sim.base_url())).bearer_auth(&t)
        .json(&json!({"text": "x", "quote_tweet_id": id2, "poll": {"options": ["a", "b"], "duration_minutes": 60}}))
        .send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["type"]
        .as_str()
        .unwrap()
        .ends_with("/invalid-request"));
    let r = c
        .post(format!("{}/2/tweets", sim.base_url()))
        .bearer_auth(&t)
        .json(&json!({"text": "poll", "poll": {"options": ["only one"], "duration_minutes": 60}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = post_text(&c, &sim, &t, "   ").await;
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
