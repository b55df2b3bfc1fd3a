//! Rankings: the best times to post, and the posts list in every sort.

use super::{engagements, ms, AnalyticsTest, DAY, HOUR};
use crate::helpers::assert_error_envelope;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

#[tokio::test]
async fn best_times_recommend_only_from_ten_measured_posts_ranked_by_median_lift() {
    // Arrange: nine posts two to five days old at known hours (UTC account); two share
    // Monday 09:00 (8 June 2026 is a Monday).
    let t0 = ms("2026-06-11T12:10:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    let at = [
        "2026-06-08T09:05:00Z",
        "2026-06-08T09:40:00Z",
        "2026-06-08T14:00:00Z",
        "2026-06-07T18:30:00Z",
        "2026-06-07T07:15:00Z",
        "2026-06-06T12:00:00Z",
        "2026-06-06T21:45:00Z",
        "2026-06-09T08:00:00Z",
        "2026-06-09T11:20:00Z",
    ];
    let mut posts: Vec<(u64, i64)> = at
        .iter()
        .enumerate()
        .map(|(i, a)| (t.seed_post(&format!("Timed post {i}"), ms(a)), t0))
        .collect();

    // Act: nine measured posts are not enough.
    t.tick(t0).await;
    let best_times = || t.data("/api/analytics/best-times?from=2026-06-01&to=2026-06-12");
    let nine = best_times().await;

    // A tenth post, two and a half days old at the next day's tick (which imports it).
    let t1 = t0 + DAY;
    let tenth = t.seed_post("Timed post 9", ms("2026-06-10T00:10:00Z"));
    posts.push((tenth, t1));
    t.tick(t1).await;
    let ten = best_times().await;

    // Assert: with nine, the cells but no recommendation, and how many more are needed.
    assert_eq!(nine["postsMeasured"], 9, "{nine}");
    assert_eq!(nine["morePostsNeeded"], 1);
    assert_eq!(nine["recommendations"], json!([]));
    assert_eq!(nine["n"][0][9], 2, "Monday 09:00: {nine}");

    // With ten: each post's rate at its first capture a day old or more, against the median.
    assert_eq!(ten["postsMeasured"], 10, "{ten}");
    assert_eq!(ten["morePostsNeeded"], 0);
    let rate = |&(id, captured): &(u64, i64)| {
        let m = t.metrics(id, captured);
        engagements(&m, true) as f64 / m.impressions as f64
    };
    let mut rates: Vec<f64> = posts.iter().map(rate).collect();
    rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = (rates[4] + rates[5]) / 2.0;
    let published = |i: usize| match at.get(i) {
        Some(a) => ms(a),
        None => ms("2026-06-10T00:10:00Z"),
    };
    let lifts = posts
        .iter()
        .enumerate()
        .map(|(i, p)| (published(i), rate(p) / median));
    let expected = cells_of(lifts);
    for &(d, h, n, lift) in &expected {
        let (di, hi) = ((d - 1) as usize, h as usize);
        assert_eq!(ten["n"][di][hi], n, "n at {d}/{h}: {ten}");
        let got = ten["lift"][di][hi].as_f64().unwrap();
        assert!(
            (got - lift).abs() < 1e-5,
            "lift at {d}/{h}: {got} vs {lift}"
        );
    }
    let recommended = recommendations(&ten);
    let want = expected_recommendations(&expected);
    assert_eq!(recommended, want, "{ten}");
    assert_eq!(
        recommended[0],
        (1, 9, 2),
        "the only cell with two posts leads"
    );
}

/// The heatmap's cells from each post's publication instant (Unix ms) and lift: (day of
/// week 1-7, hour, posts, median lift), in day and hour order.
fn cells_of(lifts: impl Iterator<Item = (i64, f64)>) -> Vec<(i64, i64, usize, f64)> {
    use chrono::{Datelike, Timelike};
    let mut cells: std::collections::BTreeMap<(i64, i64), Vec<f64>> = Default::default();
    for (published, lift) in lifts {
        let when = DateTime::<Utc>::from_timestamp_millis(published).unwrap();
        let key = (
            i64::from(when.weekday().number_from_monday()),
            i64::from(when.hour()),
        );
        cells.entry(key).or_default().push(lift);
    }
    cells
        .iter()
        .map(|(&(d, h), lifts)| {
            let mut l = lifts.clone();
            l.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let mid = if l.len() % 2 == 1 {
                l[l.len() / 2]
            } else {
                (l[l.len() / 2 - 1] + l[l.len() / 2]) / 2.0
            };
            (d, h, l.len(), mid)
        })
        .collect()
}

/// The recommendations `cells` call for, as (day of week, hour, posts): cells with more than
/// one post first, then by median lift; three of them.
fn expected_recommendations(cells: &[(i64, i64, usize, f64)]) -> Vec<(i64, i64, i64)> {
    let mut cells = cells.to_vec();
    cells.sort_by(|a, b| {
        (b.2 > 1)
            .cmp(&(a.2 > 1))
            .then(b.3.partial_cmp(&a.3).unwrap())
    });
    cells
        .iter()
        .take(3)
        .map(|&(d, h, n, _)| (d, h, n as i64))
        .collect()
}

/// The recommended cells as (day of week, hour, posts).
fn recommendations(best_times: &Value) -> Vec<(i64, i64, i64)> {
    best_times["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["dayOfWeek"].as_i64().unwrap(),
                r["hour"].as_i64().unwrap(),
                r["n"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_posts_list_pages_by_cursor_in_every_sort_without_gaps_or_repeats() {
    // Arrange: seven posts of different ages, captured once.
    let t0 = ms("2026-06-10T12:10:00Z");
    let t = AnalyticsTest::start("UTC", t0, &[]).await;
    let posts: Vec<u64> = (0..7)
        .map(|i| t.seed_post(&format!("Listed post {i}"), t0 - (i + 1) * 7 * HOUR))
        .collect();
    t.tick(t0).await;
    let range = "from=2026-06-01&to=2026-06-11";
    let m = |id: u64| t.metrics(id, t0);

    for (sort, key) in [
        ("date", None),
        ("impressions", Some(0)),
        ("engagementRate", Some(1)),
    ] {
        // Act: pages of three, following nextCursor.
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("/api/analytics/tweets?sort={sort}&limit=3&{range}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = t.data(&path).await;
            pages += 1;
            for item in page["items"].as_array().unwrap() {
                seen.push(item["id"].as_str().unwrap().to_string());
            }
            match page["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
            assert!(pages < 10, "{sort}: the cursor does not advance");
        }

        // Assert: every post once, in the sort's order (greatest first, newest for date).
        let mut expected = posts.clone();
        match key {
            None => {} // seeded newest first
            Some(0) => expected.sort_by_key(|&id| std::cmp::Reverse(m(id).impressions)),
            Some(_) => expected.sort_by(|&a, &b| {
                let r = |id| {
                    let x = m(id);
                    engagements(&x, true) as f64 / x.impressions as f64
                };
                r(b).partial_cmp(&r(a)).unwrap()
            }),
        }
        let expected: Vec<String> = expected.iter().map(u64::to_string).collect();
        assert_eq!(seen, expected, "{sort}");
        assert_eq!(pages, 3, "{sort}: 3 + 3 + 1");
    }

    // A cursor of one sort is refused by another, with the envelope.
    let first = t
        .data(&format!("/api/analytics/tweets?sort=date&limit=3&{range}"))
        .await;
    let cursor = first["nextCursor"].as_str().unwrap();
    let resp = t
        .get_as(
            &format!("/api/analytics/tweets?sort=impressions&limit=3&cursor={cursor}&{range}"),
            &t.token,
        )
        .await;
    assert_error_envelope(&resp, 422, "VALIDATION_ERROR");
}
