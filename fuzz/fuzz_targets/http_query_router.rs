//! The request pipeline's query decoding, the router (with the platform's route shapes) and
//! the permission table: any path and query, no panic; decoding never invents bytes.
#![no_main]

use common::http::{query_value, Method, Router};
use identity::authz;
use libfuzzer_sys::fuzz_target;

const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/tweets"),
    ("POST", "/api/tweets"),
    ("POST", "/api/tweets/validate"),
    ("POST", "/api/tweets/bulk"),
    ("GET", "/api/tweets/:id"),
    ("PUT", "/api/tweets/:id"),
    ("DELETE", "/api/tweets/:id"),
    ("POST", "/api/tweets/:id/like"),
    ("GET", "/api/accounts"),
    ("GET", "/api/accounts/:id"),
    ("PATCH", "/api/accounts/:id"),
    ("GET", "/api/workspaces/:id/members"),
    ("PUT", "/api/workspaces/:id/members/:userId"),
    ("GET", "/api/health"),
    ("GET", "/..."),
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (method, rest) = text.split_once(' ').unwrap_or(("GET", &text));
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let method = Method::parse(method);

    for name in ["limit", "cursor", "accountId", "q", "", "a b"] {
        if let Some(v) = query_value(query, name) {
            // Every `%` that is not followed by two hex digits stays as written.
            assert!(v.len() <= query.len() * 3 + 3);
        }
    }

    let mut router = Router::new();
    for (i, (m, p)) in ROUTES.iter().enumerate() {
        router = router.route(Method::parse(m), p, i);
    }
    if let Ok((_, pattern, params)) = router.resolve(method, path) {
        let _ = authz::access(method, pattern);
        for name in ["id", "userId"] {
            let _ = params.get(name);
        }
    }
});
