//! The count structures under concurrent writers: eight writers create jobs, claim them,
//! finish them and cancel them at once (over HTTP, through the same statements the service
//! runs in production, plus bulk status changes in SQL across many days); afterwards every
//! row of `job_day_counts` equals `count(*)` of its key, and the list API agrees.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::helpers::TestApp;

const PROJECTS: [&str; 2] = ["countsalpha", "countsbeta"];
const JOB_TYPE: &str = "CountWork";
const WRITERS: usize = 8;
const ROUNDS: usize = 5;
const BATCH: usize = 12;

impl TestApp {
    /// POSTs with `token`; a refusal other than a conflict fails the test.
    async fn post_json(&self, path: &str, token: &str, body: Value) -> Value {
        let (status, body) = self.post_as(path, token, &body).await;
        assert!(status == 200 || status == 409, "{path}: {status} {body}");
        body
    }
}

/// One writer: enqueue a batch, claim part of it, finish what it claimed with mixed
/// statuses, cancel one pending job; `ROUNDS` times.
async fn write(app: &TestApp, writer: usize) {
    let project = PROJECTS[writer % 2];
    let producer = app.token(project, &["producer"]);
    let operator = app.token(project, &["operator"]);
    let base = format!("/internal/v1/{project}/jobs");
    for round in 0..ROUNDS {
        let jobs: Vec<Value> = (0..BATCH)
            .map(|i| {
                json!({"job_type": JOB_TYPE, "job_name": format!("Count{}", i % 3),
                       "related_graph": format!("graph{}", (writer + i) % 4)})
            })
            .collect();
        let enqueued = app.post_json(&base, &producer, json!({"jobs": jobs})).await;
        let ids = enqueued["job_ids"].as_array().expect("job ids").clone();
        assert_eq!(ids.len(), BATCH);
        let claimed = app
            .post_json(
                &format!("{base}/claim"),
                &producer,
                json!({"job_types": [JOB_TYPE], "max_jobs": 8, "lease_secs": 60}),
            )
            .await;
        for (i, job) in claimed["jobs"].as_array().unwrap().iter().enumerate() {
            let status = ["success", "failed", "partiallyFailed"][(i + round) % 3];
            let id = job["job_id"].as_str().unwrap();
            let body = json!({"lease_token": job["lease_token"], "status": status,
                              "fail_reason": (status != "success").then_some("count test")});
            app.post_json(&format!("{base}/{id}/complete"), &producer, body)
                .await;
        }
        let last = ids[BATCH - 1].as_str().unwrap();
        app.post_json(
            &format!("/v2/{project}/graphs/jobs/{last}/cancel"),
            &operator,
            json!({}),
        )
        .await;
    }
}

/// Moves jobs between statuses and days in bulk (one statement, many counter rows).
async fn bulk_write(app: &TestApp) {
    for step in 0..ROUNDS {
        sqlx::query(
            "UPDATE jobs SET begin_time = begin_time - make_interval(days => $1),
                             end_time = end_time - make_interval(days => $1)
             WHERE job_type = $2 AND end_time IS NOT NULL AND random() < 0.3",
        )
        .bind(step as i32 + 1)
        .bind(JOB_TYPE)
        .execute(&app.pool)
        .await
        .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_writers_keep_every_count_exact() {
    let app = Arc::new(TestApp::spawn_reader().await);
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let app = app.clone();
        tasks.push(tokio::spawn(async move { write(&app, writer).await }));
    }
    let bulk = {
        let app = app.clone();
        tokio::spawn(async move { bulk_write(&app).await })
    };
    for task in tasks {
        task.await.expect("writer");
    }
    bulk.await.expect("bulk writer");

    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE job_type = $1")
        .bind(JOB_TYPE)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(jobs, (WRITERS * ROUNDS * BATCH) as i64);
    let statuses: i64 = sqlx::query_scalar("SELECT count(DISTINCT status) FROM jobs")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(statuses >= 4, "the writers left only {statuses} statuses");

    let mismatches: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
        "WITH actual AS (
             SELECT project_id, g.key AS graph_key, status, job_day(begin_time) AS begin_day,
                    job_day(end_time) AS end_day, count(*) AS n
             FROM jobs CROSS JOIN LATERAL (VALUES (coalesce(graph_name, '')), ('*')) AS g (key)
             GROUP BY 1, 2, 3, 4, 5),
         stored AS (SELECT project_id, graph_key, status, begin_day, end_day, n
                    FROM job_day_counts WHERE n <> 0)
         SELECT coalesce(a.project_id, s.project_id), coalesce(a.graph_key, s.graph_key),
                coalesce(a.status, s.status), coalesce(a.n, 0), coalesce(s.n, 0)
         FROM actual a FULL JOIN stored s USING (project_id, graph_key, status, begin_day, end_day)
         WHERE a.n IS DISTINCT FROM s.n",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(mismatches.is_empty(), "count(*) vs stored: {mismatches:?}");

    for project in PROJECTS {
        let token = app.token(project, &["readonly"]);
        for status in [
            "",
            "pending",
            "running",
            "success",
            "failed",
            "partiallyFailed",
        ] {
            let filter = if status.is_empty() {
                String::new()
            } else {
                format!("?status={status}")
            };
            let (code, body) = app
                .get(&format!("/v2/{project}/graphs/jobs{filter}"), Some(&token))
                .await;
            assert_eq!(code, 200, "{body}");
            let exact: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM jobs WHERE project_id = $1 AND ($2 = '' OR status = $2)",
            )
            .bind(project)
            .bind(status)
            .fetch_one(&app.pool)
            .await
            .unwrap();
            assert_eq!(body["job_count"], exact, "{project} status={status:?}");
        }
    }
}
