//! How long measuring a post's text takes: typical posts, and request-body-sized texts in the
//! shapes that make X's grammar backtrack. Run with
//! `cargo run --release -p xmp-posts --example text_bench`; `BENCHMARKS.md` has the figures.

use std::time::{Duration, Instant};
use xmp_posts::text::analyze;

/// Posts as people write them: prose, links, mentions, hashtags, emoji, other scripts.
const TYPICAL: &[&str] = &[
    "Shipping the new scheduler today! Read the notes at https://example.com/blog/scheduler-v2 #launch",
    "@alice @bob_2 thanks for the review 🙏🏽 — merged in https://github.com/org/repo/pull/123",
    "東京で新しいオフィスを開設しました！詳しくは example.co.jp/news をご覧ください #お知らせ",
    "Thread 🧵 1/5: what we learned running 100 accounts for a year 👩‍👩‍👧‍👦 🇫🇷 (long read) www.example.org",
    "Sale ends tonight: 30% off with code SPRING at https://shop.example.com/?utm_source=x&utm_medium=post",
];

fn time(runs: u32, text: &str) -> Duration {
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(analyze(std::hint::black_box(text)));
    }
    start.elapsed() / runs
}

/// The same measurement through twitter-text's generated parser, as the component did before.
fn time_twitter_text(runs: u32, text: &str) -> Duration {
    use twitter_text::extractor::{Extract, ValidatingExtractor};
    use twitter_text_parser::twitter_text::Rule;
    let config = twitter_text_config::config_v3();
    let start = Instant::now();
    for _ in 0..runs {
        let extractor = ValidatingExtractor::new_with_nfc_input(config, text);
        let result = extractor.extract(std::hint::black_box(text), |rule| {
            matches!(
                rule,
                Rule::url
                    | Rule::url_without_protocol
                    | Rule::hashtag
                    | Rule::username
                    | Rule::list
            )
        });
        std::hint::black_box(result.parse_results.weighted_length);
    }
    start.elapsed() / runs
}

fn main() {
    for text in TYPICAL {
        let ours = time(2_000, text).as_secs_f64() * 1e6;
        let theirs = time_twitter_text(2_000, text).as_secs_f64() * 1e6;
        println!(
            "typical, {:>3} bytes: {ours:>7.1} µs (twitter-text {theirs:>7.1} µs)",
            text.len()
        );
    }
    let body = 256 * 1024;
    let times = |piece: &str| piece.repeat(body / piece.len());
    let hostile = [
        ("a.", times("a.")),
        ("a", times("a")),
        ("a-", times("a-")),
        ("#a", times("#a")),
        ("com.", times("com.")),
        ("a.com.", times("a.com.")),
        ("😀.", times("😀.")),
        ("http:// + com.", format!("http://{}", times("com."))),
        ("http:// + a.com.", format!("http://{}", times("a.com."))),
        (
            "http://x.com/ + (a",
            format!("http://x.com/{}", times("(a")),
        ),
        ("http://x.com/ + (", format!("http://x.com/{}", times("("))),
    ];
    for (shape, text) in &hostile {
        let took = time(3, text);
        println!(
            "256 KiB of {shape:<20} {:>8.1} ms",
            took.as_secs_f64() * 1e3
        );
    }
}
