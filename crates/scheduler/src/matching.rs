//! Is a post on X's timeline the part we sent? X answers a post's text changed: NFC-normalised,
//! trimmed, every URL replaced by a t.co link (the original in `entities.urls[].expanded_url`,
//! with `http://` added when the text had none), a link to the media appended, `&`, `<` and `>`
//! as HTML entities. Both sides are brought to one form before comparing: t.co links expanded,
//! every URL X linked reduced to its form without scheme, `www.` or trailing `/`, HTML entities
//! undone, then NFC, lowercase, whitespace runs as one space.
//!
//! Which parts of our text are URLs is what X's answer says (its `entities.urls`), not a parse
//! of our own: X decided what to link, and a URL it did not link stays as written on both
//! sides.

use common::x::Post;
use unicode_normalization::UnicodeNormalization;

/// Whether `post` (from X, with `entities`) carries the text `ours` (as we sent it).
pub fn same_text(ours: &str, post: &Post) -> bool {
    let linked: Vec<String> = post
        .entities
        .iter()
        .flat_map(|e| &e.urls)
        .filter(|u| !u.is_media())
        .filter_map(|u| u.expanded_url.as_deref())
        .map(str::to_lowercase)
        .collect();
    comparable(ours, &linked) == comparable(&post.expanded_text(), &linked)
}

/// The form both sides are compared in; `linked`: the URLs X linked, lowercase, in order.
fn comparable(text: &str, linked: &[String]) -> String {
    let nfc: String = unescape(text).nfc().collect();
    fold(&urls_reduced(&nfc.to_lowercase(), linked))
}

/// X escapes these three in the text it answers.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `text` with each URL X linked, in order, in reduced form. X may have added `http://` or a
/// trailing `/` to what the text said, so those forms are looked for too.
fn urls_reduced(text: &str, linked: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    for url in linked {
        let bare = url.strip_prefix("http://").unwrap_or(url);
        let forms = [
            url.as_str(),
            bare,
            url.trim_end_matches('/'),
            bare.trim_end_matches('/'),
        ];
        let Some((at, len)) = forms
            .iter()
            .filter(|f| !f.is_empty())
            .find_map(|f| rest.find(f).map(|at| (at, f.len())))
        else {
            continue;
        };
        out.push_str(rest.get(..at).unwrap_or_default());
        out.push_str(&reduce_url(url));
        rest = rest.get(at + len..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// A URL without scheme, `www.` or trailing `/`: the parts X may add or keep differently.
fn reduce_url(url: &str) -> String {
    let rest = ["https://", "http://"]
        .iter()
        .find_map(|s| url.strip_prefix(s))
        .unwrap_or(url);
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    rest.trim_end_matches('/').to_string()
}

/// Whitespace runs as one space, trimmed.
fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
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
    fn a_scheme_or_slash_x_added_to_a_url_is_not_a_difference() {
        let ours = "docs at www.Example.com and https://rust-lang.org";
        let theirs = x_post(
            "docs at https://t.co/AAAAAAAAAA and https://t.co/BBBBBBBBBB",
            vec![
                link("https://t.co/AAAAAAAAAA", "http://www.example.com/"),
                link("https://t.co/BBBBBBBBBB", "https://rust-lang.org/"),
            ],
        );
        assert!(same_text(ours, &theirs));
        assert!(!same_text(
            "docs at www.example.org and https://rust-lang.org",
            &theirs
        ));
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
