//! Bulk import bodies: the RFC 4180 reader and the import's row handling, CSV and JSON.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use posts::bulk::{self, Format};
use posts::csv;
use posts::media::MediaKind;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(records) = csv::parse(text) {
        for r in &records {
            assert!(r.line >= 1);
        }
    }
    let now = Utc.timestamp_opt(1_780_000_000, 0).unwrap();
    let media = |_: &str| Some(MediaKind::Png);
    for format in [Format::Csv, Format::Json] {
        match bulk::parse(format, text, now, media) {
            Ok(rows) => {
                if let Err(e) = bulk::all_valid(rows) {
                    assert!(e.status() < 500, "{}", e.status());
                }
            }
            Err(e) => assert!(e.status() < 500, "{}", e.status()),
        }
    }
});
