//! A small validator for the OpenAPI 3.0 schema subset X's document uses: `$ref`, `type`,
//! `required`, `properties`, `items`, `enum`, `pattern`, `allOf`, and `oneOf` with a
//! discriminator. Enough to compare the simulator's answers field by field with X's spec.

use serde_json::Value;
use std::sync::OnceLock;

pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/openapi.json");
        serde_json::from_str(&std::fs::read_to_string(path).expect("spec/openapi.json")).unwrap()
    })
}

/// The schema of `paths[path][method].responses[status]` for `content_type`.
pub fn response_schema(path: &str, method: &str, status: &str, content_type: &str) -> Value {
    spec()["paths"][path][method]["responses"][status]["content"][content_type]["schema"].clone()
}

/// Validates `value` against `schema`; returns every violation with its JSON path.
pub fn validate(value: &Value, schema: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(value, schema, "$", &mut errors);
    errors
}

fn resolve(schema: &Value) -> &Value {
    let mut s = schema;
    while let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        s = &spec()["components"]["schemas"][name];
    }
    s
}

fn check(value: &Value, schema: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            check(value, s, at, errors);
        }
    }
    if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
        let by_discriminator = schema["discriminator"]["propertyName"]
            .as_str()
            .and_then(|prop| value.get(prop))
            .and_then(Value::as_str)
            .and_then(|tag| schema["discriminator"]["mapping"].get(tag));
        match by_discriminator {
            Some(target) => check(value, target, at, errors),
            None => {
                if !one.iter().any(|s| validate_silently(value, s)) {
                    errors.push(format!("{at}: matches none of oneOf"));
                }
            }
        }
    }
    if value.is_null() && schema.get("nullable") == Some(&Value::Bool(true)) {
        return;
    }
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        let ok = match t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => true,
        };
        if !ok {
            errors.push(format!("{at}: expected {t}, got {value}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            errors.push(format!("{at}: {value} not in enum {options:?}"));
        }
    }
    if let (Some(p), Some(s)) = (
        schema.get("pattern").and_then(Value::as_str),
        value.as_str(),
    ) {
        if !regex::Regex::new(p).is_ok_and(|re| re.is_match(s)) {
            errors.push(format!("{at}: {s:?} does not match {p}"));
        }
    }
    if let Some(obj) = value.as_object() {
        for req in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = req.as_str().unwrap_or_default();
            if !obj.contains_key(name) {
                errors.push(format!("{at}: missing required field {name}"));
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, v) in obj {
                if let Some(s) = props.get(k) {
                    check(v, s, &format!("{at}.{k}"), errors);
                }
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            check(v, items, &format!("{at}[{i}]"), errors);
        }
    }
}

fn validate_silently(value: &Value, schema: &Value) -> bool {
    let mut errors = Vec::new();
    check(value, schema, "$", &mut errors);
    errors.is_empty()
}
