//! Lenient scalars: the official SDKs send some numbers as numeric strings, and booleans
//! may come as `"true"`/`"false"`. Used as `#[serde(default, deserialize_with = ...)]` on
//! `Option` fields.

use serde::de::{self, Deserializer, Unexpected, Visitor};

/// An integer, or a string holding one.
pub fn int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    struct Int;
    impl<'de> Visitor<'de> for Int {
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
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.trim()
                .parse()
                .map(Some)
                .map_err(|_| E::invalid_value(Unexpected::Str(v), &self))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    deserializer.deserialize_any(Int)
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
