//! The simulator from outside, with plain HTTP, compared field by field with X's OpenAPI
//! document: the OAuth dance, create, the duplicate 403, limits and 429 headers, the lookup's
//! partial errors, and the admin post log.

use crate::common::*;
use crate::schema::{response_schema, validate};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use xsim::Profile;

fn assert_conforms(body: &Value, path: &str, method: &str, status: &str, content_type: &str) {
    let schema = response_schema(path, method, status, content_type);
    assert!(
        !schema.is_null(),
        "the spec has a schema for {method} {path} {status}"
    );
    let errors = validate(body, &schema);
    assert!(
        errors.is_empty(),
        "{method} {path} {status} differs from X's spec: {errors:#?}\n{body}"
    );
}

fn assert_rate_headers(resp: &reqwest::Response, why: &str) {
    for h in [
        "x-rate-limit-limit",
        "x-rate-limit-remaining",
        "x-rate-limit-reset",
    ] {
        let v = resp.headers().get(h).and_then(|v| v.to_str().ok());
        assert!(
            v.is_some_and(|v| v.parse::<u64>().is_ok()),
            "{why}: header {h} = {v:?}"
        );
    }
    assert!(
        resp.headers().get("retry-after").is_none(),
        "{why}: X sends no Retry-After"
    );
}

/// A client that has been through the OAuth 2.0 dance: `access` is its user token.
struct Session {
    c: Client,
    base: String,
    access: String,
}

impl Session {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.c
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.access)
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.c
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.access)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn delete(&self, path: &str) -> reqwest::Response {
        self.c
            .delete(format!("{}{path}", self.base))
            .bearer_auth(&self.access)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn the_oauth_dance_and_posting_conform_to_xs_spec() {
    let (sim, c) = start(Profile::Free).await;
    let x = oauth_dance(c, sim.base_url()).await;

    let user_id = users_me_conforms(&x).await;
    let id = a_create_conforms_and_its_duplicate_is_a_403(&x).await;
    a_lookup_with_one_missing_id_conforms(&x, &id).await;
    like_timeline_and_delete_conform(&x, &user_id, &id).await;
    the_free_tier_allows_17_post_requests_a_day(&x).await;
    the_admin_log_has_every_post_exactly_once(&x, &user_id).await;
}

/// Authorize (a redirect back with code and state), then the token in X's documented response.
async fn oauth_dance(c: Client, base: String) -> Session {
    let (verifier, challenge) = pkce();
    let redirect = "http://127.0.0.1:9/callback";
    let auth = c
        .get(format!("{base}/i/oauth2/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", xsim::DEFAULT_CLIENT_ID),
            ("redirect_uri", redirect),
            (
                "scope",
                "tweet.read tweet.write users.read like.write media.write offline.access",
            ),
            ("state", "st-1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(auth.status(), StatusCode::FOUND);
    let location = auth.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(redirect) && location.contains("state=st-1"),
        "{location}"
    );
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();

    let token: Value = c
        .post(format!("{base}/2/oauth2/token"))
        .basic_auth(xsim::DEFAULT_CLIENT_ID, Some(xsim::DEFAULT_CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token["token_type"], "bearer");
    assert_eq!(token["expires_in"], 7200);
    assert!(token["scope"].as_str().unwrap().contains("offline.access"));
    let access = token["access_token"].as_str().unwrap().to_string();
    assert!(token["refresh_token"].is_string());
    Session { c, base, access }
}

/// Answers the user's id.
async fn users_me_conforms(x: &Session) -> String {
    let me = x.get("/2/users/me?user.fields=public_metrics").await;
    assert_eq!(me.status(), 200);
    assert_rate_headers(&me, "users/me");
    let me: Value = me.json().await.unwrap();
    assert_conforms(&me, "/2/users/me", "get", "200", "application/json");
    me["data"]["id"].as_str().unwrap().to_string()
}

/// Create, then the same text again; answers the post's id.
async fn a_create_conforms_and_its_duplicate_is_a_403(x: &Session) -> String {
    let created = x
        .post("/2/tweets", &json!({"text": "conformance hello"}))
        .await;
    assert_eq!(created.status(), 201);
    assert_rate_headers(&created, "create");
    for h in [
        "x-user-limit-24hour-limit",
        "x-user-limit-24hour-remaining",
        "x-user-limit-24hour-reset",
        "x-app-limit-24hour-limit",
        "x-app-limit-24hour-remaining",
        "x-app-limit-24hour-reset",
    ] {
        assert!(
            created.headers().contains_key(h),
            "create: daily header {h}"
        );
    }
    let created: Value = created.json().await.unwrap();
    assert_conforms(&created, "/2/tweets", "post", "201", "application/json");
    let id = created["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 19, "ids are 19-digit strings");
    assert_eq!(created["data"]["edit_history_tweet_ids"], json!([id]));

    let dup = x
        .post("/2/tweets", &json!({"text": "conformance hello"}))
        .await;
    assert_eq!(dup.status(), 403);
    let dup: Value = dup.json().await.unwrap();
    assert_eq!(
        dup["detail"],
        "You are not allowed to create a Tweet with duplicate content."
    );
    assert_eq!(dup["status"], 403);
    assert!(dup["title"].is_string() && dup["type"].is_string());
    id
}

/// Lookup with one missing id: data plus a partial error that conforms to Problem.
async fn a_lookup_with_one_missing_id_conforms(x: &Session, id: &str) {
    let lookup: Value = x
        .get(&format!("/2/tweets?ids={id},1234567890123456789&tweet.fields=public_metrics,created_at,author_id"))
        .await
        .json()
        .await
        .unwrap();
    assert_conforms(&lookup, "/2/tweets", "get", "200", "application/json");
    assert_eq!(lookup["data"][0]["id"], id);
    assert!(
        lookup["errors"][0]["type"]
            .as_str()
            .unwrap()
            .ends_with("resource-not-found"),
        "{lookup}"
    );
}

/// Like, the user's timeline, delete.
async fn like_timeline_and_delete_conform(x: &Session, user_id: &str, id: &str) {
    let liked: Value = x
        .post(
            &format!("/2/users/{user_id}/likes"),
            &json!({"tweet_id": id}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_conforms(
        &liked,
        "/2/users/{id}/likes",
        "post",
        "200",
        "application/json",
    );
    assert_eq!(liked["data"]["liked"], true);
    let timeline: Value = x
        .get(&format!("/2/users/{user_id}/tweets?max_results=5"))
        .await
        .json()
        .await
        .unwrap();
    assert_conforms(
        &timeline,
        "/2/users/{id}/tweets",
        "get",
        "200",
        "application/json",
    );
    let deleted: Value = x
        .delete(&format!("/2/tweets/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_conforms(
        &deleted,
        "/2/tweets/{id}",
        "delete",
        "200",
        "application/json",
    );
    assert_eq!(deleted["data"]["deleted"], true);
}

/// The free tier allows 17 post requests a day (the duplicate counted too, as on X): the 18th
/// request is a 429 with the daily headers at zero.
async fn the_free_tier_allows_17_post_requests_a_day(x: &Session) {
    let mut created_in_loop = 0;
    let limited = loop {
        let r = x
            .post(
                "/2/tweets",
                &json!({"text": format!("post {created_in_loop}")}),
            )
            .await;
        if r.status() != 201 {
            break r;
        }
        created_in_loop += 1;
        assert!(created_in_loop < 20, "the limit never bit");
    };
    assert_eq!(
        created_in_loop, 15,
        "17 requests in all before the limit (1 + duplicate + 15)"
    );
    assert_eq!(limited.status(), 429);
    assert_rate_headers(&limited, "429");
    assert_eq!(limited.headers()["x-user-limit-24hour-remaining"], "0");
    let problem: Value = limited.json().await.unwrap();
    assert_eq!(problem["status"], 429);
}

/// The admin log has every post created for the user, exactly once.
async fn the_admin_log_has_every_post_exactly_once(x: &Session, user_id: &str) {
    let log: Value =
        x.c.get(format!("{}/__admin/posts?user_id={user_id}", x.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let posts = log["posts"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        posts.len(),
        16,
        "the first post and 15 more, none twice: {log}"
    );
    let texts: std::collections::HashSet<&str> =
        posts.iter().filter_map(|p| p["text"].as_str()).collect();
    assert_eq!(texts.len(), 16, "no text twice");
}
