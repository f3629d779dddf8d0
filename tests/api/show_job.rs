//! The job-status API and the job object.

use jobcenter::domain::{FileKind, FileStatus, JobStatus};
use jobcenter::store::JobFile;
use serde_json::json;

use crate::helpers::{PROJECT, TestApp, graph_id, job, utc};

fn file(kind: FileKind, path: &str, status: FileStatus, total: i64, failed: i64) -> JobFile {
    JobFile {
        kind,
        path: path.to_owned(),
        log: (failed > 0).then(|| format!("{path}.log")),
        status,
        cause: (failed > 0).then(|| "2 lines: value does not parse as its type".to_owned()),
        total_lines: total,
        failed_lines: failed,
        successful_lines: total - failed,
    }
}

#[tokio::test]
async fn an_import_job_shows_its_files_in_the_contract_shape() {
    let app = TestApp::spawn_reader().await;
    let mut import = job(
        "movies",
        "ImportGraph",
        JobStatus::PartiallyFailed,
        utc(2018, 12, 17, 12, 55, 40),
    );
    import.fail_reason = Some("1 of 2 data files had rejected lines".into());
    app.insert(std::slice::from_ref(&import)).await;
    let files = [
        file(
            FileKind::Schema,
            "demo/movies/schema.xml",
            FileStatus::Success,
            0,
            0,
        ),
        file(
            FileKind::Vertex,
            "demo/movies/vertices.csv",
            FileStatus::Success,
            8,
            0,
        ),
        file(
            FileKind::Edge,
            "demo/movies/edges.csv",
            FileStatus::PartFailed,
            6,
            2,
        ),
    ];
    let mut conn = app.pool.acquire().await.unwrap();
    jobcenter::store::jobs::replace_files(&mut conn, import.id, &files)
        .await
        .unwrap();

    let token = app.token(PROJECT, &["readonly"]);
    let path = format!(
        "/v2/{PROJECT}/graphs/{}/jobs/{}/status",
        graph_id("movies"),
        import.id
    );
    let (status, body) = app.get(&path, Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "job_id": import.id.to_string(),
            "status": "partiallyFailed",
            "job_type": "GraphManagement",
            "job_name": "ImportGraph",
            "related_graph": "movies",
            "begin_time": "2018-12-17T12:55:40",
            "end_time": "2018-12-17T13:05:40",
            "job_detail": {
                "schema_path": [{"path": "demo/movies/schema.xml", "log": null, "status": "success", "cause": null,
                                 "total_lines": 0, "failed_lines": 0, "successful_lines": 0}],
                "edgeset_path": [{"path": "demo/movies/edges.csv", "log": "demo/movies/edges.csv.log", "status": "partFailed",
                                  "cause": "2 lines: value does not parse as its type",
                                  "total_lines": 6, "failed_lines": 2, "successful_lines": 4}],
                "vertexset_path": [{"path": "demo/movies/vertices.csv", "log": null, "status": "success", "cause": null,
                                    "total_lines": 8, "failed_lines": 0, "successful_lines": 8}]
            },
            "fail_reason": "1 of 2 data files had rejected lines",
            "job_progress": 100.0
        })
    );
    // The list shows the same object.
    let (_, list) = app.list("").await;
    assert_eq!(list["job_list"][0], body);
}

#[tokio::test]
async fn a_delete_job_has_no_job_detail_and_a_null_end_while_running() {
    let app = TestApp::spawn_reader().await;
    let mut delete = job(
        "old_graph",
        "DeleteGraph",
        JobStatus::Running,
        utc(2024, 7, 1, 9, 30, 0),
    );
    delete.progress = 42.5;
    delete.graph_id = Some(graph_id("old_graph"));
    app.insert(std::slice::from_ref(&delete)).await;
    let token = app.token(PROJECT, &["operator"]);
    let path = format!(
        "/v2/{PROJECT}/graphs/{}/jobs/{}/status",
        graph_id("old_graph"),
        delete.id
    );
    let (status, body) = app.get(&path, Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "job_id": delete.id.to_string(),
            "status": "running",
            "job_type": "GraphManagement",
            "job_name": "DeleteGraph",
            "related_graph": "old_graph",
            "begin_time": "2024-07-01T09:30:00",
            "end_time": null,
            "fail_reason": null,
            "job_progress": 42.5
        })
    );
}

#[tokio::test]
async fn a_job_is_found_only_under_its_own_project_and_graph() {
    let app = TestApp::spawn_reader().await;
    let stop = job(
        "graph_a",
        "StopGraph",
        JobStatus::Success,
        utc(2024, 1, 1, 0, 0, 0),
    );
    app.insert(std::slice::from_ref(&stop)).await;
    let token = app.token(PROJECT, &["readonly"]);
    let own = format!(
        "/v2/{PROJECT}/graphs/{}/jobs/{}/status",
        graph_id("graph_a"),
        stop.id
    );
    assert_eq!(app.get(&own, Some(&token)).await.0, 200);
    let dashed = format!(
        "/v2/{PROJECT}/graphs/{}/jobs/{}/status",
        graph_id("graph_a"),
        stop.id.0
    );
    assert_eq!(app.get(&dashed, Some(&token)).await.0, 200);

    let cases = [
        format!(
            "/v2/{PROJECT}/graphs/{}/jobs/{}/status",
            graph_id("graph_b"),
            stop.id
        ),
        format!(
            "/v2/{PROJECT}/graphs/{}/jobs/{}/status",
            graph_id("graph_a"),
            jobcenter::domain::JobId::new()
        ),
        format!("/v2/{PROJECT}/graphs/not-a-graph/jobs/{}/status", stop.id),
        format!(
            "/v2/{PROJECT}/graphs/{}/jobs/zzz/status",
            graph_id("graph_a")
        ),
    ];
    for path in cases {
        let (status, body) = app.get(&path, Some(&token)).await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (404, Some("GES.7007")),
            "{path}"
        );
    }
    let other_token = app.token("otherproj", &["readonly"]);
    let other = format!(
        "/v2/otherproj/graphs/{}/jobs/{}/status",
        graph_id("graph_a"),
        stop.id
    );
    let (status, body) = app.get(&other, Some(&other_token)).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (404, Some("GES.7007"))
    );
}
