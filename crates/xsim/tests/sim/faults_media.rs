//! Fault injection, timelines and media upload.

use base64::Engine;
use reqwest::{Client, Method};
use serde_json::{json, Value};
use xsim::{Profile, SimHandle};

use crate::common::*;

#[tokio::test]
async fn lose_response_fault_leaves_one_post() {
    let (sim, c) = start(Profile::Standard).await;
    let t = user_token(&sim);
    let base = sim.base_url();
    let r = c
        .post(format!("{base}/__admin/faults"))
        .json(&json!({"method": "POST", "path": "/2/tweets", "count": 1, "kind": "lose_response"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let err = c
        .post(format!("{base}/2/tweets"))
        .bearer_auth(&t)
        .json(&json!({"text": "lost"}))
        .send()
        .await;
    assert!(err.is_err(), "the client must see a connection error");
    let posts: Value = c
        .get(format!(
            "{base}/__admin/posts?user_id={}",
            xsim::DEFAULT_USER_ID
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let posts = posts["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["text"], "lost");
    assert_eq!(posts[0]["deleted"], false);
    // A retry of the same text is a duplicate now.
    assert_eq!(post_text(&c, &sim, &t, "lost").await.status(), 403);

    // `drop` answers nothing and creates nothing; `status` answers the status.
    c.post(format!("{base}/__admin/faults"))
        .json(&json!({"path": "/2/tweets", "kind": "drop"}))
        .send()
        .await
        .unwrap();
    assert!(c
        .post(format!("{base}/2/tweets"))
        .bearer_auth(&t)
        .json(&json!({"text": "dropped"}))
        .send()
        .await
        .is_err());
    c.post(format!("{base}/__admin/faults"))
        .json(&json!({"path": "/2/tweets", "status": 503}))
        .send()
        .await
        .unwrap();
    assert_eq!(post_text(&c, &sim, &t, "unavailable").await.status(), 503);
    assert_eq!(post_text(&c, &sim, &t, "fine again").await.status(), 201);
    assert_eq!(sim.state().posts_of(Some(xsim::DEFAULT_USER_ID)).len(), 2);
}

#[tokio::test]
async fn timeline_pagination_and_media() {
    let (sim, c) = start(Profile::Standard).await;
    let t = user_token(&sim);
    a_timeline_pages_newest_first_in_pages_of_5_to_100(&c, &sim, &t).await;
    a_chunked_video_can_be_posted_once_processed(&c, &sim, &t).await;
    a_multipart_image_can_be_posted(&c, &sim, &t).await;
}

async fn a_timeline_pages_newest_first_in_pages_of_5_to_100(c: &Client, sim: &SimHandle, t: &str) {
    for i in 0..12 {
        assert_eq!(
            post_text(c, sim, t, &format!("timeline {i}"))
                .await
                .status(),
            201
        );
    }
    let path = format!("/2/users/{}/tweets", xsim::DEFAULT_USER_ID);
    let timeline = || bearer(c, sim, Method::GET, &path, t);
    let p1 = send_json(timeline().query(&[("max_results", "5")])).await;
    assert_eq!(p1["meta"]["result_count"], 5);
    assert_eq!(p1["data"][0]["text"], "timeline 11");
    let next = p1["meta"]["next_token"].as_str().unwrap();
    let p2 = send_json(timeline().query(&[("max_results", "5"), ("pagination_token", next)])).await;
    assert_eq!(p2["data"][0]["text"], "timeline 6");
    let r = send(timeline().query(&[("max_results", "4")])).await;
    assert_eq!(r.status(), 400);
}

/// Chunked upload of a video: processing until 3 s of sim time have passed.
async fn a_chunked_video_can_be_posted_once_processed(c: &Client, sim: &SimHandle, t: &str) {
    let init = send_json(
        bearer(c, sim, Method::POST, "/2/media/upload/initialize", t).json(
            &json!({"total_bytes": 6, "media_type": "video/mp4", "media_category": "tweet_video"}),
        ),
    )
    .await;
    let mid = init["data"]["id"].as_str().unwrap().to_string();
    for (i, chunk) in ["abc", "def"].iter().enumerate() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(chunk);
        let append = bearer(
            c,
            sim,
            Method::POST,
            &format!("/2/media/upload/{mid}/append"),
            t,
        );
        let r = send(append.json(&json!({"media": b64, "segment_index": i}))).await;
        assert_eq!(r.status(), 200);
    }
    let finalize = format!("/2/media/upload/{mid}/finalize");
    let fin = send_json(bearer(c, sim, Method::POST, &finalize, t)).await;
    assert_eq!(fin["data"]["processing_info"]["state"], "pending");
    let attach = json!({"text": "video", "media": {"media_ids": [mid]}});
    let post = || bearer(c, sim, Method::POST, "/2/tweets", t).json(&attach);
    assert_eq!(send(post()).await.status(), 400);
    advance(c, sim, 5).await;
    let status = bearer(c, sim, Method::GET, "/2/media/upload", t);
    let st = send_json(status.query(&[("command", "STATUS"), ("media_id", mid.as_str())])).await;
    assert_eq!(st["data"]["processing_info"]["state"], "succeeded");
    assert_eq!(send(post()).await.status(), 201);
}

/// Simple multipart upload of an image, then a post with it.
async fn a_multipart_image_can_be_posted(c: &Client, sim: &SimHandle, t: &str) {
    let png = vec![0x89, b'P', b'N', b'G', 0, 0, 0, 0];
    let form = reqwest::multipart::Form::new()
        .part(
            "media",
            reqwest::multipart::Part::bytes(png).file_name("a.png"),
        )
        .text("media_category", "tweet_image");
    let up = send_json(bearer(c, sim, Method::POST, "/2/media/upload", t).multipart(form)).await;
    assert_eq!(up["data"]["image"]["image_type"], "image/png");
    let img = up["data"]["id"].as_str().unwrap();
    let r = send(
        bearer(c, sim, Method::POST, "/2/tweets", t).json(&json!({"media": {"media_ids": [img]}})),
    )
    .await;
    assert_eq!(r.status(), 201);
}
