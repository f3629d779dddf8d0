//! The count store under concurrent writers: eight writers create jobs, claim them, finish
//! them and cancel them at once (over HTTP, through the same statements the service runs in
//! production, plus bulk status changes in SQL across many days) while the folder folds;
//! afterwards every count at every grain, deltas included, equals `count(*)` of its key,
//! before and after the last fold, and the list API agrees. Also: a writer killed mid-
//! transaction, and the migration that converted the old day counts.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::helpers::TestApp;

use jobcenter::store::counts;

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

/// Moves jobs between days (and months) in bulk (one statement, many counter rows): back
/// by a few hours a step, as far as their ids allow (`jobs_begin_near_id`).
async fn bulk_write(app: &TestApp) {
    for step in 0..ROUNDS {
        sqlx::query(
            "UPDATE jobs j SET begin_time = m.moved, end_time = j.end_time - (j.begin_time - m.moved)
             FROM (SELECT id, begin_time,
                          greatest(job_begin_min(id) + interval '1 hour',
                                   begin_time - make_interval(hours => $1 * 4)) AS moved
                   FROM jobs WHERE job_type = $2 AND end_time IS NOT NULL AND random() < 0.3) AS m
             WHERE j.id = m.id AND j.begin_time = m.begin_time",
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
    // The bulk writer moves jobs up to a day back: into last month, near a month's start.
    let today = chrono::Utc::now().date_naive();
    jobcenter::store::months::add_months(&app.pool, today - chrono::TimeDelta::days(2), today)
        .await
        .unwrap();
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

    assert_eq!(mismatches(&app.pool).await, 0, "before the last fold");
    fold_everything(&app.pool).await;
    assert_eq!(mismatches(&app.pool).await, 0, "after the last fold");

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

/// Count rows (at any grain) that disagree with `count(*)`.
pub async fn mismatches(pool: &sqlx::PgPool) -> i64 {
    counts::mismatches(pool).await.unwrap()
}

/// Folds every delta: here, or by the service's folder when it holds the fold lock.
pub async fn fold_everything(pool: &sqlx::PgPool) {
    let mut conn = pool.acquire().await.unwrap();
    if jobcenter::service::counts::fold_all(&mut conn)
        .await
        .unwrap()
    {
        return;
    }
    for _ in 0..500 {
        if !counts::has_work(&mut *conn).await.unwrap() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the deltas were not folded");
}

/// `jobcenter seed` with `args` on `url`, its output piped.
fn seed_command(url: &str, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_jobcenter"));
    command
        .arg("seed")
        .args(args)
        .env("JOBCENTER_CONFIG_DIR", "/nonexistent")
        .env("JOBCENTER__DATABASE__URL", url)
        .env("JOBCENTER__AUTH__JWT_SECRET", crate::helpers::SECRET)
        .env("JOBCENTER__LOG__LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    command
}

#[tokio::test]
async fn a_writer_killed_with_sigkill_mid_transaction_leaves_every_count_exact() {
    let app = TestApp::spawn_reader().await;
    let url = app.database_url.clone();
    let mut seed = seed_command(
        &url,
        &[
            "--project",
            "killed",
            "--jobs",
            "400000",
            "--batch",
            "20000",
            "--days",
            "30",
        ],
    )
    .spawn()
    .expect("start seed");
    // Wait until a batch's COPY is under way (a transaction with uncommitted jobs and
    // deltas), after at least one batch committed.
    crate::helpers::poll(
        "a COPY after a committed batch",
        || async {
            let committed: i64 =
                sqlx::query_scalar("SELECT count(*) FROM jobs WHERE project_id = 'killed'")
                    .fetch_one(&app.pool)
                    .await
                    .unwrap();
            let copying: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                            WHERE datname = current_database() AND query LIKE 'COPY jobs%'
                              AND state = 'active')",
            )
            .fetch_one(&app.pool)
            .await
            .unwrap();
            committed >= 20_000 && copying
        },
        |ready| *ready,
    )
    .await;
    let pid = seed.id().expect("seed's pid") as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    seed.wait().await.unwrap();
    // The killed transaction is rolled back once the server notices the connection gone.
    crate::helpers::poll(
        "the killed COPY rolled back",
        || async {
            let copying: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                            WHERE datname = current_database() AND query LIKE 'COPY jobs%')",
            )
            .fetch_one(&app.pool)
            .await
            .unwrap();
            copying
        },
        |copying| !*copying,
    )
    .await;
    let committed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM jobs WHERE project_id = 'killed'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(
        committed > 0 && committed % 20_000 == 0 && committed < 400_000,
        "{committed}"
    );
    assert_eq!(mismatches(&app.pool).await, 0, "before the fold");
    fold_everything(&app.pool).await;
    assert_eq!(mismatches(&app.pool).await, 0, "after the fold");
    let token = app.token("killed", &["readonly"]);
    let (_, body) = app
        .get("/v2/killed/graphs/jobs?limit=1", Some(&token))
        .await;
    assert_eq!(body["job_count"], committed);
}

#[tokio::test]
async fn the_count_store_migration_converts_the_old_day_counts_exactly() {
    let url = crate::helpers::empty_database().await;
    jobcenter::db::migrate_to(&url, std::time::Duration::from_secs(30), Some(7))
        .await
        .unwrap();
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    // History under the old triggers: 6,000 jobs over 40 days (150 a day: one day gets
    // 1,000 more, so the migration queues it for splitting), some unfinished, some moved
    // and some deleted.
    for statement in [
        "INSERT INTO jobs (id, project_id, graph_id, graph_name, job_type, job_name, status,
                           begin_time, end_time)
         SELECT gen_random_uuid(), 'migrated', NULL, 'graph' || (i % 5), 'GraphManagement',
                'StopGraph', s.status, b.t, CASE WHEN s.status IN ('pending', 'running') THEN NULL
                                               ELSE b.t + make_interval(hours => i % 30) END
         FROM generate_series(1, 6000) AS i
         CROSS JOIN LATERAL (SELECT timestamptz '2026-01-01' + make_interval(mins => i * 9) AS t) AS b
         CROSS JOIN LATERAL (SELECT (ARRAY['success', 'failed', 'partiallyFailed', 'pending',
                                           'running', 'success'])[i % 6 + 1] AS status) AS s",
        "INSERT INTO jobs (id, project_id, graph_name, job_type, job_name, status, begin_time,
                           end_time)
         SELECT gen_random_uuid(), 'migrated', NULL, 'Report', 'Monthly', 'success',
                timestamptz '2026-01-20 10:00' + make_interval(secs => i),
                timestamptz '2026-01-20 12:00' + make_interval(secs => i)
         FROM generate_series(1, 1000) AS i",
        "UPDATE jobs SET status = 'success', end_time = begin_time + interval '1 hour'
         WHERE status = 'running' AND random() < 0.5",
        "DELETE FROM jobs WHERE status = 'failed' AND random() < 0.2",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&pool)
            .await
            .unwrap();
    }
    jobcenter::db::migrate_to(&url, std::time::Duration::from_secs(30), None)
        .await
        .unwrap();
    assert_eq!(mismatches(&pool).await, 0, "right after the migration");
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM job_segment_queue")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(queued >= 1, "the dense day is queued for splitting");
    fold_everything(&pool).await;
    assert_eq!(mismatches(&pool).await, 0, "after splitting");
    let segments: i64 = sqlx::query_scalar("SELECT count(*) FROM job_segments")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        segments >= 4,
        "the dense day was split: {segments} segment starts"
    );

    let app = TestApp::spawn_with(crate::helpers::test_settings(&url)).await;
    let token = app.token("migrated", &["readonly"]);
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE project_id = 'migrated'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let (_, body) = app
        .get("/v2/migrated/graphs/jobs?limit=1", Some(&token))
        .await;
    assert_eq!(body["job_count"], total);
    crate::list_deep::assert_pages_match_a_plain_sort(&app, "migrated", 40).await;
}
