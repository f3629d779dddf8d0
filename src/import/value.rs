//! Property values: one CSV field parsed as its property's type into a canonical text
//! form, which is what is stored and exported (so export → re-import is the identity).
//!
//! Canonical forms: `int`/`long` in plain decimal (`+7`, `007` → `7`); `float`/`double` as
//! the shortest text that reads back to the same number (`1e300`, `8.7`), finite only;
//! `bool` as `true`/`false`; `date` unchanged (`YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`, fixed
//! width, a real date and time); `char`, `char array`, `enum` and `string` unchanged.
//!
//! An empty field is [`Value::Null`] for every type but `string` and `char array`, where it
//! is the empty text. A `list` or `set` field is split at `;`, empty elements are skipped
//! (so `a;;b;` is `a`, `b` and an empty field is the empty list); a set keeps the first of
//! equal elements (equal by canonical form), in first-seen order.

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::{NaiveDate, NaiveTime};

use super::schema::{Cardinality, DataType, Property};

/// The separator of `list` and `set` elements in a field.
pub const LIST_SEPARATOR: char = ';';

/// One property's value, in canonical text form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// No value (an empty field of a type that has no empty text).
    Null,
    /// The value of a `single` property.
    Single(String),
    /// The elements of a `list` or `set` property.
    Multi(Vec<String>),
}

impl Value {
    /// Parses `field` as `property` (its cardinality and type); `Err` says which rule the
    /// field (or, for a list, its first bad element) breaks.
    pub fn parse(property: &Property, field: &str) -> Result<Value, String> {
        let ty = &property.data_type;
        match property.cardinality {
            Cardinality::Single if field.is_empty() => Ok(match ty {
                DataType::String | DataType::CharArray { .. } => Value::Single(String::new()),
                _ => Value::Null,
            }),
            Cardinality::Single => parse_scalar(ty, field).map(Value::Single),
            Cardinality::List | Cardinality::Set => {
                let is_set = property.cardinality == Cardinality::Set;
                let (mut out, mut seen) = (Vec::new(), HashSet::new());
                for element in field.split(LIST_SEPARATOR).filter(|e| !e.is_empty()) {
                    let element = parse_scalar(ty, element).map_err(|rule| {
                        let list = property.cardinality.as_str();
                        format!("has {list} element {} that {rule}", clip(element, 64))
                    })?;
                    if !is_set || seen.insert(element.clone()) {
                        out.push(element);
                    }
                }
                Ok(Value::Multi(out))
            }
        }
    }

    /// The value as a CSV field (elements joined with `;`, `Null` empty).
    pub fn to_field(&self) -> Cow<'_, str> {
        match self {
            Value::Null => Cow::Borrowed(""),
            Value::Single(text) => Cow::Borrowed(text),
            Value::Multi(elements) => Cow::Owned(elements.join(";")),
        }
    }

    /// The stored form: `null`, a JSON string, or a JSON array of strings.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Single(text) => serde_json::Value::String(text.clone()),
            Value::Multi(elements) => elements.iter().cloned().collect(),
        }
    }

    /// Reads the stored form back; `Err` says what is not of that shape.
    pub fn from_json(json: &serde_json::Value) -> Result<Value, String> {
        match json {
            serde_json::Value::Null => Ok(Value::Null),
            serde_json::Value::String(text) => Ok(Value::Single(text.clone())),
            serde_json::Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    serde_json::Value::String(text) => Ok(text.clone()),
                    other => Err(format!("list element {other} is not a string")),
                })
                .collect::<Result<_, _>>()
                .map(Value::Multi),
            other => Err(format!(
                "{other} is not null, a string or an array of strings"
            )),
        }
    }
}

/// A vertex's or edge's properties as stored: a JSON array, one entry per property.
pub fn props_to_json(values: &[Value]) -> serde_json::Value {
    values.iter().map(Value::to_json).collect()
}

/// Reads stored properties back (see [`props_to_json`]).
pub fn props_from_json(json: &serde_json::Value) -> Result<Vec<Value>, String> {
    match json {
        serde_json::Value::Array(items) => items.iter().map(Value::from_json).collect(),
        other => Err(format!("properties {other} are not a JSON array")),
    }
}

/// Parses one non-empty element as `ty`, giving its canonical text or the rule it breaks.
pub fn parse_scalar(ty: &DataType, text: &str) -> Result<String, String> {
    let ok = match ty {
        DataType::String => return Ok(text.to_owned()),
        DataType::Char => text.chars().count() == 1,
        DataType::CharArray { max_len } => {
            let len = text.chars().count();
            if len > *max_len {
                return Err(format!(
                    "is {len} characters, longer than char array maxDataSize {max_len}"
                ));
            }
            true
        }
        DataType::Enum(members) => members.iter().any(|m| m == text),
        DataType::Bool => {
            return match text {
                "1" | "true" => Ok("true".into()),
                "0" | "false" => Ok("false".into()),
                _ => Err("is not a bool (0, 1, true or false)".into()),
            };
        }
        DataType::Int => {
            return text.parse::<i32>().map(|n| n.to_string()).map_err(|_| {
                "is not an int (a whole number from -2147483648 to 2147483647)".into()
            });
        }
        DataType::Long => {
            return text.parse::<i64>().map(|n| n.to_string()).map_err(|_| {
                format!(
                    "is not a long (a whole number from {} to {})",
                    i64::MIN,
                    i64::MAX
                )
            });
        }
        DataType::Float => {
            return match text.parse::<f32>() {
                Ok(x) if x.is_finite() && plain_number(text) => Ok(float_text(f64::from(x), x)),
                _ => Err("is not a float (a finite 32-bit number)".into()),
            };
        }
        DataType::Double => {
            return match text.parse::<f64>() {
                Ok(x) if x.is_finite() && plain_number(text) => Ok(float_text(x, x)),
                _ => Err("is not a double (a finite 64-bit number)".into()),
            };
        }
        DataType::Date => valid_date(text),
    };
    if ok {
        Ok(text.to_owned())
    } else {
        Err(match ty {
            DataType::Char => "is not a single character".into(),
            DataType::Enum(members) => format!("is not one of the enum members {members:?}"),
            _ => "is not a date (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, a real day and time)".into(),
        })
    }
}

/// Digits, sign, point and exponent only (Rust also reads `inf`, `NaN`, `infinity`).
fn plain_number(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
}

/// The shortest text of `x` that reads back to it: plain for ordinary magnitudes,
/// exponent form for very large or small ones. `magnitude` is `x` widened to f64.
fn float_text<T: std::fmt::Display + std::fmt::LowerExp>(magnitude: f64, x: T) -> String {
    let abs = magnitude.abs();
    if abs != 0.0 && !(1e-5..1e16).contains(&abs) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`, with a real day and time.
fn valid_date(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    let num = |range: std::ops::Range<usize>| text[range].parse::<u32>().ok();
    let day_ok = b.len() >= 10
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(
            (num(0..4), num(5..7), num(8..10)),
            (Some(y), Some(m), Some(d)) if NaiveDate::from_ymd_opt(y as i32, m, d).is_some()
        );
    match b.len() {
        10 => day_ok,
        19 => {
            day_ok
                && b[10] == b' '
                && digits(11..13)
                && b[13] == b':'
                && digits(14..16)
                && b[16] == b':'
                && digits(17..19)
                && matches!(
                    (num(11..13), num(14..16), num(17..19)),
                    (Some(h), Some(mi), Some(s)) if NaiveTime::from_hms_opt(h, mi, s).is_some()
                )
        }
        _ => false,
    }
}

/// `text` quoted and escaped for a one-line message, cut at `max` characters.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => format!("{text:?}"),
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
    }
}
