//! `GET /v2/{p}/graphs/jobs/{job_id}/files/{kind}/{ordinal}/log`: a file's reject log in
//! pages of lines, read from object storage, under the job's token and project rules.

use jobcenter::domain::{FileKind, FileStatus, JobFile, JobStatus};

use crate::helpers::{PROJECT, TestApp, job, storage_root, utc};

/// Lines of the big log.
const LINES: usize = 100_000;

/// An import job of [`PROJECT`] with a vertex file whose log has [`LINES`] lines, and an
/// edge file without a log; its id.
async fn import_with_log(app: &TestApp) -> String {
    let log = "bucket/import-logs/job1/vertices.csv.log";
    let file = storage_root(&app.database_url).join(log);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let text: String = (1..=LINES)
        .map(|n| format!("bucket/vertices.csv:{n}: the line has 2 fields, the label wants 3\n"))
        .collect();
    std::fs::write(&file, text).unwrap();
    let imported = job(
        "g1",
        "ImportGraph",
        JobStatus::PartiallyFailed,
        utc(2026, 3, 1, 0, 0, 0),
    );
    app.insert(std::slice::from_ref(&imported)).await;
    let files = [
        JobFile {
            kind: FileKind::Vertex,
            path: "bucket/vertices.csv".into(),
            log: Some(log.into()),
            status: FileStatus::PartFailed,
            cause: None,
            total_lines: LINES as i64 + 5,
            failed_lines: LINES as i64,
            successful_lines: 5,
        },
        JobFile {
            kind: FileKind::Edge,
            path: "bucket/edges.csv".into(),
            log: None,
            status: FileStatus::Success,
            cause: None,
            total_lines: 3,
            failed_lines: 0,
            successful_lines: 3,
        },
    ];
    let mut conn = app.pool.acquire().await.unwrap();
    jobcenter::store::jobs::insert_files(&mut *conn, &[(imported.id, &files[..])])
        .await
        .unwrap();
    imported.id.to_string()
}

fn log_path(job: &str, kind: &str, ordinal: u32, query: &str) -> String {
    format!("/v2/{PROJECT}/graphs/jobs/{job}/files/{kind}/{ordinal}/log?{query}")
}

#[tokio::test]
async fn a_log_of_100000_lines_reads_in_pages() {
    let app = TestApp::spawn_reader().await;
    let id = import_with_log(&app).await;
    let token = app.token(PROJECT, &["readonly"]);
    let (status, first) = app.get(&log_path(&id, "vertex", 1, ""), Some(&token)).await;
    assert_eq!(status, 200, "{first}");
    let lines = first["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 10, "the default page is 10 lines");
    assert_eq!(
        lines[0],
        "bucket/vertices.csv:1: the line has 2 fields, the label wants 3"
    );
    assert_eq!(first["offset"], 0);
    assert_eq!(first["next_offset"], 10);

    let (status, deep) = app
        .get(
            &log_path(&id, "vertex", 1, "offset=99950&limit=1000"),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    let lines = deep["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 50, "the last 50 of 100,000 lines");
    assert!(
        lines[0]
            .as_str()
            .unwrap()
            .starts_with("bucket/vertices.csv:99951:")
    );
    assert!(
        lines[49]
            .as_str()
            .unwrap()
            .starts_with("bucket/vertices.csv:100000:")
    );
    assert!(
        deep["next_offset"].is_null(),
        "the last page: {}",
        deep["next_offset"]
    );

    let (status, middle) = app
        .get(
            &log_path(&id, "vertex", 1, "offset=50000&limit=1000"),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(middle["lines"].as_array().unwrap().len(), 1000);
    assert_eq!(middle["next_offset"], 51000);

    let (status, past) = app
        .get(&log_path(&id, "vertex", 1, "offset=200000"), Some(&token))
        .await;
    assert_eq!(status, 200);
    assert!(past["lines"].as_array().unwrap().is_empty());
    assert!(past["next_offset"].is_null());

    let (status, body) = app
        .get(&log_path(&id, "vertex", 1, "limit=1001"), Some(&token))
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("GES.0001"))
    );
}

#[tokio::test]
async fn the_log_keeps_the_jobs_rules() {
    let app = TestApp::spawn_reader().await;
    let id = import_with_log(&app).await;
    let path = log_path(&id, "vertex", 1, "");
    let code = |body: &serde_json::Value| body["error_code"].as_str().unwrap_or("").to_owned();

    let (status, body) = app.get(&path, None).await;
    assert_eq!((status, code(&body)), (401, "APIG.0301".into()));
    let other = app.token("proj2", &["readonly"]);
    let (status, body) = app.get(&path, Some(&other)).await;
    assert_eq!(
        (status, code(&body)),
        (403, "GES.7041".into()),
        "another project's token"
    );
    let producer = app.token(PROJECT, &["producer"]);
    let (status, _) = app.get(&path, Some(&producer)).await;
    assert_eq!(status, 403, "a producer token may not read jobs");
    let operator = app.token(PROJECT, &["operator"]);
    assert_eq!(app.get(&path, Some(&operator)).await.0, 200);

    let token = app.token(PROJECT, &["readonly"]);
    let unknown = jobcenter::domain::JobId::new().to_string();
    let (status, body) = app
        .get(&log_path(&unknown, "vertex", 1, ""), Some(&token))
        .await;
    assert_eq!(
        (status, code(&body)),
        (404, "GES.7007".into()),
        "an unknown job"
    );
    let (status, body) = app
        .get(&log_path("nothex", "vertex", 1, ""), Some(&token))
        .await;
    assert_eq!((status, code(&body)), (404, "GES.7007".into()));
    let (status, body) = app.get(&log_path(&id, "edge", 1, ""), Some(&token)).await;
    assert_eq!(
        (status, code(&body)),
        (404, "GES.7055".into()),
        "a file without a log"
    );
    let (status, body) = app.get(&log_path(&id, "vertex", 2, ""), Some(&token)).await;
    assert_eq!(
        (status, code(&body)),
        (404, "GES.7055".into()),
        "no such file"
    );
    let (status, body) = app.get(&log_path(&id, "nodes", 1, ""), Some(&token)).await;
    assert_eq!(
        (status, code(&body)),
        (404, "GES.7055".into()),
        "no such kind"
    );

    // The job of another project is unknown to this one's token, whatever its id.
    let mut foreign = crate::helpers::job(
        "g1",
        "ImportGraph",
        JobStatus::Failed,
        utc(2026, 3, 1, 0, 0, 0),
    );
    foreign.project_id = jobcenter::domain::ProjectId::parse("proj2").unwrap();
    app.insert(std::slice::from_ref(&foreign)).await;
    let (status, body) = app
        .get(
            &log_path(&foreign.id.to_string(), "vertex", 1, ""),
            Some(&token),
        )
        .await;
    assert_eq!((status, code(&body)), (404, "GES.7007".into()));

    // The log object gone (pruned): the file has no log any more.
    std::fs::remove_file(
        storage_root(&app.database_url).join("bucket/import-logs/job1/vertices.csv.log"),
    )
    .unwrap();
    let (status, body) = app.get(&path, Some(&token)).await;
    assert_eq!((status, code(&body)), (404, "GES.7055".into()));
}
