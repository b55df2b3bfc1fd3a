//! What X does to a post's text when it stores it: every URL becomes a `t.co` link, and the
//! text's URLs, mentions, hashtags and cashtags are listed as `entities`.
//!
//! What counts as a URL, mention or hashtag is what twitter-text (X's own open-source rules,
//! crate `twitter-text` 0.2.0) extracts, URLs without a scheme (`example.com`) included. Each URL
//! is replaced by `https://t.co/` and ten random characters (23 characters, the weight X gives
//! every URL); `entities.urls[]` gives its `start`/`end` in the returned text, in code points
//! (end exclusive), the `t.co` `url`, the `expanded_url` (the original, with `http://` added when
//! it had no scheme) and the `display_url` (no scheme, no `www.`, cut after 26 characters with
//! `…`). A post with media gets one more `t.co` link at the end, to the media's page, listed
//! with its `media_key` (`display_url` `pic.x.com/...`). Mentions and hashtags are extracted
//! from the returned text, so their indices are indices into what X answers.

use serde::Serialize;
use twitter_text::entity::Type;
use twitter_text::extractor::{Extract, Extractor};
use twitter_text_parser::twitter_text::Rule;

use crate::state::random_token;

pub const TCO_PREFIX: &str = "https://t.co/";
const DISPLAY_MAX: usize = 26;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UrlEntity {
    pub start: usize,
    pub end: usize,
    pub url: String,
    pub expanded_url: String,
    pub display_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_key: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MentionEntity {
    pub start: usize,
    pub end: usize,
    pub username: String,
    /// The mentioned user's id, when the user exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TagEntity {
    pub start: usize,
    pub end: usize,
    pub tag: String,
}

/// `entities` of a post; empty lists are left out, as X leaves them out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Entities {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<UrlEntity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<MentionEntity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hashtags: Vec<TagEntity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cashtags: Vec<TagEntity>,
}

impl Entities {
    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
            && self.mentions.is_empty()
            && self.hashtags.is_empty()
            && self.cashtags.is_empty()
    }
}

/// A fresh `t.co` link.
pub fn tco() -> String {
    format!("{TCO_PREFIX}{}", random_token(10))
}

/// The original URL as X reports it: `http://` added when the text had no scheme.
pub fn expanded(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        url.to_string()
    } else {
        format!("http://{url}")
    }
}

/// The URL as X shows it: no scheme, no `www.`, at most 26 characters then `…`.
pub fn display(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    let cut = ["https://", "http://"]
        .iter()
        .find(|s| lower.starts_with(*s))
        .map_or(0, |s| s.len());
    let rest = &url[cut..];
    let rest = if rest.to_ascii_lowercase().starts_with("www.") {
        &rest[4..]
    } else {
        rest
    };
    if rest.chars().count() > DISPLAY_MAX {
        format!("{}…", rest.chars().take(DISPLAY_MAX).collect::<String>())
    } else {
        rest.to_string()
    }
}

/// The media link X appends to a post with media.
pub struct MediaLink {
    /// `3_<media id>`.
    pub media_key: String,
    /// `https://x.com/<user>/status/<post id>/photo/1` (or `video/1`).
    pub expanded_url: String,
}

/// The text X stores for `text` (already NFC and trimmed), with its entities; mentions have
/// no `id` yet (see [`Entities::resolve_mentions`]).
pub fn shorten(text: &str) -> (String, Entities) {
    let chars: Vec<char> = text.chars().collect();
    let found =
        Extractor::new().extract(text, |r| r == Rule::url || r == Rule::url_without_protocol);
    let mut out = String::with_capacity(text.len());
    let mut out_len = 0; // code points written
    let mut next = 0; // next code point of `text` to copy
    let mut urls = Vec::new();
    for e in found.iter().filter(|e| e.get_type() == Type::URL) {
        let (start, end) = (e.get_start() as usize, e.get_end() as usize);
        if start < next || end > chars.len() {
            continue;
        }
        out.extend(&chars[next..start]);
        out_len += start - next;
        let link = tco();
        let len = link.chars().count();
        urls.push(UrlEntity {
            start: out_len,
            end: out_len + len,
            url: link.clone(),
            expanded_url: expanded(e.get_value()),
            display_url: display(e.get_value()),
            media_key: None,
        });
        out.push_str(&link);
        out_len += len;
        next = end;
    }
    out.extend(&chars[next.min(chars.len())..]);
    let mut entities = Entities {
        urls,
        ..Entities::default()
    };
    let others = Extractor::new().extract(&out, |r| {
        matches!(r, Rule::username | Rule::hashtag | Rule::cashtag)
    });
    for e in others {
        let (start, end) = (e.get_start() as usize, e.get_end() as usize);
        let value = e.get_value().to_string();
        match e.get_type() {
            Type::MENTION => entities.mentions.push(MentionEntity {
                start,
                end,
                id: None,
                username: value,
            }),
            Type::HASHTAG => entities.hashtags.push(TagEntity {
                start,
                end,
                tag: value,
            }),
            Type::CASHTAG => entities.cashtags.push(TagEntity {
                start,
                end,
                tag: value,
            }),
            Type::URL => {}
        }
    }
    (out, entities)
}

impl Entities {
    /// Gives each mention of an existing user that user's id.
    pub fn resolve_mentions(&mut self, user_id_of: impl Fn(&str) -> Option<u64>) {
        for m in &mut self.mentions {
            m.id = user_id_of(&m.username).map(|id| id.to_string());
        }
    }
}

/// Appends the link X adds to a post with media (after a space, unless the text is empty).
pub fn append_media(text: &mut String, entities: &mut Entities, media: MediaLink) {
    if !text.is_empty() {
        text.push(' ');
    }
    let start = text.chars().count();
    let link = tco();
    entities.urls.push(UrlEntity {
        start,
        end: start + link.chars().count(),
        display_url: format!("pic.x.com/{}", &link[TCO_PREFIX.len()..]),
        url: link.clone(),
        expanded_url: media.expanded_url,
        media_key: Some(media.media_key),
    });
    text.push_str(&link);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str, start: usize, end: usize) -> String {
        text.chars().skip(start).take(end - start).collect()
    }

    #[test]
    fn a_url_with_a_scheme_becomes_a_tco_link_listed_with_its_original() {
        let (text, e) = shorten("read https://example.com/a?b=1 now");
        assert_eq!(e.urls.len(), 1);
        let u = &e.urls[0];
        assert!(
            u.url.starts_with(TCO_PREFIX) && u.url.len() == 23,
            "{}",
            u.url
        );
        assert_eq!(text, format!("read {} now", u.url));
        assert_eq!((u.start, u.end), (5, 28));
        assert_eq!(span(&text, u.start, u.end), u.url);
        assert_eq!(u.expanded_url, "https://example.com/a?b=1");
        assert_eq!(u.display_url, "example.com/a?b=1");
    }

    #[test]
    fn a_url_without_a_scheme_is_linked_and_expanded_with_http() {
        let (text, e) = shorten("go to www.example.com.");
        assert_eq!(e.urls.len(), 1);
        assert_eq!(e.urls[0].expanded_url, "http://www.example.com");
        assert_eq!(e.urls[0].display_url, "example.com");
        assert_eq!(text, format!("go to {}.", e.urls[0].url));
        let (_, e) = shorten("see example.com");
        assert_eq!(e.urls[0].expanded_url, "http://example.com");
    }

    #[test]
    fn several_urls_each_get_their_own_link_and_indices() {
        let (text, e) = shorten("a https://one.com/x b two.org c http://three.net/");
        let expanded: Vec<_> = e.urls.iter().map(|u| u.expanded_url.as_str()).collect();
        assert_eq!(
            expanded,
            ["https://one.com/x", "http://two.org", "http://three.net/"]
        );
        for u in &e.urls {
            assert_eq!(span(&text, u.start, u.end), u.url);
        }
        assert_ne!(e.urls[0].url, e.urls[1].url);
    }

    #[test]
    fn indices_count_code_points_after_emoji_and_cjk() {
        // 🎉 is one code point (two UTF-16 units, four bytes); 日本語 three code points.
        let (text, mut e) = shorten("🎉日本語 https://例え.jp/a @bob #タグ");
        e.resolve_mentions(|u| (u == "bob").then_some(42));
        let u = &e.urls[0];
        assert_eq!((u.start, u.end), (5, 28));
        assert_eq!(span(&text, u.start, u.end), u.url);
        assert_eq!(u.expanded_url, "https://例え.jp/a");
        let m = &e.mentions[0];
        assert_eq!((m.start, m.end, m.username.as_str()), (29, 33, "bob"));
        assert_eq!(span(&text, m.start, m.end), "@bob");
        assert_eq!(m.id.as_deref(), Some("42"));
        let h = &e.hashtags[0];
        assert_eq!(span(&text, h.start, h.end), "#タグ");
        assert_eq!(h.tag, "タグ");
    }

    #[test]
    fn a_text_without_entities_is_unchanged() {
        let (text, e) = shorten("plain words, v1.2 and a@b");
        assert_eq!(text, "plain words, v1.2 and a@b");
        assert!(e.is_empty());
    }

    #[test]
    fn media_adds_a_trailing_link_with_its_media_key() {
        let media = MediaLink {
            media_key: "3_7".into(),
            expanded_url: "https://x.com/me/status/1/photo/1".into(),
        };
        let (mut text, mut e) = shorten("look $BTC");
        append_media(&mut text, &mut e, media);
        let u = &e.urls[0];
        assert_eq!(text, format!("look $BTC {}", u.url));
        assert_eq!(u.media_key.as_deref(), Some("3_7"));
        assert!(u.display_url.starts_with("pic.x.com/"));
        assert_eq!(e.cashtags[0].tag, "BTC");
    }

    #[test]
    fn long_urls_are_displayed_cut_with_an_ellipsis() {
        assert_eq!(
            display("https://www.example.com/a/very/long/path/indeed"),
            "example.com/a/very/long/pa…"
        );
    }
}
