//! Posts whose answer from X is lost: reconciliation finds them at X instead of sending
//! them twice.

use super::{SchedTest, ME};
use crate::helpers::now_ms;
use serde_json::json;
use xsim::{FaultKind, Profile};

#[tokio::test]
async fn a_created_post_whose_response_is_lost_is_found_by_reconciliation_not_sent_twice() {
    // Arrange
    let t = SchedTest::start(Profile::Standard, 1).await;
    let head = t.post(&t.accounts[0].1, &["Lost in transit"], -1_000).await;
    t.fault(FaultKind::LoseResponse, 200, 0, 1, 0);

    // Act
    let report = t.tick_at(now_ms()).await;

    // Assert
    assert_eq!(report["reconciled"], 1, "{report}");
    let (status, x_id, attempts, _) = t.status_of(&head).await;
    assert_eq!(status, "published");
    assert!(x_id.is_some());
    assert_eq!(attempts, 1);
    assert_eq!(t.x_texts(ME), ["Lost in transit"]);
    assert_eq!(t.sim.state().request_count("POST", "/2/tweets"), 1);
    t.assert_exactly_once(1).await;
}

#[tokio::test]
async fn a_post_with_urls_mentions_emoji_and_cjk_whose_response_is_lost_is_recognised_once() {
    // Arrange: X answers this text with both URLs as t.co links; a post that differs only in
    // its URL is already on the timeline and must not be taken for it.
    let t = SchedTest::start(Profile::Standard, 1).await;
    let text =
        "Launch 🚀 日本語のお知らせ https://example.com/p/2?ref=x and docs.example.org/guide, \
                thanks @xmp_demo #RustLang 🎉";
    let decoy = text.replace("/p/2?", "/p/1?");
    let first = t.post(&t.accounts[0].1, &[&decoy], -2_000).await;
    t.tick_at(now_ms()).await;
    let head = t.post(&t.accounts[0].1, &[text], -1_000).await;
    t.fault(FaultKind::LoseResponse, 200, 0, 1, 0);

    // Act
    let report = t.tick_at(now_ms()).await;

    // Assert
    assert_eq!(report["reconciled"], 1, "{report}");
    let (status, x_id, attempts, error) = t.status_of(&head).await;
    assert_eq!((status.as_str(), attempts), ("published", 1), "{error:?}");
    assert_ne!(x_id, t.status_of(&first).await.1, "not the decoy");
    let log = t.sim.state().posts_of(Some(ME));
    let at_x = log.iter().find(|p| p["id"] == json!(x_id)).unwrap();
    assert_eq!(at_x["sent_text"], text);
    let shown = at_x["text"].as_str().unwrap();
    assert!(
        shown.matches("https://t.co/").count() == 2 && !shown.contains("example"),
        "X rewrote the URLs: {shown}"
    );
    assert_eq!(t.sim.state().request_count("POST", "/2/tweets"), 2);
    t.assert_exactly_once(2).await;
}

#[tokio::test]
async fn a_thread_with_urls_whose_part_answer_is_lost_resumes_after_the_part_x_has() {
    // Arrange: the second part's create succeeds at X but its answer is lost, then X fails.
    let t = SchedTest::start(Profile::Standard, 1).await;
    let parts = [
        "1/3 🧵 read https://example.com/a first",
        "2/3 then www.example.org/b — 続きは",
        "3/3 and https://example.net/c?x=1 #done",
    ];
    let head = t.post(&t.accounts[0].1, &parts, -1_000).await;
    t.fault(FaultKind::LoseResponse, 200, 0, 1, 1);
    t.fault(FaultKind::Status, 503, 0, 5, 0);

    // Act
    let start = now_ms();
    t.tick_at(start).await;
    t.sim.state().inner.lock().faults.clear();
    let report = t.tick_at(start + 10 * 60_000).await;

    // Assert
    let (status, _, _, error) = t.status_of(&head).await;
    assert_eq!(status, "published", "{error:?} {report}");
    let sent: Vec<String> = t
        .sim
        .state()
        .posts_of(Some(ME))
        .iter()
        .map(|p| p["sent_text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent, parts, "each part once, in order");
    t.assert_exactly_once(3).await;
}
