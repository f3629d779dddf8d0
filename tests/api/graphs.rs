//! Graph operations over HTTP: the whole life of a graph, every refusal, and races.

use serde_json::{Value, json};

use crate::helpers::{PROJECT, TestApp, poll};

/// HTTP helpers for graph calls with an operator token.
impl TestApp {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let token = self.token(PROJECT, &["operator"]);
        let mut request = self
            .client
            .request(
                method,
                format!("{}/v2/{PROJECT}/graphs{path}", self.address),
            )
            .header("X-Auth-Token", token)
            .header("Content-Type", "application/json");
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, body).await
    }

    pub async fn graph(&self, id: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, &format!("/{id}"), None)
            .await
    }

    /// Polls the job until it has a final status; answers the job object.
    pub async fn wait_job(&self, graph: &str, job: &str) -> Value {
        let path = format!("/{graph}/jobs/{job}/status");
        let (status, body) = poll(
            &format!("job {job} to finish"),
            || self.call(reqwest::Method::GET, &path, None),
            |(status, body)| {
                *status != 200
                    || ["success", "failed", "partiallyFailed"]
                        .contains(&body["status"].as_str().unwrap_or(""))
            },
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Creates a graph and waits until it runs; answers its id.
    pub async fn running_graph(&self, name: &str) -> String {
        let (status, body) = self.post("", Some(create_body(name))).await;
        assert_eq!(status, 200, "{body}");
        let id = body["id"].as_str().unwrap().to_owned();
        let job = self.wait_job(&id, body["job_id"].as_str().unwrap()).await;
        assert_eq!(job["status"], "success", "{job}");
        id
    }

    /// Creates a graph and, with no workers to run its create job, marks the graph running
    /// and the job done directly; answers the graph's id.
    pub async fn running_graph_by_hand(&self, name: &str) -> String {
        let (status, created) = self.post("", Some(create_body(name))).await;
        assert_eq!(status, 200, "{created}");
        let id = uuid::Uuid::try_parse(created["id"].as_str().unwrap()).unwrap();
        sqlx::query("UPDATE graphs SET status = 200, active_job_id = NULL WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .unwrap();
        sqlx::query("UPDATE jobs SET status = 'success', end_time = now(), progress = 100 WHERE graph_id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .unwrap();
        id.simple().to_string()
    }

    /// A POST that must be refused with HTTP 400, `code`, and a message naming `field`.
    pub async fn refused(&self, path: &str, body: Value, code: &str, field: &str) {
        let (status, answer) = self.post(path, Some(body.clone())).await;
        assert_eq!(
            (status, answer["error_code"].as_str()),
            (400, Some(code)),
            "{body}: {answer}"
        );
        let message = answer["error_msg"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{body}: {message}");
    }

    /// Runs an operation to its end; answers the job object.
    pub async fn operate(&self, graph: &str, action: &str, body: Option<Value>) -> Value {
        let (status, accepted) = self.post(&format!("/{graph}/{action}"), body).await;
        assert_eq!(status, 200, "{action}: {accepted}");
        self.wait_job(graph, accepted["job_id"].as_str().unwrap())
            .await
    }
}

pub fn create_body(name: &str) -> Value {
    json!({"graph": {"name": name, "graph_size_type_index": "1", "vpc_id": "vpc-1", "subnet_id": "subnet-1",
                     "security_group_id": "sg-1", "enable_https": true, "tags": [{"key": "team", "value": "a"}]}})
}

#[tokio::test]
async fn a_graph_lives_its_whole_life_through_the_api() {
    let app = TestApp::spawn().await;
    let (status, created) = app.post("", Some(create_body("movies"))).await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let create_job = app.wait_job(&id, created["job_id"].as_str().unwrap()).await;
    assert_eq!(
        (
            create_job["job_name"].as_str(),
            create_job["status"].as_str()
        ),
        (Some("CreateGraph"), Some("success"))
    );
    assert_eq!(create_job["job_type"], "GraphManagement");
    assert_eq!(create_job["related_graph"], "movies");
    assert_eq!(create_job["job_progress"], 100.0);

    let (_, graph) = app.graph(&id).await;
    assert_eq!(graph["graph"]["status"], "200");
    assert_eq!(
        graph["graph"]["enable_https"], true,
        "cloud-only fields are echoed"
    );
    assert_eq!(graph["graph"]["data_store_version"], "2.3.18");

    // Stop: 901 while the job waits or runs, 900 after.
    let (status, stop) = app.post(&format!("/{id}/stop"), None).await;
    assert_eq!(status, 200);
    let during = app.graph(&id).await.1["graph"]["status"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(during == "901" || during == "900", "{during}");
    assert_eq!(
        app.wait_job(&id, stop["job_id"].as_str().unwrap()).await["status"],
        "success"
    );
    assert_eq!(app.graph(&id).await.1["graph"]["status"], "900");

    let backup_job = app.operate(&id, "backups", None).await;
    assert_eq!(backup_job["job_name"], "BackupGraph");
    assert_eq!(
        app.graph(&id).await.1["graph"]["status"],
        "900",
        "backup leaves the status alone"
    );
    let (_, backups) = app
        .call(reqwest::Method::GET, &format!("/{id}/backups"), None)
        .await;
    assert_eq!(backups["backup_count"], 1);
    assert_eq!(backups["backup_list"][0]["status"], "success");

    assert_eq!(
        app.operate(&id, "start", Some(json!({}))).await["status"],
        "success"
    );
    assert_eq!(app.graph(&id).await.1["graph"]["status"], "200");
    assert_eq!(
        app.operate(&id, "upgrade", Some(json!({"upgrade_version": "2.4.0"})))
            .await["status"],
        "success"
    );
    assert_eq!(
        app.graph(&id).await.1["graph"]["data_store_version"],
        "2.4.0"
    );
    let resize = json!({"resize": {"graph_size_type_index": "2"}});
    assert_eq!(
        app.operate(&id, "resize", Some(resize)).await["status"],
        "success"
    );
    assert_eq!(
        app.operate(&id, "expand", Some(json!({"expand": {"replication": 5}})))
            .await["status"],
        "success"
    );
    let graph = app.graph(&id).await.1;
    assert_eq!(
        (
            graph["graph"]["graph_size_type_index"].as_str(),
            graph["graph"]["replication"].as_i64()
        ),
        (Some("2"), Some(5))
    );
    assert_eq!(
        app.operate(&id, "clear-graph?clear_metadata=true", None)
            .await["status"],
        "success"
    );
    assert_eq!(app.operate(&id, "restart", None).await["status"], "success");

    let (status, deleted) = app
        .call(
            reqwest::Method::DELETE,
            &format!("/{id}?keep_backup=true"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{deleted}");
    let delete_job = app.wait_job(&id, deleted["job_id"].as_str().unwrap()).await;
    assert_eq!(
        (
            delete_job["status"].as_str(),
            delete_job["related_graph"].as_str()
        ),
        (Some("success"), Some("movies"))
    );
    assert_eq!(app.graph(&id).await.0, 404);
    assert_eq!(
        app.call(reqwest::Method::GET, "", None).await.1["graph_count"],
        0
    );
    let (_, all_backups) = app.call(reqwest::Method::GET, "/backups", None).await;
    assert_eq!(
        all_backups["backup_count"], 1,
        "keep_backup keeps the backup"
    );

    let (_, jobs) = app.list("graph_name=movies&limit=100").await;
    let names: Vec<&str> = jobs["job_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "DeleteGraph",
            "RestartGraph",
            "ClearGraph",
            "ExpandGraph",
            "ResizeGraph",
            "UpgradeGraph",
            "StartGraph",
            "BackupGraph",
            "StopGraph",
            "CreateGraph"
        ]
    );
    assert_eq!(jobs["job_count"], 10);
}

#[tokio::test]
async fn operations_are_refused_with_the_spec_errors() {
    let app = TestApp::spawn().await;
    let id = app.running_graph("refusals").await;
    let cases: Vec<(String, Option<Value>, u16, &str)> = vec![
        (format!("/{id}/start"), None, 409, "GES.7037"),
        (
            format!("/{id}/upgrade"),
            Some(json!({"upgrade_version": "2.3.9"})),
            409,
            "GES.7036",
        ),
        (
            format!("/{id}/upgrade"),
            Some(json!({"upgrade_version": "2.3.18"})),
            409,
            "GES.7036",
        ),
        (format!("/{id}/upgrade"), Some(json!({})), 400, "GES.7049"),
        (
            format!("/{id}/resize"),
            Some(json!({"resize": {}})),
            400,
            "GES.7049",
        ),
        (
            format!("/{id}/expand"),
            Some(json!({"expand": {"replication": "many"}})),
            400,
            "GES.0001",
        ),
        (
            format!("/{id}/export-graph"),
            Some(json!({"graph_export_path": "b/out"})),
            400,
            "GES.7049",
        ),
        (
            format!("/{id}/import-graph"),
            Some(json!({"delimiter": ","})),
            400,
            "GES.7049",
        ),
        (
            format!("/{id}/import-graph"),
            Some(json!({"edgeset_path": "bucket/../etc/passwd"})),
            400,
            "GES.7011",
        ),
        (
            format!("/{id}/import-graph"),
            Some(json!({"edgeset_path": "/etc/passwd"})),
            400,
            "GES.7011",
        ),
        (
            format!("/{id}/import-graph"),
            Some(json!({"edgeset_path": "b/e$.csv"})),
            400,
            "GES.7011",
        ),
        (
            format!("/{id}/start"),
            Some(json!({"graph_backup_id": "nope"})),
            400,
            "GES.0001",
        ),
        (
            format!("/{}/stop", uuid::Uuid::now_v7()),
            None,
            404,
            "GES.7000",
        ),
        ("/not-a-graph/stop".to_owned(), None, 404, "GES.7000"),
        (
            "".to_owned(),
            Some(create_body("refusals")),
            409,
            "GES.7013",
        ),
        ("".to_owned(), Some(create_body("1bad")), 400, "GES.7012"),
        ("".to_owned(), Some(create_body("abc")), 400, "GES.7012"),
        (
            "".to_owned(),
            Some(json!({"graph": {"graph_size_type_index": 1}})),
            400,
            "GES.7049",
        ),
        ("".to_owned(), Some(json!({"nothing": 1})), 400, "GES.7049"),
    ];
    for (path, body, status, code) in cases {
        let (got, answer) = app.post(&path, body.clone()).await;
        assert_eq!(
            (got, answer["error_code"].as_str()),
            (status, Some(code)),
            "{path} {body:?}: {answer}"
        );
    }
    let token = app.token(PROJECT, &["operator"]);
    let not_json = app
        .client
        .post(format!("{}/v2/{PROJECT}/graphs/{id}/upgrade", app.address))
        .header("X-Auth-Token", token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status().as_u16(), 400);
    assert_eq!(
        not_json.json::<Value>().await.unwrap()["error_code"],
        "GES.7016"
    );

    // Stopped: a second stop, and operations needing a running graph, say so.
    assert_eq!(app.operate(&id, "stop", None).await["status"], "success");
    for action in ["stop", "clear-graph", "restart"] {
        let (got, answer) = app.post(&format!("/{id}/{action}"), None).await;
        assert_eq!(
            (got, answer["error_code"].as_str()),
            (409, Some("GES.7003")),
            "{action}"
        );
    }
}

#[tokio::test]
async fn roles_and_projects_are_enforced_on_operations() {
    let app = TestApp::spawn().await;
    let id = app.running_graph("guarded").await;
    let readonly = app.token(PROJECT, &["readonly"]);
    let stop = |token: String, project: &str| {
        app.client
            .post(format!("{}/v2/{project}/graphs/{id}/stop", app.address))
            .header("X-Auth-Token", token)
            .send()
    };
    assert_eq!(
        stop(readonly.clone(), PROJECT)
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    let other = app.token("otherproj", &["operator"]);
    assert_eq!(
        stop(other.clone(), PROJECT)
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    let elsewhere = stop(other, "otherproj").await.unwrap();
    assert_eq!(
        elsewhere.status().as_u16(),
        404,
        "another project's graph is not found"
    );
    let shown = app
        .client
        .get(format!("{}/v2/{PROJECT}/graphs/{id}", app.address))
        .header("X-Auth-Token", readonly)
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status().as_u16(), 200, "readonly may read");
}

#[tokio::test]
async fn racing_operations_on_one_graph_accept_exactly_one() {
    // Slow steps keep the winner in flight while the others arrive.
    let mut settings = crate::helpers::test_settings(&crate::helpers::fresh_database().await);
    settings.worker.step_delay_ms = 300;
    let app = TestApp::spawn_with(settings).await;
    let id = app.running_graph("contested").await;
    let paths: Vec<String> = (0..20)
        .map(|i| format!("/{id}/{}", if i % 2 == 0 { "stop" } else { "clear-graph" }))
        .collect();
    let calls = paths.iter().map(|path| app.post(path, None));
    let answers = futures_util::future::join_all(calls).await;
    let accepted = answers.iter().filter(|(status, _)| *status == 200).count();
    let refused = answers
        .iter()
        .filter(|(status, body)| *status == 409 && body["error_code"].is_string())
        .count();
    assert_eq!((accepted, refused), (1, 19), "{answers:?}");
    let in_flight: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jobs WHERE graph_id = $1 AND job_name <> 'CreateGraph'",
    )
    .bind(uuid::Uuid::try_parse(&id).unwrap())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(in_flight, 1);
}

#[tokio::test]
async fn restart_supersedes_the_operation_in_flight() {
    // No workers: the export stays pending, standing for a long job.
    let app = TestApp::spawn_reader().await;
    let id = app.running_graph_by_hand("superseded").await;
    let export = json!({"graph_export_path": "b/out", "edge_set_name": "e", "vertex_set_name": "v", "schema_name": "s"});
    let (status, export) = app.post(&format!("/{id}/export-graph"), Some(export)).await;
    assert_eq!(status, 200, "{export}");
    assert_eq!(
        app.post(&format!("/{id}/clear-graph"), None).await.0,
        409,
        "one operation at a time"
    );
    let (status, restart) = app.post(&format!("/{id}/restart"), None).await;
    assert_eq!(status, 200, "{restart}");
    let (_, export) = app
        .call(
            reqwest::Method::GET,
            &format!("/{id}/jobs/{}/status", export["job_id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(export["status"], "failed");
    assert_eq!(
        export["fail_reason"],
        "superseded by RestartGraph of the graph"
    );
    assert_eq!(app.graph(&id).await.1["graph"]["status"], "901");
}

#[tokio::test]
async fn a_superseded_backup_ends_failed() {
    let app = TestApp::spawn_reader().await;
    let id = app.running_graph_by_hand("backup_superseded").await;
    assert_eq!(app.post(&format!("/{id}/backups"), None).await.0, 200);
    let (_, backups) = app
        .call(reqwest::Method::GET, &format!("/{id}/backups"), None)
        .await;
    assert_eq!(backups["backup_list"][0]["status"], "backing_up");
    assert_eq!(app.post(&format!("/{id}/restart"), None).await.0, 200);
    let (_, backups) = app
        .call(reqwest::Method::GET, &format!("/{id}/backups"), None)
        .await;
    assert_eq!(backups["backup_list"][0]["status"], "failed");
}
