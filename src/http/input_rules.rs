//! What every request body and query string must meet before it is read into a request
//! type: a size, a nesting depth, text that PostgreSQL can store, numbers that read back.
//! Called by [`super::extract::read_json`] and [`super::extract::read_query`] only.
//!
//! Policy: a body is kept as the client sent it (an ignored field is echoed back, a
//! producer's `payload` is handed to its worker), so whatever is kept must be storable and
//! must read back as the same JSON: no NUL character in any string or key (PostgreSQL's text
//! and jsonb refuse it), at most [`MAX_DEPTH`] levels of arrays and objects, and numbers
//! within [`MAX_MAGNITUDE`] (jsonb keeps a number exactly and prints `1e308` as a 309-digit
//! integer that no JSON reader takes back as a finite number). A breach is a 400 naming the
//! field.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// The largest body read, in bytes (larger ones answer 413).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The deepest nesting of arrays and objects in a body.
pub const MAX_DEPTH: usize = 32;
/// The largest magnitude of a number in a body (a tiny number reads back, at worst as 0).
pub const MAX_MAGNITUDE: f64 = 1e100;

/// Why a body or a query string breaks a rule: where (a field path, `.` for the whole
/// body), and the rule.
#[derive(Debug, PartialEq, Eq)]
pub struct Breach {
    pub path: String,
    pub rule: String,
}

/// Checks a body already known to be JSON text (at most [`MAX_BODY_BYTES`]).
pub fn check_json(bytes: &[u8]) -> Result<(), Breach> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    // serde_json's own recursion limit (128) is above ours, so ours is the one that speaks.
    match serde_path_to_error::deserialize::<_, Checked<0>>(&mut json) {
        Ok(_) => Ok(()),
        Err(err) => {
            let path = err.path().to_string();
            let text = err.into_inner().to_string();
            let rule = text.rsplit_once(" at line ").map_or(text.as_str(), |t| t.0);
            Err(Breach {
                path,
                rule: rule.to_owned(),
            })
        }
    }
}

/// Checks the decoded pairs of a query string: no NUL character in a name or a value.
pub fn check_query<'a>(
    pairs: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
) -> Result<(), Breach> {
    for (name, value) in pairs {
        if name.contains('\0') || value.contains('\0') {
            return Err(Breach {
                path: name.replace('\0', "\\u0000"),
                rule: NUL_RULE.to_owned(),
            });
        }
    }
    Ok(())
}

const NUL_RULE: &str = "must not contain NUL characters (\\u0000)";

/// A JSON value checked against the rules, `D` levels deep (nothing is kept).
struct Checked<const D: usize>;

/// Counts depth through a type per level; past [`MAX_DEPTH`] a value is refused.
macro_rules! depth_levels {
    ($($d:literal => $next:literal),*) => {$(
        impl<'de> Deserialize<'de> for Checked<$d> {
            fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
                deserializer.deserialize_any(Check::<$d>)?;
                Ok(Checked)
            }
        }
        impl<'de> Visitor<'de> for Check<$d> {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> { Ok(()) }
            fn visit_unit<E: de::Error>(self) -> Result<(), E> { Ok(()) }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> { number(v as f64) }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> { number(v as f64) }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> { number(v) }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> { text(v) }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                nested::<A::Error>($d)?;
                while seq.next_element::<Checked<$next>>()?.is_some() {}
                Ok(())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                nested::<A::Error>($d)?;
                while let Some(key) = map.next_key::<Key>()? {
                    text::<A::Error>(&key.0)?;
                    map.next_value::<Checked<$next>>()?;
                }
                Ok(())
            }
        }
    )*};
}

/// The visitor of one level.
struct Check<const D: usize>;

depth_levels!(
    0 => 1, 1 => 2, 2 => 3, 3 => 4, 4 => 5, 5 => 6, 6 => 7, 7 => 8, 8 => 9, 9 => 10,
    10 => 11, 11 => 12, 12 => 13, 13 => 14, 14 => 15, 15 => 16, 16 => 17, 17 => 18,
    18 => 19, 19 => 20, 20 => 21, 21 => 22, 22 => 23, 23 => 24, 24 => 25, 25 => 26,
    26 => 27, 27 => 28, 28 => 29, 29 => 30, 30 => 31, 31 => 32, 32 => 32
);

/// A map key, kept only to be checked (keys are few and short next to values).
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        String::deserialize(deserializer).map(Key)
    }
}

/// An array or object at `depth` (0 for the body itself).
fn nested<E: de::Error>(depth: usize) -> Result<(), E> {
    if depth >= MAX_DEPTH {
        Err(E::custom(format!(
            "nests arrays and objects deeper than {MAX_DEPTH} levels"
        )))
    } else {
        Ok(())
    }
}

fn text<E: de::Error>(value: &str) -> Result<(), E> {
    if value.contains('\0') {
        Err(E::custom(NUL_RULE))
    } else {
        Ok(())
    }
}

fn number<E: de::Error>(value: f64) -> Result<(), E> {
    if value.abs() <= MAX_MAGNITUDE {
        Ok(())
    } else {
        Err(E::custom("a number's magnitude must be at most 1e100"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breach(json: &str) -> Option<Breach> {
        check_json(json.as_bytes()).err()
    }

    #[test]
    fn ordinary_json_passes() {
        for ok in [
            r#"{"a": [1, -2, 3.5, 1e100, -1e-100, 0, 0.0, true, null, "x\\u0000"]}"#,
            r#"{"k": {"n": 18446744073709551615, "s": "é \ud83d\ude00"}}"#,
            "[]",
            "3",
        ] {
            assert_eq!(breach(ok), None, "{ok}");
        }
    }

    #[test]
    fn nul_characters_are_named_by_their_field() {
        let b = breach(r#"{"graph": {"vpc_id": "a\u0000b"}}"#).unwrap();
        assert_eq!(b.path, "graph.vpc_id");
        assert!(b.rule.contains("NUL"), "{}", b.rule);
        let b = breach(r#"{"tags": [{"k\u0000": 1}]}"#).unwrap();
        assert_eq!(b.path, "tags[0]");
        assert!(breach(r#"{"payload": ["\u0000"]}"#).is_some());
    }

    #[test]
    fn numbers_that_would_not_read_back_are_refused() {
        let b = breach(r#"{"graph": {"x": 1.7976931348623157e308}}"#).unwrap();
        assert_eq!(b.path, "graph.x");
        assert!(b.rule.contains("magnitude"), "{}", b.rule);
        assert!(breach(r#"{"x": 1e101}"#).is_some());
        assert!(breach(r#"{"x": -1e101}"#).is_some());
        assert_eq!(breach(r#"{"x": -1e-300}"#), None);
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert_eq!(breach(&deep(MAX_DEPTH)), None);
        let b = breach(&deep(MAX_DEPTH + 1)).unwrap();
        assert!(b.rule.contains("deeper"), "{}", b.rule);
        let b = breach(&format!(r#"{{"p": {}}}"#, deep(200))).unwrap();
        assert!(b.path.starts_with("p"), "{}", b.path);
    }

    #[test]
    fn queries_refuse_nul_characters() {
        let pairs = url::form_urlencoded::parse(b"limit=1&graph_name=%00");
        let b = check_query(pairs).unwrap_err();
        assert_eq!(b.path, "graph_name");
        assert!(check_query(url::form_urlencoded::parse(b"a=b&c=%E2%82%AC")).is_ok());
    }
}
