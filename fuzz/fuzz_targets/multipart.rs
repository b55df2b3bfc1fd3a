//! The streaming multipart reader, fed the body in chunks of a fuzzed size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use posts::multipart::{boundary, Event, Reader};

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else {
        return;
    };
    let chunk = (chunk as usize % 64) + 1;
    // The first line is the Content-Type header, the rest the body.
    let split = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
    let content_type = String::from_utf8_lossy(&rest[..split]);
    let body = rest.get(split + 1..).unwrap_or(&[]);
    let b = boundary(&content_type).unwrap_or_else(|| "xmp-fuzz-boundary".to_string());
    let mut reader = Reader::new(&b);
    let mut data_bytes = 0usize;
    for piece in body.chunks(chunk) {
        match reader.feed(piece) {
            Ok(events) => {
                for e in events {
                    if let Event::Data(d) = e {
                        data_bytes += d.len();
                    }
                }
            }
            Err(e) => {
                assert!(e.status() < 500, "{}", e.status());
                return;
            }
        }
        assert!(reader.consumed() <= body.len() as u64);
    }
    assert!(data_bytes <= body.len());
    if let Err(e) = reader.finish() {
        assert!(e.status() < 500);
    }
});
