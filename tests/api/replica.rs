//! Read replicas, for real: a private primary cluster and a streaming replica of it
//! (`pg_basebackup -R --checkpoint=fast`, then started on a free port of its own), and two services on the
//! primary configured with the replica, one allowing 300 ms of lag, one a minute. Checked:
//! the job list and job status are read on the replica (its `pg_stat_activity` shows their
//! statements; the service counts its reads); with the replica's replay paused the list of
//! the tolerant service misses a new job (it reads the replica) while its status read
//! finds it (a miss asks the primary), and the strict service moves its reads to the
//! primary; with the replica stopped every read still answers, the replica is counted as
//! dropped, and once it runs again it is used again.

use std::path::{Path, PathBuf};

use jobcenter::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use serde_json::Value;
use sqlx::{Connection, Executor, PgConnection};

use crate::graphs::create_body;
use crate::helpers::{PROJECT, TestApp, ids, poll, test_settings};

/// A primary cluster and a streaming replica of it, each in a directory of its own.
pub struct ReplicatedCluster {
    pub primary: EmbeddedPostgres,
    pub replica: Option<EmbeddedPostgres>,
    pub replica_options: EmbeddedOptions,
    dirs: Vec<PathBuf>,
}

impl ReplicatedCluster {
    /// Starts the primary (with database `jc`), copies it with `pg_basebackup -R` and starts
    /// the copy as its streaming replica.
    pub async fn start() -> ReplicatedCluster {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let primary_dir = tmp.join(format!("replica-primary-{tag}"));
        let replica_dir = tmp.join(format!("replica-standby-{tag}"));
        let primary = EmbeddedPostgres::start(&EmbeddedOptions {
            data_dir: primary_dir.clone(),
            port: 0,
            fast_unsafe: true,
        })
        .await
        .expect("start the primary");
        let mut admin = PgConnection::connect(&primary.url("postgres"))
            .await
            .unwrap();
        admin.execute("CREATE DATABASE jc").await.unwrap();
        drop(admin);
        empty_dir_for_postgres(&replica_dir);
        let port = primary.port().to_string();
        let backup = primary
            .command("pg_basebackup")
            .args(["-R", "--checkpoint=fast", "-D"])
            .arg(&replica_dir)
            .args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres"])
            .output()
            .await
            .expect("run pg_basebackup");
        assert!(backup.status.success(), "pg_basebackup: {backup:?}");
        let mut replica_options = EmbeddedOptions {
            data_dir: replica_dir.clone(),
            port: 0,
            fast_unsafe: true,
        };
        let replica = EmbeddedPostgres::start(&replica_options)
            .await
            .expect("start the replica");
        replica_options.port = replica.port();
        ReplicatedCluster {
            primary,
            replica: Some(replica),
            replica_options,
            dirs: vec![primary_dir, replica_dir],
        }
    }

    /// The URL of database `jc` on the replica.
    pub fn replica_url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/jc",
            self.replica_options.port
        )
    }

    /// A connection to database `jc` on the replica.
    pub async fn on_replica(&self) -> PgConnection {
        PgConnection::connect(&self.replica_url()).await.unwrap()
    }

    /// Stops both servers and removes their directories.
    pub async fn remove(mut self) {
        if let Some(replica) = self.replica.take() {
            replica.stop().await.unwrap();
        }
        self.primary.stop().await.unwrap();
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
            let mut lock = dir.clone().into_os_string();
            lock.push(".lock");
            let _ = std::fs::remove_file(lock);
        }
    }
}

/// An empty directory mode 0700 that the server's OS user owns (pg_basebackup runs as it).
fn empty_dir_for_postgres(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    if nix::unistd::geteuid().is_root() {
        let user = nix::unistd::User::from_name("postgres")
            .unwrap()
            .expect("a postgres OS user");
        std::os::unix::fs::chown(dir, Some(user.uid.as_raw()), Some(user.gid.as_raw())).unwrap();
    }
}

/// A service on the primary's `jc`, with no workers, reading from the replica while it is
/// at most `max_lag_ms` behind.
async fn service(cluster: &ReplicatedCluster, max_lag_ms: u64) -> TestApp {
    let mut settings = test_settings(&cluster.primary.url("jc"));
    settings.worker.concurrency = 0;
    settings.database.replica_urls = vec![cluster.replica_url().into()];
    settings.database.max_replica_lag_ms = max_lag_ms;
    TestApp::spawn_with(settings).await
}

/// The value of the replica metric `name` in a scrape, if present.
pub fn replica_metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(&format!("{name}{{replica=")))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

/// Waits until the service reads from the replica (`true`) or not.
async fn wait_in_use(app: &TestApp, in_use: bool) {
    let want = if in_use { 1.0 } else { 0.0 };
    poll(
        "the replica's use",
        || async { replica_metric(&app.metrics().await, "jobcenter_db_replica_in_use") },
        |value| *value == Some(want),
    )
    .await;
}

/// The job list of [`PROJECT`]'s ids (100 at most), answered 200.
async fn listed(app: &TestApp) -> Vec<String> {
    let (status, body) = app.list("limit=100").await;
    assert_eq!(status, 200, "{body}");
    ids(&body)
}

/// A job's status read, with its HTTP status.
async fn status_of(app: &TestApp, graph: &str, job: &str) -> (u16, Value) {
    let token = app.token(PROJECT, &["readonly"]);
    let path = format!("/v2/{PROJECT}/graphs/{graph}/jobs/{job}/status");
    app.get(&path, Some(&token)).await
}

/// A graph created through `app`: its id and its (pending) job's.
async fn new_graph(app: &TestApp, name: &str) -> (String, String) {
    let (status, body) = app.post("", Some(create_body(name))).await;
    assert_eq!(status, 200, "{body}");
    let graph = body["id"].as_str().unwrap().to_owned();
    (graph, body["job_id"].as_str().unwrap().to_owned())
}

/// Backends on the replica's `jc` whose last statement contains `fragment`.
async fn replica_backends_that_ran(cluster: &ReplicatedCluster, fragment: &str) -> i64 {
    let mut conn = cluster.on_replica().await;
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = 'jc' AND backend_type = 'client backend' AND pid <> pg_backend_pid()
           AND position($1 in query) > 0",
    )
    .bind(fragment)
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn reads_go_to_a_replica_within_its_lag_and_to_the_primary_beyond_it_or_when_it_is_down() {
    let mut cluster = ReplicatedCluster::start().await;
    let strict = service(&cluster, 300).await;
    let tolerant = service(&cluster, 60_000).await;
    let (graph, job) = new_graph(&strict, "replicated").await;
    wait_in_use(&strict, true).await;
    wait_in_use(&tolerant, true).await;

    // Within the lag: the list and the status are read on the replica.
    poll(
        "the job on the replica",
        || listed(&strict),
        |ids| ids.contains(&job),
    )
    .await;
    let (status, shown) = status_of(&strict, &graph, &job).await;
    assert_eq!((status, shown["status"].as_str()), (200, Some("pending")));
    assert!(replica_backends_that_ran(&cluster, "job_file_result").await >= 1);
    // The strict service routes by a lag sampled every 100 ms; on a loaded machine one
    // sample may exceed its 300 ms and send a read to the primary, so the status read is
    // repeated until one has run on the replica.
    let (app, graph_id, job_id, on) = (&strict, graph.as_str(), job.as_str(), &cluster);
    poll(
        "a status read on the replica",
        || async move {
            status_of(app, graph_id, job_id).await;
            replica_backends_that_ran(on, "unnest(").await
        },
        |ran| *ran >= 1,
    )
    .await;
    let scrape = strict.metrics().await;
    assert!(replica_metric(&scrape, "jobcenter_db_replica_reads_total") >= Some(2.0));

    // Replay paused: the tolerant service still reads the replica, whose list lacks the
    // new job, but its status read finds it on the primary; the strict one moves to the
    // primary once the replica is 300 ms behind.
    let mut replica = cluster.on_replica().await;
    replica
        .execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    let (graph2, job2) = new_graph(&strict, "after_pause").await;
    let (status, shown) = status_of(&tolerant, &graph2, &job2).await;
    assert_eq!((status, shown["status"].as_str()), (200, Some("pending")));
    let tolerant_list = listed(&tolerant).await;
    assert!(tolerant_list.contains(&job), "{tolerant_list:?}");
    assert!(!tolerant_list.contains(&job2), "read on the paused replica");
    let scrape = tolerant.metrics().await;
    assert!(replica_metric(&scrape, "jobcenter_db_replica_fallbacks_total") >= Some(1.0));
    wait_in_use(&strict, false).await;
    assert!(listed(&strict).await.contains(&job2), "read on the primary");
    replica
        .execute("SELECT pg_wal_replay_resume()")
        .await
        .unwrap();
    drop(replica);
    wait_in_use(&strict, true).await;
    poll(
        "the replica catching up",
        || listed(&tolerant),
        |ids| ids.contains(&job2),
    )
    .await;

    // Stopped: every read answers at once; the replica is dropped, and used again once it
    // runs again.
    cluster.replica.take().unwrap().stop().await.unwrap();
    for _ in 0..20 {
        assert!(listed(&strict).await.contains(&job2));
        let (status, _) = status_of(&strict, &graph2, &job2).await;
        assert_eq!(status, 200);
    }
    wait_in_use(&strict, false).await;
    let scrape = strict.metrics().await;
    assert!(replica_metric(&scrape, "jobcenter_db_replica_drops_total") >= Some(1.0));
    cluster.replica = Some(
        EmbeddedPostgres::start(&cluster.replica_options)
            .await
            .expect("start the replica again"),
    );
    wait_in_use(&strict, true).await;
    assert!(listed(&strict).await.contains(&job2));
    cluster.remove().await;
}
