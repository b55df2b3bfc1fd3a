//! `serde_json::Value` access that cannot panic: indexing a `Value` mutably panics when it is
//! not an object, and production code denies indexing altogether (clippy).

use serde_json::Value;

static NULL: Value = Value::Null;

/// `target[key]` as indexing reads it: `Null` for a missing key or a value that is no object.
pub fn field<'a>(target: &'a Value, key: &str) -> &'a Value {
    target.get(key).unwrap_or(&NULL)
}

/// Sets `key` on a JSON object; a value that is not an object is left as it is.
pub fn set(target: &mut Value, key: &str, value: Value) {
    if let Some(object) = target.as_object_mut() {
        object.insert(key.to_string(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_read_like_indexing_and_setting_never_panics() {
        let mut object = json!({ "a": 1 });
        let mut number = json!(5);

        set(&mut object, "b", json!(2));
        set(&mut number, "b", json!(2));

        assert_eq!(object, json!({ "a": 1, "b": 2 }));
        assert_eq!(number, json!(5));
        assert_eq!(field(&object, "a"), &object["a"]);
        assert_eq!(field(&object, "missing"), &Value::Null);
        assert_eq!(field(&number, "a"), &Value::Null);
    }
}
