//! Chaos: `jobcenter worker` processes SIGKILLed at random while graph operations run, for a
//! bounded time; then every job has exactly one final status and every graph is what its
//! last job left. The seed of each run is printed, and fixed by `JOBCENTER_CHAOS_SEED`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jobcenter::domain::{GraphJobPayload, GraphStatus, JobStatus, Operation};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::graphs::create_body;
use crate::helpers::{TestApp, fresh_database, test_settings};

/// How long operations are submitted and workers killed.
const CHAOS: Duration = Duration::from_secs(30);
/// Worker processes kept alive (a killed one is replaced at once).
const WORKERS: usize = 2;
/// Graphs operated on at once.
const GRAPHS: usize = 4;

/// The run's seed: `JOBCENTER_CHAOS_SEED`, else fixed.
pub fn seed() -> u64 {
    std::env::var("JOBCENTER_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(14)
}

#[tokio::test]
async fn workers_killed_at_random_leave_one_final_status_per_job_and_graphs_as_their_last_job() {
    let url = fresh_database().await;
    let mut settings = test_settings(&url);
    settings.worker.concurrency = 0; // only the worker processes run jobs
    let app = TestApp::spawn_with(settings).await;
    audit_final_statuses(&app.pool).await;
    let mut rng = fastrand::Rng::with_seed(seed());
    let mut workers: Vec<_> = (0..WORKERS).map(|_| worker(&url)).collect();
    let mut graphs = Vec::new();
    for i in 0..GRAPHS {
        let (status, created) = app.post("", Some(create_body(&format!("chaos_{i}")))).await;
        assert_eq!(status, 200, "{created}");
        graphs.push(created["id"].as_str().unwrap().to_owned());
    }

    let (mut kills, mut submitted, mut refused) = (0, 0, 0);
    let mut next_kill = Instant::now() + jitter(&mut rng);
    let started = Instant::now();
    while started.elapsed() < CHAOS {
        for graph in &graphs {
            if !idle(&app.pool, graph).await {
                continue;
            }
            let (action, body) = next_operation(&app, graph, &mut rng).await;
            match app.post(&format!("/{graph}/{action}"), body).await.0 {
                200 => submitted += 1,
                409 => refused += 1,
                other => panic!("{action} answered {other}"),
            }
        }
        if Instant::now() >= next_kill {
            let victim = rng.usize(..workers.len());
            workers[victim].start_kill().unwrap(); // SIGKILL
            workers[victim].wait().await.unwrap();
            workers[victim] = worker(&url);
            kills += 1;
            next_kill = Instant::now() + jitter(&mut rng);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    settle(&app.pool).await;
    eprintln!(
        "chaos (seed {}): {kills} workers killed, {submitted} operations accepted, {refused} refused",
        seed()
    );
    assert!(kills >= 10, "only {kills} kills");
    assert!(submitted >= 10, "only {submitted} operations");
    assert_one_final_status_each(&app.pool).await;
    for graph in &graphs {
        assert_graph_matches_its_last_job(&app.pool, graph).await;
    }
    for mut w in workers {
        w.start_kill().unwrap();
        w.wait().await.unwrap();
    }
}

/// Between 0.5 and 2.5 s.
fn jitter(rng: &mut fastrand::Rng) -> Duration {
    Duration::from_millis(rng.u64(500..2500))
}

/// `jobcenter worker` on `url`: an operation takes about a second (four steps of 250 ms).
fn worker(url: &str) -> tokio::process::Child {
    crate::worker::worker_process(url, 250)
}

/// Whether the graph has no operation in flight.
async fn idle(pool: &PgPool, graph: &str) -> bool {
    sqlx::query_scalar("SELECT active_job_id IS NULL FROM graphs WHERE id = $1")
        .bind(Uuid::try_parse(graph).unwrap())
        .fetch_one(pool)
        .await
        .unwrap()
}

/// An operation the graph's state allows, picked at random, with its body.
async fn next_operation(
    app: &TestApp,
    graph: &str,
    rng: &mut fastrand::Rng,
) -> (&'static str, Option<Value>) {
    let status = app.graph(graph).await.1["graph"]["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    match status.as_str() {
        "200" => match rng.u8(..6) {
            0 => ("stop", None),
            1 => ("restart", None),
            2 => (
                "resize",
                Some(json!({"resize": {"graph_size_type_index": rng.u8(..=100)}})),
            ),
            3 => (
                "expand",
                Some(json!({"expand": {"replication": rng.u8(1..=10)}})),
            ),
            4 => ("backups", None),
            _ => ("clear-graph", None),
        },
        "900" => ("start", None),
        _ => ("restart", None),
    }
}

/// Waits (a minute and a half at most) until no job is pending or running.
async fn settle(pool: &PgPool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let open: i64 =
            sqlx::query_scalar("SELECT count(*) FROM jobs WHERE status IN ('pending', 'running')")
                .fetch_one(pool)
                .await
                .unwrap();
        if open == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{open} jobs never ended");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Records every change of a job's status.
async fn audit_final_statuses(pool: &PgPool) {
    for sql in [
        "CREATE TABLE job_audit (seq bigserial PRIMARY KEY, job_id uuid, old_status text, new_status text)",
        "CREATE FUNCTION audit_job() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.status IS DISTINCT FROM OLD.status THEN
                 INSERT INTO job_audit (job_id, old_status, new_status)
                 VALUES (NEW.id, OLD.status, NEW.status);
             END IF;
             RETURN NULL;
         END $$",
        "CREATE TRIGGER jobs_audit AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION audit_job()",
    ] {
        sqlx::query(sql).execute(pool).await.unwrap();
    }
}

async fn assert_one_final_status_each(pool: &PgPool) {
    let finals: Vec<(Uuid, String, i64)> = sqlx::query_as(
        "SELECT j.id, j.status, count(a.seq) FILTER (WHERE a.new_status IN ('success', 'partiallyFailed', 'failed'))
         FROM jobs j LEFT JOIN job_audit a ON a.job_id = j.id GROUP BY j.id, j.status",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut by_status: HashMap<String, usize> = HashMap::new();
    for (id, status, times) in &finals {
        assert!(
            status.parse::<JobStatus>().is_ok_and(JobStatus::is_final),
            "{id}: {status}"
        );
        assert_eq!(*times, 1, "job {id} reached a final status {times} times");
        *by_status.entry(status.clone()).or_default() += 1;
    }
    eprintln!("chaos: {} jobs, by status {by_status:?}", finals.len());
}

/// The graph's status and fields are those its last job left, and nothing is in flight.
async fn assert_graph_matches_its_last_job(pool: &PgPool, graph: &str) {
    let id = Uuid::try_parse(graph).unwrap();
    let (status, active, size, replication): (i16, Option<Uuid>, i32, i32) = sqlx::query_as(
        "SELECT status, active_job_id, graph_size_type_index, replication FROM graphs WHERE id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap();
    let (job, job_status, payload): (Uuid, String, Value) = sqlx::query_as(
        "SELECT id, status, payload FROM jobs WHERE graph_id = $1 ORDER BY begin_time DESC, id DESC LIMIT 1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap();
    let last: GraphJobPayload = serde_json::from_value(payload).unwrap();
    assert_eq!(active, None, "graph {graph}: job {job} still active");
    let succeeded = job_status == "success";
    let expected = if succeeded {
        last.operation.status_on_success(last.status_before)
    } else {
        last.operation.status_on_failure(last.status_before)
    };
    assert_eq!(
        GraphStatus::from_code(status),
        Some(expected),
        "graph {graph} after {job} ({job_status}: {:?})",
        last.operation
    );
    match last.operation {
        Operation::Resize {
            graph_size_type_index,
        } if succeeded => {
            assert_eq!(size, graph_size_type_index, "graph {graph} after {job}")
        }
        Operation::Expand { replication: r } if succeeded => {
            assert_eq!(replication, r, "graph {graph} after {job}")
        }
        _ => {}
    }
}
