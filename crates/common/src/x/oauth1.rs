//! OAuth 1.0a user-context signing (HMAC-SHA1), as X's "Creating a signature" and RFC 5849 §3.4
//! describe it.
//!
//! Signed parameters are the query, a form-encoded body and the `oauth_*` parameters. JSON and
//! multipart bodies are not signed: X follows the RFC, which only covers
//! `application/x-www-form-urlencoded` bodies.

use crate::config::Secret;
use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha1::Sha1;

/// An account's OAuth 1.0a credentials: the app's consumer pair and the user's token pair.
#[derive(Debug, Clone)]
pub struct OAuth1Credentials {
    pub consumer_key: String,
    pub consumer_secret: Secret<String>,
    pub token: String,
    pub token_secret: Secret<String>,
}

/// The `Authorization` header value for a request. `url` may carry a query string: its
/// parameters are signed and the base string URI excludes it. `form` holds the pairs of a
/// form-encoded body, if any.
pub fn authorization_header(
    method: &str,
    url: &str,
    form: &[(String, String)],
    creds: &OAuth1Credentials,
    nonce: &str,
    timestamp: i64,
) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let oauth = [
        ("oauth_consumer_key", creds.consumer_key.as_str()),
        ("oauth_nonce", nonce),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", &timestamp.to_string()),
        ("oauth_token", creds.token.as_str()),
        ("oauth_version", "1.0"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let mut params = parse_pairs(query);
    params.extend(form.iter().cloned());
    params.extend(oauth.iter().cloned());
    let signature = sign(
        &base_string(method, &base_string_uri(base), &params),
        creds.consumer_secret.expose(),
        creds.token_secret.expose(),
    );
    let mut parts: Vec<String> = oauth
        .iter()
        .map(|(k, v)| format!("{}=\"{}\"", encode(k), encode(v)))
        .collect();
    parts.push(format!("oauth_signature=\"{}\"", encode(&signature)));
    format!("OAuth {}", parts.join(", "))
}

/// Every byte but RFC 3986's unreserved `A-Z a-z 0-9 - . _ ~` is encoded.
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// RFC 3986 percent-encoding (RFC 5849 §3.6): everything but `A-Z a-z 0-9 - . _ ~`, with
/// upper-case hex.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, RESERVED).to_string()
}

/// The signature base string: `METHOD&enc(uri)&enc(normalized parameters)`; `realm` and
/// `oauth_signature` never take part.
pub fn base_string(method: &str, base_uri: &str, params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "oauth_signature" && k != "realm")
        .map(|(k, v)| (encode(k), encode(v)))
        .collect();
    // Sorted by encoded name, then by encoded value (RFC 5849 §3.4.1.3.2).
    encoded.sort();
    let normalized = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(base_uri),
        encode(&normalized)
    )
}

/// HMAC-SHA1 keyed with `enc(consumer_secret)&enc(token_secret)`, base64.
pub fn sign(base_string: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    // HMAC takes keys of any length (longer ones are hashed first), so `new_from_slice` has no
    // error to return here; spelling out a fallback would only hide a broken signature.
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key");
    mac.update(base_string.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The base string URI (RFC 5849 §3.4.1.2): scheme and host lower-case, default port dropped,
/// no query or fragment.
pub fn base_string_uri(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let authority = authority.to_ascii_lowercase();
    let authority = match (scheme.as_str(), authority.rsplit_once(':')) {
        ("http", Some((host, "80"))) | ("https", Some((host, "443"))) => host.to_string(),
        _ => authority,
    };
    let path = if path.is_empty() { "/" } else { path };
    format!("{scheme}://{authority}{path}")
}

/// A fresh nonce: 32 alphanumeric characters from the system's randomness.
pub fn nonce() -> Result<String, getrandom::Error> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes
        .iter()
        .filter_map(|b| ALPHABET.get(*b as usize % ALPHABET.len()))
        .map(|c| *c as char)
        .collect())
}

/// `a=1&b=2` into decoded pairs (form encoding: `+` is a space).
fn parse_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let mut rest = s.as_bytes();
    let mut out = Vec::with_capacity(rest.len());
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    while let [first, tail @ ..] = rest {
        if let (b'%', [h, l, after @ ..]) = (*first, tail) {
            if let (Some(h), Some(l)) = (hex(*h), hex(*l)) {
                out.push(h << 4 | l);
                rest = after;
                continue;
            }
        }
        out.push(if *first == b'+' { b' ' } else { *first });
        rest = tail;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    /// X's documented example ("Creating a signature").
    #[test]
    fn x_documented_signature() {
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
        assert_eq!(
            sign(
                &base,
                "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
                "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"
            ),
            "hCtSmYh+iHYCEqBWrE7C7hYmtUk="
        );
    }

    /// RFC 5849 §3.4.1.1: the base string of the documented request, including duplicate
    /// names, `+` as a space in the body, an encoded `=` and an empty value.
    #[test]
    fn rfc5849_base_string() {
        let mut params = parse_pairs("b5=%3D%253D&a3=a&c%40=&a2=r%20b");
        params.extend(parse_pairs("c2&a3=2+q"));
        params.extend([
            p("realm", "Example"),
            p("oauth_consumer_key", "9djdj82h48djs9d2"),
            p("oauth_token", "kkk9d7dh3k39sjv7"),
            p("oauth_signature_method", "HMAC-SHA1"),
            p("oauth_timestamp", "137131201"),
            p("oauth_nonce", "7d8f3e4a"),
            p("oauth_signature", "bYT5CMsGcbgUdFHObYMEfcx6bsw="),
        ]);
        assert_eq!(
            base_string("POST", &base_string_uri("http://example.com/request?b5=x"), &params),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
        );
    }

    /// RFC 5849 §1.2: Jane's photo request (no `oauth_version`). The RFC's signature was
    /// computed over an `http://` base URI.
    #[test]
    fn rfc5849_photos_example() {
        let mut params = parse_pairs("file=vacation.jpg&size=original");
        params.extend([
            p("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            p("oauth_token", "nnch734d00sl2jdk"),
            p("oauth_signature_method", "HMAC-SHA1"),
            p("oauth_timestamp", "137131202"),
            p("oauth_nonce", "chapoH"),
        ]);
        let base = base_string("GET", "http://photos.example.net/photos", &params);
        assert_eq!(
            sign(&base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"),
            "MdpQcU8iPSUjWoN/UDMsK2sui9I="
        );
    }

    /// OAuth Core 1.0 Appendix A.5: the same photo request with `oauth_version=1.0`, its own
    /// nonce and timestamp.
    #[test]
    fn oauth_core_appendix_a_photos_example() {
        let creds = OAuth1Credentials {
            consumer_key: "dpf43f3p2l4k3l03".into(),
            consumer_secret: Secret::new("kd94hf93k423kf44".into()),
            token: "nnch734d00sl2jdk".into(),
            token_secret: Secret::new("pfkkdhi9sl3r4s00".into()),
        };
        let header = authorization_header(
            "GET",
            "http://photos.example.net/photos?file=vacation.jpg&size=original",
            &[],
            &creds,
            "kllo9940pd9333jh",
            1_191_242_096,
        );
        assert!(
            header.starts_with("OAuth oauth_consumer_key=\"dpf43f3p2l4k3l03\", "),
            "{header}"
        );
        assert!(
            header.contains("oauth_signature=\"tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D\""),
            "{header}"
        );
        assert!(header.contains("oauth_version=\"1.0\""));
    }

    #[test]
    fn base_string_uris_are_normalized() {
        assert_eq!(
            base_string_uri("HTTP://EXAMPLE.COM:80/r%20v/X?id=123"),
            "http://example.com/r%20v/X"
        );
        assert_eq!(
            base_string_uri("https://www.example.net:8080/?q=1"),
            "https://www.example.net:8080/"
        );
        assert_eq!(
            base_string_uri("https://api.x.com:443/2/tweets"),
            "https://api.x.com/2/tweets"
        );
        assert_eq!(
            base_string_uri("http://127.0.0.1:4010"),
            "http://127.0.0.1:4010/"
        );
    }

    #[test]
    fn encoding_and_nonces() {
        assert_eq!(
            encode("Ladies + Gentlemen, ~ok!"),
            "Ladies%20%2B%20Gentlemen%2C%20~ok%21"
        );
        assert_eq!(encode("é"), "%C3%A9");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("a%2"), "a%2");
        let (a, b) = (nonce().unwrap(), nonce().unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
