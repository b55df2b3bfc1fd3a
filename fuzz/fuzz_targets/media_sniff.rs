//! Media sniffing and the upload check, with each declared type.
#![no_main]

use libfuzzer_sys::fuzz_target;
use posts::media;

const TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/quicktime",
    "application/octet-stream",
    "",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let sniffed = media::sniff(bytes);
    let declared = TYPES[pick as usize % TYPES.len()];
    let total = bytes.len() as u64 * (1 + (pick as u64 >> 4) * 1_000_000);
    match media::check(declared, bytes, total) {
        Ok(_) => assert!(sniffed.is_some()),
        Err(e) => assert!(matches!(e.status(), 413 | 415 | 422), "{}", e.status()),
    }
});
