//! The OpenAPI 3.1 document served at `/api/openapi.json`. Kept true by two tests: every route
//! of the permission table is documented (below), and every documented route is served (the
//! integration suite).

pub const DOCUMENT: &str = include_str!("../openapi.json");

/// `/api/workspaces/:id` → `/api/workspaces/{id}`.
pub fn to_openapi_path(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|s| match s.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_in_the_permission_table_is_documented() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        for (method, pattern, _) in crate::authz::TABLE {
            let path = to_openapi_path(pattern);
            let op = &doc["paths"][&path][method.as_str().to_ascii_lowercase()];
            assert!(
                op.is_object(),
                "{} {pattern} is not in openapi.json",
                method.as_str()
            );
            assert!(
                op["operationId"].is_string(),
                "{} {pattern} has no operationId",
                method.as_str()
            );
        }
    }
}
