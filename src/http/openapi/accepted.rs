//! The rules every body and query string meets ([`crate::http::input_rules`]), said in the
//! document: the derives describe each field's type, and this pass adds what holds of all of
//! them, on the document's JSON before it is served.
//!
//! Policy: what the document allows, the service accepts, and the other way round (the fuzz
//! suite checks both); a rule that depends on the data (a file exists, a backup is the
//! graph's) or on two fields at once (`start_time` not after `end_time`) is said in the
//! field's description instead.
//!
//! - a field the body must carry is not nullable (`null` reads as absent, so as missing);
//! - text (strings, keys) holds no NUL character;
//! - an integer stays within its format's range, any other number within 1e100;
//! - a free-form value (a producer's `payload`, a graph's `tags` and other fields) is
//!   [`STORED_JSON`]: JSON that the service can keep and give back.

use serde_json::{Map, Value, json};

use crate::domain::job::RESERVED_TYPES;
use crate::http::input_rules::{MAX_DEPTH, MAX_MAGNITUDE};

/// The component every free-form value refers to.
pub const STORED_JSON: &str = "StoredJson";
/// Text without a NUL character.
pub const NO_NUL: &str = "^[^\\x00]*$";

/// The formats request fields name (`#[schema(format = "...")]`), each with the pattern of
/// the domain parser that reads it.
pub const FORMATS: &[(&str, &str)] = &[
    // `ObjectPath::parse`: letters, digits and `_ ! - . * ' ( ) /`; no empty, `.` or `..`
    // segment; no leading `/`; a trailing `/` is dropped (at most 1,024 characters are
    // left: `maxLength` below says 1,025, the one rule the pattern leaves to the service).
    (
        "object-path",
        concat!(
            "^(?:[A-Za-z0-9_!*'()-][A-Za-z0-9_!.*'()-]*|\\.[A-Za-z0-9_!*'()-][A-Za-z0-9_!.*'()-]*",
            "|\\.\\.[A-Za-z0-9_!.*'()-]+)(?:/(?:[A-Za-z0-9_!*'()-][A-Za-z0-9_!.*'()-]*",
            "|\\.[A-Za-z0-9_!*'()-][A-Za-z0-9_!.*'()-]*|\\.\\.[A-Za-z0-9_!.*'()-]+))*/?$"
        ),
    ),
    // `Uuid::try_parse`: 32 hex characters, or the dashed form.
    (
        "id",
        "^([0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$",
    ),
    // `CsvFormat::parse`: one ASCII character other than NUL or a line break, or `\t`.
    (
        "one-character",
        "^([\\x01-\\x09\\x0b\\x0c\\x0e-\\x7f]|\\\\t)$",
    ),
    // `producer::check_job_type`: a name, not a built-in type (also refused below).
    ("job-type", "^[A-Za-z0-9_.:/-]{1,64}$"),
    // `Version::parse`: 1 to 6 dot-separated numbers.
    ("version", "^[0-9]{1,9}(\\.[0-9]{1,9}){0,5}$"),
];

/// Adds the common rules to `doc` (an OpenAPI document as JSON).
pub fn tighten(doc: &mut Value) {
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for operation in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in operation.values_mut() {
                if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                    for param in params {
                        if let Some(schema) = param.get_mut("schema") {
                            walk(schema);
                        }
                    }
                }
                if let Some(content) = op.pointer_mut("/requestBody/content") {
                    for media in content
                        .as_object_mut()
                        .into_iter()
                        .flat_map(|m| m.values_mut())
                    {
                        if let Some(schema) = media.get_mut("schema") {
                            walk(schema);
                        }
                    }
                }
            }
        }
    }
    let requested = requested_components(doc);
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            if requested.contains(name) {
                walk(schema);
            }
        }
        schemas.insert(STORED_JSON.to_owned(), stored_json());
    }
}

/// The components a request body refers to, directly or through other components (the
/// rules are for what clients send; answers keep their own schemas).
fn requested_components(doc: &Value) -> std::collections::BTreeSet<String> {
    let mut found = std::collections::BTreeSet::new();
    let mut pending: Vec<&Value> = doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .filter_map(|op| op.get("requestBody"))
        .collect();
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                if let Some(name) = map
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    && found.insert(name.to_owned())
                    && let Some(target) = doc.pointer(&format!("/components/schemas/{name}"))
                {
                    pending.push(target);
                }
                pending.extend(map.values());
            }
            Value::Array(list) => pending.extend(list),
            _ => {}
        }
    }
    found
}

/// JSON the service can keep: no NUL in text, numbers within [`MAX_MAGNITUDE`].
fn stored_json() -> Value {
    let reference = json!({"$ref": format!("#/components/schemas/{STORED_JSON}")});
    json!({
        "description": format!(
            "Any JSON the service can keep and give back: strings and keys without NUL \
             characters, numbers of magnitude at most 1e100, at most {MAX_DEPTH} levels of \
             arrays and objects (else 400 `GES.0001` naming the field)."
        ),
        "anyOf": [
            {"type": "null"},
            {"type": "boolean"},
            {"type": "number", "minimum": -MAX_MAGNITUDE, "maximum": MAX_MAGNITUDE},
            {"type": "string", "pattern": NO_NUL},
            {"type": "array", "items": reference},
            {"type": "object", "propertyNames": {"pattern": NO_NUL}, "additionalProperties": reference},
        ]
    })
}

/// Applies the rules to `schema` and everything under it.
fn walk(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if is_free_form(object) {
        object.insert(
            "$ref".to_owned(),
            json!(format!("#/components/schemas/{STORED_JSON}")),
        );
        return;
    }
    not_nullable_when_required(object);
    bounded(object);
    for key in ["items", "additionalProperties", "not"] {
        if let Some(inner) = object.get_mut(key) {
            walk(inner);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(list) = object.get_mut(key).and_then(Value::as_array_mut) {
            list.iter_mut().for_each(walk);
        }
    }
    if let Some(properties) = object.get_mut("properties").and_then(Value::as_object_mut) {
        properties.values_mut().for_each(walk);
    }
    let is_object = object.get("type") == Some(&json!("object"));
    if is_object && object.get("additionalProperties") != Some(&Value::Bool(false)) {
        object.insert("propertyNames".to_owned(), json!({"pattern": NO_NUL}));
        // Fields a body does not name are ignored, but kept to the same rules.
        object.entry("additionalProperties").or_insert(json!({
            "$ref": format!("#/components/schemas/{STORED_JSON}")
        }));
    }
}

/// A schema that says nothing of its value (only a description, say).
fn is_free_form(object: &Map<String, Value>) -> bool {
    const SHAPING: [&str; 8] = [
        "type",
        "$ref",
        "oneOf",
        "anyOf",
        "allOf",
        "enum",
        "const",
        "properties",
    ];
    !SHAPING.iter().any(|key| object.contains_key(*key))
}

/// A required property is not `null`: drops `null` from its type or its `oneOf`.
fn not_nullable_when_required(object: &mut Map<String, Value>) {
    let required: Vec<String> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let Some(properties) = object.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for name in required {
        let Some(property) = properties.get_mut(&name).and_then(Value::as_object_mut) else {
            continue;
        };
        if let Some(types) = property.get_mut("type").and_then(Value::as_array_mut) {
            types.retain(|t| t != "null");
            if let [only] = types.as_slice() {
                let only = only.clone();
                property.insert("type".to_owned(), only);
            }
        }
        let one_of = property.get("oneOf").and_then(Value::as_array).cloned();
        if let Some(list) = one_of {
            let rest: Vec<Value> = list
                .into_iter()
                .filter(|v| v.get("type") != Some(&json!("null")))
                .collect();
            if let [only] = rest.as_slice() {
                property.remove("oneOf");
                if let Some(fields) = only.as_object() {
                    for (key, value) in fields {
                        property.entry(key.clone()).or_insert(value.clone());
                    }
                }
            } else {
                property.insert("oneOf".to_owned(), Value::Array(rest));
            }
        }
    }
}

/// Text without NUL, integers within their format, other numbers within [`MAX_MAGNITUDE`].
fn bounded(object: &mut Map<String, Value>) {
    let types: Vec<String> = match object.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => return,
    };
    let has = |t: &str| types.iter().any(|x| x == t);
    let format = object
        .get("format")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let format = format.as_deref();
    if let Some((_, pattern)) = FORMATS.iter().find(|(name, _)| Some(*name) == format) {
        object.insert("pattern".to_owned(), json!(pattern));
    }
    if format == Some("object-path") {
        object.insert("maxLength".to_owned(), json!(1025));
    }
    if format == Some("job-type") {
        object.insert("not".to_owned(), json!({"enum": RESERVED_TYPES}));
    }
    let checked_format = matches!(
        object.get("format").and_then(Value::as_str),
        Some("uuid" | "date" | "date-time")
    );
    if has("string")
        && !object.contains_key("pattern")
        && !object.contains_key("enum")
        && !checked_format
    {
        object.insert("pattern".to_owned(), json!(NO_NUL));
    }
    let (low, high) = if has("integer") {
        match object.get("format").and_then(Value::as_str) {
            Some("int32") => (json!(i32::MIN), json!(i32::MAX)),
            _ => (json!(i64::MIN), json!(i64::MAX)),
        }
    } else if has("number") {
        (json!(-MAX_MAGNITUDE), json!(MAX_MAGNITUDE))
    } else {
        return;
    };
    object.entry("minimum").or_insert(low);
    object.entry("maximum").or_insert(high);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_fields_lose_null_and_text_loses_nul() {
        let mut schema = json!({
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": ["string", "null"]},
                "vpc": {"type": ["string", "null"]},
                "tags": {"description": "anything"},
                "n": {"type": "integer", "format": "int32", "minimum": 1},
            }
        });
        walk(&mut schema);
        assert_eq!(schema["properties"]["name"]["type"], "string");
        assert_eq!(
            schema["properties"]["vpc"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(schema["properties"]["vpc"]["pattern"], NO_NUL);
        assert_eq!(
            schema["properties"]["tags"]["$ref"],
            "#/components/schemas/StoredJson"
        );
        assert_eq!(schema["properties"]["n"]["minimum"], 1);
        assert_eq!(schema["properties"]["n"]["maximum"], i32::MAX);
        assert_eq!(schema["propertyNames"]["pattern"], NO_NUL);
    }
}
