//! X's error shapes: problem details (`{"title","detail","type","status"}`) and OAuth errors.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

pub const PROBLEMS: &str = "https://api.x.com/2/problems/";

/// An error response: status, JSON body and extra headers (e.g. rate-limit headers).
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

pub type ApiResult<T = Response> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, body: Value) -> Self {
        ApiError {
            status,
            body,
            headers: Vec::new(),
        }
    }

    /// `{"title","detail","type":"about:blank","status"}`.
    pub fn blank(status: StatusCode, title: &str, detail: &str) -> Self {
        Self::new(
            status,
            json!({"title": title, "detail": detail, "type": "about:blank", "status": status.as_u16()}),
        )
    }

    pub fn unauthorized() -> Self {
        Self::blank(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized")
    }

    pub fn forbidden(detail: &str) -> Self {
        Self::blank(StatusCode::FORBIDDEN, "Forbidden", detail)
    }

    pub fn too_many_requests() -> Self {
        Self::blank(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests",
            "Too Many Requests",
        )
    }

    /// A typed problem (`type` = `https://api.x.com/2/problems/<suffix>`).
    pub fn typed(status: StatusCode, suffix: &str, title: &str, detail: &str) -> Self {
        Self::new(
            status,
            json!({"title": title, "detail": detail, "type": format!("{PROBLEMS}{suffix}"), "status": status.as_u16()}),
        )
    }

    /// 400 invalid-request with one `errors` entry naming the parameter.
    pub fn invalid(parameter: &str, value: &str, message: &str) -> Self {
        let mut e = Self::typed(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "Invalid Request",
            "One or more parameters to your request was invalid.",
        );
        let entry = if parameter.is_empty() {
            json!({"message": message})
        } else {
            json!({"parameters": {parameter: [value]}, "message": message})
        };
        e.body["errors"] = json!([entry]);
        e
    }

    pub fn not_found(resource_type: &str, id: &str) -> Self {
        let mut e = Self::typed(
            StatusCode::NOT_FOUND,
            "resource-not-found",
            "Not Found Error",
            &format!("Could not find {resource_type} with id: [{id}]."),
        );
        e.body["resource_type"] = json!(resource_type);
        e.body["resource_id"] = json!(id);
        e
    }

    pub fn not_authorized_for_user(id: &str) -> Self {
        let mut e = Self::typed(
            StatusCode::FORBIDDEN,
            "not-authorized-for-resource",
            "Forbidden",
            &format!("You are not authorized to act on behalf of user [{id}]."),
        );
        e.body["resource_type"] = json!("user");
        e.body["resource_id"] = json!(id);
        e
    }

    pub fn unsupported_authentication() -> Self {
        Self::typed(
            StatusCode::FORBIDDEN,
            "unsupported-authentication",
            "Unsupported Authentication",
            "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  \
             Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
        )
    }

    pub fn usage_capped() -> Self {
        Self::typed(
            StatusCode::TOO_MANY_REQUESTS,
            "usage-capped",
            "UsageCapExceeded",
            "Usage cap exceeded: Monthly product cap",
        )
    }

    /// An OAuth 2.0 token-endpoint error: `{"error","error_description"}`.
    pub fn oauth(status: StatusCode, error: &str, description: &str) -> Self {
        Self::new(
            status,
            json!({"error": error, "error_description": description}),
        )
    }

    /// The generic body for an injected fault status.
    pub fn for_status(status: StatusCode) -> Self {
        let title = status.canonical_reason().unwrap_or("Error");
        Self::blank(status, title, title)
    }
}

/// The resource-not-found entry used in partial `errors` arrays of lookups.
pub fn not_found_entry(resource_type: &str, id: &str, parameter: &str) -> Value {
    json!({
        "value": id,
        "detail": format!("Could not find {resource_type} with {parameter}: [{id}]."),
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": id,
        "type": format!("{PROBLEMS}resource-not-found"),
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, json_body(&self.body)).into_response();
        let h = resp.headers_mut();
        h.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static(
                if self.body.get("error").is_some() || self.body.get("type").is_none() {
                    "application/json"
                } else {
                    "application/problem+json"
                },
            ),
        );
        for (k, v) in self.headers {
            h.insert(k, v);
        }
        resp
    }
}

fn json_body(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A JSON response with the given status.
pub fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut resp = (status, json_body(v)).into_response();
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

pub fn ok(v: &Value) -> Response {
    json_response(StatusCode::OK, v)
}
