//! Is a post on X's timeline the part we sent? X answers a post's text changed: NFC-normalised,
//! trimmed, every URL replaced by a t.co link (the original in `entities.urls[].expanded_url`,
//! with `http://` added when the text had none), a link to the media appended, `&`, `<` and `>`
//! as HTML entities. Both sides are brought to one form before comparing: t.co links expanded,
//! every URL reduced to its form without scheme, `www.` or trailing `/`, HTML entities undone,
//! then NFC, lowercase, whitespace runs as one space.

use common::x::Post;
use twitter_text::entity::Type;
use twitter_text::extractor::{Extract, Extractor};
use twitter_text_parser::twitter_text::Rule;
use unicode_normalization::UnicodeNormalization;

/// Whether `post` (from X, with `entities`) carries the text `ours` (as we sent it).
pub fn same_text(ours: &str, post: &Post) -> bool {
    comparable(ours) == comparable(&post.expanded_text())
}

/// The form both sides are compared in.
pub fn comparable(text: &str) -> String {
    let nfc: String = unescape(text).nfc().collect();
    fold(&urls_reduced(&nfc))
}

/// X escapes these three in the text it answers.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every URL twitter-text finds (as X links them, `example.com` included) in reduced form.
fn urls_reduced(text: &str) -> String {
    let found =
        Extractor::new().extract(text, |r| r == Rule::url || r == Rule::url_without_protocol);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut next = 0;
    for e in found.iter().filter(|e| e.get_type() == Type::URL) {
        let (start, end) = (e.get_start() as usize, e.get_end() as usize);
        if start < next || end > chars.len() {
            continue;
        }
        out.extend(chars.get(next..start).unwrap_or_default());
        out.push_str(&reduce_url(e.get_value()));
        next = end;
    }
    out.extend(chars.get(next..).unwrap_or_default());
    out
}

/// A URL without scheme, `www.` or trailing `/`: the parts X may add or keep differently.
fn reduce_url(url: &str) -> String {
    let lower = url.to_lowercase();
    let rest = ["https://", "http://"]
        .iter()
        .find_map(|s| lower.strip_prefix(s))
        .unwrap_or(&lower);
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    rest.trim_end_matches('/').to_string()
}

/// Lowercase, whitespace runs as one space, trimmed.
fn fold(text: &str) -> String {
    text.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::x::api::{Entities, UrlEntity};

    fn link(url: &str, expanded: &str) -> UrlEntity {
        UrlEntity {
            url: Some(url.into()),
            expanded_url: Some(expanded.into()),
            display_url: Some(expanded.trim_start_matches("https://").into()),
            ..UrlEntity::default()
        }
    }

    fn x_post(text: &str, urls: Vec<UrlEntity>) -> Post {
        serde_json::from_value::<Post>(serde_json::json!({"id": "1", "text": text}))
            .map(|mut p| {
                p.entities = Some(Entities {
                    urls,
                    ..Entities::default()
                });
                p
            })
            .unwrap()
    }

    #[test]
    fn a_post_whose_urls_x_shortened_is_recognised() {
        let ours = "Launch 🚀 日本語 https://example.com/a?b=1 @bob #Rust and example.org.";
        let theirs = x_post(
            "Launch 🚀 日本語 https://t.co/AAAAAAAAAA @bob #Rust and https://t.co/BBBBBBBBBB.",
            vec![
                link("https://t.co/AAAAAAAAAA", "https://example.com/a?b=1"),
                link("https://t.co/BBBBBBBBBB", "http://example.org"),
            ],
        );
        assert!(same_text(ours, &theirs));
    }

    #[test]
    fn a_post_with_another_url_is_not_ours() {
        let theirs = x_post(
            "New post https://t.co/AAAAAAAAAA",
            vec![link("https://t.co/AAAAAAAAAA", "https://blog.example/b")],
        );
        assert!(!same_text("New post https://blog.example/a", &theirs));
        assert!(same_text("New post https://blog.example/b", &theirs));
    }

    #[test]
    fn the_media_link_x_appends_is_ignored() {
        let mut media = link(
            "https://t.co/MMMMMMMMMM",
            "https://x.com/me/status/1/photo/1",
        );
        media.media_key = Some("3_1".into());
        let theirs = x_post("look at this https://t.co/MMMMMMMMMM", vec![media]);
        assert!(same_text("look at this", &theirs));
    }

    #[test]
    fn case_whitespace_nfc_and_html_entities_are_folded() {
        let theirs = x_post("Caf\u{e9} &amp; tea &lt;3\n\nbye", vec![]);
        assert!(same_text("cafe\u{301} & tea <3 bye", &theirs));
        assert!(!same_text("cafe & tea <3 bye", &theirs));
    }

    #[test]
    fn without_entities_a_shortened_text_does_not_match() {
        let mut theirs = x_post(
            "see https://t.co/AAAAAAAAAA",
            vec![link("https://t.co/AAAAAAAAAA", "https://example.com")],
        );
        theirs.entities = None;
        assert!(!same_text("see https://example.com", &theirs));
    }
}
