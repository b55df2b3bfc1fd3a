//! Spin's HTTP routing: exact routes (with `:name` segments) win over wildcards (`/x/...`),
//! and among wildcards the longest prefix wins. Trailing slashes on requests are ignored for
//! exact routes.

#[derive(Debug, Clone)]
pub struct RouteTable<T> {
    routes: Vec<Entry<T>>,
}

#[derive(Debug, Clone)]
struct Entry<T> {
    raw: String,
    segments: Vec<String>,
    wildcard: bool,
    target: T,
}

/// A successful match, with what Spin puts in its request headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'a, T> {
    pub target: &'a T,
    /// The route as written in the manifest (`spin-raw-component-route`).
    pub raw: &'a str,
    /// The route without a trailing `/...` (`spin-component-route`).
    pub component_route: String,
    /// The part matched by the wildcard (`spin-path-info`).
    pub path_info: String,
    pub params: Vec<(String, String)>,
}

impl<T> Default for RouteTable<T> {
    fn default() -> Self {
        RouteTable { routes: Vec::new() }
    }
}

impl<T> RouteTable<T> {
    pub fn add(&mut self, route: &str, target: T) {
        let trimmed = route.trim_end_matches("/...").trim_end_matches("/*");
        let wildcard = trimmed.len() != route.len() || route == "/...";
        let segments = trimmed
            .split('/')
            .filter(|s| !s.is_empty() && *s != "...")
            .map(str::to_string)
            .collect();
        // Spin: a duplicate route is replaced by the later one.
        self.routes
            .retain(|e| !(e.wildcard == wildcard && e.raw == route));
        self.routes.push(Entry {
            raw: route.to_string(),
            segments,
            wildcard,
            target,
        });
    }

    pub fn find(&self, path: &str) -> Option<RouteMatch<'_, T>> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        // Exact routes first.
        for e in self.routes.iter().filter(|e| !e.wildcard) {
            if e.segments.len() == parts.len() {
                if let Some(params) = match_prefix(&e.segments, &parts) {
                    return Some(self.matched(e, params, String::new()));
                }
            }
        }
        // Then the wildcard with the longest prefix.
        let best = self
            .routes
            .iter()
            .filter(|e| e.wildcard && e.segments.len() <= parts.len())
            .filter_map(|e| match_prefix(&e.segments, &parts).map(|p| (e, p)))
            .max_by_key(|(e, _)| e.segments.len())?;
        let (e, params) = best;
        let info = path_info(path, e.segments.len());
        Some(self.matched(e, params, info))
    }

    fn matched<'a>(
        &'a self,
        e: &'a Entry<T>,
        params: Vec<(String, String)>,
        path_info: String,
    ) -> RouteMatch<'a, T> {
        let component_route = if e.wildcard {
            let r = e.raw.trim_end_matches("/...").trim_end_matches("/*");
            r.to_string()
        } else {
            e.raw.clone()
        };
        RouteMatch {
            target: &e.target,
            raw: &e.raw,
            component_route,
            path_info,
            params,
        }
    }
}

fn match_prefix(segments: &[String], parts: &[&str]) -> Option<Vec<(String, String)>> {
    let mut params = Vec::new();
    for (s, p) in segments.iter().zip(parts) {
        if let Some(name) = s.strip_prefix(':') {
            params.push((name.to_string(), p.to_string()));
        } else if s != p {
            return None;
        }
    }
    Some(params)
}

/// The request path after the first `n` segments, keeping a trailing slash as Spin does.
fn path_info(path: &str, n: usize) -> String {
    let mut rest = path;
    for _ in 0..n {
        rest = rest.trim_start_matches('/');
        rest = match rest.find('/') {
            Some(i) => &rest[i..],
            None => "",
        };
    }
    rest.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable<&'static str> {
        let mut t = RouteTable::default();
        t.add("/...", "catchall");
        t.add("/api/...", "api");
        t.add("/api/auth/...", "auth");
        t.add("/api/health", "health");
        t.add("/users/:id", "user");
        t
    }

    #[test]
    fn most_specific_route_wins() {
        let t = table();
        let cases = [
            ("/api/health", "health", ""),
            ("/api/health/", "health", ""),
            ("/api/auth/login", "auth", "/login"),
            ("/api/tweets/1", "api", "/tweets/1"),
            ("/api", "api", ""),
            ("/other/x/", "catchall", "/other/x/"),
            ("/", "catchall", "/"),
            ("/users/42", "user", ""),
        ];
        for (path, target, info) in cases {
            let m = t.find(path).unwrap();
            assert_eq!((*m.target, m.path_info.as_str()), (target, info), "{path}");
        }
        assert_eq!(
            t.find("/users/42").unwrap().params,
            vec![("id".to_string(), "42".to_string())]
        );
    }

    #[test]
    fn headers_values_match_spin() {
        let t = table();
        let m = t.find("/api/auth/login").unwrap();
        assert_eq!(m.raw, "/api/auth/...");
        assert_eq!(m.component_route, "/api/auth");
        let mut only_exact = RouteTable::default();
        only_exact.add("/a", 1);
        assert!(only_exact.find("/b").is_none());
    }
}
