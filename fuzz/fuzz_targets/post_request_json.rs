//! `POST /api/tweets` bodies: JSON decoding (and its error mapping) and post validation.
#![no_main]

use chrono::{TimeZone, Utc};
use common::error::AppError;
use libfuzzer_sys::fuzz_target;
use posts::compose::{self, PostRequest};
use posts::media::MediaKind;

fuzz_target!(|data: &[u8]| {
    let now = Utc.timestamp_opt(1_780_000_000, 0).unwrap();
    match serde_json::from_slice::<PostRequest>(data) {
        Err(e) => {
            let err = AppError::from(e);
            assert!(matches!(err.status(), 400 | 422), "{}", err.status());
            let _ = err.envelope("cid", "2026-01-01T00:00:00Z");
        }
        Ok(req) => {
            let media = |id: &str| match id.len() % 3 {
                0 => Some(MediaKind::Jpeg),
                1 => Some(MediaKind::Mp4),
                _ => None,
            };
            if let Err(e) = compose::validate(&req, now, media) {
                assert_eq!(e.status(), 422);
            }
        }
    }
});
