//! Chaos: the database restarted under read and write load. The test starts a PostgreSQL
//! cluster of its own (durable settings: fsync and synchronous commit on), runs the service
//! with its worker pool on it, and while producers enqueue (retrying each idempotency key
//! until it is acknowledged), operators create graphs and readers list jobs, crashes the
//! server (immediate shutdown: crash recovery at start) and later stops it cleanly, each
//! time starting it again on the same port. Then: every answer was 200 or 503, no
//! acknowledged write is missing, each key made exactly one job, and the same service (never
//! restarted) answers, runs jobs and is ready.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use jobcenter::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use serde_json::json;
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::Mutex;

use crate::graphs::create_body;
use crate::helpers::{PROJECT, TestApp, poll, test_settings};

/// How long the load runs; the restarts happen inside it.
const LOAD: Duration = Duration::from_secs(24);
/// When the crash and the clean stop happen, from the start of the load.
const CRASH_AT: Duration = Duration::from_secs(5);
const STOP_AT: Duration = Duration::from_secs(14);
/// How long the server stays down each time.
const DOWN: Duration = Duration::from_secs(2);

/// What the load saw: acknowledged producer keys with their job ids, acknowledged graphs,
/// and every status answered.
#[derive(Default)]
struct Seen {
    enqueued: Vec<(String, String)>,
    graphs: Vec<String>,
    statuses: std::collections::BTreeMap<u16, u64>,
}

#[tokio::test]
async fn a_database_restarted_under_load_loses_no_acknowledged_write_and_the_service_recovers() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("chaos-pg-{}", uuid::Uuid::new_v4().simple()));
    let mut options = EmbeddedOptions {
        data_dir: dir.clone(),
        port: 0,
        fast_unsafe: false,
    };
    let server = EmbeddedPostgres::start(&options)
        .await
        .expect("start the cluster");
    options.port = server.port();
    let mut admin = PgConnection::connect(&server.url("postgres"))
        .await
        .unwrap();
    admin.execute("CREATE DATABASE chaos").await.unwrap();
    drop(admin);
    let url = server.url("chaos");
    let mut settings = test_settings(&url);
    settings.database.acquire_timeout_secs = 1;
    settings.worker.concurrency = 2;
    settings.worker.poll_interval_ms = 200;
    let app = Arc::new(TestApp::spawn_with(settings).await);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let running = Arc::new(AtomicBool::new(true));

    let mut load = Vec::new();
    for writer in 0..2 {
        load.push(tokio::spawn(enqueue_loop(
            app.clone(),
            seen.clone(),
            running.clone(),
            writer,
        )));
    }
    load.push(tokio::spawn(create_loop(
        app.clone(),
        seen.clone(),
        running.clone(),
    )));
    for _ in 0..2 {
        load.push(tokio::spawn(read_loop(
            app.clone(),
            seen.clone(),
            running.clone(),
        )));
    }
    let started = Instant::now();
    tokio::time::sleep(CRASH_AT).await;
    crash(&dir);
    tokio::time::sleep(DOWN).await;
    let server = EmbeddedPostgres::start(&options)
        .await
        .expect("start after the crash");
    tokio::time::sleep(STOP_AT.saturating_sub(started.elapsed())).await;
    server.stop().await.expect("stop cleanly");
    tokio::time::sleep(DOWN).await;
    let server = EmbeddedPostgres::start(&options)
        .await
        .expect("start after the stop");
    tokio::time::sleep(LOAD.saturating_sub(started.elapsed())).await;
    running.store(false, Ordering::SeqCst);
    for task in load {
        task.await.unwrap();
    }

    let seen = seen.lock().await;
    eprintln!(
        "database chaos: {} enqueues and {} graphs acknowledged; answers {:?}",
        seen.enqueued.len(),
        seen.graphs.len(),
        seen.statuses
    );
    let unexpected: Vec<_> = seen
        .statuses
        .keys()
        .filter(|s| ![200, 503].contains(*s))
        .collect();
    assert!(
        unexpected.is_empty(),
        "answers other than 200 and 503: {:?}",
        seen.statuses
    );
    assert!(
        seen.statuses.contains_key(&503),
        "the restarts were not seen: {:?}",
        seen.statuses
    );
    assert!(
        seen.enqueued.len() >= 20,
        "too little load: {}",
        seen.enqueued.len()
    );
    assert_no_acknowledged_write_is_missing(&app, &seen).await;
    assert_recovered(&app).await;
    drop(seen);
    server.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let mut lock = dir.into_os_string();
    lock.push(".lock");
    let _ = std::fs::remove_file(lock);
}

/// An immediate shutdown of the server (SIGQUIT to the postmaster): no checkpoint, crash
/// recovery at the next start.
fn crash(data_dir: &std::path::Path) {
    let pid = std::fs::read_to_string(data_dir.join("postmaster.pid")).unwrap();
    let pid: i32 = pid.lines().next().unwrap().trim().parse().unwrap();
    let pid = nix::unistd::Pid::from_raw(pid);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGQUIT).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while nix::sys::signal::kill(pid, None).is_ok() {
        assert!(Instant::now() < deadline, "the server did not go down");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Enqueues jobs with keys `w<writer>-<n>`, retrying each key until it is acknowledged.
async fn enqueue_loop(
    app: Arc<TestApp>,
    seen: Arc<Mutex<Seen>>,
    running: Arc<AtomicBool>,
    writer: u32,
) {
    let token = app.token(PROJECT, &["producer"]);
    let path = format!("/internal/v1/{PROJECT}/jobs");
    let mut n = 0;
    while running.load(Ordering::SeqCst) {
        let key = format!("w{writer}-{n}");
        let body = json!({"job_type": "Chaos", "job_name": "enqueue", "idempotency_key": key, "payload": {"n": n}});
        let (status, answer) = app.post_as(&path, &token, &body).await;
        let mut seen = seen.lock().await;
        *seen.statuses.entry(status).or_default() += 1;
        if status == 200 {
            seen.enqueued
                .push((key, answer["job_id"].as_str().unwrap().to_owned()));
            n += 1;
        } else {
            drop(seen);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Creates graphs one after another.
async fn create_loop(app: Arc<TestApp>, seen: Arc<Mutex<Seen>>, running: Arc<AtomicBool>) {
    let mut n = 0;
    while running.load(Ordering::SeqCst) {
        let (status, answer) = app
            .post("", Some(create_body(&format!("restart_{n}"))))
            .await;
        let mut seen = seen.lock().await;
        *seen.statuses.entry(status).or_default() += 1;
        if status == 200 {
            seen.graphs.push(answer["id"].as_str().unwrap().to_owned());
            n += 1;
        }
        drop(seen);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Lists jobs and reads readiness.
async fn read_loop(app: Arc<TestApp>, seen: Arc<Mutex<Seen>>, running: Arc<AtomicBool>) {
    while running.load(Ordering::SeqCst) {
        let (status, body) = app.list("limit=5").await;
        assert!(status != 200 || body["job_count"].is_u64(), "{body}");
        *seen.lock().await.statuses.entry(status).or_default() += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every acknowledged job exists once per key; every acknowledged graph exists.
async fn assert_no_acknowledged_write_is_missing(app: &TestApp, seen: &Seen) {
    let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
    for (key, job) in &seen.enqueued {
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE project_id = $1 AND idempotency_key = $2",
        )
        .bind(PROJECT)
        .bind(key)
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(ids.len(), 1, "key {key}: {ids:?}");
        assert_eq!(Some(ids[0]), uuid::Uuid::try_parse(job).ok(), "key {key}");
    }
    for graph in &seen.graphs {
        let (status, body) = app.graph(graph).await;
        assert_eq!(status, 200, "acknowledged graph {graph} is missing: {body}");
    }
}

/// The same service, never restarted, answers, runs jobs and is ready.
async fn assert_recovered(app: &TestApp) {
    poll(
        "readiness",
        || app.get("/health/ready", None),
        |(s, _)| *s == 200,
    )
    .await;
    let id = app.running_graph("after_restarts").await;
    assert_eq!(app.graph(&id).await.1["graph"]["status"], "200");
    let token = app.token(PROJECT, &["producer"]);
    let (status, _) = app
        .post_as(
            &format!("/internal/v1/{PROJECT}/jobs"),
            &token,
            &json!({"job_type": "Chaos", "job_name": "after"}),
        )
        .await;
    assert_eq!(status, 200);
}
