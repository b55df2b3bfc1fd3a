//! Which file answers a path, and with which headers. Pure, so the rules read in one place.

/// One embedded file of the built app.
pub struct Asset {
    pub path: &'static str,
    pub body: &'static [u8],
    pub gzip: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// No inline script or style, nothing from another origin. Images may be `blob:` (the
/// composer previews uploads before sending them) and `data:` (the app's own small icons).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' blob: data:; media-src 'self' blob:; font-src 'self'; connect-src 'self'; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: &'static [u8],
}

pub fn answer(method: &str, path: &str, accept_encoding: &str) -> Reply {
    let head = method.eq_ignore_ascii_case("HEAD");
    if !head && !method.eq_ignore_ascii_case("GET") {
        let mut reply = plain(405, b"Method Not Allowed\n");
        reply.headers.push(("allow", "GET, HEAD".to_string()));
        return reply;
    }
    let last = path.rsplit('/').next().unwrap_or("");
    let (asset, is_route) = if last.contains('.') {
        (find(path), false)
    } else {
        (find("/index.html"), true)
    };
    let Some(asset) = asset else {
        return plain(404, b"Not Found\n");
    };
    let mut reply = Reply {
        status: 200,
        headers: common_headers(content_type(asset.path)),
        body: asset.body,
    };
    let cache = if !is_route && asset.path.starts_with("/assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    reply.headers.push(("cache-control", cache.to_string()));
    reply.headers.push(("vary", "Accept-Encoding".to_string()));
    if let Some(gz) = asset.gzip.filter(|_| accepts_gzip(accept_encoding)) {
        reply.headers.push(("content-encoding", "gzip".to_string()));
        reply.body = gz;
    }
    reply
        .headers
        .push(("content-length", reply.body.len().to_string()));
    if head {
        reply.body = b"";
    }
    reply
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

fn plain(status: u16, body: &'static [u8]) -> Reply {
    let mut headers = common_headers("text/plain; charset=utf-8");
    headers.push(("cache-control", "no-cache".to_string()));
    Reply {
        status,
        headers,
        body,
    }
}

fn common_headers(content_type: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", content_type.to_string()),
        ("content-security-policy", CSP.to_string()),
        ("x-content-type-options", "nosniff".to_string()),
        ("referrer-policy", "no-referrer".to_string()),
        ("x-frame-options", "DENY".to_string()),
    ]
}

/// `gzip` in the list with a non-zero quality (`gzip;q=0` refuses it).
fn accepts_gzip(header: &str) -> bool {
    header.split(',').any(|item| {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q_zero = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                == Some(0.0)
        });
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !q_zero
    })
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
