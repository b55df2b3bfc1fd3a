//! `serve`: the whole life of a request inside a component.

use super::router::{Method, Params, Router};
use crate::config::Config;
use crate::correlation;
use crate::error::{AppError, Code, ErrorKind};
use crate::log::{self, Level};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use spin_sdk::http::{IncomingRequest, Response, ResponseOutparam};
use std::future::Future;
use std::time::Instant;

/// One request as handlers see it.
pub struct Ctx {
    pub method: Method,
    /// The matched route pattern, e.g. `/api/workspaces/:id` (the permission table's key).
    pub route: &'static str,
    pub path: String,
    pub query: String,
    pub params: Params,
    pub correlation_id: String,
    /// Read from Spin variables on first use (see [`Ctx::config`]).
    config: std::cell::OnceCell<Config>,
    headers: Vec<(String, String)>,
    body: Option<IncomingRequest>,
}

impl Ctx {
    /// The component's configuration, read from Spin variables the first time the request
    /// needs it. On Spin every variable read resolves through the host's providers with a
    /// blocking hand-off (`block_in_place`): a request that touches no database or body (a
    /// version, a 404) reads none.
    pub fn config(&self) -> Result<&Config, AppError> {
        if let Some(config) = self.config.get() {
            return Ok(config);
        }
        let loaded = Config::load()?;
        Ok(self.config.get_or_init(|| loaded))
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name)
    }

    /// A request header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the request's bearer token is the secret Spin variable `variable` (the
    /// scheduler's tick route, the metrics route). An unset or empty secret refuses everyone.
    pub fn presents_secret(&self, variable: &str) -> bool {
        let secret = spin_sdk::variables::get(variable).unwrap_or_default();
        let presented = self
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .unwrap_or("");
        crate::crypto::secret_matches(&secret, presented)
    }

    /// A decoded query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        query_value(&self.query, name)
    }

    /// Reads the body, refusing more than `limit` bytes with 413 as soon as it is exceeded
    /// (the declared `Content-Length` is checked before reading anything).
    pub async fn body_bytes(&mut self, limit: usize) -> Result<Vec<u8>, AppError> {
        if let Some(len) = self
            .header("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            if len > limit as u64 {
                return Err(AppError::payload_too_large(limit));
            }
        }
        let Some(req) = self.body.take() else {
            return Ok(Vec::new());
        };
        let mut stream = req.into_body_stream();
        let mut body = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                AppError::new(Code::UnreadableBody, "The request body could not be read")
                    .with_cause(e)
            })?;
            if body.len() + chunk.len() > limit {
                return Err(AppError::payload_too_large(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// The raw request, for handlers that stream the body themselves (uploads). `None` once
    /// the body was taken.
    pub fn take_request(&mut self) -> Option<IncomingRequest> {
        self.body.take()
    }

    /// Parses a JSON body: 415 unless the content type is JSON, 413 past the configured limit,
    /// 400 for malformed JSON (with the position), 422 for the wrong shape.
    pub async fn json<T: DeserializeOwned>(&mut self) -> Result<T, AppError> {
        Ok(self.json_and_bytes().await?.0)
    }

    /// [`Ctx::json`], also answering the body's bytes (for request fingerprints).
    pub async fn json_and_bytes<T: DeserializeOwned>(&mut self) -> Result<(T, Vec<u8>), AppError> {
        let is_json = self.header("content-type").is_some_and(|ct| {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        });
        if !is_json {
            return Err(AppError::unsupported_media_type("application/json"));
        }
        let limit = self.config()?.max_body_bytes;
        let bytes = self.body_bytes(limit).await?;
        if bytes.is_empty() {
            return Err(AppError::new(Code::MissingBody, "A JSON body is required"));
        }
        Ok((serde_json::from_slice(&bytes)?, bytes))
    }
}

/// A successful answer: the `data` of the success envelope, or a raw body.
pub struct Reply {
    status: u16,
    body: ReplyBody,
    headers: Vec<(String, String)>,
}

enum ReplyBody {
    Data(Value),
    /// `data` already serialised (built by PostgreSQL for large lists).
    Json(String),
    Raw {
        content_type: String,
        bytes: Vec<u8>,
    },
    Empty,
}

impl Reply {
    pub fn ok(data: Value) -> Reply {
        Reply::with_status(200, data)
    }

    pub fn created(data: Value) -> Reply {
        Reply::with_status(201, data)
    }

    pub fn with_status(status: u16, data: Value) -> Reply {
        Reply {
            status,
            body: ReplyBody::Data(data),
            headers: Vec::new(),
        }
    }

    /// A 200 whose `data` is already-serialised JSON, spliced into the envelope as is. The
    /// caller guarantees it is valid JSON (it comes from `json_build_object` and friends).
    pub fn ok_json(data: String) -> Reply {
        Reply {
            status: 200,
            body: ReplyBody::Json(data),
            headers: Vec::new(),
        }
    }

    pub fn no_content() -> Reply {
        Reply {
            status: 204,
            body: ReplyBody::Empty,
            headers: Vec::new(),
        }
    }

    /// A body outside the envelope (an OpenAPI document, a redirect page).
    pub fn raw(status: u16, content_type: &str, bytes: Vec<u8>) -> Reply {
        Reply {
            status,
            body: ReplyBody::Raw {
                content_type: content_type.to_string(),
                bytes,
            },
            headers: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// Runs one request through the pipeline and hands the answer to the host in one piece
/// ([`super::send`]). `handle` receives the handler id the router chose.
pub async fn serve<H, F, Fut>(
    req: IncomingRequest,
    out: ResponseOutparam,
    router: &Router<H>,
    handle: F,
) where
    H: Copy,
    F: FnOnce(H, Ctx) -> Fut,
    Fut: Future<Output = Result<Reply, AppError>>,
{
    super::send(out, respond(req, router, handle).await);
}

/// The answer to one request.
async fn respond<H, F, Fut>(req: IncomingRequest, router: &Router<H>, handle: F) -> Response
where
    H: Copy,
    F: FnOnce(H, Ctx) -> Fut,
    Fut: Future<Output = Result<Reply, AppError>>,
{
    let started = Instant::now();
    let headers: Vec<(String, String)> = req
        .headers()
        .entries()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect();
    let correlation_id = correlation::accept_or_generate(
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(correlation::HEADER))
            .map(|(_, v)| v.as_str()),
    );
    let method = Method::parse(&req.method().to_string());
    let path_and_query = req.path_with_query().unwrap_or_else(|| "/".to_string());
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (path_and_query.clone(), String::new()),
    };

    let mut route_pattern = "";
    let result = match router.resolve(method, &path) {
        Err(e) => Err(e),
        Ok((handler, pattern, params)) => {
            route_pattern = pattern;
            let ctx = Ctx {
                method,
                route: pattern,
                path: path.clone(),
                query,
                params,
                correlation_id: correlation_id.clone(),
                config: std::cell::OnceCell::new(),
                headers,
                body: Some(req),
            };
            handle(handler, ctx).await
        }
    };

    let response = match result {
        Ok(reply) => success_response(reply, &correlation_id),
        Err(err) => {
            if err.kind().is_server_error() {
                log::emit(
                    Level::Error,
                    &correlation_id,
                    "request failed",
                    json!({
                        "code": err.code,
                        "fingerprint": err.fingerprint(),
                        "cause": err.cause.as_deref().unwrap_or(&err.message),
                    }),
                );
            }
            error_response(&err, &correlation_id)
        }
    };
    log::emit(
        Level::Info,
        &correlation_id,
        "request",
        json!({
            "method": method.as_str(),
            "route": route_pattern,
            "path": path,
            "status": response.status(),
            "durationMs": started.elapsed().as_secs_f64() * 1000.0,
        }),
    );
    response
}

fn success_response(reply: Reply, correlation_id: &str) -> Response {
    let mut builder = Response::builder();
    builder
        .status(reply.status)
        .header(correlation::HEADER, correlation_id);
    for (k, v) in &reply.headers {
        builder.header(k.as_str(), v.as_str());
    }
    match reply.body {
        ReplyBody::Data(data) => {
            let body = json!({ "success": true, "data": data, "correlationId": correlation_id });
            builder
                .header("content-type", "application/json")
                .body(body.to_string())
                .build()
        }
        ReplyBody::Json(data) => {
            let cid = serde_json::to_string(correlation_id).unwrap_or_else(|_| "\"\"".into());
            let body = format!(r#"{{"success":true,"data":{data},"correlationId":{cid}}}"#);
            builder
                .header("content-type", "application/json")
                .body(body)
                .build()
        }
        ReplyBody::Raw {
            content_type,
            bytes,
        } => builder
            .header("content-type", content_type)
            .body(bytes)
            .build(),
        ReplyBody::Empty => builder.body(Vec::new()).build(),
    }
}

/// The first value of `name` in a query string, decoded by the
/// `application/x-www-form-urlencoded` rules: `+` is a space, `%XX` takes two hex digits exactly
/// (anything else stays as written), invalid UTF-8 becomes U+FFFD.
pub fn query_value(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The error envelope as a response; used by `serve` and by anything answering outside it.
pub fn error_response(err: &AppError, correlation_id: &str) -> Response {
    let body = err.envelope(correlation_id, &log::now_rfc3339());
    let mut builder = Response::builder();
    builder
        .status(err.status())
        .header("content-type", "application/json")
        .header(correlation::HEADER, correlation_id);
    if let Some(secs) = err.retry_after {
        builder.header("retry-after", secs.to_string());
    }
    if let Some(allow) = &err.allow {
        builder.header("allow", allow.as_str());
    }
    for (k, v) in &err.headers {
        builder.header(k.as_str(), v.as_str());
    }
    if err.kind() == ErrorKind::Authentication {
        builder.header("www-authenticate", "Bearer");
    }
    builder.body(body.to_string()).build()
}

#[cfg(test)]
mod tests {
    use super::query_value;

    #[test]
    fn query_values_decode_plus_and_exactly_two_hex_digits() {
        let cases = [
            ("q=a+b", "a b", "plus is a space"),
            ("q=%41%42", "AB", "escapes"),
            ("q=%+5", "% 5", "a sign is not a hex digit (was byte 0x05)"),
            ("q=%-5", "%-5", "nor is a minus"),
            ("q=%zz&", "%zz", "invalid escape kept"),
            ("q=100%", "100%", "a lone percent at the end"),
            ("q=%e6%97%a5", "日", "UTF-8 bytes"),
            ("q=%ff", "\u{fffd}", "invalid UTF-8"),
            ("x=1&q=&q=2", "", "the first value, even empty"),
            ("a%20b=1&q=%26%3D", "&=", "escaped separators"),
        ];
        for (query, expected, why) in cases {
            assert_eq!(query_value(query, "q").as_deref(), Some(expected), "{why}");
        }
        assert_eq!(
            query_value("a%20b=1", "a b").as_deref(),
            Some("1"),
            "names decode too"
        );
        assert_eq!(query_value("", "q"), None);
    }
}
