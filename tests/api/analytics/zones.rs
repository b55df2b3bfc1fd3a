//! Buckets, heatmap cells and days in the account's time zone, across daylight saving changes.

use super::{engagements, item, ms, AnalyticsTest};
use serde_json::{json, Value};
use xsim::metrics::PostMetrics;

#[tokio::test]
async fn buckets_heatmap_cells_and_days_follow_the_zone_across_dst_changes() {
    // Arrange: an account in New York. In spring 02:00-03:00 does not exist on 8 March; in
    // autumn 01:00-02:00 happens twice on 1 November.
    let spring = ms("2026-03-10T12:10:00Z");
    let t = AnalyticsTest::start("America/New_York", spring, &[]).await;
    let before_gap = t.seed_post(
        "01:30 EST, before the skipped hour",
        ms("2026-03-08T06:30:00Z"),
    );
    let after_gap = t.seed_post("03:30 EDT, right after it", ms("2026-03-08T07:30:00Z"));
    t.tick(spring).await;
    let autumn = ms("2026-11-03T12:10:00Z");
    let first_0130 = t.seed_post("01:30 EDT", ms("2026-11-01T05:30:00Z"));
    let second_0130 = t.seed_post("01:30 EST", ms("2026-11-01T06:30:00Z"));
    let saturday = t.seed_post("Saturday 10:00", ms("2026-10-31T14:00:00Z"));

    // Act: the account's zone by default (accountId), or named (tz).
    let report = t.tick(autumn).await;
    let acc = format!("accountId={}", t.account);
    let hours_of =
        |day: &str| format!("/api/analytics/engagement?bucket=hour&from={day}&to={day}&{acc}");
    let short_day = t.data(&hours_of("2026-03-08")).await;
    let long_day = t.data(&hours_of("2026-11-01")).await;
    let days = t
        .data("/api/analytics/engagement?bucket=day&from=2026-10-31&to=2026-11-02&tz=America/New_York")
        .await;
    let grid = t
        .data(&format!(
            "/api/analytics/best-times?from=2026-10-01&to=2026-11-03&{acc}"
        ))
        .await;
    let overview = t
        .data(&format!(
            "/api/analytics/overview?from=2026-10-01&to=2026-11-03&{acc}"
        ))
        .await;

    // Assert: the spring day has 23 hourly buckets and no 02:00.
    assert_eq!(report["analytics"]["imported"], 3, "{report}");
    let short = short_day["items"].as_array().unwrap();
    assert_eq!(short.len(), 23, "{short_day}");
    assert!(short
        .iter()
        .all(|b| !b["localStart"].as_str().unwrap().contains("T02:")));
    let m = |id, at| t.metrics(id, at);
    let at_0100 = item(&short_day["items"], "localStart", "2026-03-08T01:00-05:00");
    assert_eq!(at_0100["impressions"], m(before_gap, spring).impressions);
    let at_0300 = item(&short_day["items"], "localStart", "2026-03-08T03:00-04:00");
    assert_eq!(at_0300["impressions"], m(after_gap, spring).impressions);

    // The autumn day has 25, with 01:00 twice (two offsets), each holding its own post.
    let long = long_day["items"].as_array().unwrap();
    assert_eq!(long.len(), 25, "{long_day}");
    let edt = item(&long_day["items"], "localStart", "2026-11-01T01:00-04:00");
    let est = item(&long_day["items"], "localStart", "2026-11-01T01:00-05:00");
    assert_eq!(edt["impressions"], m(first_0130, autumn).impressions);
    assert_eq!(est["impressions"], m(second_0130, autumn).impressions);
    assert_eq!(edt["start"], "2026-11-01T05:00:00.000Z");
    assert_eq!(est["start"], "2026-11-01T06:00:00.000Z");

    let autumn_metrics = [first_0130, second_0130, saturday].map(|id| m(id, autumn));
    days_start_at_local_midnights(&days, &autumn_metrics);
    the_heatmap_holds_each_post_at_its_local_hour(&grid, &autumn_metrics);

    // Nothing was collected between March and November: the overview says so.
    let gaps = overview["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{overview}");
    assert_eq!(gaps[0]["from"], "2026-10-01T04:00:00.000Z");
    assert!(gaps[0]["to"]
        .as_str()
        .unwrap()
        .starts_with("2026-11-03T12:10:"));
}

/// Day buckets start at local midnights; 1 November is 25 hours long. `autumn` holds the
/// metrics of the first and the second 01:30 post and of the Saturday one.
fn days_start_at_local_midnights(days: &Value, autumn: &[PostMetrics; 3]) {
    let starts: Vec<&str> = days["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-10-31T04:00:00.000Z",
            "2026-11-01T04:00:00.000Z",
            "2026-11-02T05:00:00.000Z"
        ]
    );
    assert_eq!(
        days["items"][1]["impressions"],
        autumn[0].impressions + autumn[1].impressions
    );
}

/// The heatmap: both 01:30 posts in Sunday 01:00, the Saturday one alone; lifts against the
/// account's median rate at a day old (here: the capture two days after publication).
fn the_heatmap_holds_each_post_at_its_local_hour(grid: &Value, autumn: &[PostMetrics; 3]) {
    let rate = |x: &PostMetrics| engagements(x, true) as f64 / x.impressions as f64;
    let [first_0130, second_0130, saturday] = autumn;
    let mut rates = [rate(first_0130), rate(second_0130), rate(saturday)];
    rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = rates[1];
    let sunday_lift = (rate(first_0130) / median + rate(second_0130) / median) / 2.0;
    assert_eq!(grid["postsMeasured"], 3, "{grid}");
    assert_eq!(grid["morePostsNeeded"], 7);
    assert_eq!(grid["recommendations"], json!([]));
    assert_eq!(grid["n"][6][1], 2, "Sunday 01:00: {grid}");
    assert_eq!(grid["n"][5][10], 1, "Saturday 10:00: {grid}");
    let lift = grid["lift"][6][1].as_f64().unwrap();
    assert!((lift - sunday_lift).abs() < 1e-5, "{lift} vs {sunday_lift}");
    let saturday_lift = grid["lift"][5][10].as_f64().unwrap();
    assert!((saturday_lift - rate(saturday) / median).abs() < 1e-5);
}
