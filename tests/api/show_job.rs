//! The job-status API and the job object.

use jobcenter::domain::JobFile;
use jobcenter::domain::{FileKind, FileStatus, JobStatus};
use serde_json::json;

use crate::helpers::{PROJECT, TestApp, graph_id, job, status_path, utc};

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
    let path = status_path("movies", import.id);
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
    let path = status_path("old_graph", delete.id);
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
    let own = status_path("graph_a", stop.id);
    assert_eq!(app.get(&own, Some(&token)).await.0, 200);
    let dashed = format!(
        "/v2/{PROJECT}/graphs/{}/jobs/{}/status",
        graph_id("graph_a"),
        stop.id.0
    );
    assert_eq!(app.get(&dashed, Some(&token)).await.0, 200);

    let cases = [
        status_path("graph_b", stop.id),
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

/// Many reads at once are coalesced into shared statements; each still gets its own job,
/// and a key naming no job (wrong graph, unknown id) still gets 404.
#[tokio::test]
async fn concurrent_reads_each_get_their_own_job() {
    let app = std::sync::Arc::new(TestApp::spawn_reader().await);
    let statuses = [
        JobStatus::Success,
        JobStatus::Failed,
        JobStatus::PartiallyFailed,
    ];
    let jobs: Vec<_> = (0..30)
        .map(|i| {
            let graph = format!("graph_{}", i % 4);
            let name = if i % 3 == 0 {
                "ImportGraph"
            } else {
                "StopGraph"
            };
            job(
                &graph,
                name,
                statuses[i % 3],
                utc(2024, 1, 1 + i as u32 % 28, 0, 0, 0),
            )
        })
        .collect();
    app.insert(&jobs).await;
    let token = app.token(PROJECT, &["readonly"]);
    let mut requests = tokio::task::JoinSet::new();
    for round in 0..3 {
        for (i, job) in jobs.iter().enumerate() {
            let graph = if round == 2 && i % 5 == 0 {
                graph_id("graph_elsewhere")
            } else {
                job.graph_id.unwrap()
            };
            let path = format!("/v2/{PROJECT}/graphs/{graph}/jobs/{}/status", job.id);
            let (app, token) = (app.clone(), token.clone());
            let expected = (graph == job.graph_id.unwrap()).then_some((job.id, job.status));
            requests.spawn(async move { (expected, app.get(&path, Some(&token)).await) });
        }
    }
    let mut answered = 0;
    while let Some(result) = requests.join_next().await {
        let (expected, (status, body)) = result.unwrap();
        match expected {
            Some((id, job_status)) => {
                assert_eq!(status, 200, "{body}");
                assert_eq!(body["job_id"], id.to_string());
                assert_eq!(body["status"], job_status.as_str());
            }
            None => assert_eq!(
                (status, body["error_code"].as_str()),
                (404, Some("GES.7007"))
            ),
        }
        answered += 1;
    }
    assert_eq!(answered, 90);
}

/// The statement behind coalesced reads matches project, graph and id together.
#[tokio::test]
async fn the_batch_statement_matches_whole_keys() {
    use jobcenter::domain::JobKey;
    use jobcenter::domain::{JobId, ProjectId};
    use jobcenter::store::jobs::find_jobs;
    let app = TestApp::spawn_reader().await;
    let import = job(
        "graph_a",
        "ImportGraph",
        JobStatus::Success,
        utc(2024, 1, 1, 0, 0, 0),
    );
    let stop = job(
        "graph_b",
        "StopGraph",
        JobStatus::Failed,
        utc(2024, 1, 2, 0, 0, 0),
    );
    app.insert(&[import.clone(), stop.clone()]).await;
    let key = |project: &str, graph: &str, id: JobId| JobKey {
        project: ProjectId::parse(project).unwrap(),
        graph_id: graph_id(graph),
        id,
    };
    let keys = [
        key(PROJECT, "graph_a", import.id),
        key(PROJECT, "graph_a", stop.id),
        key("otherproj", "graph_b", stop.id),
        key(PROJECT, "graph_b", JobId::new()),
        key(PROJECT, "graph_b", stop.id),
    ];
    let mut conn = app.pool.acquire().await.unwrap();
    let found = find_jobs(&mut conn, &keys).await.unwrap();
    let ids: Vec<JobId> = found.iter().map(|job| job.id).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&import.id) && ids.contains(&stop.id));
    let import_found = found.iter().find(|job| job.id == import.id).unwrap();
    assert_eq!(import_found.files, Some(Vec::new()));
    assert!(keys[0].names(import_found) && !keys[1].names(import_found));
}
