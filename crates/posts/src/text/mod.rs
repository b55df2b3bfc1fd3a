//! Post text: X's weighted length (twitter-text, configuration v3) and the `TweetText` newtype.
//!
//! X does not count characters: it counts weights. Latin scripts and common punctuation weigh 1,
//! everything else (CJK, most symbols) weighs 2, an emoji sequence (ZWJ families, flags, skin
//! tones) weighs 2 however many code points it has, and every URL weighs 23 whatever its length,
//! because X rewrites it to a t.co link. The limit is 280. Text is NFC-normalised first, as X
//! does, so that "e" + combining acute accent counts as the single "é" it displays as.

use common::error::AppError;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

mod emoji;
mod idna;
mod scan;
mod tld;
mod url;
mod weight;

/// X's limit, in weighted characters.
pub const MAX_WEIGHTED_LENGTH: u32 = 280;

/// What the composer shows while the user types, and what a refusal carries in its details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TextReport {
    pub weighted_length: u32,
    pub valid: bool,
    /// `280 - weightedLength`; negative when the text is too long, as X's composer shows it.
    pub remaining: i32,
    /// Weighted length per thousand of the limit (the composer's ring).
    pub permillage: u32,
    pub urls: Vec<String>,
    /// Usernames without the `@`, in order of appearance.
    pub mentions: Vec<String>,
    /// Hashtags without the `#`, in order of appearance.
    pub hashtags: Vec<String>,
    pub errors: Vec<TextProblem>,
}

/// Why a text is not valid. Serialised as stable camelCase codes so that clients can translate
/// them; [`TextProblem::message`] is the English text used in error responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TextProblem {
    /// Nothing but whitespace.
    Empty,
    /// Over 280 weighted characters.
    TooLong,
    /// U+FFFE, U+FEFF or U+FFFF, which X refuses.
    InvalidCharacters,
}

impl TextProblem {
    pub fn message(self) -> &'static str {
        match self {
            TextProblem::Empty => "text must not be empty",
            TextProblem::TooLong => "text is longer than 280 weighted characters",
            TextProblem::InvalidCharacters => "text contains characters X does not accept",
        }
    }
}

/// Measures `text` as X will, after NFC normalisation. Never fails: an invalid text is reported.
pub fn analyze(text: &str) -> TextReport {
    let nfc: String = text.nfc().collect();
    analyze_nfc(&nfc)
}

/// [`analyze`] of a text already NFC-normalised.
fn analyze_nfc(nfc: &str) -> TextReport {
    let measured = weight::measure(nfc);
    let weighted_length = measured.weighted_length;
    let mut errors = Vec::new();
    if nfc.trim().is_empty() {
        errors.push(TextProblem::Empty);
    } else if weighted_length > MAX_WEIGHTED_LENGTH {
        errors.push(TextProblem::TooLong);
    } else if measured.refused_characters {
        errors.push(TextProblem::InvalidCharacters);
    }
    TextReport {
        weighted_length,
        valid: errors.is_empty(),
        remaining: MAX_WEIGHTED_LENGTH as i32 - weighted_length as i32,
        permillage: weighted_length * 1000 / MAX_WEIGHTED_LENGTH,
        urls: measured.urls,
        mentions: measured.mentions,
        hashtags: measured.hashtags,
        errors,
    }
}

/// The text of one post, NFC-normalised, trimmed, non-empty and within X's weighted limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TweetText(String);

impl TweetText {
    /// Surrounding whitespace is dropped (X drops it too, and it would otherwise count).
    /// A refusal is a 422 whose details carry the full [`TextReport`] under `text`.
    pub fn parse(input: &str) -> Result<TweetText, AppError> {
        let nfc: String = input.trim().nfc().collect();
        let report = analyze_nfc(&nfc);
        match report.errors.first() {
            None => Ok(TweetText(nfc)),
            Some(problem) => {
                Err(AppError::validation(problem.message()).with_details(json!({ "text": report })))
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    /// The key of X's duplicate-content rule (same account, same text, within 24 h): SHA-256
    /// of the text lowercased with whitespace runs collapsed, as 64 hex digits. X's own rule is
    /// stricter than byte equality, so near-identical texts must collide here too.
    pub fn duplicate_key(&self) -> String {
        let folded = self
            .0
            .split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" ");
        hex::encode(Sha256::digest(folded.as_bytes()))
    }
}

impl AsRef<str> for TweetText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weight(text: &str) -> u32 {
        analyze(text).weighted_length
    }

    #[test]
    fn ascii_is_valid_up_to_280_and_not_at_281() {
        let ok = analyze(&"a".repeat(280));
        assert_eq!((ok.weighted_length, ok.valid, ok.remaining), (280, true, 0));
        assert_eq!(ok.permillage, 1000);
        let long = analyze(&"a".repeat(281));
        assert_eq!((long.weighted_length, long.valid), (281, false));
        assert_eq!(long.remaining, -1);
        assert_eq!(long.errors, vec![TextProblem::TooLong]);
        assert!(TweetText::parse(&"a".repeat(280)).is_ok());
        assert!(TweetText::parse(&"a".repeat(281)).is_err());
    }

    #[test]
    fn cjk_counts_two_so_140_fit_and_141_do_not() {
        assert_eq!(weight(&"漢".repeat(140)), 280);
        assert!(TweetText::parse(&"漢".repeat(140)).is_ok());
        assert_eq!(weight(&"あ".repeat(141)), 282);
        assert!(TweetText::parse(&"한".repeat(141)).is_err());
    }

    #[test]
    fn every_emoji_sequence_counts_two() {
        let cases = [
            ("😀", "single emoji"),
            ("👩\u{200d}👩\u{200d}👧\u{200d}👦", "ZWJ family"),
            ("🇫🇷", "flag (regional indicator pair)"),
            ("👍🏽", "skin tone modifier"),
            ("🏳\u{fe0f}\u{200d}🌈", "rainbow flag"),
            (
                "🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}",
                "tag sequence flag",
            ),
        ];
        for (emoji, what) in cases {
            assert_eq!(weight(emoji), 2, "{what}");
            assert_eq!(weight(&format!("a{emoji}b")), 4, "{what} between letters");
        }
        // 140 families of seven code points each are still exactly at the limit.
        let families = "👨\u{200d}👩\u{200d}👧".repeat(140);
        assert!(analyze(&families).valid);
    }

    #[test]
    fn a_url_counts_23_whatever_its_length() {
        let short = analyze("see https://x.co");
        let long_url = format!("https://example.com/{}", "p".repeat(200));
        let long = analyze(&format!("see {long_url}"));
        assert_eq!(short.weighted_length, 4 + 23);
        assert_eq!(long.weighted_length, 4 + 23);
        assert_eq!(long.urls, vec![long_url]);
        assert_eq!(weight("go to example.com"), 6 + 23, "no scheme");
        assert_eq!(
            analyze("go to www.example.com.").urls,
            vec!["www.example.com"]
        );
    }

    #[test]
    fn text_is_nfc_normalised_before_counting() {
        assert_eq!(weight("e\u{301}"), 1);
        assert_eq!(weight("é"), 1);
        let decomposed = "e\u{301}".repeat(280);
        assert!(analyze(&decomposed).valid, "280 decomposed é are 280");
        assert_eq!(
            TweetText::parse("Cafe\u{301}").unwrap().as_str(),
            "Café",
            "stored composed"
        );
    }

    #[test]
    fn mentions_hashtags_and_urls_are_extracted_in_order() {
        let report = analyze("@alice meet @bob_2 at #RustConf #2026x https://rust-lang.org $BTC");
        assert_eq!(report.mentions, vec!["alice", "bob_2"]);
        assert_eq!(report.hashtags, vec!["RustConf", "2026x"]);
        assert_eq!(report.urls, vec!["https://rust-lang.org"]);
        assert!(
            analyze("mail a@b.example").mentions.is_empty(),
            "not a mention"
        );
    }

    #[test]
    fn empty_and_whitespace_only_texts_are_refused() {
        for text in ["", "   ", "\n\t "] {
            let report = analyze(text);
            assert_eq!(report.errors, vec![TextProblem::Empty], "{text:?}");
            let err = TweetText::parse(text).unwrap_err();
            assert_eq!(err.status(), 422, "{text:?}");
        }
    }

    #[test]
    fn invalid_characters_are_refused() {
        let report = analyze("hello\u{feff}");
        assert_eq!(report.errors, vec![TextProblem::InvalidCharacters]);
    }

    #[test]
    fn a_refusal_carries_the_report_in_camel_case() {
        let err = TweetText::parse(&"b".repeat(300)).unwrap_err();
        let text = &err.details.as_ref().unwrap()["text"];
        assert_eq!(text["weightedLength"], 300);
        assert_eq!(text["remaining"], -20);
        assert_eq!(text["valid"], false);
        assert_eq!(text["errors"], json!(["tooLong"]));
        let keys: Vec<_> = text.as_object().unwrap().keys().cloned().collect();
        let mut expected = vec![
            "weightedLength",
            "valid",
            "remaining",
            "permillage",
            "urls",
            "mentions",
            "hashtags",
            "errors",
        ];
        expected.sort();
        assert_eq!(keys, expected);
    }

    #[test]
    fn surrounding_whitespace_is_trimmed_and_duplicates_fold_case_and_spaces() {
        let a = TweetText::parse("  Hello   World \n").unwrap();
        assert_eq!(a.as_str(), "Hello   World");
        let b = TweetText::parse("hello world").unwrap();
        let c = TweetText::parse("hello, world").unwrap();
        assert_eq!(a.duplicate_key(), b.duplicate_key());
        assert_ne!(b.duplicate_key(), c.duplicate_key());
        assert_eq!(a.duplicate_key().len(), 64);
    }
}

#[cfg(test)]
mod conformance_tests;
