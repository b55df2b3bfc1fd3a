//! Correlation ids: the caller's `X-Correlation-ID` is kept when well-formed, a fresh one is
//! generated otherwise. The host applies the rule before the request reaches a component, so
//! that its own log lines about the request (a trap) carry the id the component logs under; the
//! component's pipeline applies it again, because on Spin nothing does it before. Both must
//! accept exactly the same ids, or one request would be logged under two.

/// The header's name, lower-case as header maps store names.
pub const HEADER: &str = "x-correlation-id";

/// Returns the caller's id when it is 1–64 characters of `[A-Za-z0-9_-]`, else a fresh one.
pub fn accept_or_generate(incoming: Option<&str>) -> String {
    match incoming {
        Some(id) if is_well_formed(id) => id.to_string(),
        _ => generate(),
    }
}

/// Short, and without characters that could split a log line or a header.
pub fn is_well_formed(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A UUIDv7 in simple form: unique, sortable by time, and well-formed by construction.
pub fn generate() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_well_formed_ids_and_replaces_others() {
        let cases = [
            (Some("abc-123_XYZ"), true, "plain id"),
            (Some(&*"a".repeat(64)), true, "64 chars"),
            (Some(&*"a".repeat(65)), false, "65 chars"),
            (Some(""), false, "empty"),
            (Some("has space"), false, "space"),
            (Some("inject\nline"), false, "newline"),
            (Some("semi;colon"), false, "punctuation"),
            (None, false, "absent"),
        ];
        for (input, kept, why) in cases {
            let out = accept_or_generate(input);
            assert_eq!(Some(out.as_str()) == input, kept, "{why}");
            assert!(is_well_formed(&out), "{why}: output must be well-formed");
        }
    }

    #[test]
    fn generated_ids_differ() {
        assert_ne!(generate(), generate());
    }
}
