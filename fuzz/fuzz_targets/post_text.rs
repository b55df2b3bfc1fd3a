//! Post text: X's weighted length, the `TweetText` rules and the reconciliation's text match.
#![no_main]

use libfuzzer_sys::fuzz_target;
use posts::text::{analyze, TweetText};
use scheduler::matching;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let report = analyze(text);
    assert_eq!(report.valid, report.errors.is_empty());
    match TweetText::parse(text) {
        Ok(t) => {
            assert!(report.valid || text.trim() != text);
            assert_eq!(t.duplicate_key().len(), 64);
            assert_eq!(t.as_str().trim(), t.as_str());
        }
        Err(e) => assert_eq!(e.status(), 422),
    }
    // X's answer with our text and no entities is our text.
    let post: common::x::Post =
        serde_json::from_value(serde_json::json!({ "id": "1", "text": text })).unwrap();
    assert!(matching::same_text(text, &post));
});
