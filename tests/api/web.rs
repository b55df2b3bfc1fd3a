//! The web component on the shipping manifest: the app's pages and assets with their headers,
//! next to the API's 404 envelope.

use crate::helpers::{assert_error_envelope, Setup, TestApp};

struct Fetched {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Fetched {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

async fn fetch(app: &TestApp, method: reqwest::Method, path: &str, gzip: bool) -> Fetched {
    let mut req = app
        .client
        .request(method, format!("{}{}", app.address, path));
    if gzip {
        req = req.header("accept-encoding", "gzip, deflate, br");
    }
    let resp = req.send().await.expect("request");
    Fetched {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.bytes().await.expect("body").to_vec(),
    }
}

/// The script the page loads: `/assets/index-<hash>.js`.
fn script_of(html: &str) -> String {
    let start = html.find("src=\"/assets/").expect("a script in index.html") + 5;
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].to_string()
}

#[tokio::test]
async fn the_app_and_its_client_side_routes_are_served_as_uncached_html_with_a_strict_csp() {
    // Arrange
    let app = Setup::app().spawn().await;

    for path in [
        "/",
        "/calendar",
        "/posts/0192f3c4-0000-7000-8000-000000000000",
        "/login",
    ] {
        // Act
        let page = fetch(&app, reqwest::Method::GET, path, false).await;

        // Assert
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(
            page.header("content-type"),
            "text/html; charset=utf-8",
            "{path}"
        );
        assert_eq!(page.header("cache-control"), "no-cache", "{path}");
        assert_eq!(page.header("x-content-type-options"), "nosniff", "{path}");
        let csp = page.header("content-security-policy");
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("http"),
            "{csp}"
        );
        let html = String::from_utf8(page.body).expect("utf-8");
        assert!(html.contains("<div id=\"app\"></div>"), "{path}");
        assert!(
            !html.contains("<script>") && !html.contains("<style"),
            "no inline script or style"
        );
    }
}

#[tokio::test]
async fn fingerprinted_assets_are_immutable_and_gzipped_only_when_the_client_accepts_it() {
    // Arrange
    let app = Setup::app().spawn().await;
    let html = fetch(&app, reqwest::Method::GET, "/", false).await;
    let script = script_of(&String::from_utf8(html.body).unwrap());

    // Act
    let plain = fetch(&app, reqwest::Method::GET, &script, false).await;
    let gzipped = fetch(&app, reqwest::Method::GET, &script, true).await;
    let head = fetch(&app, reqwest::Method::HEAD, &script, true).await;

    // Assert
    assert_eq!(plain.status, 200);
    assert_eq!(
        plain.header("content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        plain.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(plain.header("content-encoding"), "");
    assert_eq!(gzipped.header("content-encoding"), "gzip");
    assert_eq!(gzipped.header("vary"), "Accept-Encoding");
    assert_eq!(&gzipped.body[..2], &[0x1f, 0x8b], "a gzip stream");
    assert!(gzipped.body.len() * 2 < plain.body.len(), "compressed");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        gzipped.body.len().to_string()
    );
}

#[tokio::test]
async fn a_missing_asset_is_a_404_and_a_write_is_a_405_while_unknown_api_paths_keep_the_envelope() {
    // Arrange
    let app = Setup::app().spawn().await;

    // Act
    let missing = fetch(&app, reqwest::Method::GET, "/assets/nope-123.js", false).await;
    let post = fetch(&app, reqwest::Method::POST, "/calendar", false).await;
    let api = app.get("/api/no/such/route").await;
    let internal = app.get("/internal/nothing-here").await;

    // Assert
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), "GET, HEAD");
    assert_error_envelope(&api, 404, "NOT_FOUND");
    assert_error_envelope(&internal, 404, "NOT_FOUND");
}
