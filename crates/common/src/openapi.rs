//! The OpenAPI 3.1 document served at `/api/openapi.json`. Kept true by two tests: every route
//! of the permission table is documented (`identity::authz`'s unit tests), and every documented
//! route is served (the integration suite).

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

    fn operations(doc: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                out.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
        out
    }

    #[test]
    fn every_operation_documents_its_success_data_and_each_error_status() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        for (method, path, op) in operations(&doc) {
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path}: no success response"
            );
            for (status, response) in responses {
                let response = match response["$ref"].as_str() {
                    Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap(),
                    None => response,
                };
                assert!(
                    status.parse::<u16>().is_ok(),
                    "{method} {path}: {status} is a range; name each status"
                );
                let json = &response["content"]["application/json"]["schema"]["$ref"];
                if status.starts_with('4') || status.starts_with('5') {
                    let is_envelope = json == "#/components/schemas/ErrorEnvelope"
                        || (path == "/api/health" && status == "503");
                    assert!(
                        is_envelope,
                        "{method} {path} {status}: not the error envelope"
                    );
                } else if let Some(name) = json.as_str() {
                    let name = name.trim_start_matches("#/components/schemas/");
                    let data = &doc["components"]["schemas"][name]["properties"]["data"];
                    assert!(
                        data.get("$ref").is_some() || data.get("type").is_some(),
                        "{method} {path} {status}: the success data has no schema"
                    );
                }
            }
        }
    }

    #[test]
    fn every_reference_resolves() {
        fn walk(v: &serde_json::Value, doc: &serde_json::Value) {
            match v {
                serde_json::Value::Object(map) => {
                    if let Some(r) = map.get("$ref").and_then(|r| r.as_str()) {
                        let pointer = r.trim_start_matches('#');
                        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
                    }
                    map.values().for_each(|x| walk(x, doc));
                }
                serde_json::Value::Array(items) => items.iter().for_each(|x| walk(x, doc)),
                _ => {}
            }
        }
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        walk(&doc, &doc);
    }

    #[test]
    fn creating_a_post_links_to_reading_it() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        let link = &doc["paths"]["/api/tweets"]["post"]["responses"]["201"]["links"]["GetTweet"];
        assert_eq!(link["operationId"], "getTweet");
        assert_eq!(link["parameters"]["id"], "$response.body#/data/id");
    }
}
