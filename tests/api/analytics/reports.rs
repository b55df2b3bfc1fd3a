//! What the analytics routes answer around the numbers: stored reports, workspace isolation and
//! bad parameters.

use super::{iso, ms, AnalyticsTest, DAY, HOUR};
use crate::helpers::assert_error_envelope;
use serde_json::json;

#[tokio::test]
async fn a_stored_report_is_served_only_while_the_workspaces_analytics_are_unchanged() {
    // Arrange: one post captured; the reports read once, so each answer is stored.
    let t0 = ms("2026-06-10T12:10:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    let post = t.seed_post("Cached?", t0 - 2 * HOUR);
    t.tick(t0).await;
    let range = format!("from={}&to={}", iso(t0 - 3 * DAY), iso(t0 + 2 * HOUR));
    let reports = [
        format!("/api/analytics/overview?{range}"),
        format!("/api/analytics/tweets?{range}&sort=impressions"),
        format!("/api/analytics/engagement?{range}&bucket=hour"),
        format!("/api/analytics/audience?{range}"),
        format!("/api/analytics/best-times?{range}"),
        format!("/api/analytics/tweets/{post}/series"),
    ];
    let mut first = Vec::new();
    for path in &reports {
        first.push(t.data(path).await);
    }
    let stored = "SELECT count(*) FROM analytics_report_cache";
    assert_eq!(t.count(stored).await, reports.len() as i64);
    // Mark every stored answer, so that an answer from the cache is recognisable.
    let mark = "UPDATE analytics_report_cache SET body = '{\"fromCache\":true}'";
    t.sql(mark, &[]).await;

    // Act 1: the same requests again, nothing collected meanwhile.
    let mut again = Vec::new();
    for path in &reports {
        again.push(t.data(path).await);
    }

    // Assert 1: every one came from the cache.
    for (path, a) in reports.iter().zip(&again) {
        assert_eq!(a, &json!({ "fromCache": true }), "{path}");
    }

    // Act 2: an hour later a tick captures the post again (the simulator's counts moved on).
    let t1 = t0 + HOUR;
    let tick = t.tick(t1).await;
    assert_eq!(tick["analytics"]["snapshots"], 1, "{tick}");
    let overview = t.data(&reports[0]).await;
    let tweets = t.data(&reports[1]).await;
    let series = t.data(&reports[5]).await;

    // Assert 2: recomputed from the new data, not the marked answers.
    let m1 = t.metrics(post, t1);
    assert_eq!(
        overview["totals"]["impressions"]["value"], m1.impressions,
        "{overview}"
    );
    assert_eq!(
        tweets["items"][0]["impressions"], m1.impressions,
        "{tweets}"
    );
    assert_eq!(series["items"].as_array().unwrap().len(), 2, "{series}");
    assert_ne!(series["items"], first[5]["items"]);

    // Act 3: the answers are marked again and the account is removed.
    t.sql(mark, &[]).await;
    let removed = t
        .app
        .authed(
            reqwest::Method::DELETE,
            &format!("/api/accounts/{}", t.account),
            &t.token,
            None,
            &[],
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.text);
    let overview = t.data(&reports[0]).await;

    // Assert 3: the workspace has no analytics left, and the answer says so.
    assert_eq!(overview["totals"]["impressions"]["value"], 0, "{overview}");
    assert_eq!(overview["postsPublished"]["value"], 0, "{overview}");
}

#[tokio::test]
async fn another_workspace_sees_none_of_the_data() {
    // Arrange
    let t0 = ms("2026-06-10T12:10:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    let post = t.seed_post("Ours", t0 - 2 * HOUR);
    t.tick(t0).await;
    let other = t.app.register("other@example.com", "Other").await;
    let other_token = other["accessToken"].as_str().unwrap();
    let range = "from=2026-06-01&to=2026-06-11";

    // Act
    let overview = t
        .get_as(&format!("/api/analytics/overview?{range}"), other_token)
        .await;
    let tweets = t
        .get_as(&format!("/api/analytics/tweets?{range}"), other_token)
        .await;
    let series = t
        .get_as(&format!("/api/analytics/tweets/{post}/series"), other_token)
        .await;
    let account = t
        .get_as(
            &format!("/api/analytics/engagement?{range}&accountId={}", t.account),
            other_token,
        )
        .await;

    // Assert
    assert_eq!(overview.status, 200, "{}", overview.text);
    assert_eq!(overview.json()["data"]["totals"]["impressions"]["value"], 0);
    assert_eq!(overview.json()["data"]["postsPublished"]["value"], 0);
    assert_eq!(tweets.json()["data"]["items"], json!([]));
    assert_error_envelope(&series, 404, "NOT_FOUND");
    assert_error_envelope(&account, 404, "NOT_FOUND");
    let ours = t.data(&format!("/api/analytics/tweets?{range}")).await;
    assert_eq!(ours["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_parameters_get_the_error_envelope_never_a_500() {
    // Arrange
    let t = AnalyticsTest::start("UTC", ms("2026-06-10T12:10:00Z"), &[]).await;
    let cases = [
        (
            "/api/analytics/overview?from=2026-06-10&to=2026-06-01",
            422,
            "from after to",
        ),
        (
            "/api/analytics/overview?from=2026-06-10T00:00:00Z&to=2026-06-10T00:00:00Z",
            422,
            "empty range",
        ),
        (
            "/api/analytics/engagement?tz=Mars/Olympus_Mons",
            422,
            "unknown zone",
        ),
        ("/api/analytics/engagement?tz=", 422, "empty zone"),
        (
            "/api/analytics/engagement?bucket=minute",
            422,
            "unknown bucket",
        ),
        (
            "/api/analytics/audience?from=2025-01-01&to=2026-06-01",
            422,
            "over 400 days",
        ),
        ("/api/analytics/tweets?from=yesterday", 422, "not a date"),
        ("/api/analytics/tweets?from=0000-01-01", 422, "year zero"),
        ("/api/analytics/tweets?sort=likes", 422, "unknown sort"),
        ("/api/analytics/tweets?cursor=%%%", 422, "garbage cursor"),
        ("/api/analytics/tweets?limit=1000", 422, "limit too large"),
        (
            "/api/analytics/best-times?accountId=nope",
            404,
            "malformed account",
        ),
        (
            "/api/analytics/overview?accountId=6f1c1a52-4c8e-4a55-9d6f-0d1f2a3b4c5d",
            404,
            "unknown account",
        ),
        ("/api/analytics/tweets/abc/series", 404, "malformed post id"),
        ("/api/analytics/tweets/123/series", 404, "unknown post"),
    ];

    for (path, status, why) in cases {
        // Act
        let resp = t.get_as(path, &t.token).await;

        // Assert
        assert_eq!(resp.status, status, "{why}: {path}: {}", resp.text);
        let kind = if status == 404 {
            "NOT_FOUND"
        } else {
            "VALIDATION_ERROR"
        };
        assert_error_envelope(&resp, status, kind);
    }
    let anonymous = t.app.get("/api/analytics/overview").await;
    assert_error_envelope(&anonymous, 401, "AUTHENTICATION_ERROR");
}
