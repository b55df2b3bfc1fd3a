//! `serde_json::Value` access that cannot panic: indexing a `Value` mutably panics when it is
//! not an object, and production code denies indexing altogether (clippy).

use serde::de::{Error, Unexpected};
use serde::{Deserialize, Deserializer};
use serde_json::{Number, Value};

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

/// An integer as JSON and the API document define one: any number without a fractional part,
/// so `60.0` and `6e1` are 60. serde's `i64` refuses them although JSON does not tell them from
/// `60`. For request fields: `#[serde(deserialize_with = "crate::json::integer")]`.
pub fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Integer::deserialize(d).map(|i| i.0)
}

/// [`integer`] as a type, for fields that wrap it (`Option<Option<Integer>>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Integer(pub i64);

impl<'de> Deserialize<'de> for Integer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // 2^63: every f64 below it in magnitude converts to i64 without loss of range.
        const LIMIT: f64 = 9_223_372_036_854_775_808.0;
        let n = Number::deserialize(d)?;
        n.as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && (-LIMIT..LIMIT).contains(f))
                    .map(|f| f as i64)
            })
            .map(Integer)
            .ok_or_else(|| {
                D::Error::invalid_value(Unexpected::Other(&n.to_string()), &"an integer")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_are_numbers_without_a_fractional_part_whatever_their_notation() {
        let cases = [
            (json!(60), Some(60), "an integer"),
            (json!(60.0), Some(60), "an integral float"),
            (json!(-5.0), Some(-5), "a negative integral float"),
            (json!(6e1), Some(60), "exponent notation"),
            (json!(60.5), None, "a fraction"),
            (json!(1e19), None, "beyond i64"),
            (json!(u64::MAX), None, "a u64 beyond i64"),
            (json!("60"), None, "a string"),
        ];
        for (value, expected, why) in cases {
            let got = Integer::deserialize(&value).ok().map(|i| i.0);
            assert_eq!(got, expected, "{why}");
        }
    }

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
