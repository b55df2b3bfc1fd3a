//! Post request validation: each rule at its edges, and all failures reported together.

use super::*;
use chrono::TimeZone;
use common::error::Code;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

/// Uploaded media: `img*` are images, `gif*` GIFs, `vid*` videos; anything else is unknown.
fn media(id: &str) -> Option<MediaKind> {
    match id.get(..3)? {
        "img" => Some(MediaKind::Png),
        "gif" => Some(MediaKind::Gif),
        "vid" => Some(MediaKind::Mp4),
        _ => None,
    }
}

fn req(json: serde_json::Value) -> PostRequest {
    serde_json::from_value(json).expect("request shape")
}

fn ok(json: serde_json::Value) -> Draft {
    check(&req(json), now(), media).expect("valid")
}

fn errors(json: serde_json::Value) -> Vec<(String, String)> {
    check(&req(json), now(), media)
        .expect_err("invalid")
        .into_iter()
        .map(|e| (e.field, e.message))
        .collect()
}

fn fields(json: serde_json::Value) -> Vec<String> {
    errors(json).into_iter().map(|(f, _)| f).collect()
}

fn ids(n: usize, prefix: &str) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

#[test]
fn a_bare_text_is_an_unscheduled_draft() {
    let d = ok(json!({"content": "  hello  "}));
    assert_eq!(d.parts.len(), 1);
    assert_eq!(d.parts[0].text.as_str(), "hello");
    assert_eq!((d.status, d.when), (Status::Draft, When::Unscheduled));
    assert!(!d.allow_duplicate);
    assert_eq!(d.account_id, None);
}

#[test]
fn unknown_fields_and_wrong_shapes_are_refused_by_the_dto() {
    let unknown = serde_json::from_value::<PostRequest>(json!({"content": "x", "text": "y"}));
    assert!(unknown.unwrap_err().to_string().contains("unknown field"));
    let poll_extra = json!({"content": "x", "poll": {"options": [], "durationMinutes": 5, "x": 1}});
    assert!(serde_json::from_value::<PostRequest>(poll_extra).is_err());
    assert!(serde_json::from_value::<PostRequest>(json!({"accountId": "a"})).is_err());
}

#[test]
fn media_allows_four_images_or_one_gif_or_video() {
    assert_eq!(
        ok(json!({"content": "x", "mediaIds": ids(4, "img")})).parts[0]
            .media_ids
            .len(),
        4
    );
    assert_eq!(
        ok(json!({"content": "x", "mediaIds": ["vid1"]})).parts[0].media_ids,
        ["vid1"]
    );
    assert!(check(
        &req(json!({"content": "x", "mediaIds": ["gif1"]})),
        now(),
        media
    )
    .is_ok());
    let cases = [
        (json!(ids(5, "img")), "mediaIds", "at most 4 images"),
        (
            json!(["img1", "vid1"]),
            "mediaIds",
            "a GIF or video must be the only attachment",
        ),
        (
            json!(["gif1", "gif2"]),
            "mediaIds",
            "a GIF or video must be the only attachment",
        ),
        (
            json!(["img1", "nope"]),
            "mediaIds[1]",
            "is not an uploaded media id",
        ),
        (json!(["img1", "img1"]), "mediaIds[1]", "is listed twice"),
    ];
    for (ids, field, message) in cases {
        let got = errors(json!({"content": "x", "mediaIds": ids}));
        assert_eq!(got, vec![(field.into(), message.into())], "{ids}");
    }
}

#[test]
fn polls_have_two_to_four_short_options_and_five_minutes_to_seven_days() {
    let d =
        ok(json!({"content": "q?", "poll": {"options": [" yes ", "no"], "durationMinutes": 5}}));
    assert_eq!(d.poll.unwrap().options, vec!["yes", "no"]);
    let max = json!({"options": ["a", "b", "c", "d"], "durationMinutes": 10080});
    assert!(ok(json!({"content": "q?", "poll": max})).poll.is_some());
    let twenty_five = "é".repeat(25);
    let long_ok = json!({"options": [twenty_five, "b"], "durationMinutes": 60});
    assert!(ok(json!({"content": "q?", "poll": long_ok})).poll.is_some());

    let cases = [
        (json!(["a"]), 60, vec!["poll.options"]),
        (json!(["a", "b", "c", "d", "e"]), 60, vec!["poll.options"]),
        (json!(["a", "   "]), 60, vec!["poll.options[1]"]),
        (json!(["a", "x".repeat(26)]), 60, vec!["poll.options[1]"]),
        (json!(["a", "b"]), 4, vec!["poll.durationMinutes"]),
        (json!(["a", "b"]), 10081, vec!["poll.durationMinutes"]),
        (
            json!(["", "b"]),
            -1,
            vec!["poll.options[0]", "poll.durationMinutes"],
        ),
    ];
    for (options, minutes, expected) in cases {
        let poll = json!({"options": options, "durationMinutes": minutes});
        assert_eq!(
            fields(json!({"content": "q", "poll": poll})),
            expected,
            "{poll}"
        );
    }
}

#[test]
fn media_poll_and_quote_are_mutually_exclusive() {
    let poll = json!({"options": ["a", "b"], "durationMinutes": 60});
    let cases = [
        (json!({"mediaIds": ["img1"], "poll": poll}), vec!["poll"]),
        (
            json!({"mediaIds": ["img1"], "quoteOf": "123"}),
            vec!["quoteOf"],
        ),
        (json!({"poll": poll, "quoteOf": "123"}), vec!["quoteOf"]),
        (
            json!({"mediaIds": ["img1"], "poll": poll, "quoteOf": "1"}),
            vec!["poll", "quoteOf", "quoteOf"],
        ),
    ];
    for (mut body, expected) in cases {
        body["content"] = json!("x");
        assert_eq!(fields(body.clone()), expected, "{body}");
    }
    assert!(ok(json!({"content": "x", "mediaIds": [], "quoteOf": "1"}))
        .quote_of
        .is_some());
}

#[test]
fn x_ids_are_1_to_19_digits() {
    let d = ok(json!({"content": "x", "replyTo": "1", "quoteOf": "9223372036854775807"}));
    assert_eq!(d.reply_to.unwrap().as_str(), "1");
    for bad in ["", "12345678901234567890", "12a", " 1", "-1", "１２"] {
        assert_eq!(
            fields(json!({"content": "x", "replyTo": bad})),
            ["replyTo"],
            "{bad:?}"
        );
    }
}

#[test]
fn thread_parts_are_validated_with_their_index() {
    let d = ok(json!({"content": "1/3", "thread": [
        {"content": "2/3", "mediaIds": ["vid1"]}, {"content": "3/3"}
    ]}));
    let texts: Vec<_> = d.parts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["1/3", "2/3", "3/3"]);
    assert_eq!(d.parts[1].media_ids, ["vid1"]);

    let got = fields(json!({"content": "1", "thread": [
        {"content": "ok"}, {"content": "ok", "mediaIds": ["img1", "nope"]}, {"content": " "},
        {"content": "a".repeat(281)}
    ]}));
    assert_eq!(
        got,
        [
            "thread[1].mediaIds[1]",
            "thread[2].content",
            "thread[3].content"
        ]
    );
}

#[test]
fn a_thread_has_at_most_25_posts() {
    let parts = |n: usize| {
        (0..n)
            .map(|i| json!({"content": format!("part {i}")}))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ok(json!({"content": "first", "thread": parts(24)}))
            .parts
            .len(),
        25
    );
    assert_eq!(
        fields(json!({"content": "first", "thread": parts(25)})),
        ["thread"]
    );
}

#[test]
fn scheduled_at_needs_an_offset_and_a_near_future() {
    let cases = [
        ("2026-03-01T12:00:00Z", Some(now())),
        ("2026-03-01T13:00:00+01:00", Some(now())),
        ("2026-03-01T11:59:30Z", Some(now() - Duration::seconds(30))),
        ("2027-03-01T12:00:00Z", Some(now() + Duration::days(365))),
        ("2026-03-01T11:59:29Z", None),
        ("2027-03-01T12:00:01Z", None),
        ("2026-03-01T12:00:00", None),
        ("2026-03-01 12:00", None),
        ("tomorrow", None),
    ];
    for (at, expected) in cases {
        let result = check(
            &req(json!({"content": "x", "scheduledAt": at})),
            now(),
            media,
        );
        match expected {
            Some(t) => {
                let d = result.expect(at);
                assert_eq!((d.status, d.when), (Status::Scheduled, When::At(t)), "{at}");
            }
            None => {
                let errs = result.expect_err(at);
                assert_eq!(errs.len(), 1, "{at}: {errs:?}");
                assert_eq!(errs[0].field, "scheduledAt", "{at}");
            }
        }
    }
}

#[test]
fn status_queue_and_schedule_must_agree() {
    let at = "2026-03-02T09:00:00Z";
    let queued = ok(json!({"content": "x", "queue": true}));
    assert_eq!(
        (queued.status, queued.when),
        (Status::Scheduled, When::NextFreeSlot)
    );
    let planned = ok(json!({"content": "x", "status": "draft", "scheduledAt": at}));
    assert_eq!(planned.status, Status::Draft);
    assert!(matches!(planned.when, When::At(_)));
    assert_eq!(
        ok(json!({"content": "x", "queue": false})).when,
        When::Unscheduled
    );

    let cases = [
        (json!({"status": "scheduled"}), "scheduledAt"),
        (json!({"status": "published"}), "status"),
        (json!({"status": "draft", "queue": true}), "queue"),
        (json!({"queue": true, "scheduledAt": at}), "queue"),
    ];
    for (mut body, field) in cases {
        body["content"] = json!("x");
        assert_eq!(fields(body.clone()), [field], "{body}");
    }
}

#[test]
fn every_problem_is_reported_in_one_422() {
    let body = req(json!({
        "content": "",
        "accountId": "not-a-uuid",
        "replyTo": "x",
        "poll": {"options": ["only"], "durationMinutes": 1},
        "thread": [{"content": "fine"}, {"content": ""}],
        "scheduledAt": "2020-01-01T00:00:00Z",
    }));
    let err = validate(&body, now(), media).unwrap_err();
    assert_eq!(err.status(), 422);
    assert_eq!(err.code, Code::Invalid);
    let listed: Vec<_> = err.details.as_ref().unwrap()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        listed,
        [
            "content",
            "accountId",
            "poll.options",
            "poll.durationMinutes",
            "replyTo",
            "thread[1].content",
            "scheduledAt"
        ]
    );
    assert!(err
        .message
        .starts_with("content: text must not be empty (and 6 more"));
}

#[test]
fn account_id_and_allow_duplicate_pass_through() {
    let id = Uuid::new_v4();
    let d = ok(json!({"content": "x", "accountId": id.to_string(), "allowDuplicate": true}));
    assert_eq!(d.account_id, Some(id));
    assert!(d.allow_duplicate);
}
