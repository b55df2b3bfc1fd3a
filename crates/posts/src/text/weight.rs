//! Weighing a tokenized text as twitter-text's configuration v3 does, and collecting its
//! entities.

use super::scan::{tokens, Kind};

/// X's scale: weights are in hundredths of a character.
const SCALE: u32 = 100;
/// What a character outside the ranges below, and an emoji sequence, weighs.
const DEFAULT_WEIGHT: u32 = 200;
/// What every URL weighs: the length of the t.co link X puts in its place.
const URL_WEIGHT: u32 = 23 * SCALE;
/// Configuration v3's ranges of code points that weigh 100: Latin, Greek, Cyrillic and most
/// scripts below U+1100, spaces and dashes, quotation marks, primes.
const LIGHT: [(u32, u32); 4] = [(0, 4351), (8192, 8205), (8208, 8223), (8242, 8247)];
/// The longest URL X's backend takes; a longer one is text.
const MAX_URL_LENGTH: usize = 4096;

pub(super) struct Measured {
    pub weighted_length: u32,
    pub refused_characters: bool,
    pub urls: Vec<String>,
    pub mentions: Vec<String>,
    pub hashtags: Vec<String>,
}

/// Weighs an NFC-normalised text and lists its URLs, mentions and hashtags.
pub(super) fn measure(text: &str) -> Measured {
    let mut measured = Measured {
        weighted_length: 0,
        refused_characters: false,
        urls: Vec::new(),
        mentions: Vec::new(),
        hashtags: Vec::new(),
    };
    let mut scale = Scale {
        text,
        cursor: 0,
        weight: 0,
    };
    for token in tokens(text) {
        let span = token.span.clone();
        // Mentions, hashtags and lists weigh what their characters weigh: they are text to
        // the scale, which reaches them with the next token or the end.
        scale.weigh_text_to(span.start);
        let value = |from: usize| text[from..span.end].to_string();
        match token.kind {
            Kind::Invalid => measured.refused_characters = true,
            Kind::Emoji => scale.add(DEFAULT_WEIGHT, span.end),
            Kind::Url { host, scheme } => {
                if valid_url(&text[span.clone()], &text[host], scheme) {
                    scale.add(URL_WEIGHT, span.end);
                    measured.urls.push(value(span.start));
                }
            }
            Kind::Hashtag { value: from } => measured.hashtags.push(value(from)),
            Kind::Mention { value: from } => measured.mentions.push(value(from)),
            Kind::List {
                value: from,
                owner_end,
            } => measured.mentions.push(text[from..owner_end].to_string()),
        }
    }
    scale.weigh_text_to(text.len());
    measured.weighted_length = scale.weight / SCALE;
    measured
}

/// Like twitter-text, the tokens are weighed in order with one cursor: a token inside a URL
/// that was already weighed (an emoji in its host) adds its own weight, and nothing else.
struct Scale<'a> {
    text: &'a str,
    cursor: usize,
    weight: u32,
}

impl Scale<'_> {
    /// Weighs the characters from the cursor to `end`, one by one.
    fn weigh_text_to(&mut self, end: usize) {
        if end > self.cursor {
            let text = &self.text[self.cursor..end];
            self.weight += text.chars().map(char_weight).sum::<u32>();
            self.cursor = end;
        }
    }

    /// Adds a token's weight and moves the cursor past it.
    fn add(&mut self, weight: u32, end: usize) {
        self.weight += weight;
        self.cursor = self.cursor.max(end);
    }
}

fn char_weight(c: char) -> u32 {
    let c = c as u32;
    if LIGHT.iter().any(|&(low, high)| (low..=high).contains(&c)) {
        SCALE
    } else {
        DEFAULT_WEIGHT
    }
}

/// X takes a URL whose host converts to ASCII under IDNA and whose whole length, with the host
/// so converted, stays under 4,096.
fn valid_url(url: &str, host: &str, scheme: bool) -> bool {
    let Some(ascii) = super::idna::ascii_length(host) else {
        return false;
    };
    let scheme_length = if scheme { 0 } else { "https://".len() };
    scheme_length + url.len() - host.len() + ascii < MAX_URL_LENGTH
}
