//! The shared movies fixture: the clean set imports whole, the dirty set rejects exactly
//! the lines its README lists, for the reasons it gives.

use std::collections::HashSet;

use super::{fixture, movies};
use crate::domain::{FileStatus, JobStatus};
use crate::import::validate::{End, ReasonKind, Rejection};
use crate::import::{
    CsvExport, CsvFormat, Edge, FileTally, RejectLog, Schema, Vertex, import_edges,
    import_vertices, job_status,
};

/// What importing one file gave.
struct Outcome<T> {
    accepted: Vec<T>,
    rejected: Vec<(u64, Rejection)>,
    tally: FileTally,
    log: String,
}

fn vertices(schema: &Schema, text: &str) -> Outcome<Vertex> {
    let (mut accepted, mut rejected) = (vec![], vec![]);
    let mut log = RejectLog::new("movies/vertices.csv", Vec::new());
    let tally = import_vertices(
        schema,
        text.as_bytes(),
        CsvFormat::default(),
        |v| {
            accepted.push(v);
            Ok(())
        },
        |line, why| {
            rejected.push((line, why.clone()));
            log.write(line, why)
        },
    )
    .unwrap();
    let log = String::from_utf8(log.finish().unwrap()).unwrap();
    Outcome {
        accepted,
        rejected,
        tally,
        log,
    }
}

fn edges(schema: &Schema, text: &str, known: &HashSet<String>) -> Outcome<Edge> {
    let (mut accepted, mut rejected) = (vec![], vec![]);
    let mut log = RejectLog::new("movies/edges.csv", Vec::new());
    let tally = import_edges(
        schema,
        text.as_bytes(),
        CsvFormat::default(),
        |id| known.contains(id),
        |e| {
            accepted.push(e);
            Ok(())
        },
        |line, why| {
            rejected.push((line, why.clone()));
            log.write(line, why)
        },
    )
    .unwrap();
    let log = String::from_utf8(log.finish().unwrap()).unwrap();
    Outcome {
        accepted,
        rejected,
        tally,
        log,
    }
}

fn ids(vertices: &[Vertex]) -> HashSet<String> {
    vertices.iter().map(|v| v.id.clone()).collect()
}

#[test]
fn the_clean_set_imports_8_vertices_and_9_edges() {
    let schema = movies();
    let v = vertices(&schema, &fixture("vertices.csv"));
    assert_eq!(
        (v.tally.total(), v.tally.successful()),
        (8, 8),
        "{:?}",
        v.rejected
    );
    let e = edges(&schema, &fixture("edges.csv"), &ids(&v.accepted));
    assert_eq!(
        (e.tally.total(), e.tally.successful()),
        (9, 9),
        "{:?}",
        e.rejected
    );
    assert_eq!(v.accepted[3].props[0].to_field(), "Hopper, Jr.");
    assert_eq!(
        job_status(false, [v.tally.status(), e.tally.status()]),
        JobStatus::Success
    );
    assert_eq!((v.log.as_str(), v.tally.cause()), ("", None));
}

#[test]
fn the_clean_set_exports_to_the_same_lines() {
    let schema = movies();
    let v = vertices(&schema, &fixture("vertices.csv"));
    let e = edges(&schema, &fixture("edges.csv"), &ids(&v.accepted));
    let mut out = CsvExport::new(Vec::new(), CsvFormat::default());
    v.accepted.iter().try_for_each(|x| out.vertex(x)).unwrap();
    assert_eq!(
        String::from_utf8(out.finish().unwrap()).unwrap(),
        fixture("vertices.csv")
    );
    let mut out = CsvExport::new(Vec::new(), CsvFormat::default());
    e.accepted.iter().try_for_each(|x| out.edge(x)).unwrap();
    assert_eq!(
        String::from_utf8(out.finish().unwrap()).unwrap(),
        fixture("edges.csv")
    );
}

#[test]
fn dirty_vertices_reject_exactly_the_listed_lines() {
    let schema = Schema::parse(&fixture("dirty/schema.xml")).unwrap();
    let v = vertices(&schema, &fixture("dirty/vertices.csv"));
    let kept: Vec<_> = v.accepted.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(kept, ["u001", "u004", "m001"]);
    let why: Vec<(u64, ReasonKind, String)> = v
        .rejected
        .iter()
        .map(|(line, r)| (*line, r.kind(), r.to_string()))
        .collect();
    let expect = [
        (
            2,
            ReasonKind::BadValue,
            "\"gender\": value \"X\" is not one of the enum members",
        ),
        (
            3,
            ReasonKind::BadValue,
            "\"age\": value \"eighty\" is not an int",
        ),
        (
            5,
            ReasonKind::BadValue,
            "\"zip\": value \"12345678901\" is 11 characters",
        ),
        (7, ReasonKind::UnknownLabel, "unknown label \"director\""),
        (
            8,
            ReasonKind::ColumnCount,
            "label \"movie\" expects 6 columns, got 5",
        ),
    ];
    assert_eq!(why.len(), expect.len(), "{why:?}");
    for ((line, kind, text), (want_line, want_kind, want_text)) in why.iter().zip(expect) {
        assert_eq!((*line, *kind), (want_line, want_kind), "{text}");
        assert!(text.contains(want_text), "line {line}: {text}");
    }
    assert_eq!(
        (v.tally.total(), v.tally.successful(), v.tally.failed()),
        (8, 3, 5)
    );
    assert_eq!(v.tally.status(), FileStatus::PartFailed);
    assert_eq!(v.log.lines().count(), 5);
    assert!(
        v.log
            .starts_with("movies/vertices.csv:2: property \"gender\""),
        "{}",
        v.log
    );
    let cause = v.tally.cause().unwrap();
    assert!(cause.starts_with("5 lines rejected: 3 value does not parse (first: line 2"));
    assert!(cause.contains("1 unknown label") && cause.contains("1 wrong column count"));
}

#[test]
fn dirty_edges_reject_lines_2_3_5_and_6() {
    let schema = Schema::parse(&fixture("dirty/schema.xml")).unwrap();
    let v = vertices(&schema, &fixture("dirty/vertices.csv"));
    let e = edges(&schema, &fixture("dirty/edges.csv"), &ids(&v.accepted));
    let lines: Vec<u64> = e.rejected.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [2, 3, 5, 6]);
    let kinds: Vec<ReasonKind> = e.rejected.iter().map(|(_, r)| r.kind()).collect();
    assert_eq!(
        kinds,
        [
            ReasonKind::BadValue,
            ReasonKind::BadValue,
            ReasonKind::MissingVertex,
            ReasonKind::UnknownLabel
        ]
    );
    assert!(
        e.rejected[0]
            .1
            .to_string()
            .contains("\"score\": value \"five\"")
    );
    assert!(
        e.rejected[1]
            .1
            .to_string()
            .contains("\"rated_at\": value \"2021-13-01\"")
    );
    assert_eq!(
        e.rejected[2].1,
        Rejection::missing_vertex(End::Target, "u999")
    );
    assert_eq!(e.rejected[3].1.to_string(), "unknown label \"likes\"");
    assert_eq!(
        (e.tally.total(), e.tally.successful(), e.tally.failed()),
        (6, 2, 4)
    );
    assert_eq!(e.tally.status(), FileStatus::PartFailed);
    assert_eq!(
        job_status(false, [v.tally.status(), e.tally.status()]),
        JobStatus::PartiallyFailed
    );
    assert!(
        e.log
            .contains("movies/edges.csv:5: target vertex \"u999\" does not exist\n")
    );
}
