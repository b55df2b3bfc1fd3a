//! OAuth 1.0a (RFC 5849) HMAC-SHA1 signatures as X documents them ("Creating a signature").
//!
//! Public so that clients and tests can sign requests the same way the simulator checks them.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - . _ ~`.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decoding; `+` becomes a space when `plus_is_space` (form and query encoding).
pub fn decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// `a=1&b=2` into decoded pairs.
pub fn parse_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k, true), decode(v, true))
        })
        .collect()
}

/// The signature base string: `METHOD&enc(base_url)&enc(sorted, encoded params)`.
pub fn base_string(method: &str, base_url: &str, params: &[(String, String)]) -> String {
    let mut enc: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "oauth_signature" && k != "realm")
        .map(|(k, v)| (encode(k), encode(v)))
        .collect();
    enc.sort();
    let joined = enc
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(base_url),
        encode(&joined)
    )
}

/// HMAC-SHA1 of the base string with `enc(consumer_secret)&enc(token_secret)`, base64.
pub fn sign_base(base: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("hmac takes any key");
    mac.update(base.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Signs a request: `params` are the query, form-body and `oauth_*` parameters.
pub fn sign(
    method: &str,
    base_url: &str,
    params: &[(String, String)],
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    sign_base(
        &base_string(method, base_url, params),
        consumer_secret,
        token_secret,
    )
}

/// Parses `OAuth k="v", ...` into decoded pairs; `None` if not an OAuth header.
pub fn parse_header(value: &str) -> Option<Vec<(String, String)>> {
    let rest = value
        .strip_prefix("OAuth ")
        .or_else(|| value.strip_prefix("oauth "))?;
    Some(
        rest.split(',')
            .filter_map(|p| {
                let (k, v) = p.trim().split_once('=')?;
                let v = v.trim().trim_matches('"');
                Some((decode(k.trim(), false), decode(v, false)))
            })
            .collect(),
    )
}

/// Builds a complete `Authorization: OAuth ...` header value for a request.
///
/// `url` may carry a query string: its parameters are signed, and the base URL excludes it.
/// JSON bodies are not signed (X's rule); pass form-body pairs in `form` when there are any.
#[allow(clippy::too_many_arguments)]
pub fn authorization_header(
    method: &str,
    url: &str,
    form: &[(String, String)],
    consumer_key: &str,
    consumer_secret: &str,
    token: &str,
    token_secret: &str,
    nonce: &str,
    timestamp: i64,
) -> String {
    let (base_url, query) = url.split_once('?').unwrap_or((url, ""));
    let oauth: Vec<(String, String)> = vec![
        ("oauth_consumer_key".into(), consumer_key.into()),
        ("oauth_nonce".into(), nonce.into()),
        ("oauth_signature_method".into(), "HMAC-SHA1".into()),
        ("oauth_timestamp".into(), timestamp.to_string()),
        ("oauth_token".into(), token.into()),
        ("oauth_version".into(), "1.0".into()),
    ];
    let mut params = parse_pairs(query);
    params.extend(form.iter().cloned());
    params.extend(oauth.iter().cloned());
    let sig = sign(method, base_url, &params, consumer_secret, token_secret);
    let mut parts: Vec<String> = oauth
        .iter()
        .map(|(k, v)| format!("{}=\"{}\"", encode(k), encode(v)))
        .collect();
    parts.push(format!("oauth_signature=\"{}\"", encode(&sig)));
    parts.sort();
    format!("OAuth {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    /// X's canonical example from "Creating a signature".
    #[test]
    fn x_documented_example() {
        let params = vec![
            p(
                "status",
                "Hello Ladies + Gentlemen, a signed OAuth request!",
            ),
            p("include_entities", "true"),
            p("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
            p("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
            p("oauth_signature_method", "HMAC-SHA1"),
            p("oauth_timestamp", "1318622958"),
            p(
                "oauth_token",
                "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
            ),
            p("oauth_version", "1.0"),
        ];
        let base = base_string(
            "post",
            "https://api.twitter.com/1.1/statuses/update.json",
            &params,
        );
        assert_eq!(
            base,
            "POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
        );
        let sig = sign_base(
            &base,
            "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
            "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        );
        assert_eq!(sig, "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
    }

    #[test]
    fn header_round_trip() {
        let h = authorization_header(
            "GET",
            "http://127.0.0.1:1/2/users/me?user.fields=public_metrics",
            &[],
            "ck",
            "cs",
            "tok",
            "ts",
            "n0nce",
            1,
        );
        let parsed = parse_header(&h).unwrap();
        let sig = parsed
            .iter()
            .find(|(k, _)| k == "oauth_signature")
            .unwrap()
            .1
            .clone();
        let mut params = parse_pairs("user.fields=public_metrics");
        params.extend(parsed);
        assert_eq!(
            sign("GET", "http://127.0.0.1:1/2/users/me", &params, "cs", "ts"),
            sig
        );
        assert_eq!(decode("a%20b+c", true), "a b c");
        assert_eq!(decode("100%", false), "100%");
    }
}
