//! Lenient scalars: the official SDKs send some numbers as numeric strings, and booleans
//! may come as `"true"`/`"false"`; an integer may be written `39.0` (JSON Schema's integer
//! is any number without a fraction). Used as `#[serde(default, deserialize_with = ...)]` on
//! `Option` fields.

use serde::de::{self, Deserializer, Unexpected, Visitor};

/// An integer, or a string holding one.
pub fn int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    deserializer.deserialize_any(Integer { text: true })
}

/// An integer of `T`'s range, also when written with a zero fraction (`39.0`, an integer
/// to JSON Schema); not a string.
pub fn whole<'de, D: Deserializer<'de>, T: TryFrom<i64>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    match deserializer.deserialize_any(Integer { text: false })? {
        None => Ok(None),
        Some(v) => T::try_from(v).map(Some).map_err(|_| {
            de::Error::invalid_value(Unexpected::Signed(v), &"an integer in the field's range")
        }),
    }
}

/// An integer (a number without a fraction), `null` for none, and a numeric string when
/// `text`.
struct Integer {
    text: bool,
}

impl<'de> Visitor<'de> for Integer {
    type Value = Option<i64>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an integer")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i64::try_from(v)
            .map(Some)
            .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        integral(v)
            .map(Some)
            .ok_or_else(|| E::invalid_value(Unexpected::Float(v), &self))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let parsed = self.text.then(|| v.trim().parse().ok()).flatten();
        parsed
            .map(Some)
            .ok_or_else(|| E::invalid_value(Unexpected::Str(v), &self))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// A float with no fraction, as an `i64` (when it fits).
fn integral(v: f64) -> Option<i64> {
    (v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64)
}

/// A boolean, or `"true"`/`"false"`.
pub fn bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    struct Bool;
    impl<'de> Visitor<'de> for Bool {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("true or false")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            match v {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(E::invalid_value(Unexpected::Str(v), &self)),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    deserializer.deserialize_any(Bool)
}

/// The documented forms of the lenient fields: an integer of a range or the same number as
/// text, a boolean or its spelling; `null` for "absent" where the field is optional.
pub mod schema {
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, Type};

    fn int_or_text(min: i64, max: i64, text: &str, nullable: bool, about: &str) -> Schema {
        let mut any = AnyOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(min))
                    .maximum(Some(max)),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(text)),
            )
            .description(Some(about));
        if nullable {
            any = any.item(ObjectBuilder::new().schema_type(Type::Null));
        }
        any.into()
    }

    /// `graph_size_type_index` where required: 0..100, also as text.
    pub fn size_index() -> Schema {
        int_or_text(
            0,
            100,
            SIZE_TEXT,
            false,
            "0..100 (an integer, or a numeric string).",
        )
    }

    /// `replication` where optional: 1..10 (3 when absent), also as text.
    pub fn optional_replication() -> Schema {
        int_or_text(
            1,
            10,
            REPLICATION_TEXT,
            true,
            "1..10 (an integer, or a numeric string; 3 when absent).",
        )
    }

    /// `replication` where required: 1..10, also as text.
    pub fn replication() -> Schema {
        int_or_text(
            1,
            10,
            REPLICATION_TEXT,
            false,
            "1..10 (an integer, or a numeric string).",
        )
    }

    /// An optional boolean, also as `"true"`/`"false"`.
    pub fn optional_bool() -> Schema {
        AnyOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["true", "false"])),
            )
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .description(Some("true or false (also as text); false when absent."))
            .into()
    }

    /// 0..100 as text (what [`super::int`] reads: trimmed, an optional sign, leading zeros).
    const SIZE_TEXT: &str = "^\\s*\\+?0*(100|[1-9]?[0-9])\\s*$";
    /// 1..10 as text.
    const REPLICATION_TEXT: &str = "^\\s*\\+?0*([1-9]|10)\\s*$";
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Fields {
        #[serde(default, deserialize_with = "super::int")]
        n: Option<i64>,
        #[serde(default, deserialize_with = "super::bool")]
        b: Option<bool>,
    }

    fn read(json: &str) -> Result<Fields, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn numbers_and_booleans_may_be_strings() {
        let f = read(r#"{"n": "3", "b": "true"}"#).unwrap();
        assert_eq!((f.n, f.b), (Some(3), Some(true)));
        let f = read(r#"{"n": 4, "b": false}"#).unwrap();
        assert_eq!((f.n, f.b), (Some(4), Some(false)));
        let f = read(r#"{"n": null}"#).unwrap();
        assert_eq!((f.n, f.b), (None, None));
        let f = read(r#"{"n": 39.0}"#).unwrap();
        assert_eq!(f.n, Some(39));
        for bad in [
            r#"{"n": "x"}"#,
            r#"{"n": 1.5}"#,
            r#"{"b": 1}"#,
            r#"{"b": "yes"}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
