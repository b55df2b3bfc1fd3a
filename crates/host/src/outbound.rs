//! `allowed_outbound_hosts` as Spin interprets it: `scheme://host[:port]`, where the scheme
//! may be `*`, the host `*`, `*.domain` or a literal (IP or name; `localhost` and `127.0.0.1`
//! are different hosts), and the port `*`, a number or a range `a..b` (end excluded). A missing
//! port means the scheme's default (http 80, https 443, postgres 5432, redis 6379, mysql 3306).

use anyhow::{bail, Context, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Subdomains(String),
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Any,
    Range(u16, u16),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowedHost {
    scheme: Option<String>,
    host: HostPattern,
    port: PortPattern,
}

/// The parsed allow-list of one component.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    allowed: Vec<AllowedHost>,
}

pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        _ => None,
    }
}

impl OutboundPolicy {
    /// Parses already-expanded entries (templates resolved by the caller).
    pub fn parse(entries: &[String]) -> Result<OutboundPolicy> {
        let allowed = entries
            .iter()
            .map(|e| {
                parse_entry(e)
                    .with_context(|| format!("invalid allowed_outbound_hosts entry {e:?}"))
            })
            .collect::<Result<_>>()?;
        Ok(OutboundPolicy { allowed })
    }

    /// Whether `scheme://host:port` may be reached.
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let Some(port) = port.or_else(|| default_port(scheme)) else {
            return false;
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        self.allowed.iter().any(|a| {
            a.scheme.as_deref().is_none_or(|s| s == scheme)
                && match &a.host {
                    HostPattern::Any => true,
                    HostPattern::Exact(h) => *h == host,
                    HostPattern::Subdomains(d) => host.ends_with(&format!(".{d}")),
                }
                && match a.port {
                    PortPattern::Any => true,
                    PortPattern::Range(lo, hi) => port >= lo && port < hi,
                }
        })
    }
}

fn parse_entry(entry: &str) -> Result<AllowedHost> {
    let Some((scheme, rest)) = entry.split_once("://") else {
        bail!("{entry:?} does not contain a scheme (e.g., 'http://' or '*://')");
    };
    if scheme != "*" && (scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphabetic())) {
        bail!("invalid scheme {scheme:?}");
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('/') {
        bail!("a path is not allowed");
    }
    let (host, port) = split_host_port(rest);
    let host = match host {
        "*" => HostPattern::Any,
        h if h.starts_with("*.") => HostPattern::Subdomains(h[2..].to_ascii_lowercase()),
        h if h.is_empty() || h.contains('*') => bail!("invalid host {h:?}"),
        h => HostPattern::Exact(
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase(),
        ),
    };
    let port = match port {
        Some("*") => PortPattern::Any,
        Some(p) if p.contains("..") => {
            let (lo, hi) = p.split_once("..").unwrap_or_default();
            PortPattern::Range(lo.parse()?, hi.parse()?)
        }
        Some(p) => {
            let n: u16 = p.parse().with_context(|| format!("invalid port {p:?}"))?;
            PortPattern::Range(n, n.saturating_add(1))
        }
        None => {
            if scheme == "*" {
                bail!("no port was provided and the scheme '*' does not have a known default port number");
            }
            let Some(n) = default_port(scheme) else {
                bail!("no port was provided and the scheme {scheme:?} does not have a known default port number");
            };
            PortPattern::Range(n, n + 1)
        }
    };
    Ok(AllowedHost {
        scheme: (scheme != "*").then(|| scheme.to_string()),
        host,
        port,
    })
}

fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if let Some(end) = s.find(']') {
        // [v6]:port
        let host = &s[..=end];
        let port = s[end + 1..].strip_prefix(':');
        return (host, port);
    }
    match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        OutboundPolicy::parse(&entries.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn matches_like_spin() {
        let p = policy(&[
            "https://api.x.com",
            "http://127.0.0.1:4010",
            "postgres://127.0.0.1",
            "http://localhost:*",
            "https://*.example.com",
        ]);
        let cases = [
            ("https", "api.x.com", None, true, "default https port"),
            ("https", "api.x.com", Some(443), true, "explicit 443"),
            ("https", "api.x.com", Some(8443), false, "other port"),
            ("http", "api.x.com", None, false, "other scheme"),
            ("http", "127.0.0.1", Some(4010), true, "ip and port"),
            ("http", "localhost", Some(4010), true, "localhost any port"),
            ("http", "127.0.0.1", Some(4011), false, "ip other port"),
            (
                "postgres",
                "127.0.0.1",
                Some(5432),
                true,
                "postgres default port",
            ),
            (
                "postgres",
                "localhost",
                Some(5432),
                false,
                "localhost is not 127.0.0.1",
            ),
            ("https", "a.example.com", None, true, "subdomain"),
            (
                "https",
                "example.com",
                None,
                false,
                "bare domain is not a subdomain",
            ),
            ("https", "evil.com", None, false, "unlisted"),
        ];
        for (scheme, host, port, allowed, why) in cases {
            assert_eq!(p.allows(scheme, host, port), allowed, "{why}");
        }
    }

    #[test]
    fn wildcards_and_ranges() {
        let p = policy(&["*://*:*"]);
        assert!(p.allows("https", "anything.example", None));
        let p = policy(&["http://h:8000..8002"]);
        assert!(p.allows("http", "h", Some(8001)));
        assert!(!p.allows("http", "h", Some(8002)), "range end is excluded");
    }

    #[test]
    fn malformed_entries_are_refused() {
        for bad in [
            "api.x.com",
            "*",
            "https://a.com/path",
            "*://host",
            "https://a*b.com",
            "foo://host",
        ] {
            assert!(OutboundPolicy::parse(&[bad.to_string()]).is_err(), "{bad}");
        }
    }
}
