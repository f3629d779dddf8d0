//! Counts, statuses, the `cause` summary and the reject log.

use crate::domain::{FileStatus, JobStatus};
use crate::import::tally::{FileTally, RejectLog, job_status};
use crate::import::validate::{End, ReasonKind, Rejection};

fn bad_value(n: u32) -> Rejection {
    Rejection::BadValue {
        property: "\"age\"".into(),
        value: format!("\"x{n}\""),
        rule: "is not an int".into(),
    }
}

#[test]
fn file_status_follows_the_counts() {
    let mut tally = FileTally::new();
    assert_eq!(tally.status(), FileStatus::Success, "an empty file");
    tally.accept();
    assert_eq!(tally.status(), FileStatus::Success);
    tally.reject(2, &bad_value(1));
    assert_eq!(tally.status(), FileStatus::PartFailed);
    let mut all_bad = FileTally::new();
    all_bad.reject(1, &bad_value(1));
    assert_eq!(all_bad.status(), FileStatus::Failed);
    assert_eq!(
        (tally.total(), tally.successful(), tally.failed()),
        (2, 1, 1)
    );
}

#[test]
fn cause_counts_kinds_with_a_first_example_each() {
    let mut tally = FileTally::new();
    assert_eq!(tally.cause(), None);
    tally.accept();
    tally.reject(2, &bad_value(1));
    tally.reject(
        3,
        &Rejection::UnknownLabel {
            label: "\"likes\"".into(),
        },
    );
    tally.reject(5, &bad_value(2));
    tally.reject(9, &Rejection::missing_vertex(End::Target, "u999"));
    assert_eq!(tally.count(ReasonKind::BadValue), 2);
    assert_eq!(
        tally.cause().unwrap(),
        "4 lines rejected: 2 value does not parse (first: line 2: property \"age\": value \
         \"x1\" is not an int), 1 unknown label (first: line 3: unknown label \"likes\"), \
         1 vertex does not exist (first: line 9: target vertex \"u999\" does not exist)"
    );
    let mut one = FileTally::new();
    one.reject(7, &Rejection::EmptyId { column: "id" });
    assert_eq!(
        one.cause().unwrap(),
        "1 line rejected: 1 empty vertex id (first: line 7: empty vertex id in column id)"
    );
}

#[test]
fn cause_stays_short_whatever_the_rejections() {
    let mut tally = FileTally::new();
    for line in 0..10_000 {
        tally.reject(line, &bad_value(line as u32));
        tally.reject(line, &Rejection::duplicate_vertex(&"v".repeat(1000)));
    }
    let cause = tally.cause().unwrap();
    assert!(
        cause.starts_with("20000 lines rejected: 10000 value"),
        "{cause}"
    );
    assert!(cause.chars().count() < 500, "{cause}");
}

#[test]
fn reject_log_has_one_line_per_rejected_record() {
    let mut log = RejectLog::new("bucket/data/v.csv", Vec::new());
    log.write(2, &bad_value(1)).unwrap();
    log.write(
        7,
        &Rejection::UnknownLabel {
            label: "\"a\\nb\"".into(),
        },
    )
    .unwrap();
    let text = String::from_utf8(log.finish().unwrap()).unwrap();
    assert_eq!(
        text,
        "bucket/data/v.csv:2: property \"age\": value \"x1\" is not an int\n\
         bucket/data/v.csv:7: unknown label \"a\\nb\"\n"
    );
}

#[test]
fn job_status_from_the_files() {
    use FileStatus::{Failed, PartFailed, Success};
    assert_eq!(job_status(false, [Success, Success]), JobStatus::Success);
    assert_eq!(job_status(false, []), JobStatus::Success);
    assert_eq!(
        job_status(false, [Success, PartFailed]),
        JobStatus::PartiallyFailed
    );
    assert_eq!(
        job_status(false, [PartFailed, PartFailed]),
        JobStatus::PartiallyFailed
    );
    assert_eq!(
        job_status(false, [Success, Failed]),
        JobStatus::PartiallyFailed
    );
    assert_eq!(job_status(false, [Failed, Failed]), JobStatus::Failed);
    assert_eq!(job_status(true, [Success]), JobStatus::Failed);
    assert_eq!(job_status(true, []), JobStatus::Failed);
}
