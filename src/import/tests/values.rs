//! Each data type's parser, cardinalities, and the stored JSON form.

use super::prop;
use crate::import::schema::{Cardinality, DataType};
use crate::import::value::{Value, parse_scalar, props_from_json, props_to_json};

fn single(ty: DataType, text: &str) -> Result<Value, String> {
    Value::parse(&prop(ty, Cardinality::Single), text)
}

fn canon(ty: DataType, text: &str) -> Option<String> {
    parse_scalar(&ty, text).ok()
}

#[test]
fn int_accepts_exactly_the_i32_range() {
    assert_eq!(
        canon(DataType::Int, "2147483647").as_deref(),
        Some("2147483647")
    );
    assert_eq!(
        canon(DataType::Int, "-2147483648").as_deref(),
        Some("-2147483648")
    );
    assert_eq!(canon(DataType::Int, "2147483648"), None);
    assert_eq!(canon(DataType::Int, "-2147483649"), None);
    assert_eq!(canon(DataType::Int, "+7").as_deref(), Some("7"));
    assert_eq!(canon(DataType::Int, "007").as_deref(), Some("7"));
    for bad in ["1.0", "eighty", " 5", "5 ", "0x10", "-"] {
        assert_eq!(canon(DataType::Int, bad), None, "{bad:?}");
    }
    let err = parse_scalar(&DataType::Int, "eighty").unwrap_err();
    assert!(err.contains("int") && err.contains("2147483647"), "{err}");
}

#[test]
fn long_accepts_exactly_the_i64_range() {
    let max = "9223372036854775807";
    let min = "-9223372036854775808";
    assert_eq!(canon(DataType::Long, max).as_deref(), Some(max));
    assert_eq!(canon(DataType::Long, min).as_deref(), Some(min));
    assert_eq!(canon(DataType::Long, "9223372036854775808"), None);
    assert_eq!(canon(DataType::Long, "-9223372036854775809"), None);
    assert_eq!(
        canon(DataType::Long, "2147483648").as_deref(),
        Some("2147483648")
    );
}

#[test]
fn floats_and_doubles_are_finite_numbers_in_shortest_form() {
    assert_eq!(canon(DataType::Double, "8.7").as_deref(), Some("8.7"));
    assert_eq!(canon(DataType::Double, "8.70").as_deref(), Some("8.7"));
    assert_eq!(canon(DataType::Double, "1e300").as_deref(), Some("1e300"));
    assert_eq!(
        canon(DataType::Double, "-2.5E-7").as_deref(),
        Some("-2.5e-7")
    );
    assert_eq!(canon(DataType::Float, "0.1").as_deref(), Some("0.1"));
    assert_eq!(canon(DataType::Float, "1e38").as_deref(), Some("1e38"));
    assert_eq!(canon(DataType::Float, "1e39"), None, "beyond f32");
    assert_eq!(canon(DataType::Double, "1e39").as_deref(), Some("1e39"));
    for bad in ["inf", "NaN", "infinity", "1e309", "1,5", "abc", "1.2.3"] {
        assert_eq!(canon(DataType::Double, bad), None, "{bad:?}");
    }
    for text in ["3.4028235e38", "1.17549435e-38", "123456.79", "-0"] {
        let once = canon(DataType::Float, text).unwrap();
        assert_eq!(canon(DataType::Float, &once), Some(once.clone()), "{text}");
    }
}

#[test]
fn bools_are_0_1_true_false() {
    assert_eq!(canon(DataType::Bool, "1").as_deref(), Some("true"));
    assert_eq!(canon(DataType::Bool, "true").as_deref(), Some("true"));
    assert_eq!(canon(DataType::Bool, "0").as_deref(), Some("false"));
    assert_eq!(canon(DataType::Bool, "false").as_deref(), Some("false"));
    for bad in ["yes", "2", "TRUE ", "t"] {
        assert_eq!(canon(DataType::Bool, bad), None, "{bad:?}");
    }
}

#[test]
fn dates_are_real_days_and_times_in_two_forms() {
    for good in [
        "2024-02-29",
        "2000-02-29",
        "2021-03-04 10:11:12",
        "2020-12-31 23:59:59",
        "0001-01-01",
    ] {
        assert_eq!(canon(DataType::Date, good).as_deref(), Some(good));
    }
    for bad in [
        "2023-02-29",
        "1900-02-29",
        "2021-13-01",
        "2021-00-10",
        "2021-04-31",
        "2021-3-4",
        "2021-03-04T10:11:12",
        "2021-03-04 24:00:00",
        "2021-03-04 10:60:00",
        "2021-03-04 10:11",
        "2021-03-04 ",
        "２０２１-03-04",
        "",
    ] {
        assert_eq!(canon(DataType::Date, bad), None, "{bad:?}");
    }
}

#[test]
fn enums_chars_and_char_arrays() {
    let gender = DataType::Enum(vec!["F".into(), "M".into()]);
    assert_eq!(canon(gender.clone(), "F").as_deref(), Some("F"));
    let err = parse_scalar(&gender, "X").unwrap_err();
    assert!(err.contains("enum") && err.contains("\"M\""), "{err}");
    assert_eq!(canon(gender, "f"), None);

    assert_eq!(canon(DataType::Char, "é").as_deref(), Some("é"));
    assert_eq!(canon(DataType::Char, "ab"), None);

    let zip = DataType::CharArray { max_len: 3 };
    assert_eq!(
        canon(zip.clone(), "ééé").as_deref(),
        Some("ééé"),
        "characters, not bytes"
    );
    let err = parse_scalar(&zip, "abcd").unwrap_err();
    assert!(
        err.contains("4 characters") && err.contains("maxDataSize 3"),
        "{err}"
    );
    assert_eq!(
        canon(DataType::String, "any, \"thing\"\n").as_deref(),
        Some("any, \"thing\"\n")
    );
}

#[test]
fn empty_fields_are_null_except_for_text() {
    assert_eq!(single(DataType::Int, ""), Ok(Value::Null));
    assert_eq!(single(DataType::Char, ""), Ok(Value::Null));
    assert_eq!(single(DataType::Date, ""), Ok(Value::Null));
    assert_eq!(
        single(DataType::String, ""),
        Ok(Value::Single(String::new()))
    );
    let zip = DataType::CharArray { max_len: 10 };
    assert_eq!(single(zip, ""), Ok(Value::Single(String::new())));
}

#[test]
fn lists_keep_all_elements_and_sets_drop_repeats() {
    let list = prop(DataType::Int, Cardinality::List);
    let set = prop(DataType::Int, Cardinality::Set);
    let multi = |v: &[&str]| Value::Multi(v.iter().map(|s| (*s).to_owned()).collect());
    assert_eq!(Value::parse(&list, "3;1;3"), Ok(multi(&["3", "1", "3"])));
    assert_eq!(
        Value::parse(&set, "3;1;03;1;2"),
        Ok(multi(&["3", "1", "2"]))
    );
    assert_eq!(Value::parse(&set, ""), Ok(multi(&[])));
    assert_eq!(Value::parse(&list, "1;;2;"), Ok(multi(&["1", "2"])));
    let err = Value::parse(&set, "1;x;2").unwrap_err();
    assert!(
        err.contains("set element \"x\"") && err.contains("not an int"),
        "{err}"
    );
    let genres = prop(DataType::String, Cardinality::Set);
    assert_eq!(
        Value::parse(&genres, "Drama;Sci-Fi;Drama"),
        Ok(multi(&["Drama", "Sci-Fi"]))
    );
    assert_eq!(multi(&["a", "b"]).to_field(), "a;b");
}

#[test]
fn props_are_stored_as_a_json_array_and_read_back() {
    let props = vec![
        Value::Single("The Matrix".into()),
        Value::Null,
        Value::Multi(vec!["Action".into(), "Sci-Fi".into()]),
    ];
    let json = props_to_json(&props);
    assert_eq!(
        json,
        serde_json::json!(["The Matrix", null, ["Action", "Sci-Fi"]])
    );
    assert_eq!(props_from_json(&json), Ok(props));
    assert!(props_from_json(&serde_json::json!({"a": 1})).is_err());
    assert!(props_from_json(&serde_json::json!([1])).is_err());
    assert!(props_from_json(&serde_json::json!([[true]])).is_err());
}
