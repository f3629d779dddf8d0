//! The producer API over HTTP: enqueue (single, batch, idempotent), claim, heartbeat,
//! complete, lease expiry, and the public cancel and retry; every refusal.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{PROJECT, TestApp};

const TYPE: &str = "ReportExport";

impl TestApp {
    /// POST `body` to `path` with `token`; answers status and JSON body.
    pub(crate) async fn post_as(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.address))
            .header("X-Auth-Token", token)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    fn producer(&self) -> String {
        self.token(PROJECT, &["producer"])
    }

    fn operator(&self) -> String {
        self.token(PROJECT, &["operator"])
    }

    /// Enqueues with a producer token.
    async fn enqueue(&self, body: Value) -> (u16, Value) {
        let token = self.producer();
        self.post_as(&format!("/internal/v1/{PROJECT}/jobs"), &token, &body)
            .await
    }

    /// Claims `max` jobs of [`TYPE`] with a lease of `lease_secs`.
    async fn claim(&self, max: i64, lease_secs: u64) -> Vec<Value> {
        let token = self.producer();
        let (status, body) = self
            .post_as(
                &format!("/internal/v1/{PROJECT}/jobs/claim"),
                &token,
                &json!({"job_types": [TYPE], "max_jobs": max, "lease_secs": lease_secs}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["jobs"].as_array().unwrap().clone()
    }

    async fn job_action(&self, job: &str, action: &str, body: Value) -> (u16, Value) {
        let token = self.producer();
        self.post_as(
            &format!("/internal/v1/{PROJECT}/jobs/{job}/{action}"),
            &token,
            &body,
        )
        .await
    }

    async fn public_action(&self, job: &str, action: &str) -> (u16, Value) {
        let token = self.operator();
        self.post_as(
            &format!("/v2/{PROJECT}/graphs/jobs/{job}/{action}"),
            &token,
            &json!({}),
        )
        .await
    }

    /// A job row's status, fail reason, attempt and cancel flag.
    async fn row(&self, id: &str) -> (String, Option<String>, i32, bool) {
        sqlx::query_as(
            "SELECT status, fail_reason, attempt, cancel_requested FROM jobs WHERE id = $1",
        )
        .bind(Uuid::try_parse(id).unwrap())
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }
}

fn job(name: &str) -> Value {
    json!({"job_type": TYPE, "job_name": name, "payload": {"report": name}})
}

/// A live graph of [`PROJECT`] named `name`, running; its id.
async fn insert_graph(app: &TestApp, name: &str) -> Uuid {
    crate::helpers::insert_graph(&app.pool, Some(name), 200).await
}

#[tokio::test]
async fn a_job_is_enqueued_claimed_reported_and_listed() {
    let app = TestApp::spawn().await;
    let graph = insert_graph(&app, "movies").await;
    let (status, body) = app
        .enqueue(json!({
            "job_type": TYPE, "job_name": "ExportReport", "related_graph": "movies",
            "payload": {"rows": [1, 2, 3]}, "priority": 5,
            "files": [{"kind": "vertex", "path": "bucket/v.csv"}]
        }))
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["job_id"].as_str().unwrap().to_owned();
    assert_eq!(body["job_ids"], json!([id]));

    // The built-in pool (running in this app) leaves producer types alone.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.row(&id).await.0, "pending");
    let (status, shown) = app
        .get(
            &format!("/v2/{PROJECT}/graphs/{graph}/jobs/{id}/status"),
            Some(&app.operator()),
        )
        .await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["status"], "pending");
    assert_eq!(shown["related_graph"], "movies");
    assert_eq!(shown["job_type"], TYPE);

    let claimed = app.claim(10, 30).await;
    assert_eq!(claimed.len(), 1);
    let c = &claimed[0];
    assert_eq!(c["job_id"], id.as_str());
    assert_eq!(c["job_name"], "ExportReport");
    assert_eq!(c["payload"], json!({"rows": [1, 2, 3]}));
    assert_eq!(c["attempt"], 1);
    assert_eq!(c["cancel_requested"], false);
    assert!(c["lease_expires_at"].is_string());
    let token = c["lease_token"].as_str().unwrap().to_owned();
    assert!(
        app.claim(10, 30).await.is_empty(),
        "a leased job is not claimed twice"
    );

    let (status, beat) = app
        .job_action(
            &id,
            "heartbeat",
            json!({"lease_token": token, "progress": 40, "files": [
                {"kind": "vertex", "path": "bucket/v.csv", "status": "running",
                 "total_lines": 10, "failed_lines": 1, "successful_lines": 5}]}),
        )
        .await;
    assert_eq!(status, 200, "{beat}");
    assert_eq!(beat["cancel_requested"], false);
    let (_, shown) = app
        .get(
            &format!("/v2/{PROJECT}/graphs/{graph}/jobs/{id}/status"),
            Some(&app.operator()),
        )
        .await;
    assert_eq!(shown["status"], "running");
    assert_eq!(shown["job_progress"], 40.0);
    assert_eq!(
        shown["job_detail"]["vertexset_path"][0]["successful_lines"],
        5
    );

    let (status, done) = app
        .job_action(
            &id,
            "complete",
            json!({"lease_token": token, "status": "partiallyFailed",
                   "fail_reason": "1 line rejected", "files": [
                {"kind": "vertex", "path": "bucket/v.csv", "status": "partFailed",
                 "total_lines": 10, "failed_lines": 1, "successful_lines": 9}]}),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "partiallyFailed");

    let (status, list) = app.list("status=partiallyFailed&graph_name=movies").await;
    assert_eq!(status, 200);
    assert_eq!(list["job_count"], 1);
    let listed = &list["job_list"][0];
    assert_eq!(listed["job_id"], id.as_str());
    assert_eq!(listed["fail_reason"], "1 line rejected");
    assert_eq!(listed["job_detail"]["vertexset_path"][0]["failed_lines"], 1);
    assert!(listed["end_time"].is_string());
}

#[tokio::test]
async fn a_job_without_a_live_graph_has_no_graph_id() {
    let app = TestApp::spawn_reader().await;
    let (_, body) = app
        .enqueue(json!({"job_type": TYPE, "job_name": "X", "related_graph": "nothere"}))
        .await;
    let id = Uuid::try_parse(body["job_id"].as_str().unwrap()).unwrap();
    let (graph_id, graph_name): (Option<Uuid>, Option<String>) =
        sqlx::query_as("SELECT graph_id, graph_name FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(graph_id, None);
    assert_eq!(graph_name.as_deref(), Some("nothere"));
    let (_, list) = app.list("graph_name=nothere").await;
    assert_eq!(list["job_count"], 1);
}

#[tokio::test]
async fn refusals() {
    let app = TestApp::spawn_reader().await;
    let enqueue = format!("/internal/v1/{PROJECT}/jobs");
    // Wrong role, wrong project, no token.
    for roles in [&["readonly"][..], &["operator"][..]] {
        let token = app.token(PROJECT, roles);
        let (status, body) = app.post_as(&enqueue, &token, &job("a")).await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (403, Some("GES.7041"))
        );
    }
    let other = app.token("proj2", &["producer"]);
    let (status, body) = app.post_as(&enqueue, &other, &job("a")).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (403, Some("GES.7041"))
    );
    let (status, _) = app.post_as(&enqueue, "garbage", &job("a")).await;
    assert_eq!(status, 401);
    // Reserved types, bad fields, batches out of range.
    for bad in [
        json!({"job_type": "GraphManagement", "job_name": "x"}),
        json!({"job_type": "Noop", "job_name": "x"}),
        json!({"job_type": TYPE}),
        json!({"job_type": TYPE, "job_name": "x", "max_attempts": 0}),
        json!({"job_type": TYPE, "job_name": "x", "files": [{"kind": "disk", "path": "p"}]}),
        json!({"job_type": TYPE, "job_name": "x", "surprise": 1}),
        json!({"jobs": []}),
        json!({"jobs": vec![job("x"); 1001]}),
    ] {
        let (status, body) = app.enqueue(bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, _) = app
        .enqueue(json!({"jobs": [job("ok"), {"job_type": "GraphManagement", "job_name": "x"}]}))
        .await;
    assert_eq!(status, 400);
    let (_, list) = app.list("").await;
    assert_eq!(list["job_count"], 0, "a refused batch creates nothing");
    // Claiming the built-in pool's jobs, or another project's.
    let token = app.producer();
    let (status, _) = app
        .post_as(
            &format!("/internal/v1/{PROJECT}/jobs/claim"),
            &token,
            &json!({"job_types": ["GraphManagement"]}),
        )
        .await;
    assert_eq!(status, 400);
    app.enqueue(job("mine")).await;
    let (status, body) = app
        .post_as(
            "/internal/v1/proj2/jobs/claim",
            &app.token("proj2", &["producer"]),
            &json!({"job_types": [TYPE]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["jobs"],
        json!([]),
        "another project's jobs are not claimed"
    );
    // Unknown job.
    let (status, body) = app
        .job_action(
            &Uuid::new_v4().simple().to_string(),
            "complete",
            json!({"lease_token": Uuid::new_v4(), "status": "success"}),
        )
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (404, Some("GES.7007"))
    );
}

#[tokio::test]
async fn a_stale_lease_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn_reader().await;
    app.enqueue(job("a")).await;
    let claimed = app.claim(1, 30).await;
    let id = claimed[0]["job_id"].as_str().unwrap().to_owned();
    let token = claimed[0]["lease_token"].as_str().unwrap().to_owned();
    let wrong = json!({"lease_token": Uuid::new_v4(), "status": "success"});
    let (status, body) = app.job_action(&id, "complete", wrong).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("GES.7009"))
    );
    let (status, _) = app
        .job_action(
            &id,
            "heartbeat",
            json!({"lease_token": Uuid::new_v4(), "progress": 50}),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(app.row(&id).await.0, "running");
    // Another project's producer cannot touch it even with the token.
    let (status, _) = app
        .post_as(
            &format!("/internal/v1/proj2/jobs/{id}/complete"),
            &app.token("proj2", &["producer"]),
            &json!({"lease_token": token, "status": "success"}),
        )
        .await;
    assert_eq!(status, 404);

    let ok = json!({"lease_token": token, "status": "failed", "fail_reason": "boom"});
    let (status, _) = app.job_action(&id, "complete", ok.clone()).await;
    assert_eq!(status, 200);
    let (status, body) = app.job_action(&id, "complete", ok).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("GES.7009"))
    );
    let (status, _) = app
        .job_action(
            &id,
            "complete",
            json!({"lease_token": token, "status": "success"}),
        )
        .await;
    assert_eq!(status, 409);
    let (status, _) = app
        .job_action(&id, "heartbeat", json!({"lease_token": token}))
        .await;
    assert_eq!(status, 409);
    assert_eq!(app.row(&id).await.0, "failed");
    assert_eq!(app.row(&id).await.1.as_deref(), Some("boom"));
}

#[tokio::test]
async fn an_idempotent_repeat_answers_the_first_job() {
    let app = TestApp::spawn_reader().await;
    let keyed = json!({"job_type": TYPE, "job_name": "a", "idempotency_key": "k1"});
    let (_, first) = app.enqueue(keyed.clone()).await;
    let (status, second) = app.enqueue(keyed.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(first["job_id"], second["job_id"]);
    // In a batch, with a repeat inside the batch.
    let (status, batch) = app
        .enqueue(json!({"jobs": [
            keyed,
            {"job_type": TYPE, "job_name": "b", "idempotency_key": "k2"},
            {"job_type": TYPE, "job_name": "b", "idempotency_key": "k2"},
            {"job_type": TYPE, "job_name": "c"},
        ]}))
        .await;
    assert_eq!(status, 200, "{batch}");
    let ids = batch["job_ids"].as_array().unwrap();
    assert_eq!(ids[0], first["job_id"]);
    assert_eq!(ids[1], ids[2]);
    assert_ne!(ids[1], ids[3]);
    let (_, list) = app.list("").await;
    assert_eq!(list["job_count"], 3);
}

#[tokio::test]
async fn fifty_concurrent_repeats_create_one_job() {
    let app = std::sync::Arc::new(TestApp::spawn_reader().await);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.enqueue(json!({"job_type": TYPE, "job_name": "a", "idempotency_key": "same"}))
                .await
        }));
    }
    let mut ids = HashSet::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
        ids.insert(body["job_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1);
    let (_, list) = app.list("").await;
    assert_eq!(list["job_count"], 1);
}

#[tokio::test]
async fn a_batch_of_a_thousand_is_one_call() {
    let app = TestApp::spawn_reader().await;
    let jobs: Vec<Value> = (0..1000).map(|i| job(&format!("j{i}"))).collect();
    let (status, body) = app.enqueue(json!({ "jobs": jobs })).await;
    assert_eq!(status, 200, "{body}");
    let ids: HashSet<&str> = body["job_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1000);
    let (_, list) = app.list("status=pending&limit=100").await;
    assert_eq!(list["job_count"], 1000);
    assert_eq!(app.claim(100, 30).await.len(), 100);
}

#[tokio::test]
async fn an_expired_lease_puts_the_job_back_for_another_claim() {
    // The reaper runs in the app's worker pool.
    let app = TestApp::spawn().await;
    app.enqueue(job("a")).await;
    let first = app.claim(1, 1).await;
    let id = first[0]["job_id"].as_str().unwrap().to_owned();
    let old_token = first[0]["lease_token"].as_str().unwrap().to_owned();
    let started = Instant::now();
    let second = loop {
        let again = app.claim(1, 30).await;
        if !again.is_empty() {
            break again;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "never reaped");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(second[0]["job_id"], id.as_str());
    assert_eq!(second[0]["attempt"], 2);
    assert_ne!(second[0]["lease_token"], old_token.as_str());
    let (status, _) = app
        .job_action(&id, "heartbeat", json!({"lease_token": old_token}))
        .await;
    assert_eq!(status, 409);
    let (status, _) = app
        .job_action(
            &id,
            "complete",
            json!({"lease_token": second[0]["lease_token"], "status": "success"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.row(&id).await.0, "success");
}

#[tokio::test]
async fn cancel_in_each_state() {
    let app = TestApp::spawn_reader().await;
    // Pending: ends failed, cancelled, and is never claimed.
    let (_, body) = app.enqueue(job("pending")).await;
    let pending = body["job_id"].as_str().unwrap().to_owned();
    let (status, body) = app.public_action(&pending, "cancel").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "cancelled");
    let (st, reason, _, _) = app.row(&pending).await;
    assert_eq!(
        (st.as_str(), reason.as_deref()),
        ("failed", Some("cancelled"))
    );
    assert!(app.claim(10, 30).await.is_empty());
    // Running: flagged; the worker learns it on its heartbeat.
    app.enqueue(job("running")).await;
    let claimed = app.claim(1, 30).await;
    let running = claimed[0]["job_id"].as_str().unwrap().to_owned();
    let token = claimed[0]["lease_token"].clone();
    let (status, body) = app.public_action(&running, "cancel").await;
    assert_eq!(status, 200);
    assert_eq!(body["result"], "cancel_requested");
    assert_eq!(app.row(&running).await.0, "running");
    let (_, beat) = app
        .job_action(&running, "heartbeat", json!({"lease_token": token}))
        .await;
    assert_eq!(beat["cancel_requested"], true);
    let (status, _) = app
        .job_action(
            &running,
            "complete",
            json!({"lease_token": token, "status": "failed", "fail_reason": "cancelled"}),
        )
        .await;
    assert_eq!(status, 200);
    // Finished: 409.
    let (status, body) = app.public_action(&running, "cancel").await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("GES.7010"))
    );
    // Unknown job, producer token, other project.
    let (status, _) = app
        .public_action(&Uuid::new_v4().simple().to_string(), "cancel")
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .post_as(
            &format!("/v2/{PROJECT}/graphs/jobs/{pending}/cancel"),
            &app.producer(),
            &json!({}),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn cancelling_a_pending_graph_operation_restores_the_graph() {
    let app = TestApp::spawn_reader().await;
    let graph = insert_graph(&app, "g1").await;
    let (status, body) = app
        .post_as(
            &format!("/v2/{PROJECT}/graphs/{graph}/stop"),
            &app.operator(),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let job = body["job_id"].as_str().unwrap().to_owned();
    let (status, _) = app.public_action(&job, "cancel").await;
    assert_eq!(status, 200);
    assert_eq!(app.row(&job).await.0, "failed");
    let (graph_status, active): (i16, Option<Uuid>) =
        sqlx::query_as("SELECT status, active_job_id FROM graphs WHERE id = $1")
            .bind(graph)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((graph_status, active), (200, None));

    // A retry goes through the operation path: the graph is stopping again.
    let (status, body) = app.public_action(&job, "retry").await;
    assert_eq!(status, 200, "{body}");
    let new_job = Uuid::try_parse(body["job_id"].as_str().unwrap()).unwrap();
    let (graph_status, active): (i16, Option<Uuid>) =
        sqlx::query_as("SELECT status, active_job_id FROM graphs WHERE id = $1")
            .bind(graph)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((graph_status, active), (901, Some(new_job)));
    let (name, retry_of): (String, Option<Uuid>) =
        sqlx::query_as("SELECT job_name, retry_of FROM jobs WHERE id = $1")
            .bind(new_job)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(name, "StopGraph");
    assert_eq!(retry_of, Some(Uuid::try_parse(&job).unwrap()));
    // The state machine still applies: the graph is busy, a second retry is refused.
    let (status, _) = app.public_action(&job, "retry").await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn a_failed_producer_job_is_retried_as_a_new_job() {
    let app = TestApp::spawn_reader().await;
    app.enqueue(job("r")).await;
    let claimed = app.claim(1, 30).await;
    let id = claimed[0]["job_id"].as_str().unwrap().to_owned();
    let token = claimed[0]["lease_token"].clone();
    // Not failed yet: refused.
    let (status, body) = app.public_action(&id, "retry").await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("GES.7010"))
    );
    app.job_action(
        &id,
        "complete",
        json!({"lease_token": token, "status": "failed", "fail_reason": "x"}),
    )
    .await;
    let (status, body) = app.public_action(&id, "retry").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["retry_of"], id.as_str());
    let new_id = body["job_id"].as_str().unwrap().to_owned();
    assert_ne!(new_id, id);
    // A job is retried once.
    let (status, body) = app.public_action(&id, "retry").await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("GES.7010"))
    );
    let again = app.claim(1, 30).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["job_id"], new_id.as_str());
    assert_eq!(again[0]["job_name"], "r");
    assert_eq!(again[0]["payload"], json!({"report": "r"}));
    assert_eq!(again[0]["attempt"], 1);
    let (status, _) = app
        .post_as(
            &format!("/v2/{PROJECT}/graphs/jobs/{id}/retry"),
            &app.token(PROJECT, &["readonly"]),
            &json!({}),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn four_external_workers_finish_ten_thousand_jobs_exactly_once() {
    let app = std::sync::Arc::new(TestApp::spawn_reader().await);
    for batch in 0..10 {
        let jobs: Vec<Value> = (0..1000).map(|i| job(&format!("b{batch}j{i}"))).collect();
        let (status, _) = app.enqueue(json!({ "jobs": jobs })).await;
        assert_eq!(status, 200);
    }
    let done = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (app, done) = (app.clone(), done.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let claimed = app.claim(50, 60).await;
                if claimed.is_empty() {
                    break;
                }
                for job in claimed {
                    let id = job["job_id"].as_str().unwrap().to_owned();
                    let (status, body) = app
                        .job_action(
                            &id,
                            "complete",
                            json!({"lease_token": job["lease_token"], "status": "success"}),
                        )
                        .await;
                    assert_eq!(status, 200, "{body}");
                    done.lock().unwrap().push(id);
                }
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let done = done.lock().unwrap().clone();
    let distinct: HashSet<&String> = done.iter().collect();
    assert_eq!(done.len(), 10_000);
    assert_eq!(distinct.len(), 10_000, "no job was completed twice");
    let (_, list) = app.list("status=success").await;
    assert_eq!(list["job_count"], 10_000);
    let (_, list) = app.list("").await;
    assert_eq!(list["job_count"], 10_000);
}
