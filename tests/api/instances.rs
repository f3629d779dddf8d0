//! Three `jobcenter serve` processes on one database, as behind a load balancer: graph
//! operations go to all three. Checked: a 16-way race of conflicting operations on one
//! graph, spread over the instances, has exactly one winner in each state it passes
//! through; every job is run exactly once (one claim, one final status); an instance
//! SIGKILLed while it runs a job leaves it to another instance, which finishes it once its
//! lease (2 s here) has expired; and the job list is the same from every instance.

use std::collections::BTreeMap;

use jobcenter::auth::TokenKeys;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::graphs::create_body;
use crate::helpers::{TestApp, free_port, fresh_database, poll, serve_command, test_settings};
use crate::worker::{audit_status_changes, transitions};

/// Operations raced at once.
const RACERS: usize = 16;

/// One `jobcenter serve` process, and a client of it.
struct Instance {
    process: tokio::process::Child,
    app: TestApp,
}

impl Instance {
    /// `jobcenter serve` on `url` on a free port, with two workers, a 2 s lease and
    /// `step_delay_ms` before each step of an operation; answers once it is ready.
    async fn start(url: &str, step_delay_ms: u32) -> Instance {
        let port = free_port();
        let process = serve_command(url, port)
            .env("JOBCENTER__SERVER__WORKERS", "1")
            .env("JOBCENTER__WORKER__CONCURRENCY", "2")
            .env("JOBCENTER__WORKER__LEASE_SECS", "2")
            .env("JOBCENTER__WORKER__POLL_INTERVAL_MS", "100")
            .env(
                "JOBCENTER__WORKER__STEP_DELAY_MS",
                step_delay_ms.to_string(),
            )
            .env("JOBCENTER__LOG__LEVEL", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start jobcenter serve");
        let settings = test_settings(url);
        let app = TestApp {
            address: format!("http://127.0.0.1:{port}"),
            metrics_address: String::new(),
            pool: PgPool::connect(url).await.unwrap(),
            database_url: url.to_owned(),
            client: reqwest::Client::new(),
            keys: TokenKeys::from_settings(&settings.auth).unwrap(),
        };
        poll(
            "the instance to be ready",
            || async {
                let ready = app.client.get(format!("{}/health/ready", app.address));
                ready.send().await.map(|r| r.status().as_u16()).ok()
            },
            |status| *status == Some(200),
        )
        .await;
        Instance { process, app }
    }

    fn pid(&self) -> u32 {
        self.process.id().expect("still running")
    }
}

/// The graph's status code.
async fn graph_status(app: &TestApp, graph: &str) -> String {
    let (status, body) = app.graph(graph).await;
    assert_eq!(status, 200, "{body}");
    body["graph"]["status"].as_str().unwrap().to_owned()
}

/// The operations raced in a state: conflicting ones, several of which the state allows.
fn racers(state: &str) -> Vec<(&'static str, Option<Value>)> {
    // Neither a backup nor a clear among these: a restart supersedes the operation in
    // flight while the graph is running or clearing, so either one accepted first and a
    // restart after it are both accepted, as they should be (the first then fails as
    // superseded).
    let running: [(&str, Option<Value>); 4] = [
        ("stop", None),
        ("restart", None),
        (
            "resize",
            Some(json!({"resize": {"graph_size_type_index": 2}})),
        ),
        ("expand", Some(json!({"expand": {"replication": 2}}))),
    ];
    let stopped: [(&str, Option<Value>); 3] =
        [("start", None), ("backups", None), ("restart", None)];
    let pick: &[(&str, Option<Value>)] = if state == "900" { &stopped } else { &running };
    (0..RACERS).map(|i| pick[i % pick.len()].clone()).collect()
}

/// Waits until no job is pending or running.
async fn settle(pool: &PgPool) {
    poll(
        "every job to end",
        || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM jobs WHERE status IN ('pending', 'running')",
            )
            .fetch_one(pool)
            .await
            .unwrap()
        },
        |open| *open == 0,
    )
    .await;
}

/// Races [`RACERS`] operations on `graph` over the instances; answers the accepted job.
async fn race(instances: &[Instance], graph: &str) -> (String, &'static str) {
    let state = graph_status(&instances[0].app, graph).await;
    let calls = racers(&state)
        .into_iter()
        .enumerate()
        .map(|(i, (action, body))| {
            let app = &instances[i % instances.len()].app;
            async move { (action, app.post(&format!("/{graph}/{action}"), body).await) }
        });
    let answers = futures_util::future::join_all(calls).await;
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    let mut accepted = Vec::new();
    for (action, (status, body)) in answers {
        *by_status.entry(status).or_default() += 1;
        if status == 200 {
            accepted.push((body["job_id"].as_str().unwrap().to_owned(), action));
        } else {
            assert_eq!(status, 409, "{action} in state {state}: {body}");
        }
    }
    assert_eq!(accepted.len(), 1, "in state {state}: {by_status:?}");
    accepted.pop().unwrap()
}

#[tokio::test]
async fn three_instances_on_one_database_race_claim_survive_a_kill_and_list_alike() {
    let url = fresh_database().await;
    let pool = PgPool::connect(&url).await.unwrap();
    audit_status_changes(&pool).await;
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(Instance::start(&url, 300).await);
    }

    // Graphs created through every instance; their jobs claimed by all three pools.
    let mut graphs = Vec::new();
    for i in 0..6 {
        let app = &instances[i % 3].app;
        let (status, body) = app.post("", Some(create_body(&format!("multi_{i}")))).await;
        assert_eq!(status, 200, "{body}");
        graphs.push(body["id"].as_str().unwrap().to_owned());
    }
    settle(&pool).await;

    // Three states in a row on one graph, each raced 16 ways.
    let graph = &graphs[0];
    for _ in 0..3 {
        let (job, action) = race(&instances, graph).await;
        let done = instances[1].app.wait_job(graph, &job).await;
        assert_eq!(done["status"], "success", "{action}: {done}");
    }

    // A job running on one instance when it is SIGKILLed is finished by another.
    let (status, body) = instances[2]
        .app
        .post(&format!("/{}/restart", graphs[1]), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let job = Uuid::try_parse(body["job_id"].as_str().unwrap()).unwrap();
    let holder = poll(
        "the job to run",
        || running_on(&pool, job),
        |worker| worker.is_some(),
    )
    .await
    .unwrap();
    let victim = instances
        .iter()
        .position(|i| holder.split('/').nth(1) == Some(&i.pid().to_string()))
        .expect("the job runs on one of the instances");
    let mut killed = instances.remove(victim);
    killed.process.start_kill().unwrap(); // SIGKILL
    killed.process.wait().await.unwrap();
    let done = instances[0]
        .app
        .wait_job(&graphs[1], &job.to_string())
        .await;
    assert_eq!(done["status"], "success", "{done}");
    let (attempt, finisher): (i32, String) =
        sqlx::query_as("SELECT attempt, worker_id FROM jobs WHERE id = $1")
            .bind(job)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(attempt, 2, "the second attempt finished it");
    assert_ne!(finisher, holder);
    assert_eq!(
        transitions(&pool, job).await,
        [
            "pending>running",
            "running>pending",
            "pending>running",
            "running>success"
        ]
    );
    instances.push(Instance::start(&url, 300).await);
    settle(&pool).await;

    assert_every_job_ran_once(&pool, job).await;
    let mut lists = Vec::new();
    for instance in &instances {
        let (status, body) = instance.app.list("limit=100").await;
        assert_eq!(status, 200, "{body}");
        lists.push(body);
    }
    assert!(lists[0]["job_count"].as_u64() == Some(10), "{}", lists[0]);
    assert_eq!(lists[0], lists[1]);
    assert_eq!(lists[0], lists[2]);
}

/// The worker id running `job`, if it runs.
async fn running_on(pool: &PgPool, job: Uuid) -> Option<String> {
    sqlx::query_scalar("SELECT worker_id FROM jobs WHERE id = $1 AND status = 'running'")
        .bind(job)
        .fetch_optional(pool)
        .await
        .unwrap()
}

/// Every job but `killed` was claimed once and ended once with success.
async fn assert_every_job_ran_once(pool: &PgPool, killed: Uuid) {
    let jobs: Vec<(Uuid, String)> = sqlx::query_as("SELECT id, status FROM jobs")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(
        jobs.len(),
        10,
        "6 creations, 3 race winners, 1 restart: {jobs:?}"
    );
    for (id, status) in jobs {
        assert_eq!(status, "success", "job {id}");
        if id != killed {
            assert_eq!(
                transitions(pool, id).await,
                ["pending>running", "running>success"],
                "job {id}"
            );
        }
    }
}
