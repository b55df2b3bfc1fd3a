//! Exact values: totals, deltas, series and CSV rows from the simulator's own metric
//! functions, a capture run twice, ranges that cut through hours, and the audience by day.

use super::{engagements, iso, item, ms, AnalyticsTest, DAY, HOUR};
use xsim::metrics::PostMetrics;

/// Three posts made on X (fresh, three days and forty days old) and their metrics as the
/// simulator served them at the two ticks `t0` and `t1`.
struct Known {
    fresh: u64,
    days3: u64,
    old: u64,
    f0: PostMetrics,
    f1: PostMetrics,
    d0: PostMetrics,
    o0: PostMetrics,
}

#[tokio::test]
async fn known_simulator_metrics_give_exact_totals_deltas_series_and_csv_rows() {
    // Arrange: three posts made on X: two hours, three days and forty days old.
    let t0 = ms("2026-06-10T12:10:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    let fresh = t.seed_post("Fresh post https://example.com/a", t0 - 2 * HOUR);
    let days3 = t.seed_post("Three days old", t0 - 3 * DAY);
    let old = t.seed_post("Forty days old", t0 - 40 * DAY);

    // Act: a tick imports and captures all three; an hour later only the fresh one is due.
    let first = t.tick(t0).await;
    let t1 = t0 + HOUR;
    let second = t.tick(t1).await;

    // Assert: what each tick did.
    assert_eq!(first["analytics"]["imported"], 3, "{first}");
    assert_eq!(first["analytics"]["snapshots"], 3, "{first}");
    assert_eq!(first["analytics"]["accountSnapshots"], 1, "{first}");
    assert_eq!(second["analytics"]["snapshots"], 1, "{second}");
    let k = Known {
        fresh,
        days3,
        old,
        f0: t.metrics(fresh, t0),
        f1: t.metrics(fresh, t1),
        d0: t.metrics(days3, t0),
        o0: t.metrics(old, t0),
    };
    series_are_the_captures_as_served(&t, &k).await;
    let range = format!("from={}&to={}", iso(t0 - 50 * DAY), iso(t1 + HOUR));
    totals_are_the_sums_of_the_latest_counts(&t, &k, &range).await;
    hourly_deltas_count_at_each_capture(&t, &k, t0, t1).await;
    the_list_and_its_csv_rank_by_impressions(&t, &k, &range).await;
}

async fn series_are_the_captures_as_served(t: &AnalyticsTest, k: &Known) {
    let Known {
        fresh,
        old,
        f0,
        f1,
        o0,
        ..
    } = *k;
    // The series of the fresh post: both captures, exactly as the simulator served them.
    let series = t
        .data(&format!("/api/analytics/tweets/{fresh}/series"))
        .await;
    let items = series["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{series}");
    for (i, m) in [(0, f0), (1, f1)] {
        assert_eq!(items[i]["impressions"], m.impressions, "{series}");
        assert_eq!(items[i]["likes"], m.likes);
        assert_eq!(items[i]["reposts"], m.retweets);
        assert_eq!(items[i]["urlClicks"], m.url_link_clicks);
        assert_eq!(items[i]["profileClicks"], m.user_profile_clicks);
        assert_eq!(items[i]["engagements"], engagements(&m, true));
    }
    assert_eq!(items[0]["ageMinutes"], 120);
    assert_eq!(items[1]["ageMinutes"], 180);

    // The forty-day-old post: X no longer serves its non-public metrics, so they are NULL.
    let old_series = t.data(&format!("/api/analytics/tweets/{old}/series")).await;
    let o = &old_series["items"][0];
    assert_eq!(o["impressions"], o0.impressions, "{old_series}");
    assert!(
        o["urlClicks"].is_null() && o["profileClicks"].is_null(),
        "{o}"
    );
    assert_eq!(o["engagements"], engagements(&o0, false));
}

/// Totals over everything: the sum of each post's latest counts, previous period empty.
async fn totals_are_the_sums_of_the_latest_counts(t: &AnalyticsTest, k: &Known, range: &str) {
    let Known { f1, d0, o0, .. } = *k;
    let overview = t.data(&format!("/api/analytics/overview?{range}")).await;
    let imp = (f1.impressions + d0.impressions + o0.impressions) as i64;
    let eng = engagements(&f1, true) + engagements(&d0, true) + engagements(&o0, false);
    assert_eq!(
        overview["totals"]["impressions"]["value"], imp,
        "{overview}"
    );
    assert_eq!(
        overview["totals"]["engagements"]["value"], eng,
        "{overview}"
    );
    assert_eq!(overview["totals"]["impressions"]["previous"], 0);
    let rate = overview["engagementRate"]["value"].as_f64().unwrap();
    assert!((rate - eng as f64 / imp as f64).abs() < 1e-9, "{overview}");
    assert_eq!(overview["postsPublished"]["value"], 3);
    assert_eq!(overview["postsPublished"]["imported"], 3);
    assert!(overview["lastSyncedAt"].is_string(), "{overview}");
}

/// Deltas by hour: the first capture counts at the post's hour, the second at its own.
async fn hourly_deltas_count_at_each_capture(t: &AnalyticsTest, k: &Known, t0: i64, t1: i64) {
    let Known { f0, f1, .. } = *k;
    let hours = t
        .data(&format!(
            "/api/analytics/engagement?bucket=hour&from={}&to={}",
            iso(t0 - 3 * HOUR - 10 * 60_000),
            iso(t1 + 50 * 60_000)
        ))
        .await;
    let items = &hours["items"];
    assert_eq!(items.as_array().unwrap().len(), 5, "{hours}");
    let at_publish = item(items, "start", "2026-06-10T10:00:00.000Z");
    assert_eq!(at_publish["impressions"], f0.impressions, "{hours}");
    assert_eq!(at_publish["engagements"], engagements(&f0, true));
    let at_second = item(items, "start", "2026-06-10T13:00:00.000Z");
    assert_eq!(at_second["impressions"], f1.impressions - f0.impressions);
    assert_eq!(
        at_second["engagements"],
        engagements(&f1, true) - engagements(&f0, true)
    );
    assert_eq!(
        item(items, "start", "2026-06-10T11:00:00.000Z")["impressions"],
        0
    );
}

/// The list, by impressions, and its CSV with a header row.
async fn the_list_and_its_csv_rank_by_impressions(t: &AnalyticsTest, k: &Known, range: &str) {
    let Known {
        fresh,
        days3,
        old,
        f1,
        d0,
        o0,
        ..
    } = *k;
    let list = t
        .data(&format!("/api/analytics/tweets?sort=impressions&{range}"))
        .await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    let mut expected = [
        (fresh, f1.impressions),
        (days3, d0.impressions),
        (old, o0.impressions),
    ];
    expected.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    let expected_ids: Vec<String> = expected.iter().map(|(i, _)| i.to_string()).collect();
    assert_eq!(ids, expected_ids, "{list}");
    let csv = t
        .csv(&format!("/api/analytics/tweets?sort=impressions&{range}"))
        .await;
    let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "{}", csv.text);
    assert!(lines[0].starts_with("id,postId,accountId,imported,text,publishedAt"));
    let fresh_row = lines
        .iter()
        .find(|l| l.starts_with(&fresh.to_string()))
        .unwrap();
    assert!(
        fresh_row.contains(&format!(",{},", f1.impressions)),
        "{fresh_row}"
    );
    let series_csv = t
        .csv(&format!("/api/analytics/tweets/{fresh}/series"))
        .await;
    assert_eq!(
        series_csv
            .text
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .count(),
        3
    );
}

#[tokio::test]
async fn re_running_a_capture_changes_nothing() {
    // Arrange: one capture stored; then its schedule is put back as if the tick had crashed
    // after storing and before moving on.
    let t0 = ms("2026-06-10T12:10:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    let post = t.seed_post("Captured twice?", t0 - 2 * HOUR);
    t.tick(t0).await;
    let before = t
        .data("/api/analytics/overview?from=2026-06-01&to=2026-06-11")
        .await;
    let snapshots = t.count("SELECT count(*) FROM post_snapshots").await;
    t.sql(
        "UPDATE analytics_posts ap SET next_capture_at = s.slot_at, claim_slot = NULL
         FROM post_snapshots s WHERE s.post = ap.id AND ap.x_post_id = $1",
        &[&post.to_string()],
    )
    .await;

    // Act: the same capture runs again (the simulator's numbers have moved on meanwhile).
    let again = t.tick(t0 + 5 * 60_000).await;

    // Assert
    assert_eq!(again["analytics"]["snapshots"], 0, "{again}");
    assert_eq!(
        t.count("SELECT count(*) FROM post_snapshots").await,
        snapshots
    );
    let after = t
        .data("/api/analytics/overview?from=2026-06-01&to=2026-06-11")
        .await;
    assert_eq!(before["totals"], after["totals"]);
}

#[tokio::test]
async fn posts_published_are_counted_exactly_when_the_range_cuts_through_hours() {
    // Arrange: six posts made on X, imported by one tick; whole hours are summed from the
    // rollups' counts, the partial hours at the ends from the posts themselves.
    let t0 = ms("2026-06-10T14:00:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    for at in ["10:05", "10:20", "10:50", "11:30", "13:10", "13:40"] {
        t.seed_post(&format!("At {at}"), ms(&format!("2026-06-10T{at}:00Z")));
    }
    let report = t.tick(t0).await;
    assert_eq!(report["analytics"]["imported"], 6, "{report}");
    let tr = &t;
    let published = |from: &'static str, to: &'static str| async move {
        let o = tr
            .data(&format!(
                "/api/analytics/overview?from=2026-06-10T{from}:00Z&to=2026-06-10T{to}:00Z"
            ))
            .await;
        let n = |k: &str| o["postsPublished"][k].as_i64().unwrap();
        (n("value"), n("previous"), n("imported"))
    };

    // Act
    let across = published("10:15", "13:20").await;
    let inside_one_hour = published("10:10", "10:55").await;
    let on_the_hours = published("10:00", "14:00").await;
    let at_an_edge = published("10:20", "13:10").await;

    // Assert: (this period, the previous one of equal length, imported in this period).
    assert_eq!(
        across,
        (4, 1, 4),
        "10:20, 10:50, 11:30, 13:10; before: 10:05"
    );
    assert_eq!(inside_one_hour, (2, 1, 2), "10:20, 10:50; before: 10:05");
    assert_eq!(on_the_hours, (6, 0, 6));
    assert_eq!(at_an_edge, (3, 1, 3), "from inclusive, to exclusive");
}

#[tokio::test]
async fn audience_and_followers_gained_follow_the_simulators_counts_day_by_day() {
    // Arrange: a tick a day for four days; each captures the account once, at what X serves.
    let t0 = ms("2026-06-10T12:10:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    let mut served = Vec::new();
    for day in 0..4 {
        let report = t.tick(t0 + day * DAY).await;
        assert_eq!(report["analytics"]["accountSnapshots"], 1, "{report}");
        served.push(t.x_user_metrics().await);
    }
    let followers = |d: usize| served[d]["followers_count"].as_i64().unwrap();

    // Act
    let audience = t
        .data("/api/analytics/audience?from=2026-06-10&to=2026-06-13")
        .await;
    let overview = t
        .data("/api/analytics/overview?from=2026-06-11&to=2026-06-13")
        .await;
    let csv = t
        .csv("/api/analytics/audience?from=2026-06-10&to=2026-06-13")
        .await;

    // Assert: one row per day with X's counters; the net change is against the day before
    // (unknown on the first day, which has no day before it).
    let items = audience["items"].as_array().unwrap();
    let dates: Vec<&str> = items.iter().map(|i| i["date"].as_str().unwrap()).collect();
    assert_eq!(
        dates,
        ["2026-06-10", "2026-06-11", "2026-06-12", "2026-06-13"],
        "{audience}"
    );
    for (d, item) in items.iter().enumerate() {
        assert_eq!(item["followers"], served[d]["followers_count"], "{item}");
        assert_eq!(item["following"], served[d]["following_count"], "{item}");
        assert_eq!(item["listed"], served[d]["listed_count"], "{item}");
        assert_eq!(item["accounts"], 1);
    }
    assert!(items[0]["netFollowers"].is_null(), "{audience}");
    for (d, item) in items.iter().enumerate().skip(1) {
        assert_eq!(item["netFollowers"], followers(d) - followers(d - 1));
    }
    // The three days 11-13 June gained from the count before them (10 June) to the last;
    // the previous three days saw one count only, so gained nothing.
    assert_eq!(
        overview["followersGained"]["value"],
        followers(3) - followers(0),
        "{overview}"
    );
    assert_eq!(overview["followersGained"]["previous"], 0, "{overview}");
    let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 5, "{}", csv.text);
    assert!(
        lines[0].starts_with("date,start,followers,"),
        "{}",
        lines[0]
    );
    assert!(
        lines[2].starts_with(&format!(
            "2026-06-11,2026-06-11T00:00:00.000Z,{},",
            followers(1)
        )),
        "{}",
        lines[2]
    );
}
