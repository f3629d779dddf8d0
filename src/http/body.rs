//! JSON bodies read leniently: an empty body is `{}` where the contract allows it, unknown
//! fields are ignored, numbers may come as numeric strings (the SDKs send some as strings).

use actix_web::http::StatusCode;
use serde_json::{Map, Value};

use super::error::ApiError;

/// The body as a JSON object; empty counts as `{}` when `empty_ok`.
pub fn object(bytes: &[u8], empty_ok: bool) -> Result<Map<String, Value>, ApiError> {
    let not_json = |why: &str| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "GES.7016",
            format!("the request body {why}"),
        )
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return if empty_ok {
            Ok(Map::new())
        } else {
            Err(missing("body"))
        };
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(not_json("must be a JSON object")),
        Err(_) => Err(not_json("is not valid JSON")),
    }
}

/// 400 `GES.7049`: a required field is missing.
pub fn missing(field: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "GES.7049",
        format!("{field} is required"),
    )
}

fn wrong_type(field: &str, want: &str) -> ApiError {
    ApiError::bad_parameter(format!("invalid parameter {field}: must be {want}"))
}

/// A nested object (`{"graph": {...}}`), required.
pub fn required_object<'a>(
    map: &'a Map<String, Value>,
    field: &str,
) -> Result<&'a Map<String, Value>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Err(missing(field)),
        Some(Value::Object(inner)) => Ok(inner),
        Some(_) => Err(wrong_type(field, "an object")),
    }
}

/// An optional string field.
pub fn opt_str<'a>(map: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(field, "a string")),
    }
}

/// A required string field.
pub fn req_str<'a>(map: &'a Map<String, Value>, field: &str) -> Result<&'a str, ApiError> {
    opt_str(map, field)?.ok_or_else(|| missing(field))
}

/// An optional integer, given as a number or a numeric string.
pub fn opt_int(map: &Map<String, Value>, field: &str) -> Result<Option<i64>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| wrong_type(field, "an integer")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| wrong_type(field, "an integer")),
        Some(_) => Err(wrong_type(field, "an integer")),
    }
}

/// An optional boolean, given as a boolean or `"true"`/`"false"`.
pub fn opt_bool(map: &Map<String, Value>, field: &str) -> Result<Option<bool>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) => parse_bool(field, s).map(Some),
        Some(_) => Err(wrong_type(field, "true or false")),
    }
}

/// `true` or `false` (a query parameter or a string field).
pub fn parse_bool(field: &str, raw: &str) -> Result<bool, ApiError> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(wrong_type(field, "true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_bodies_are_objects_where_allowed() {
        assert!(object(b"", true).unwrap().is_empty());
        assert!(object(b"  \n", true).unwrap().is_empty());
        assert_eq!(object(b"", false).unwrap_err().code, "GES.7049");
        assert_eq!(object(b"{", true).unwrap_err().code, "GES.7016");
        assert_eq!(object(b"[1]", true).unwrap_err().code, "GES.7016");
    }

    #[test]
    fn numbers_may_be_strings() {
        let map = object(br#"{"a": "3", "b": 4, "c": "x", "d": true}"#, false).unwrap();
        assert_eq!(opt_int(&map, "a").unwrap(), Some(3));
        assert_eq!(opt_int(&map, "b").unwrap(), Some(4));
        assert_eq!(opt_int(&map, "c").unwrap_err().code, "GES.0001");
        assert_eq!(opt_int(&map, "zzz").unwrap(), None);
        assert_eq!(opt_bool(&map, "d").unwrap(), Some(true));
        assert_eq!(req_str(&map, "zzz").unwrap_err().code, "GES.7049");
    }
}
