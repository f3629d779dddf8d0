//! Each rejection reason of vertex and edge lines, and their one-line messages.

use super::{fields, movies};
use crate::import::record::{CsvFormat, Malformed};
use crate::import::validate::{End, ReasonKind, Rejection, validate_edge, validate_vertex};
use crate::import::value::Value;
use crate::import::{import_edges, import_vertices};

fn vertex(parts: &[&str]) -> Result<crate::import::Vertex, Rejection> {
    validate_vertex(&movies(), &fields(parts))
}

fn edge(parts: &[&str]) -> Result<crate::import::Edge, Rejection> {
    validate_edge(&movies(), &fields(parts), |id| ["u1", "m1"].contains(&id))
}

#[test]
fn a_good_vertex_has_its_values_in_schema_order() {
    let v = vertex(&["m1", "movie", "Arrival", "2016", "Drama;Sci-Fi", "7.90"]).unwrap();
    assert_eq!((v.id.as_str(), v.label.as_str()), ("m1", "movie"));
    assert_eq!(
        v.props,
        vec![
            Value::Single("Arrival".into()),
            Value::Single("2016".into()),
            Value::Multi(vec!["Drama".into(), "Sci-Fi".into()]),
            Value::Single("7.9".into()),
        ]
    );
}

#[test]
fn unknown_labels_are_rejected() {
    let why = vertex(&["m2", "director", "Hayao Miyazaki"]).unwrap_err();
    assert_eq!(why.kind(), ReasonKind::UnknownLabel);
    assert_eq!(why.to_string(), "unknown label \"director\"");
    let why = edge(&["u1", "m1", "likes", "1"]).unwrap_err();
    assert_eq!(
        why,
        Rejection::UnknownLabel {
            label: "\"likes\"".into()
        }
    );
}

#[test]
fn column_counts_say_expected_and_got() {
    let why = vertex(&["m3", "movie", "Arrival", "2016", "Drama;Sci-Fi"]).unwrap_err();
    assert_eq!(why.kind(), ReasonKind::ColumnCount);
    assert_eq!(
        why.to_string(),
        "wrong column count: label \"movie\" expects 6 columns, got 5"
    );
    let why = edge(&["u1", "m1", "friends", "extra"]).unwrap_err();
    assert!(
        why.to_string().contains("expects 3 columns, got 4"),
        "{why}"
    );
    let why = vertex(&["lonely"]).unwrap_err();
    assert_eq!(why, Rejection::TooFewColumns { min: 2, got: 1 });
    assert_eq!(why.kind(), ReasonKind::ColumnCount);
    assert!(why.to_string().contains("at least 2, got 1"));
    assert_eq!(
        edge(&["u1", "m1"]).unwrap_err(),
        Rejection::TooFewColumns { min: 3, got: 2 }
    );
}

#[test]
fn bad_values_name_property_value_and_rule() {
    let why = vertex(&["u3", "user", "Grace", "F", "eighty", "10001"]).unwrap_err();
    assert_eq!(why.kind(), ReasonKind::BadValue);
    let text = why.to_string();
    assert!(
        text.starts_with("property \"age\": value \"eighty\" is not an int"),
        "{text}"
    );
    let why = vertex(&["u2", "user", "Alan", "X", "41", "CB21"]).unwrap_err();
    assert!(
        why.to_string()
            .contains("\"gender\": value \"X\" is not one of"),
        "{why}"
    );
    let why = vertex(&["u5", "user", "Zip", "M", "20", "12345678901"]).unwrap_err();
    assert!(why.to_string().contains("11 characters"), "{why}");
    let why = edge(&["u1", "m1", "rate", "4", "2021-13-01"]).unwrap_err();
    assert!(
        why.to_string()
            .contains("\"rated_at\": value \"2021-13-01\" is not a date")
    );
    let long = format!("multi\nline {}", "x".repeat(500));
    let why = vertex(&["u6", "user", "N", "F", &long, "1"]).unwrap_err();
    let text = why.to_string();
    assert!(!text.contains('\n') && text.len() < 250, "{text}");
}

#[test]
fn edges_need_both_vertices() {
    let why = edge(&["u1", "u999", "friends"]).unwrap_err();
    assert_eq!(why.kind(), ReasonKind::MissingVertex);
    assert_eq!(why.to_string(), "target vertex \"u999\" does not exist");
    let why = edge(&["nobody", "m1", "rate", "1", "2021-01-01"]).unwrap_err();
    assert_eq!(
        why,
        Rejection::MissingVertex {
            end: End::Source,
            id: "\"nobody\"".into()
        }
    );
    let e = edge(&["u1", "m1", "rate", "5", "2021-03-04 10:11:12"]).unwrap();
    assert_eq!(
        (e.source.as_str(), e.target.as_str(), e.label.as_str()),
        ("u1", "m1", "rate")
    );
}

#[test]
fn empty_ids_are_rejected() {
    let why = vertex(&["", "friends"]).unwrap_err();
    assert_eq!(why, Rejection::EmptyId { column: "id" });
    let why = edge(&["u1", "", "friends"]).unwrap_err();
    assert_eq!(why.to_string(), "empty vertex id in column target");
}

#[test]
fn malformed_records_are_rejections_with_their_line() {
    let text = b"u1,friends\nu2,fri\xffends\n\"u3\nstill u3\",friends\n";
    let (mut accepted, mut rejected) = (vec![], vec![]);
    let tally = import_vertices(
        &movies(),
        &text[..],
        CsvFormat::default(),
        |v| {
            accepted.push(v.id);
            Ok(())
        },
        |line, why| {
            rejected.push((line, why.clone()));
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(accepted, ["u1", "u3\nstill u3"]);
    assert_eq!(
        rejected,
        [(
            2,
            Rejection::Malformed(Malformed::InvalidUtf8 { column: 2 })
        )]
    );
    assert_eq!(
        (tally.total(), tally.successful(), tally.failed()),
        (3, 2, 1)
    );
    let tally = import_edges(
        &movies(),
        &b"u1,u3\nstill u3,friends\n"[..],
        CsvFormat::default(),
        |id| accepted.iter().any(|a| a == id),
        |_| Ok(()),
        |_, _| Ok(()),
    )
    .unwrap();
    assert_eq!(
        tally.failed(),
        2,
        "a line break outside quotes splits the record"
    );
}
