//! Posts and media through the client: uploads, lookups, timelines, likes and reposts, and
//! what the app-only bearer may do.

use super::{fake_mp4, kind, XTest, ME};
use serde_json::{json, Value};
use xsim::Profile;

#[tokio::test]
async fn an_uploaded_image_can_be_posted_but_five_media_ids_are_refused_by_x() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let token = x.token();

    // Act
    let image = x.upload_png(&token).await;
    let media_id = image["ok"]["id"].as_str().unwrap_or_default().to_string();
    let posted = x
        .call(json!({ "op": "create_post", "token": token,
                      "args": { "text": "a picture", "media_ids": [media_id] } }))
        .await;
    let mut five = Vec::new();
    for _ in 0..5 {
        five.push(x.upload_png(&token).await["ok"]["id"].clone());
    }
    let too_many = x
        .call(json!({ "op": "create_post", "token": token, "retry": false,
                      "args": { "text": "five pictures", "media_ids": five } }))
        .await;

    // Assert
    assert!(!media_id.is_empty(), "{image}");
    assert!(image["ok"]["processing_info"].is_null(), "{image}");
    assert!(posted["ok"]["id"].is_string(), "{posted}");
    let log = x.st().posts_of(Some(ME));
    assert_eq!(log.len(), 1, "only the one-image post exists: {log:?}");
    assert_eq!(log[0]["media_ids"], json!([media_id]), "{log:?}");
    assert!(five.iter().all(Value::is_string), "{five:?}");
    assert_eq!(kind(&too_many), "InvalidRequest", "{too_many}");
    assert_eq!(too_many["status"], 422, "{too_many}");
}

#[tokio::test]
async fn a_chunked_video_upload_is_finalized_waited_for_and_then_posted() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let token = x.token();
    let video = fake_mp4(4_096);

    // Act
    let upload = x
        .call(json!({ "op": "upload_media_chunked", "token": token,
                      "args": { "bytes": video, "media_type": "video/mp4",
                                "category": "tweet_video", "max_wait_ms": 15_000 } }))
        .await;
    let media_id = upload["ok"]["ready"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let posted = x
        .call(json!({ "op": "create_post", "token": token,
                      "args": { "text": "a video", "media_ids": [media_id] } }))
        .await;

    // Assert
    assert!(
        matches!(
            upload["ok"]["uploaded"]["processing_info"]["state"].as_str(),
            Some("pending" | "in_progress")
        ),
        "a fresh video is still processing: {upload}"
    );
    assert_eq!(
        upload["ok"]["ready"]["processing_info"]["state"], "succeeded",
        "{upload}"
    );
    assert_eq!(x.requests("POST", "/2/media/upload/initialize"), 1);
    assert_eq!(
        x.requests("POST", &format!("/2/media/upload/{media_id}/append")),
        1
    );
    assert_eq!(
        x.requests("POST", &format!("/2/media/upload/{media_id}/finalize")),
        1
    );
    assert!(
        x.requests("GET", "/2/media/upload") >= 1,
        "STATUS was polled"
    );
    assert!(posted["ok"]["id"].is_string(), "{posted}");
    assert_eq!(x.st().posts_of(Some(ME))[0]["media_ids"], json!([media_id]));
}

#[tokio::test]
async fn a_lookup_returns_live_posts_with_metrics_and_a_partial_not_found_for_a_deleted_one() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let token = x.token();
    let bob = x.st().create_user("bob", None, None).unwrap();
    let bob_token = x
        .st()
        .issue_user_token(bob.id, None, None)
        .unwrap()
        .access_token;
    let live = x.post_id(&token, "still here").await;
    let gone = x.post_id(&token, "about to go").await;
    let deleted = x
        .call(json!({ "op": "delete_post", "token": token, "args": { "id": gone } }))
        .await;
    assert_eq!(deleted["ok"], true, "{deleted}");
    let lookup = |token: &str, metrics: &str| json!({ "op": "lookup", "token": token, "args": { "ids": [live, gone], "metrics": metrics } });

    // Act
    let public = x.call(lookup(&token, "public")).await;
    let own = x.call(lookup(&token, "all")).await;
    let others = x.call(lookup(&bob_token, "all")).await;

    // Assert
    let posts = public["ok"]["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 1, "{public}");
    assert_eq!(posts[0]["id"], live.as_str());
    assert_eq!(posts[0]["author_id"], ME.to_string());
    assert!(
        posts[0]["public_metrics"]["impression_count"].is_u64(),
        "{public}"
    );
    assert!(posts[0]["non_public_metrics"].is_null(), "{public}");
    let errors = public["ok"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{public}");
    assert_eq!(errors[0]["resource_id"], gone.as_str(), "{public}");
    assert!(
        errors[0]["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("/resource-not-found")),
        "{public}"
    );

    let own_post = &own["ok"]["posts"][0];
    assert!(
        own_post["non_public_metrics"]["impression_count"].is_u64(),
        "the author sees non-public metrics: {own}"
    );
    assert!(own_post["organic_metrics"].is_object(), "{own}");
    assert_eq!(own["ok"]["errors"].as_array().unwrap().len(), 1, "{own}");

    let others_post = &others["ok"]["posts"][0];
    assert!(others_post["public_metrics"].is_object(), "{others}");
    assert!(others_post["non_public_metrics"].is_null(), "{others}");
    let field_errors: Vec<&Value> = others["ok"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["field"] == "non_public_metrics")
        .collect();
    assert_eq!(field_errors.len(), 1, "{others}");
    assert!(
        field_errors[0]["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("/not-authorized-for-field")),
        "{others}"
    );
}

#[tokio::test]
async fn user_posts_since_an_instant_returns_only_the_newer_posts_newest_first() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let token = x.token();
    let old = x.post_id(&token, "before the cut").await;
    x.st().clock.advance_secs(120);
    let since_ms = x.st().clock.now_ms();
    let first = x.post_id(&token, "after the cut, first").await;
    x.st().clock.advance_secs(1);
    let second = x.post_id(&token, "after the cut, second").await;

    // Act
    let page = x
        .call(json!({ "op": "user_posts", "token": token,
                      "args": { "user_id": ME.to_string(), "since_ms": since_ms } }))
        .await;

    // Assert
    let ids: Vec<&str> = page["ok"]["posts"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(ids, [second.as_str(), first.as_str()], "{page}");
    assert!(!ids.contains(&old.as_str()));
    assert!(page["ok"]["next_token"].is_null(), "{page}");
    assert!(page["ok"]["posts"][0]["created_at"].is_string(), "{page}");
}

#[tokio::test]
async fn likes_and_reposts_answer_their_flags_and_liking_a_missing_post_is_not_found() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let token = x.token();
    let bob = x.st().create_user("bob", None, None).unwrap();
    let bob_token = x
        .st()
        .issue_user_token(bob.id, None, None)
        .unwrap()
        .access_token;
    let post = x.post_id(&bob_token, "like me").await;
    let pid: u64 = post.parse().unwrap();
    let act = |op: &str, post_id: &str| {
        json!({ "op": op, "token": token, "retry": false,
                "args": { "user_id": ME.to_string(), "post_id": post_id } })
    };

    // Act
    let liked = x.call(act("like", &post)).await;
    let like_recorded = x.st().inner.lock().likes.contains(&(ME, pid));
    let unliked = x.call(act("unlike", &post)).await;
    let reposted = x.call(act("repost", &post)).await;
    let repost_recorded = x.st().inner.lock().retweets.contains(&(ME, pid));
    let unreposted = x.call(act("unrepost", &post)).await;
    let missing = x.call(act("like", "1234567890123456789")).await;

    // Assert
    assert_eq!(liked["ok"], true, "{liked}");
    assert!(like_recorded);
    assert_eq!(unliked["ok"], false, "{unliked}");
    assert_eq!(reposted["ok"], true, "{reposted}");
    assert!(repost_recorded);
    assert_eq!(unreposted["ok"], false, "{unreposted}");
    let inner = x.st().inner.lock();
    assert!(!inner.likes.contains(&(ME, pid)) && !inner.retweets.contains(&(ME, pid)));
    drop(inner);
    assert_eq!(kind(&missing), "NotFound", "{missing}");
    assert_eq!(missing["status"], 404, "{missing}");
}

#[tokio::test]
async fn the_app_only_bearer_reads_posts_but_may_not_create_one() {
    // Arrange
    let x = XTest::start(Profile::Standard).await;
    let post = x.post_id(&x.token(), "readable by the app").await;

    // Act
    let lookup = x
        .call(
            json!({ "op": "lookup", "app_token": xsim::DEFAULT_APP_BEARER,
                      "args": { "ids": [post] } }),
        )
        .await;
    let create = x
        .call(
            json!({ "op": "create_post", "app_token": xsim::DEFAULT_APP_BEARER,
                      "retry": false, "args": { "text": "as the app" } }),
        )
        .await;

    // Assert
    assert_eq!(lookup["ok"]["posts"][0]["id"], post.as_str(), "{lookup}");
    assert_eq!(kind(&create), "Forbidden", "{create}");
    assert!(
        create["error"]
            .as_str()
            .is_some_and(|e| e.contains("Application-Only")),
        "the reason names the unsupported authentication: {create}"
    );
    assert_eq!(x.st().posts_of(Some(ME)).len(), 1);
}
