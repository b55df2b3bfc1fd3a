//! Request building and response parsing, against the shapes of X's OpenAPI document.

use super::*;
use crate::config::Secret;
use crate::x::error::XError;
use crate::x::oauth1;
use crate::x::{Auth, Endpoint, OAuth1Credentials};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

const BASE: &str = "http://127.0.0.1:4010/";

#[test]
fn reads_carry_the_fields_the_platform_needs() {
    assert_eq!(
        me().url(BASE),
        "http://127.0.0.1:4010/2/users/me?user.fields=created_at%2Cdescription%2Cprofile_image_url%2Cprotected%2Cpublic_metrics%2Cverified"
    );
    assert_eq!(user("12").unwrap().path, "/2/users/12");
    let lookup = lookup_posts(&["1", "2"], MetricFields::All).unwrap();
    assert_eq!(lookup.endpoint, Endpoint::LookupPosts);
    assert!(lookup
        .url(BASE)
        .starts_with("http://127.0.0.1:4010/2/tweets?ids=1%2C2&tweet.fields="));
    assert!(lookup
        .url(BASE)
        .contains("non_public_metrics%2Corganic_metrics%2Cpublic_metrics"));
    let since = DateTime::parse_from_rfc3339("2026-03-01T10:00:00.250Z")
        .unwrap()
        .with_timezone(&Utc);
    let page = user_posts("42", since, Some("n7")).unwrap();
    assert_eq!(page.path, "/2/users/42/tweets");
    assert!(page
        .query
        .contains(&("start_time".into(), "2026-03-01T10:00:00Z".into())));
    assert!(page
        .query
        .contains(&("pagination_token".into(), "n7".into())));
    assert!(page.query.contains(&("max_results".into(), "100".into())));
}

#[test]
fn lookups_take_one_to_a_hundred_numeric_ids() {
    let hundred: Vec<String> = (1..=100).map(|i| i.to_string()).collect();
    let ids: Vec<&str> = hundred.iter().map(String::as_str).collect();
    assert!(lookup_posts(&ids, MetricFields::Public).is_ok());
    let mut too_many = ids.clone();
    too_many.push("101");
    assert!(matches!(
        lookup_posts(&too_many, MetricFields::Public),
        Err(XError::InvalidRequest { .. })
    ));
    assert!(lookup_posts(&[], MetricFields::Public).is_err());
    assert!(lookup_posts(&["1", "../admin"], MetricFields::Public).is_err());
    assert!(delete_post("12345678901234567890").is_err(), "20 digits");
    assert!(like("1", "2/../3").is_err());
}

#[test]
fn create_post_bodies_follow_x_schema() {
    let cases = [
        (NewPost::text("hello"), json!({"text": "hello"})),
        (
            NewPost::text("reply").in_reply_to("7"),
            json!({"text": "reply", "reply": {"in_reply_to_tweet_id": "7"}}),
        ),
        (
            NewPost::text("q").quoting("8"),
            json!({"text": "q", "quote_tweet_id": "8"}),
        ),
        (
            NewPost::default().with_media(vec!["9".into(), "10".into()]),
            json!({"media": {"media_ids": ["9", "10"]}}),
        ),
        (
            NewPost::text("vote").with_poll(vec!["a".into(), "b".into()], 60),
            json!({"text": "vote", "poll": {"options": ["a", "b"], "duration_minutes": 60}}),
        ),
        (
            NewPost::text("quiet").with_reply_settings(ReplySettings::MentionedUsers),
            json!({"text": "quiet", "reply_settings": "mentionedUsers"}),
        ),
    ];
    for (post, want) in cases {
        let req = create_post(&post);
        assert_eq!((req.method, req.path.as_str()), (Method::Post, "/2/tweets"));
        assert_eq!(req.body, Body::Json(want.clone()), "{want}");
        let (ct, bytes) = req.body_bytes();
        assert_eq!(ct, Some("application/json"));
        assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), want);
    }
}

#[test]
fn engagements_and_media_have_x_paths_and_bodies() {
    let l = like("1", "2").unwrap();
    assert_eq!(
        (l.method, l.path.as_str()),
        (Method::Post, "/2/users/1/likes")
    );
    assert_eq!(l.body, Body::Json(json!({"tweet_id": "2"})));
    assert_eq!(unlike("1", "2").unwrap().path, "/2/users/1/likes/2");
    assert_eq!(repost("1", "2").unwrap().path, "/2/users/1/retweets");
    let u = unrepost("1", "2").unwrap();
    assert_eq!(
        (u.method, u.path.as_str()),
        (Method::Delete, "/2/users/1/retweets/2")
    );
    assert_eq!(delete_post("5").unwrap().method, Method::Delete);
    assert_eq!(
        media_upload(b"\x89PNG", MediaCategory::TweetImage).body,
        Body::Json(json!({"media": "iVBORw==", "media_category": "tweet_image"}))
    );
    assert_eq!(
        media_append("77", 3, b"abc").unwrap().body,
        Body::Json(json!({"media": "YWJj", "segment_index": 3}))
    );
    assert_eq!(
        media_finalize("77").unwrap().path,
        "/2/media/upload/77/finalize"
    );
    assert_eq!(
        media_status("77").unwrap().url(BASE),
        "http://127.0.0.1:4010/2/media/upload?command=STATUS&media_id=77"
    );
}

#[test]
fn authorization_headers_by_mode() {
    let req = me();
    let bearer = Auth::User(Secret::new("tok".into()));
    assert_eq!(req.authorization(BASE, &bearer, "n", 1), "Bearer tok");
    let creds = OAuth1Credentials {
        consumer_key: "ck".into(),
        consumer_secret: Secret::new("cs".into()),
        token: "t".into(),
        token_secret: Secret::new("ts".into()),
    };
    let signed = create_post(&NewPost::text("JSON bodies are not signed"));
    let header = signed.authorization(BASE, &Auth::OAuth1(creds.clone()), "nonce", 1_700_000_000);
    // The same signature as a bare POST without body parameters.
    let expected = oauth1::authorization_header(
        "POST",
        "http://127.0.0.1:4010/2/tweets",
        &[],
        &creds,
        "nonce",
        1_700_000_000,
    );
    assert_eq!(header, expected);
    assert!(header.starts_with("OAuth "));
}

#[test]
fn data_errors_and_partial_errors_are_told_apart() {
    let created: CreatedPost =
        parse_data(br#"{"data":{"id":"1","text":"hi","edit_history_tweet_ids":["1"]}}"#).unwrap();
    assert_eq!(created.edit_history_tweet_ids, ["1"]);
    assert!(parse_flag(br#"{"data":{"deleted":true}}"#, "deleted").unwrap());
    assert!(!parse_flag(br#"{"data":{"liked":false}}"#, "liked").unwrap());
    assert!(matches!(
        parse_flag(br#"{"data":{}}"#, "liked"),
        Err(XError::Decode { .. })
    ));
    let missing_user = br#"{"errors":[{"value":"9","detail":"Could not find user with id: [9].","title":"Not Found Error","resource_type":"user","parameter":"id","resource_id":"9","type":"https://api.x.com/2/problems/resource-not-found"}]}"#;
    assert!(matches!(
        parse_data::<User>(missing_user),
        Err(XError::NotFound { .. })
    ));
    assert!(matches!(
        parse_data::<User>(b"not json"),
        Err(XError::Decode { .. })
    ));

    let body = json!({
        "data": [{"id": "123", "text": "t", "author_id": "1", "created_at": "2026-03-01T10:00:00.000Z",
                  "edit_history_tweet_ids": ["123"],
                  "public_metrics": {"retweet_count": 1, "reply_count": 2, "like_count": 3, "quote_count": 4, "bookmark_count": 5, "impression_count": 6},
                  "non_public_metrics": {"impression_count": 6, "url_link_clicks": 1, "user_profile_clicks": 2},
                  "organic_metrics": {"impression_count": 6, "like_count": 3, "reply_count": 2, "retweet_count": 1, "url_link_clicks": 1, "user_profile_clicks": 2}}],
        "errors": [{"resource_id": "456", "resource_type": "tweet", "title": "Not Found Error",
                    "detail": "Could not find tweet with id: [456].", "type": "https://api.twitter.com/2/problems/resource-not-found"}]
    });
    let lookup = parse_lookup(body.to_string().as_bytes()).unwrap();
    assert_eq!(lookup.posts.len(), 1);
    let p = &lookup.posts[0];
    assert_eq!(p.public_metrics.as_ref().unwrap().impression_count, Some(6));
    assert_eq!(p.public_metrics.as_ref().unwrap().reposts(), Some(1));
    assert_eq!(
        p.organic_metrics.as_ref().unwrap().user_profile_clicks,
        Some(2)
    );
    assert_eq!(p.created_at.unwrap().timestamp(), 1_772_359_200);
    assert!(lookup.errors[0].is_not_found());
    assert_eq!(lookup.errors[0].resource_id.as_deref(), Some("456"));
    let all_gone = parse_lookup(br#"{"errors":[{"type":"x/resource-not-found"}]}"#).unwrap();
    assert!(all_gone.posts.is_empty());
}

#[test]
fn pages_users_and_media_parse() {
    let page = parse_page(br#"{"data":[{"id":"2","text":"b"},{"id":"1","text":"a"}],"meta":{"result_count":2,"next_token":"n1"}}"#).unwrap();
    assert_eq!(
        (page.posts.len(), page.next_token.as_deref()),
        (2, Some("n1"))
    );
    let empty = parse_page(br#"{"meta":{"result_count":0}}"#).unwrap();
    assert!(empty.posts.is_empty() && empty.next_token.is_none());
    let user: User = parse_data(br#"{"data":{"id":"1","name":"N","username":"u","public_metrics":{"followers_count":10,"following_count":2,"tweet_count":3,"listed_count":0,"like_count":4,"media_count":1}}}"#).unwrap();
    assert_eq!(user.public_metrics.unwrap().followers_count, 10);
    let media: Media = parse_data(br#"{"data":{"id":"5","media_key":"7_5","processing_info":{"state":"in_progress","check_after_secs":1,"progress_percent":50}}}"#).unwrap();
    assert!(!media.is_ready());
    let image: Media = parse_data(
        br#"{"data":{"id":"6","media_key":"3_6","size":10,"image":{"image_type":"image/png"}}}"#,
    )
    .unwrap();
    assert!(image.is_ready());
    assert_eq!(
        problem_type(br#"{"type":"https://api.x.com/2/problems/usage-capped"}"#),
        "usage-capped"
    );
}
