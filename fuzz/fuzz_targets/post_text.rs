//! Post text: X's weighted length, the `TweetText` rules and the reconciliation's text form.
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
    let _ = matching::comparable(text);
});
