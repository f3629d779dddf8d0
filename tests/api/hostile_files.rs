//! Hostile data and paths (issue 14, defects 3, 6 and 7): a NUL byte in an imported value
//! rejects its line; a path under a file or with an overlong segment is refused at the call
//! (or fails the job at once, never retried); every file entry of a job ends when the job
//! does, however it ended. After each, the graph still imports.

use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use crate::helpers::{PROJECT, TestApp};
use crate::import::{app_with_fixtures, count, counts, file};

/// The clean fixtures import into `graph` (it still works).
async fn assert_imports(app: &TestApp, graph: &str) {
    let body = json!({"schema_path": "demo/movies/schema.xml", "vertexset_path": "demo/movies/vertices.csv",
                      "edgeset_path": "demo/movies/edges.csv"});
    let job = app.operate(graph, "import-graph", Some(body)).await;
    assert_eq!(job["status"], "success", "{job}");
}

/// Every file entry of `job` as (status, cause), straight from the store.
async fn entries(app: &TestApp, job: &str) -> Vec<(String, Option<String>)> {
    sqlx::query_as("SELECT status, cause FROM job_files WHERE job_id = $1 ORDER BY kind, ordinal")
        .bind(Uuid::try_parse(job).unwrap())
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

/// The job's attempts so far.
async fn attempts(app: &TestApp, job: &str) -> i32 {
    sqlx::query_scalar("SELECT attempt FROM jobs WHERE id = $1")
        .bind(Uuid::try_parse(job).unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_nul_byte_in_an_imported_value_rejects_only_its_line() {
    let (app, root) = app_with_fixtures().await;
    let mut data = std::fs::read(root.join("demo/movies/vertices.csv")).unwrap();
    data.extend_from_slice(b"u900,user,Nul\0Name,F,30,10115\n");
    std::fs::create_dir_all(root.join("demo/nul")).unwrap();
    std::fs::write(root.join("demo/nul/vertices.csv"), &data).unwrap();
    let graph = app.running_graph("nul_import").await;
    let body = json!({"schema_path": "demo/movies/schema.xml", "vertexset_path": "demo/nul/vertices.csv",
                      "log_dir": "demo/logs"});
    let job = app.operate(&graph, "import-graph", Some(body)).await;
    assert_eq!(job["status"], "partiallyFailed", "{job}");
    let vertices = file(&job, "vertexset_path", 0);
    assert_eq!(counts(vertices), (9, 8, 1, "partFailed"), "{job}");
    let log = std::fs::read_to_string(root.join(vertices["log"].as_str().unwrap())).unwrap();
    assert!(
        log.trim() == "demo/nul/vertices.csv:9: malformed record: column 3 holds a NUL character",
        "{log}"
    );
    assert_eq!(count(&app, "graph_vertices", &graph).await, 8);
    let edges = json!({"edgeset_path": "demo/movies/edges.csv"});
    let job = app.operate(&graph, "import-graph", Some(edges)).await;
    assert_eq!(job["status"], "success", "the graph still imports: {job}");
}

#[tokio::test]
async fn a_path_under_a_file_or_with_an_overlong_segment_is_refused_at_the_call() {
    let (app, _root) = app_with_fixtures().await;
    let graph = app.running_graph("bad_paths").await;
    let long = format!("demo/{}", "n".repeat(300));
    for (field, path) in [
        ("vertexset_path", "demo/movies/vertices.csv/x".to_owned()),
        ("vertexset_path", long.clone()),
        ("edgeset_path", format!("{long}/edges.csv")),
    ] {
        let body = json!({"schema_path": "demo/movies/schema.xml", field: path});
        let (status, answer) = app
            .post(&format!("/{graph}/import-graph"), Some(body))
            .await;
        assert_eq!(
            (status, answer["error_code"].as_str()),
            (400, Some("GES.7011")),
            "{path}: {answer}"
        );
        let message = answer["error_msg"].as_str().unwrap();
        assert!(
            message.contains(field) && message.contains(&path),
            "{message}"
        );
    }
    let import = json!({"import_path": "demo/movies/schema.xml/backup"});
    let (status, answer) = app
        .post(&format!("/{graph}/backups/import"), Some(import))
        .await;
    assert_eq!(
        (status, answer["error_code"].as_str()),
        (400, Some("GES.7011")),
        "{answer}"
    );
    assert_imports(&app, &graph).await;
}

#[tokio::test]
async fn a_write_under_a_file_fails_its_job_at_once_and_ends_every_file_entry() {
    let (app, _root) = app_with_fixtures().await;
    let graph = app.running_graph("bad_targets").await;
    assert_imports(&app, &graph).await;
    // An export into a "directory" that is a file: a permanent failure, not retried.
    let export = json!({"graph_export_path": "demo/movies/schema.xml/out", "edge_set_name": "e.csv",
                        "vertex_set_name": "v.csv", "schema_name": "s.xml"});
    let job = app.operate(&graph, "export-graph", Some(export)).await;
    assert_eq!(job["status"], "failed", "{job}");
    let reason = job["fail_reason"].as_str().unwrap();
    assert!(reason.contains("is a file, not a directory"), "{reason}");
    assert_eq!(
        attempts(&app, job["job_id"].as_str().unwrap()).await,
        1,
        "never retried"
    );
    // Reject logs under a file: the import fails at once, and no entry stays pending/running.
    let dirty = json!({"schema_path": "demo/movies/dirty/schema.xml", "vertexset_path": "demo/movies/dirty/vertices.csv",
                       "edgeset_path": "demo/movies/dirty/edges.csv", "log_dir": "demo/movies/vertices.csv"});
    let job = app.operate(&graph, "import-graph", Some(dirty)).await;
    let id = job["job_id"].as_str().unwrap();
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(attempts(&app, id).await, 1, "never retried");
    let ended = entries(&app, id).await;
    assert_eq!(ended.len(), 3, "{ended:?}");
    for (status, cause) in &ended {
        assert!(
            ["success", "failed", "partFailed"].contains(&status.as_str()),
            "{ended:?}"
        );
        assert!(status == "success" || cause.is_some(), "{ended:?}");
    }
    assert_eq!(app.graph(&graph).await.1["graph"]["status"], "200");
    let export = json!({"graph_export_path": "demo/out", "edge_set_name": "e.csv",
                        "vertex_set_name": "v.csv", "schema_name": "s.xml"});
    let job = app.operate(&graph, "export-graph", Some(export)).await;
    assert_eq!(job["status"], "success", "the graph still exports: {job}");
}

#[tokio::test]
async fn a_schema_failure_ends_every_file_entry_with_a_cause() {
    let (app, root) = app_with_fixtures().await;
    std::fs::write(root.join("demo/bad.xml"), "<PMML><labels><label name=\"x\"><properties>\n<property name=\"p\" cardinality=\"single\" dataType=\"integer\"/>\n</properties></label></labels></PMML>").unwrap();
    let graph = app.running_graph("schema_fails").await;
    let body = json!({"schema_path": "demo/bad.xml", "vertexset_path": "demo/movies/vertices.csv",
                      "edgeset_path": "demo/movies/edges.csv"});
    let job = app.operate(&graph, "import-graph", Some(body)).await;
    assert_eq!(job["status"], "failed", "{job}");
    for list in ["schema_path", "vertexset_path", "edgeset_path"] {
        let entry = file(&job, list, 0);
        assert_eq!(entry["status"], "failed", "{list}: {job}");
        assert!(
            entry["cause"].as_str().is_some_and(|c| !c.is_empty()),
            "{list}: {job}"
        );
    }
    let vertex_cause = file(&job, "vertexset_path", 0)["cause"].as_str().unwrap();
    assert!(vertex_cause.contains("GES.7070"), "{vertex_cause}");
    assert_imports(&app, &graph).await;
}

#[tokio::test]
async fn cancel_and_a_lease_expiry_end_every_file_entry_of_a_producer_job() {
    let app = TestApp::spawn().await;
    let producer = app.token(PROJECT, &["producer"]);
    let jobs = format!("/internal/v1/{PROJECT}/jobs");
    let files = json!([{"kind": "vertex", "path": "b/v.csv"},
                       {"kind": "edge", "path": "b/e.csv", "status": "running", "total_lines": 10}]);
    let enqueue = |max_attempts: i64| json!({"job_type": "WithFiles", "job_name": "files", "files": files, "max_attempts": max_attempts});
    // Cancelled while pending.
    let (_, queued) = app.post_as(&jobs, &producer, &enqueue(3)).await;
    let cancelled = queued["job_id"].as_str().unwrap().to_owned();
    let operator = app.token(PROJECT, &["operator"]);
    let cancel = format!("/v2/{PROJECT}/graphs/jobs/{cancelled}/cancel");
    assert_eq!(app.post_as(&cancel, &operator, &json!({})).await.0, 200);
    for (status, cause) in entries(&app, &cancelled).await {
        assert_eq!(status, "failed");
        assert_eq!(cause.as_deref(), Some("the job failed: cancelled"));
    }
    // Claimed, then its worker vanishes with no attempts left: the reaper ends it.
    let (_, queued) = app.post_as(&jobs, &producer, &enqueue(1)).await;
    let reaped = queued["job_id"].as_str().unwrap().to_owned();
    let claim = json!({"job_types": ["WithFiles"], "lease_secs": 1});
    let (status, claimed) = app
        .post_as(&format!("{jobs}/claim"), &producer, &claim)
        .await;
    assert_eq!(
        (status, claimed["jobs"][0]["job_id"].as_str()),
        (200, Some(reaped.as_str()))
    );
    let started = Instant::now();
    while !ended(&app, &reaped).await {
        assert!(started.elapsed() < Duration::from_secs(30), "never reaped");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let entries = entries(&app, &reaped).await;
    assert_eq!(entries.len(), 2);
    for (status, cause) in entries {
        assert_eq!(status, "failed");
        assert!(cause.unwrap().starts_with("the job failed: the worker"));
    }
    let (status, _) = app
        .post_as(
            &jobs,
            &producer,
            &json!({"job_type": "WithFiles", "job_name": "after"}),
        )
        .await;
    assert_eq!(status, 200, "the producer API still works");
}

/// Whether the job has a final status.
async fn ended(app: &TestApp, job: &str) -> bool {
    let status: String = sqlx::query_scalar("SELECT status FROM jobs WHERE id = $1")
        .bind(Uuid::try_parse(job).unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    status == "failed"
}
