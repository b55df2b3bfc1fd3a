//! A small segment router: `/api/workspaces/:id/members/:userId`. Literal segments win over
//! parameters, so `/api/tweets/validate` beats `/api/tweets/:id`.

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
    Other,
}

impl Method {
    pub fn parse(s: &str) -> Method {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "HEAD" => Method::Head,
            "OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
            Method::Other => "OTHER",
        }
    }
}

/// Path parameters captured by a route.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Route<H> {
    method: Method,
    pattern: &'static str,
    segments: Vec<&'static str>,
    handler: H,
}

/// Maps (method, path) to a handler id `H` chosen by the component.
pub struct Router<H> {
    routes: Vec<Route<H>>,
}

impl<H: Copy> Default for Router<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H: Copy> Router<H> {
    pub fn new() -> Self {
        Router { routes: Vec::new() }
    }

    pub fn route(mut self, method: Method, pattern: &'static str, handler: H) -> Self {
        let segments = split(pattern).collect();
        self.routes.push(Route {
            method,
            pattern,
            segments,
            handler,
        });
        self
    }

    /// Finds the handler, or the 404 / 405 error. Returns the matched pattern for logging.
    pub fn resolve(
        &self,
        method: Method,
        path: &str,
    ) -> Result<(H, &'static str, Params), AppError> {
        let parts: Vec<&str> = split(path).collect();
        let mut best: Option<(usize, &Route<H>, Params)> = None;
        let mut allowed: Vec<&'static str> = Vec::new();
        for route in &self.routes {
            let Some((literals, params)) = match_segments(&route.segments, &parts) else {
                continue;
            };
            if route.method != method {
                if !allowed.contains(&route.method.as_str()) {
                    allowed.push(route.method.as_str());
                }
                continue;
            }
            if best.as_ref().is_none_or(|(score, _, _)| literals > *score) {
                best = Some((literals, route, params));
            }
        }
        match best {
            Some((_, route, params)) => Ok((route.handler, route.pattern, params)),
            None if !allowed.is_empty() => Err(AppError::method_not_allowed(&allowed)),
            None => Err(AppError::route_not_found(path)),
        }
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// Returns the number of literal segments matched (the specificity) and the captured params.
fn match_segments(pattern: &[&'static str], parts: &[&str]) -> Option<(usize, Params)> {
    if pattern.len() != parts.len() {
        return None;
    }
    let mut params = Vec::new();
    let mut literals = 0;
    for (p, v) in pattern.iter().zip(parts) {
        if let Some(name) = p.strip_prefix(':') {
            params.push((name.to_string(), percent_decode(v)));
        } else if p == v {
            literals += 1;
        } else {
            return None;
        }
    }
    Some((literals, Params(params)))
}

/// Decodes `%XX` escapes (two hex digits exactly) in a path segment; anything else is kept as
/// written, invalid UTF-8 becomes U+FFFD. `+` is a plus in a path.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum H {
        List,
        Validate,
        One,
        Create,
    }

    fn router() -> Router<H> {
        Router::new()
            .route(Method::Get, "/api/tweets", H::List)
            .route(Method::Post, "/api/tweets", H::Create)
            .route(Method::Post, "/api/tweets/validate", H::Validate)
            .route(Method::Get, "/api/tweets/:id", H::One)
    }

    #[test]
    fn literal_segments_win_over_parameters() {
        let (h, _, _) = router()
            .resolve(Method::Post, "/api/tweets/validate")
            .unwrap();
        assert_eq!(h, H::Validate);
        let (h, pattern, params) = router().resolve(Method::Get, "/api/tweets/a%20b").unwrap();
        assert_eq!((h, pattern), (H::One, "/api/tweets/:id"));
        assert_eq!(params.get("id"), Some("a b"));
    }

    #[test]
    fn wrong_method_is_405_with_allowed_methods_and_unknown_path_is_404() {
        let err = router().resolve(Method::Delete, "/api/tweets").unwrap_err();
        assert_eq!(err.status(), 405);
        assert_eq!(err.allow.as_deref(), Some("GET, POST"));
        let err = router().resolve(Method::Get, "/api/nothing").unwrap_err();
        assert_eq!(err.status(), 404);
    }

    #[test]
    fn path_parameters_decode_exactly_two_hex_digits_and_keep_the_rest() {
        let cases = [
            ("a%20b", "a b"),
            ("%+5", "%+5"),
            ("%-5x", "%-5x"),
            ("a+b", "a+b"),
            ("%e6%97%a5", "日"),
            ("%zz%", "%zz%"),
            ("%ff", "\u{fffd}"),
        ];
        for (raw, decoded) in cases {
            let (_, _, params) = router()
                .resolve(Method::Get, &format!("/api/tweets/{raw}"))
                .unwrap();
            assert_eq!(params.get("id"), Some(decoded), "{raw}");
        }
    }

    #[test]
    fn trailing_slashes_are_ignored() {
        let (h, _, _) = router().resolve(Method::Get, "/api/tweets/").unwrap();
        assert_eq!(h, H::List);
    }
}
