//! The durable worker pool and the built-in engine, against a real database: jobs are
//! enqueued with SQL the way the operation API writes them, then run by a pool started in
//! the test (or by the service, or by `jobcenter worker` processes).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jobcenter::domain::JobStatus;
use jobcenter::domain::{GraphJobPayload, GraphStatus, Operation};
use jobcenter::engine::{BuiltinEngine, Engine, EngineError, EngineFuture, JobContext};
use jobcenter::service::runs::{self, RetryOutcome};
use jobcenter::store::queue;
use jobcenter::worker::{PoolSettings, Reporting, WorkerHandle, WorkerPool};
use serde_json::json;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::helpers::{PROJECT, TestApp, fresh_database, insert_graph, poll};

// ---------------------------------------------------------------------------------------
// Arrangement
// ---------------------------------------------------------------------------------------

/// A fresh database with no pool running on it.
async fn database() -> (String, PgPool) {
    let url = fresh_database().await;
    let pool = PgPool::connect(&url).await.unwrap();
    (url, pool)
}

/// Accepts `op` the way the operation API does: the job, the graph's in-flight status and
/// active job, and the notification, in one transaction. Answers the job id.
async fn enqueue(pool: &PgPool, graph: Uuid, op: Operation) -> Uuid {
    enqueue_with(pool, graph, op, false).await
}

async fn enqueue_with(pool: &PgPool, graph: Uuid, op: Operation, cancel: bool) -> Uuid {
    let mut tx = pool.begin().await.unwrap();
    let (before, name): (i16, String) =
        sqlx::query_as("SELECT status, name FROM graphs WHERE id = $1 FOR UPDATE")
            .bind(graph)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    let job = Uuid::now_v7();
    let payload = serde_json::to_value(GraphJobPayload {
        operation: op.clone(),
        status_before: GraphStatus::from_code(before).unwrap(),
    })
    .unwrap();
    sqlx::query(
        "INSERT INTO jobs (id, project_id, graph_id, graph_name, job_type, job_name, status,
                           begin_time, payload, cancel_requested)
         VALUES ($1, $2, $3, $4, 'GraphManagement', $5, 'pending', now(), $6, $7)",
    )
    .bind(job)
    .bind(PROJECT)
    .bind(graph)
    .bind(&name)
    .bind(op.job_name())
    .bind(payload)
    .bind(cancel)
    .execute(&mut *tx)
    .await
    .unwrap();
    if let Operation::Backup { backup_id } = op {
        sqlx::query(
            "INSERT INTO backups (id, project_id, graph_id, graph_name, name, backup_method, status,
                                  job_id, graph_status, graph_size_type_index, data_store_version,
                                  arch, start_time)
             VALUES ($1, $2, $3, $4, $4 || '_backup', 'manual', 'backing_up', $5, $6, 1, '2.3.18',
                     'x86_64', now())",
        )
        .bind(backup_id)
        .bind(PROJECT)
        .bind(graph)
        .bind(&name)
        .bind(job)
        .bind(before)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    sqlx::query(
        "UPDATE graphs SET status = coalesce($2, status), active_job_id = $3 WHERE id = $1",
    )
    .bind(graph)
    .bind(op.status_while_running().map(GraphStatus::code))
    .bind(job)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("SELECT pg_notify('jobcenter_jobs', 'GraphManagement')")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    job
}

/// Records every status change of a job, to check that a job ends exactly once.
pub async fn audit_status_changes(pool: &PgPool) {
    for sql in [
        "CREATE TABLE job_audit (seq bigserial PRIMARY KEY, job_id uuid, old_status text,
                                 new_status text, attempt int, end_time timestamptz)",
        "CREATE FUNCTION audit_job() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.status IS DISTINCT FROM OLD.status THEN
                 INSERT INTO job_audit (job_id, old_status, new_status, attempt, end_time)
                 VALUES (NEW.id, OLD.status, NEW.status, NEW.attempt, NEW.end_time);
             END IF;
             RETURN NULL;
         END $$",
        "CREATE TRIGGER jobs_audit AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION audit_job()",
    ] {
        sqlx::query(sql).execute(pool).await.unwrap();
    }
}

/// The status changes of a job, as `old>new` strings, in order.
pub async fn transitions(pool: &PgPool, job: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT old_status || '>' || new_status FROM job_audit WHERE job_id = $1 ORDER BY seq",
    )
    .bind(job)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[derive(Debug, Clone)]
struct JobRow {
    status: String,
    attempt: i32,
    progress: f32,
    fail_reason: Option<String>,
    end_time: Option<chrono::DateTime<chrono::Utc>>,
    lease_token: Option<Uuid>,
    worker_id: Option<String>,
}

async fn job_row(pool: &PgPool, job: Uuid) -> JobRow {
    let row = sqlx::query(
        "SELECT status, attempt, progress, fail_reason, end_time, lease_token, worker_id
         FROM jobs WHERE id = $1",
    )
    .bind(job)
    .fetch_one(pool)
    .await
    .unwrap();
    JobRow {
        status: row.get("status"),
        attempt: row.get("attempt"),
        progress: row.get("progress"),
        fail_reason: row.get("fail_reason"),
        end_time: row.get("end_time"),
        lease_token: row.get("lease_token"),
        worker_id: row.get("worker_id"),
    }
}

#[derive(Debug, Clone, PartialEq)]
struct GraphRow {
    status: i16,
    loaded: bool,
    active_job_id: Option<Uuid>,
    action_progress: f32,
    schema_xml: Option<String>,
    data_store_version: String,
    vertices: i64,
    edges: i64,
}

async fn graph_row(pool: &PgPool, graph: Uuid) -> GraphRow {
    let row = sqlx::query(
        "SELECT status, loaded, active_job_id, action_progress, schema_xml, data_store_version,
                (SELECT count(*) FROM graph_vertices WHERE graph_id = g.id) AS vertices,
                (SELECT count(*) FROM graph_edges WHERE graph_id = g.id) AS edges
         FROM graphs g WHERE id = $1",
    )
    .bind(graph)
    .fetch_one(pool)
    .await
    .unwrap();
    GraphRow {
        status: row.get("status"),
        loaded: row.get("loaded"),
        active_job_id: row.get("active_job_id"),
        action_progress: row.get("action_progress"),
        schema_xml: row.get("schema_xml"),
        data_store_version: row.get("data_store_version"),
        vertices: row.get("vertices"),
        edges: row.get("edges"),
    }
}

/// Polls the job until `done` holds; answers the row.
async fn wait_job(pool: &PgPool, job: Uuid, what: &str, done: impl Fn(&JobRow) -> bool) -> JobRow {
    poll(
        &format!("the job to be {what}"),
        || job_row(pool, job),
        done,
    )
    .await
}

async fn wait_final(pool: &PgPool, job: Uuid) -> JobRow {
    wait_job(pool, job, "final", |r| {
        ["success", "failed", "partiallyFailed"].contains(&r.status.as_str())
    })
    .await
}

fn settings(concurrency: usize) -> PoolSettings {
    PoolSettings {
        worker_id: format!("test-{}", Uuid::new_v4().simple()),
        concurrency,
        lease: Duration::from_secs(30),
        poll_interval: Duration::from_millis(100),
        retry_base: Duration::from_millis(50),
        retry_cap: Duration::from_millis(200),
    }
}

fn builtin(step_delay_ms: u64) -> Arc<dyn Engine> {
    Arc::new(BuiltinEngine::new(Duration::from_millis(step_delay_ms)))
}

fn start(pool: &PgPool, engine: Arc<dyn Engine>) -> WorkerHandle {
    WorkerPool::start(pool.clone(), engine, settings(2))
}

// ---------------------------------------------------------------------------------------
// The pool runs jobs
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_service_runs_a_pending_stop_job_to_success() {
    // Each step waits, so the graph is still stopping when the test reads it.
    let mut settings = crate::helpers::test_settings(&crate::helpers::fresh_database().await);
    settings.worker.step_delay_ms = 300;
    let app = TestApp::spawn_with(settings).await;
    let graph = insert_graph(&app.pool, None, GraphStatus::Running.code()).await;
    let job = enqueue(&app.pool, graph, Operation::Stop).await;
    assert_eq!(
        graph_row(&app.pool, graph).await.status,
        GraphStatus::Stopping.code()
    );

    let done = wait_final(&app.pool, job).await;
    assert_eq!(done.status, "success", "{done:?}");
    assert_eq!(done.progress, 100.0);
    assert_eq!(done.attempt, 1);
    assert!(done.end_time.is_some() && done.lease_token.is_none());
    assert!(done.worker_id.is_some());
    let g = graph_row(&app.pool, graph).await;
    assert_eq!(g.status, GraphStatus::Stopped.code());
    assert!(!g.loaded);
    assert_eq!(g.active_job_id, None);
    assert_eq!(g.action_progress, 0.0);
}

#[tokio::test]
async fn progress_moves_while_a_job_runs() {
    let (_, pool) = database().await;
    let graph = insert_graph(&pool, None, GraphStatus::Running.code()).await;
    let job = enqueue(
        &pool,
        graph,
        Operation::Resize {
            graph_size_type_index: 3,
        },
    )
    .await;
    let workers = start(&pool, builtin(400));

    let mut seen_job = Vec::new();
    let mut seen_graph = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let done = loop {
        let row = job_row(&pool, job).await;
        if row.status == "running" {
            seen_job.push(row.progress);
            seen_graph.push(graph_row(&pool, graph).await.action_progress);
        }
        if row.status == "success" || row.status == "failed" {
            break row;
        }
        assert!(tokio::time::Instant::now() < deadline, "job never ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(done.status, "success", "{done:?}");
    assert_eq!(done.progress, 100.0);
    assert!(
        seen_job.iter().any(|p| *p > 0.0 && *p < 100.0),
        "no intermediate progress among {seen_job:?}"
    );
    assert!(
        seen_job.windows(2).all(|w| w[0] <= w[1]),
        "progress went backwards: {seen_job:?}"
    );
    assert!(
        seen_graph.iter().any(|p| *p > 0.0),
        "graph action_progress: {seen_graph:?}"
    );
    let g = graph_row(&pool, graph).await;
    assert_eq!(
        (g.status, g.action_progress),
        (GraphStatus::Running.code(), 0.0)
    );
    let size: i32 = sqlx::query_scalar("SELECT graph_size_type_index FROM graphs WHERE id = $1")
        .bind(graph)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(size, 3);
    workers.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn restart_passes_through_starting_before_running() {
    let (_, pool) = database().await;
    let graph = insert_graph(&pool, None, GraphStatus::Running.code()).await;
    let job = enqueue(&pool, graph, Operation::Restart).await;
    let workers = start(&pool, builtin(300));
    let mut statuses = Vec::new();
    loop {
        let g = graph_row(&pool, graph).await;
        if statuses.last() != Some(&g.status) {
            statuses.push(g.status);
        }
        if job_row(&pool, job).await.status == "success" {
            break;
        }
        assert!(statuses.len() < 10, "{statuses:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last = graph_row(&pool, graph).await;
    if statuses.last() != Some(&last.status) {
        statuses.push(last.status);
    }
    assert_eq!(
        statuses,
        vec![
            GraphStatus::Stopping.code(),
            GraphStatus::Starting.code(),
            GraphStatus::Running.code()
        ]
    );
    assert!(last.loaded);
    workers.shutdown(Duration::from_secs(5)).await;
}

// ---------------------------------------------------------------------------------------
// Leases, fencing, retries, shutdown
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_stale_worker_changes_nothing_once_its_lease_is_taken() {
    let (_, pool) = database().await;
    let graph = insert_graph(&pool, None, GraphStatus::Running.code()).await;
    let job = enqueue(&pool, graph, Operation::Stop).await;
    let claimed = queue::claim(
        &pool,
        None,
        "old-worker",
        &["GraphManagement".to_owned()],
        10,
        Duration::from_secs(30),
        None,
    )
    .await
    .unwrap();
    assert_eq!(claimed.len(), 1);
    let old = claimed[0].clone();
    assert_eq!((old.job_id.0, old.attempt), (job, 1));

    // Another worker takes the lease over.
    let stolen: Uuid = sqlx::query_scalar(
        "UPDATE jobs SET lease_token = gen_random_uuid(), worker_id = 'new-worker'
         WHERE id = $1 RETURNING lease_token",
    )
    .bind(job)
    .fetch_one(&pool)
    .await
    .unwrap();
    let graph_before = graph_row(&pool, graph).await;

    let token = old.lease_token;
    let mut conn = pool.acquire().await.unwrap();
    assert!(
        !queue::finish(&pool, job, token, JobStatus::Success, None)
            .await
            .unwrap()
    );
    assert!(
        !runs::fail(&mut conn, job, token, "old worker failed")
            .await
            .unwrap()
    );
    assert!(!runs::release(&mut conn, job, token).await.unwrap());
    assert_eq!(
        runs::retry_later(&mut conn, job, token, Duration::ZERO, "x")
            .await
            .unwrap(),
        RetryOutcome::LeaseLost
    );
    assert_eq!(
        queue::heartbeat(&pool, job, token, Duration::from_secs(30), Some(50.0))
            .await
            .unwrap(),
        None
    );
    // The engine run by the old worker: its final commit is refused.
    let mut ctx = JobContext::new(pool.clone(), old);
    let result = BuiltinEngine::default()
        .run(&mut ctx, &Operation::Stop)
        .await;
    assert_eq!(result, Err(EngineError::LeaseLost));

    let row = job_row(&pool, job).await;
    assert_eq!(row.status, "running");
    assert_eq!(row.lease_token, Some(stolen));
    assert_eq!(row.worker_id.as_deref(), Some("new-worker"));
    assert_eq!((row.progress, row.end_time), (0.0, None));
    assert_eq!(graph_row(&pool, graph).await, graph_before);
    assert!(graph_before.loaded, "the stop was not applied");
}

#[tokio::test]
async fn an_expired_lease_is_reclaimed_and_the_job_finishes_once() {
    let (_, pool) = database().await;
    audit_status_changes(&pool).await;
    let graph = insert_graph(&pool, None, GraphStatus::Running.code()).await;
    let job = enqueue(&pool, graph, Operation::Stop).await;
    // A worker claimed it, then vanished: its lease ran out a minute ago.
    sqlx::query(
        "UPDATE jobs SET status = 'running', attempt = 1, lease_token = gen_random_uuid(),
                         lease_expires_at = now() - interval '1 minute', worker_id = 'vanished',
                         started_at = now() - interval '2 minutes', progress = 25
         WHERE id = $1",
    )
    .bind(job)
    .execute(&pool)
    .await
    .unwrap();

    let workers = start(&pool, builtin(0));
    let done = wait_final(&pool, job).await;
    workers.shutdown(Duration::from_secs(5)).await;

    assert_eq!(done.status, "success", "{done:?}");
    assert_eq!(done.attempt, 2);
    assert_ne!(done.worker_id.as_deref(), Some("vanished"));
    assert_eq!(
        transitions(&pool, job).await,
        [
            "pending>running",
            "running>pending",
            "pending>running",
            "running>success"
        ]
    );
    let g = graph_row(&pool, graph).await;
    assert_eq!(
        (g.status, g.loaded, g.active_job_id),
        (GraphStatus::Stopped.code(), false, None)
    );
}

#[tokio::test]
async fn an_expired_lease_with_no_attempts_left_fails_the_job_and_restores_the_graph() {
    let (_, pool) = database().await;
    let graph = insert_graph(&pool, None, GraphStatus::Running.code()).await;
    let job = enqueue(
        &pool,
        graph,
        Operation::Clear {
            clear_metadata: true,
        },
    )
    .await;
    sqlx::query(
        "UPDATE jobs SET status = 'running', attempt = 3, max_attempts = 3, progress = 50,
                         lease_token = gen_random_uuid(), lease_expires_at = now() - interval '1 second'
         WHERE id = $1",
    )
    .bind(job)
    .execute(&pool)
    .await
    .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let reaped = runs::reap_expired(&mut conn).await.unwrap();
    assert_eq!(reaped.len(), 1);
    assert!(!reaped[0].requeued, "no attempts remained");
    assert!(
        runs::reap_expired(&mut conn).await.unwrap().is_empty(),
        "settled once"
    );

    let row = job_row(&pool, job).await;
    assert_eq!(row.status, "failed");
    assert_eq!(row.progress, 50.0, "progress stays");
    assert!(row.end_time.is_some() && row.lease_token.is_none());
    let reason = row.fail_reason.unwrap();
    assert!(
        reason.contains("stopped responding") && reason.contains("3 attempts"),
        "{reason}"
    );
    let g = graph_row(&pool, graph).await;
    assert_eq!(
        (g.status, g.active_job_id),
        (GraphStatus::Running.code(), None)
    );
    assert_eq!((g.vertices, g.edges), (2, 1), "nothing was cleared");
    assert!(g.schema_xml.is_some());
}

/// Fails every run transiently, counting the runs.
struct Unreachable {
    runs: Arc<AtomicUsize>,
}

impl Engine for Unreachable {
    fn run<'a>(&'a self, _ctx: &'a mut JobContext, _op: &'a Operation) -> EngineFuture<'a> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            Err(EngineError::Transient(
                "the graph engine is unreachable".into(),
            ))
        })
    }
}

#[tokio::test]
async fn transient_failures_are_retried_then_the_job_fails_with_a_reason() {
    let (_, pool) = database().await;
    audit_status_changes(&pool).await;
    let graph = insert_graph(&pool, None, GraphStatus::Running.code()).await;
    let job = enqueue(&pool, graph, Operation::Expand { replication: 5 }).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let reporting = Reporting::new(2);
    let engine = Arc::new(Unreachable { runs: runs.clone() });
    let workers = WorkerPool::start_with(pool.clone(), engine, settings(2), reporting.clone());
    let done = wait_final(&pool, job).await;
    workers.shutdown(Duration::from_secs(5)).await;

    assert_eq!(done.status, "failed");
    assert_eq!(done.attempt, 3);
    let metrics = reporting.metrics.encode();
    for line in [
        "jobcenter_jobs_started_total{job_name=\"ExpandGraph\"} 3",
        "jobcenter_job_retries_total{job_name=\"ExpandGraph\"} 2",
        "jobcenter_jobs_finished_total{job_name=\"ExpandGraph\",status=\"failed\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    let reason = done.fail_reason.unwrap();
    assert!(
        reason.contains("3 attempts") && reason.contains("the graph engine is unreachable"),
        "{reason}"
    );
    assert_eq!(
        transitions(&pool, job).await,
        [
            "pending>running",
            "running>pending",
            "pending>running",
            "running>pending",
            "pending>running",
            "running>failed"
        ]
    );
    let g = graph_row(&pool, graph).await;
    assert_eq!(
        (g.status, g.active_job_id),
        (GraphStatus::Running.code(), None)
    );
}

#[tokio::test]
async fn graceful_shutdown_releases_an_unfinished_job_without_using_an_attempt() {
    let (_, pool) = database().await;
    let graph = insert_graph(&pool, None, GraphStatus::Running.code()).await;
    let job = enqueue(&pool, graph, Operation::Stop).await;
    let workers = start(&pool, builtin(10_000));
    wait_job(&pool, job, "running", |r| r.status == "running").await;
    workers.shutdown(Duration::from_millis(300)).await;

    let row = job_row(&pool, job).await;
    assert_eq!(row.status, "pending");
    assert_eq!(row.attempt, 0);
    assert_eq!(
        (row.lease_token, row.worker_id, row.end_time),
        (None, None, None)
    );
    let g = graph_row(&pool, graph).await;
    assert_eq!(
        (g.status, g.active_job_id, g.loaded),
        (GraphStatus::Stopping.code(), Some(job), true)
    );

    // Another worker takes it up as a first attempt.
    let workers = start(&pool, builtin(0));
    let done = wait_final(&pool, job).await;
    workers.shutdown(Duration::from_secs(5)).await;
    assert_eq!((done.status.as_str(), done.attempt), ("success", 1));
}

#[tokio::test]
async fn a_killed_worker_process_is_replaced_and_the_job_succeeds_once() {
    let (url, pool) = database().await;
    audit_status_changes(&pool).await;
    let graph = insert_graph(&pool, None, GraphStatus::Running.code()).await;
    let job = enqueue(&pool, graph, Operation::Stop).await;

    let mut first = worker_process(&url, 1000);
    let running = wait_job(&pool, job, "running", |r| r.status == "running").await;
    first.start_kill().unwrap(); // SIGKILL
    first.wait().await.unwrap();
    assert_eq!(running.attempt, 1);

    let mut second = worker_process(&url, 1000);
    let done = wait_final(&pool, job).await;
    assert_eq!(done.status, "success", "{done:?}");
    assert_eq!(done.attempt, 2);
    assert_ne!(done.worker_id, running.worker_id);
    assert_eq!(
        transitions(&pool, job).await,
        [
            "pending>running",
            "running>pending",
            "pending>running",
            "running>success"
        ],
        "one final status"
    );
    let end_times: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM job_audit WHERE job_id = $1 AND end_time IS NOT NULL",
    )
    .bind(job)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(end_times, 1, "end_time set once");
    let g = graph_row(&pool, graph).await;
    assert_eq!(
        (g.status, g.loaded, g.active_job_id),
        (GraphStatus::Stopped.code(), false, None)
    );

    // SIGTERM stops the second worker gracefully.
    let pid = nix::unistd::Pid::from_raw(second.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(30), second.wait())
        .await
        .expect("the worker stops on SIGTERM")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
}

/// `jobcenter worker` on `url`, with `step_delay_ms` before each step and a short lease.
pub fn worker_process(url: &str, step_delay_ms: u32) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_jobcenter"))
        .arg("worker")
        .env("JOBCENTER_CONFIG_DIR", "/nonexistent-jobcenter-config")
        .env("JOBCENTER__DATABASE__URL", url)
        // Not the default port: several processes run at once.
        .env("JOBCENTER__METRICS__PORT", "0")
        .env(
            "JOBCENTER__WORKER__STEP_DELAY_MS",
            step_delay_ms.to_string(),
        )
        .env("JOBCENTER__WORKER__LEASE_SECS", "2")
        .env("JOBCENTER__WORKER__POLL_INTERVAL_MS", "200")
        .env("JOBCENTER__LOG__LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start jobcenter worker")
}

// ---------------------------------------------------------------------------------------
// What the built-in engine does to the graph
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_backup_copies_the_graph_and_a_start_restores_it() {
    let (_, pool) = database().await;
    let workers = start(&pool, builtin(0));
    let graph = insert_graph(&pool, None, GraphStatus::Running.code()).await;
    let backup = Uuid::new_v4();
    let job = enqueue(&pool, graph, Operation::Backup { backup_id: backup }).await;
    assert_eq!(wait_final(&pool, job).await.status, "success");
    let (state, size, schema, end): (
        String,
        i64,
        Option<String>,
        Option<chrono::DateTime<chrono::Utc>>,
    ) = sqlx::query_as("SELECT status, size, schema_xml, end_time FROM backups WHERE id = $1")
        .bind(backup)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(state, "success");
    assert!(size > 0);
    assert_eq!(schema.as_deref(), Some("<schema v=\"1\"/>"));
    assert!(end.is_some());
    let g = graph_row(&pool, graph).await;
    assert_eq!(
        (g.status, g.active_job_id),
        (GraphStatus::Running.code(), None),
        "a backup keeps the status"
    );

    // The graph changes, is stopped, and is started from the backup.
    sqlx::query("DELETE FROM graph_vertices WHERE graph_id = $1 AND id = 'v2'")
        .bind(graph)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE graphs SET schema_xml = '<schema v=\"2\"/>' WHERE id = $1")
        .bind(graph)
        .execute(&pool)
        .await
        .unwrap();
    let stop = enqueue(&pool, graph, Operation::Stop).await;
    assert_eq!(wait_final(&pool, stop).await.status, "success");
    let start_job = enqueue(
        &pool,
        graph,
        Operation::Start {
            backup_id: Some(backup),
        },
    )
    .await;
    let done = wait_final(&pool, start_job).await;
    workers.shutdown(Duration::from_secs(5)).await;
    assert_eq!(done.status, "success", "{done:?}");
    let g = graph_row(&pool, graph).await;
    assert_eq!((g.status, g.loaded), (GraphStatus::Running.code(), true));
    assert_eq!((g.vertices, g.edges), (2, 1));
    assert_eq!(g.schema_xml.as_deref(), Some("<schema v=\"1\"/>"));
}

#[tokio::test]
async fn delete_removes_the_data_and_the_backups_unless_kept() {
    let (_, pool) = database().await;
    let workers = start(&pool, builtin(0));
    let mut backups_left = Vec::new();
    for keep_backup in [false, true] {
        let graph = insert_graph(&pool, None, GraphStatus::Running.code()).await;
        let backup = Uuid::new_v4();
        let job = enqueue(&pool, graph, Operation::Backup { backup_id: backup }).await;
        assert_eq!(wait_final(&pool, job).await.status, "success");
        let job = enqueue(&pool, graph, Operation::Delete { keep_backup }).await;
        assert_eq!(wait_final(&pool, job).await.status, "success");
        let g = graph_row(&pool, graph).await;
        assert_eq!(
            (g.status, g.vertices, g.edges),
            (GraphStatus::Deleted.code(), 0, 0)
        );
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM backup_vertices v JOIN backups b ON b.id = v.backup_id WHERE b.graph_id = $1")
            .bind(graph)
            .fetch_one(&pool)
            .await
            .unwrap();
        backups_left.push(left);
    }
    workers.shutdown(Duration::from_secs(5)).await;
    assert_eq!(backups_left, [0, 2]);
}

#[tokio::test]
async fn clear_upgrade_and_expand_change_the_graph() {
    let (_, pool) = database().await;
    let workers = start(&pool, builtin(0));
    let graph = insert_graph(&pool, None, GraphStatus::Running.code()).await;
    for op in [
        Operation::Clear {
            clear_metadata: true,
        },
        Operation::Upgrade {
            version: "2.4.0".into(),
        },
        Operation::Expand { replication: 5 },
    ] {
        let job = enqueue(&pool, graph, op.clone()).await;
        let done = wait_final(&pool, job).await;
        assert_eq!(done.status, "success", "{op:?}: {done:?}");
    }
    workers.shutdown(Duration::from_secs(5)).await;
    let g = graph_row(&pool, graph).await;
    assert_eq!((g.vertices, g.edges, g.schema_xml), (0, 0, None));
    assert_eq!(g.data_store_version, "2.4.0");
    let replication: i32 = sqlx::query_scalar("SELECT replication FROM graphs WHERE id = $1")
        .bind(graph)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((replication, g.status), (5, GraphStatus::Running.code()));
}

#[tokio::test]
async fn refused_operations_fail_with_a_reason_and_restore_the_graph() {
    let (_, pool) = database().await;
    let workers = start(&pool, builtin(0));
    let graph = insert_graph(&pool, None, GraphStatus::Running.code()).await;
    let cases = [(
        Operation::Upgrade {
            version: "2.1".into(),
        },
        "lower version",
    )];
    for (op, expected) in cases {
        let job = enqueue(&pool, graph, op.clone()).await;
        let done = wait_final(&pool, job).await;
        assert_eq!(done.status, "failed", "{op:?}");
        assert_eq!(done.attempt, 1, "{op:?}: not retried");
        let reason = done.fail_reason.unwrap_or_default();
        assert!(reason.contains(expected), "{op:?}: {reason}");
        let g = graph_row(&pool, graph).await;
        assert_eq!(
            (g.status, g.active_job_id),
            (GraphStatus::Running.code(), None),
            "{op:?}"
        );
        assert_eq!(g.data_store_version, "2.3.18");
    }
    // Starting from a backup of another graph fails; the graph stays stopped.
    let stopped = insert_graph(&pool, None, GraphStatus::Stopped.code()).await;
    let other = insert_graph(&pool, None, GraphStatus::Running.code()).await;
    let backup = Uuid::new_v4();
    let job = enqueue(&pool, other, Operation::Backup { backup_id: backup }).await;
    assert_eq!(wait_final(&pool, job).await.status, "success");
    let job = enqueue(
        &pool,
        stopped,
        Operation::Start {
            backup_id: Some(backup),
        },
    )
    .await;
    let done = wait_final(&pool, job).await;
    workers.shutdown(Duration::from_secs(5)).await;
    assert_eq!(done.status, "failed");
    assert!(done.fail_reason.unwrap().contains("does not exist"));
    let g = graph_row(&pool, stopped).await;
    assert_eq!(
        (g.status, g.loaded, g.active_job_id),
        (GraphStatus::Stopped.code(), false, None)
    );
}

#[tokio::test]
async fn a_cancelled_backup_ends_failed_cancelled_and_the_backup_failed() {
    let (_, pool) = database().await;
    let graph = insert_graph(&pool, None, GraphStatus::Stopped.code()).await;
    let backup = Uuid::new_v4();
    let job = enqueue_with(&pool, graph, Operation::Backup { backup_id: backup }, true).await;
    let workers = start(&pool, builtin(0));
    let done = wait_final(&pool, job).await;
    workers.shutdown(Duration::from_secs(5)).await;
    assert_eq!(done.status, "failed");
    assert_eq!(done.fail_reason.as_deref(), Some("cancelled"));
    let state: String = sqlx::query_scalar("SELECT status FROM backups WHERE id = $1")
        .bind(backup)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(state, "failed");
    let g = graph_row(&pool, graph).await;
    assert_eq!(
        (g.status, g.active_job_id),
        (GraphStatus::Stopped.code(), None)
    );
}

#[tokio::test]
async fn jobs_without_a_payload_are_records_and_never_claimed() {
    let (_, pool) = database().await;
    let graph = insert_graph(&pool, None, GraphStatus::Running.code()).await;
    for payload in [json!({}), serde_json::Value::Null] {
        sqlx::query(
            "INSERT INTO jobs (id, project_id, graph_id, graph_name, job_type, job_name, status, begin_time, payload)
             VALUES ($1, $2, NULL, 'legacy', 'GraphManagement', 'StopGraph', 'pending', now(), $3)",
        )
        .bind(Uuid::now_v7())
        .bind(PROJECT)
        .bind(payload)
        .execute(&pool)
        .await
        .unwrap();
    }
    let job = enqueue(&pool, graph, Operation::Stop).await;
    let claimed = queue::claim(
        &pool,
        None,
        "w",
        &["GraphManagement".to_owned()],
        10,
        Duration::from_secs(30),
        None,
    )
    .await
    .unwrap();
    let ids: Vec<Uuid> = claimed.iter().map(|j| j.job_id.0).collect();
    assert_eq!(ids, [job]);
}

// ---------------------------------------------------------------------------------------
// Database outage
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_pool_rides_out_a_database_outage() {
    let (url, pool) = database().await;
    let (proxy, proxied) = crate::helpers::Proxy::in_front_of(&url).await;
    let via_proxy = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(1))
        .connect_lazy(&proxied)
        .unwrap();
    let mut pool_settings = settings(2);
    pool_settings.lease = Duration::from_secs(10);
    pool_settings.retry_base = Duration::from_millis(500);
    let workers = WorkerPool::start(via_proxy, builtin(500), pool_settings);

    let first = insert_graph(&pool, None, GraphStatus::Running.code()).await;
    let running = enqueue(&pool, first, Operation::Stop).await;
    wait_job(&pool, running, "running", |r| r.status == "running").await;
    proxy.cut().await;
    // Enqueued while the workers cannot hear: its notification is lost.
    let second = insert_graph(&pool, None, GraphStatus::Running.code()).await;
    let queued = enqueue(&pool, second, Operation::Stop).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(job_row(&pool, queued).await.status, "pending");
    proxy.restore();

    for (job, graph) in [(running, first), (queued, second)] {
        let done = wait_final(&pool, job).await;
        assert_eq!(done.status, "success", "{done:?}");
        let g = graph_row(&pool, graph).await;
        assert_eq!(
            (g.status, g.loaded, g.active_job_id),
            (GraphStatus::Stopped.code(), false, None)
        );
    }
    workers.shutdown(Duration::from_secs(5)).await;
}
