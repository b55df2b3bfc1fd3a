//! Weighted post length, after twitter-text's v3 configuration (a self-contained approximation).
//!
//! - the text is NFC-normalised first;
//! - each URL (with `http(s)://`, or a bare `www.`/`domain.tld` form) counts 23;
//! - each emoji sequence (ZWJ sequences, skin tones, flags, keycaps, tag sequences) counts 2;
//! - other code points weigh 1 in 0–4351, 8192–8205, 8208–8223, 8242–8247, else 2.

use unicode_normalization::UnicodeNormalization;

pub const MAX_WEIGHTED_LENGTH: usize = 280;
pub const URL_LENGTH: usize = 23;

/// NFC form of the text.
pub fn nfc(text: &str) -> String {
    text.nfc().collect()
}

fn light(c: u32) -> bool {
    matches!(c, 0..=4351 | 8192..=8205 | 8208..=8223 | 8242..=8247)
}

fn is_pictographic(c: u32) -> bool {
    matches!(c,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2300..=0x23FF | 0x2B05..=0x2B07
        | 0x2B1B..=0x2B1C | 0x2B50 | 0x2B55 | 0x2934..=0x2935 | 0x3030 | 0x303D
        | 0x3297 | 0x3299 | 0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139
        | 0x2194..=0x2199 | 0x21A9..=0x21AA | 0x24C2 | 0x25AA..=0x25AB | 0x25B6
        | 0x25C0 | 0x25FB..=0x25FE)
}

fn is_regional(c: u32) -> bool {
    (0x1F1E6..=0x1F1FF).contains(&c)
}

fn is_modifier(c: u32) -> bool {
    matches!(c, 0xFE0E | 0xFE0F | 0x1F3FB..=0x1F3FF | 0x20E3 | 0xE0020..=0xE007F)
}

/// Length of an emoji sequence starting at `i` (in chars), if one starts there.
fn emoji_len(cs: &[char], i: usize) -> Option<usize> {
    let c = cs[i] as u32;
    let at = |k: usize| cs.get(k).map(|c| *c as u32);
    // Keycaps: [0-9#*] FE0F? 20E3.
    if matches!(cs[i], '0'..='9' | '#' | '*') {
        return match (at(i + 1), at(i + 2)) {
            (Some(0x20E3), _) => Some(2),
            (Some(0xFE0F), Some(0x20E3)) => Some(3),
            _ => None,
        };
    }
    if is_regional(c) {
        return Some(if at(i + 1).is_some_and(is_regional) {
            2
        } else {
            1
        });
    }
    // Text-presentation symbols in the light range (©, ®, ‼, ™ ...) are emoji only with FE0F.
    if !is_pictographic(c) || (light(c) && at(i + 1) != Some(0xFE0F)) {
        return None;
    }
    let mut j = i + 1;
    loop {
        match at(j) {
            Some(m) if is_modifier(m) => j += 1,
            Some(0x200D) if at(j + 1).is_some_and(is_pictographic) => j += 2,
            _ => break,
        }
    }
    Some(j - i)
}

const TLDS: &[&str] = &[
    "com", "org", "net", "io", "co", "dev", "app", "ai", "me", "info", "biz", "edu", "gov", "uk",
    "de", "fr", "jp", "ly", "gl", "tv", "xyz", "us", "ca", "eu",
];

/// Length in chars of a URL starting at `i` (at a word start), if any.
fn url_len(cs: &[char], i: usize) -> Option<usize> {
    if i > 0 && !cs[i - 1].is_whitespace() && !"([\"'".contains(cs[i - 1]) {
        return None;
    }
    let mut end = i;
    while end < cs.len() && !cs[end].is_whitespace() {
        end += 1;
    }
    // Trailing punctuation is not part of a URL.
    while end > i && ".,;:!?)]\"'".contains(cs[end - 1]) {
        end -= 1;
    }
    let word: String = cs[i..end].iter().collect();
    let lower = word.to_ascii_lowercase();
    let (rest, scheme) = match lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    {
        Some(r) => (r.to_string(), true),
        None => (lower.clone(), false),
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.split(':').next().unwrap_or("");
    let labels: Vec<&str> = host.split('.').collect();
    let valid_host = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
        });
    if !valid_host {
        return None;
    }
    let tld = labels[labels.len() - 1];
    if scheme || TLDS.contains(&tld) {
        Some(end - i)
    } else {
        None
    }
}

/// The weighted length of a post text (twitter-text v3 rules, approximated).
pub fn weighted_length(text: &str) -> usize {
    let norm = nfc(text);
    let cs: Vec<char> = norm.chars().collect();
    let mut i = 0;
    let mut total = 0;
    while i < cs.len() {
        if let Some(n) = url_len(&cs, i) {
            total += URL_LENGTH;
            i += n;
        } else if let Some(n) = emoji_len(&cs, i) {
            total += 2;
            i += n;
        } else {
            total += if light(cs[i] as u32) { 1 } else { 2 };
            i += 1;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights() {
        assert_eq!(weighted_length("hello"), 5);
        assert_eq!(weighted_length(&"a".repeat(280)), 280);
        assert_eq!(weighted_length("日本"), 4);
        assert_eq!(
            weighted_length("see https://example.com/a/very/long/path?x=1"),
            27
        );
        assert_eq!(weighted_length("go to example.com."), 6 + 23 + 1);
        assert_eq!(weighted_length("v1.2 ok"), 7);
        assert_eq!(weighted_length("😀"), 2);
        assert_eq!(weighted_length("👩‍👩‍👧‍👦"), 2);
        assert_eq!(weighted_length("👍🏽"), 2);
        assert_eq!(weighted_length("🇫🇷"), 2);
        assert_eq!(weighted_length("1️⃣"), 2);
        assert_eq!(weighted_length("© 2024"), 6);
        // "e" + combining acute is one code point after NFC.
        assert_eq!(weighted_length("e\u{301}"), 1);
        assert_eq!(weighted_length("—“”"), 3);
    }
}
