//! A streaming `multipart/form-data` reader: bytes go in as they arrive, events come out, and
//! a part's content is never held whole — a 512 MB video passes through in pieces. Only what
//! an upload needs: part headers (name, filename, content type) and content.

use common::error::{AppError, Code};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Part {
        name: String,
        filename: Option<String>,
        content_type: Option<String>,
        /// Where the part's content starts in the body (bytes before it).
        offset: u64,
    },
    Data(Vec<u8>),
    PartEnd,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Preamble,
    AfterBoundary,
    Headers,
    Body,
    Done,
}

const MAX_HEADERS: usize = 8 * 1024;

pub struct Reader {
    /// `\r\n--boundary`: the stream is read as if it began with `\r\n`, so that the first
    /// boundary looks like every other one.
    delimiter: Vec<u8>,
    buf: Vec<u8>,
    state: State,
    /// Bytes consumed before the current buffer (for the caller's size arithmetic).
    consumed: u64,
}

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    let essence = parts.next()?.trim().to_ascii_lowercase();
    if essence != "multipart/form-data" {
        return None;
    }
    parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("boundary"))
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

fn malformed(why: &str) -> AppError {
    AppError::new(
        Code::MalformedMultipart,
        format!("Malformed multipart body: {why}"),
    )
}

impl Reader {
    pub fn new(boundary: &str) -> Reader {
        Reader {
            delimiter: format!("\r\n--{boundary}").into_bytes(),
            buf: b"\r\n".to_vec(),
            state: State::Preamble,
            consumed: 0,
        }
    }

    /// Bytes of the body read so far that are no longer buffered (excluding the virtual `\r\n`).
    pub fn consumed(&self) -> u64 {
        self.consumed.saturating_sub(2)
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        self.consumed += n as u64;
        self.buf.drain(..n).collect()
    }

    /// Feeds more bytes; answers the events they complete.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Event>, AppError> {
        self.buf.extend_from_slice(chunk);
        let mut events = Vec::new();
        loop {
            match self.state {
                State::Preamble => match find(&self.buf, &self.delimiter) {
                    Some(i) => {
                        self.take(i + self.delimiter.len());
                        self.state = State::AfterBoundary;
                    }
                    None => {
                        let keep = self.delimiter.len();
                        if self.buf.len() > keep {
                            self.take(self.buf.len() - keep);
                        }
                        return Ok(events);
                    }
                },
                State::AfterBoundary => {
                    if self.buf.len() < 2 {
                        return Ok(events);
                    }
                    if self.buf.starts_with(b"--") {
                        self.take(2);
                        self.state = State::Done;
                        events.push(Event::Done);
                        return Ok(events);
                    }
                    if !self.buf.starts_with(b"\r\n") {
                        return Err(malformed("a boundary must end its line"));
                    }
                    self.take(2);
                    self.state = State::Headers;
                }
                State::Headers => match find(&self.buf, b"\r\n\r\n") {
                    Some(i) => {
                        let mut raw = self.take(i + 4);
                        raw.truncate(i);
                        events.push(parse_headers(&raw, self.consumed())?);
                        self.state = State::Body;
                    }
                    None if self.buf.len() > MAX_HEADERS => {
                        return Err(malformed("part headers are too long"))
                    }
                    None => return Ok(events),
                },
                State::Body => match find(&self.buf, &self.delimiter) {
                    Some(i) => {
                        let data = self.take(i);
                        if !data.is_empty() {
                            events.push(Event::Data(data));
                        }
                        let n = self.delimiter.len();
                        self.take(n);
                        events.push(Event::PartEnd);
                        self.state = State::AfterBoundary;
                    }
                    None => {
                        // Everything except a possible delimiter prefix at the end is content.
                        let safe = self.buf.len().saturating_sub(self.delimiter.len() - 1);
                        if safe > 0 {
                            events.push(Event::Data(self.take(safe)));
                        }
                        return Ok(events);
                    }
                },
                State::Done => {
                    // The epilogue is ignored.
                    let n = self.buf.len();
                    self.take(n);
                    return Ok(events);
                }
            }
        }
    }

    /// Call at the end of the body: a part or the closing boundary that never came is an error.
    pub fn finish(&self) -> Result<(), AppError> {
        match self.state {
            State::Done => Ok(()),
            _ => Err(malformed("the body ended before the closing boundary")),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_headers(raw: &[u8], offset: u64) -> Result<Event, AppError> {
    let text = std::str::from_utf8(raw).map_err(|_| malformed("part headers are not UTF-8"))?;
    let mut name = None;
    let mut filename = None;
    let mut content_type = None;
    for line in text.split("\r\n") {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        if key == "content-type" {
            content_type = Some(value.trim().to_string());
        } else if key == "content-disposition" {
            for param in value.split(';').skip(1) {
                let Some((k, v)) = param.split_once('=') else {
                    continue;
                };
                let v = v.trim().trim_matches('"').to_string();
                match k.trim().to_ascii_lowercase().as_str() {
                    "name" => name = Some(v),
                    "filename" => filename = Some(v),
                    _ => {}
                }
            }
        }
    }
    Ok(Event::Part {
        name: name.ok_or_else(|| malformed("a part has no name"))?,
        filename,
        content_type,
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(
            b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n",
        );
        b.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n");
        b.extend_from_slice(b"\x89PNG\r\n--Xy not a boundary\r\n");
        b.extend_from_slice(b"\r\n--XyZ--\r\n");
        b
    }

    /// Feeds `input` in chunks of `size` and joins the events (data merged per part).
    fn run(input: &[u8], size: usize) -> Vec<Event> {
        let mut r = Reader::new("XyZ");
        let mut out: Vec<Event> = Vec::new();
        for chunk in input.chunks(size) {
            for e in r.feed(chunk).unwrap() {
                match (out.last_mut(), e) {
                    (Some(Event::Data(prev)), Event::Data(more)) => prev.extend(more),
                    (_, e) => out.push(e),
                }
            }
        }
        r.finish().unwrap();
        out
    }

    #[test]
    fn parts_come_out_the_same_whatever_the_chunk_size() {
        let expected = vec![
            Event::Part {
                name: "note".into(),
                filename: None,
                content_type: None,
                offset: 64,
            },
            Event::Data(b"hello".to_vec()),
            Event::PartEnd,
            Event::Part {
                name: "media".into(),
                filename: Some("a.png".into()),
                content_type: Some("image/png".into()),
                offset: 169,
            },
            Event::Data(b"\x89PNG\r\n--Xy not a boundary\r\n".to_vec()),
            Event::PartEnd,
            Event::Done,
        ];
        for size in [1, 2, 3, 7, 16, 1000] {
            assert_eq!(run(&body(), size), expected, "chunks of {size}");
        }
    }

    #[test]
    fn a_truncated_body_and_garbage_after_a_boundary_are_errors() {
        let mut r = Reader::new("XyZ");
        let b = body();
        r.feed(&b[..b.len() - 10]).unwrap();
        assert!(r.finish().is_err());
        let mut r = Reader::new("XyZ");
        assert!(r.feed(b"--XyZ!!").is_err());
    }

    #[test]
    fn the_boundary_is_read_from_the_content_type() {
        assert_eq!(
            boundary("multipart/form-data; boundary=\"abc\"").as_deref(),
            Some("abc")
        );
        assert_eq!(
            boundary("Multipart/Form-Data;boundary=x1").as_deref(),
            Some("x1")
        );
        assert_eq!(boundary("image/png"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }
}
