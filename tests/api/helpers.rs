//! `TestApp::spawn()`: a fresh database cloned from a migrated template, the service on
//! port 0, a client, and token minting.
//!
//! The PostgreSQL server is `JOBCENTER_TEST_DATABASE_URL` when set (any database on it
//! works; tests create their own), else a private server started once from the machine's
//! binaries under `target/tmp/pg` and left running for the next run.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, TimeZone, Utc};
use jobcenter::app::Application;
use jobcenter::auth::TokenKeys;
use jobcenter::config::Settings;
use jobcenter::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use jobcenter::domain::NewJob;
use jobcenter::domain::{JobId, JobStatus, ProjectId};
use jobcenter::worker::PoolState;
use serde_json::Value;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use tokio::sync::OnceCell;

pub const SECRET: &str = "integration-test-secret-0123456789";
pub const PROJECT: &str = "proj1";

static SERVER: OnceCell<String> = OnceCell::const_new();
static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// `postgres://user@host:port` of the test server (no database part).
pub async fn server_url() -> &'static str {
    SERVER
        .get_or_init(|| async {
            if let Ok(url) = std::env::var("JOBCENTER_TEST_DATABASE_URL") {
                return strip_database(&url);
            }
            let opts = EmbeddedOptions {
                data_dir: std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("pg"),
                port: 0,
                fast_unsafe: true,
            };
            let server = EmbeddedPostgres::start(&opts)
                .await
                .expect("start the test PostgreSQL");
            let url = strip_database(&server.url("postgres"));
            // Left running on purpose: later test processes reuse it.
            std::mem::forget(server);
            url
        })
        .await
}

fn strip_database(url: &str) -> String {
    let without_query = url.split('?').next().unwrap_or(url);
    match without_query.rfind('/') {
        Some(i) if i > "postgres://".len() => without_query[..i].to_owned(),
        _ => without_query.to_owned(),
    }
}

async fn admin() -> PgConnection {
    PgConnection::connect(&format!("{}/postgres", server_url().await))
        .await
        .expect("connect to the test server")
}

/// A migrated template database, named after the migrations' content.
async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("jc_template_{:016x}", migrations_fingerprint());
            let mut conn = admin().await;
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                    .bind(&name)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
            if !exists {
                let scratch = format!("jc_scratch_{}", uuid::Uuid::new_v4().simple());
                ddl(&mut conn, format!("CREATE DATABASE {scratch}"))
                    .await
                    .unwrap();
                jobcenter::db::migrate(
                    &format!("{}/{scratch}", server_url().await),
                    Duration::from_secs(30),
                )
                .await
                .expect("migrate the template");
                let renamed = ddl(
                    &mut conn,
                    format!("ALTER DATABASE {scratch} RENAME TO {name}"),
                )
                .await;
                if renamed.is_err() {
                    let _ = ddl(&mut conn, format!("DROP DATABASE {scratch}")).await;
                }
            }
            drop_stale_databases(&mut conn).await;
            name
        })
        .await
}

fn migrations_fingerprint() -> u64 {
    use std::hash::{Hash, Hasher};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for file in files {
        file.file_name().hash(&mut hasher);
        std::fs::read(&file).unwrap().hash(&mut hasher);
    }
    hasher.finish()
}

/// Test databases of runs that ended more than an hour ago.
async fn drop_stale_databases(conn: &mut PgConnection) {
    let cutoff = now_secs() - 3600;
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'jc_test_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    for name in names {
        let stamp = name
            .split('_')
            .nth(2)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        if stamp < cutoff {
            let _ = ddl(&mut *conn, format!("DROP DATABASE IF EXISTS {name}")).await;
        }
    }
}

/// Runs one statement built from names this harness made (never user input).
async fn ddl(
    conn: &mut PgConnection,
    sql: String,
) -> Result<sqlx::postgres::PgQueryResult, sqlx::Error> {
    conn.execute(sqlx::AssertSqlSafe(sql)).await
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A fresh database cloned from the template; its URL.
pub async fn fresh_database() -> String {
    let template = template().await;
    let name = format!("jc_test_{}_{}", now_secs(), uuid::Uuid::new_v4().simple());
    let mut conn = admin().await;
    ddl(
        &mut conn,
        format!("CREATE DATABASE {name} TEMPLATE {template}"),
    )
    .await
    .expect("create the test database");
    format!("{}/{name}", server_url().await)
}

/// A new, empty database (no migrations applied); its URL.
pub async fn empty_database() -> String {
    let name = format!("jc_test_{}_{}", now_secs(), uuid::Uuid::new_v4().simple());
    let mut conn = admin().await;
    ddl(&mut conn, format!("CREATE DATABASE {name}"))
        .await
        .expect("create the test database");
    format!("{}/{name}", server_url().await)
}

/// Settings for a test: port 0, a known secret, the given database.
pub fn test_settings(database_url: &str) -> Settings {
    let mut settings = Settings::defaults().unwrap();
    settings.server.port = 0;
    settings.metrics.port = 0;
    settings.database.url = database_url.into();
    settings.auth.jwt_secret = SECRET.into();
    settings.storage.root = storage_root(database_url);
    // Tests record jobs dated years ago: no pruning under them unless a test asks for it.
    settings.retention.enabled = false;
    settings
}

/// A running service on its own database.
pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:<metrics port>` (empty when metrics are disabled).
    pub metrics_address: String,
    pub pool: PgPool,
    /// The URL of the test's database.
    pub database_url: String,
    pub client: reqwest::Client,
    pub keys: TokenKeys,
}

impl TestApp {
    /// Starts the service on a fresh database.
    pub async fn spawn() -> TestApp {
        let url = fresh_database().await;
        TestApp::spawn_with(test_settings(&url)).await
    }

    /// Starts the service on a fresh database with no workers, so jobs the test records
    /// stay exactly as recorded.
    pub async fn spawn_reader() -> TestApp {
        let mut settings = test_settings(&fresh_database().await);
        settings.worker.concurrency = 0;
        TestApp::spawn_with(settings).await
    }

    /// Starts the service with these settings.
    pub async fn spawn_with(settings: Settings) -> TestApp {
        let app = Application::build(&settings)
            .await
            .expect("build the application");
        let address = format!("http://127.0.0.1:{}", app.port());
        let metrics_address = app
            .metrics_port()
            .map(|port| format!("http://127.0.0.1:{port}"))
            .unwrap_or_default();
        let pool = PgPool::connect(secrecy::ExposeSecret::expose_secret(&settings.database.url))
            .await
            .unwrap();
        let workers = app.workers().clone();
        tokio::spawn(app.run_until_stopped());
        // The pool starts in the spawned task: wait for it, so readiness is settled.
        for _ in 0..500 {
            if workers.state() != PoolState::Stopped {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        TestApp {
            address,
            metrics_address,
            pool,
            database_url: secrecy::ExposeSecret::expose_secret(&settings.database.url).to_owned(),
            client: reqwest::Client::new(),
            keys: TokenKeys::from_settings(&settings.auth).unwrap(),
        }
    }

    /// The text of `GET /metrics` on the metrics port.
    pub async fn metrics(&self) -> String {
        let response = self
            .client
            .get(format!("{}/metrics", self.metrics_address))
            .send()
            .await
            .expect("scrape");
        assert_eq!(response.status().as_u16(), 200);
        response.text().await.unwrap()
    }

    /// A token for `project` with `roles`, valid for an hour.
    pub fn token(&self, project: &str, roles: &[&str]) -> String {
        self.keys
            .issue("tester", project, roles, Duration::from_secs(3600))
            .unwrap()
    }

    /// GET with an optional token; answers status and JSON body.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self.client.get(format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.header("X-Auth-Token", token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// The job list of [`PROJECT`] with a readonly token.
    pub async fn list(&self, query: &str) -> (u16, Value) {
        let token = self.token(PROJECT, &["readonly"]);
        self.get(&format!("/v2/{PROJECT}/graphs/jobs?{query}"), Some(&token))
            .await
    }

    /// Records jobs directly in the store (making the months they begin in).
    pub async fn insert(&self, jobs: &[NewJob]) {
        let mut tx = self.pool.begin().await.unwrap();
        let begins = jobs.iter().map(|j| j.begin_time.date_naive());
        if let (Some(first), Some(last)) = (begins.clone().min(), begins.max()) {
            jobcenter::store::months::add_months(&mut *tx, first, last)
                .await
                .unwrap();
        }
        for job in jobs {
            jobcenter::store::jobs::insert_job(&mut *tx, job)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
}

/// A UTC time from its parts.
pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

/// A job of [`PROJECT`] on `graph`, begun at `begin`; final statuses end 10 minutes later.
pub fn job(graph: &str, name: &str, status: JobStatus, begin: DateTime<Utc>) -> NewJob {
    let end = status
        .is_final()
        .then(|| begin + chrono::TimeDelta::minutes(10));
    NewJob {
        id: JobId::begun_at(begin),
        project_id: ProjectId::parse(PROJECT).unwrap(),
        // One graph operation may be in flight per graph: unfinished test jobs get no graph id.
        graph_id: status.is_final().then(|| graph_id(graph)),
        graph_name: Some(graph.to_owned()),
        job_type: "GraphManagement".to_owned(),
        job_name: name.to_owned(),
        status,
        begin_time: begin,
        end_time: end,
        progress: if status.is_final() { 100.0 } else { 0.0 },
        fail_reason: (status == JobStatus::Failed).then(|| "it broke".to_owned()),
        created_by: None,
        request_id: None,
        payload: serde_json::json!({}),
    }
}

/// The job-status path of job `id` of [`PROJECT`] on `graph`.
pub fn status_path(graph: &str, id: JobId) -> String {
    format!("/v2/{PROJECT}/graphs/{}/jobs/{id}/status", graph_id(graph))
}

/// The ids of a list answer, in order.
pub fn ids(body: &Value) -> Vec<String> {
    body["job_list"]
        .as_array()
        .expect("job_list")
        .iter()
        .map(|j| j["job_id"].as_str().unwrap().to_owned())
        .collect()
}

/// A stable graph id for a graph name.
pub fn graph_id(graph: &str) -> uuid::Uuid {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    graph.hash(&mut hasher);
    let h = hasher.finish();
    uuid::Uuid::from_u64_pair(h, h.rotate_left(17))
}

/// A private object-storage directory for the test using `database_url`.
pub fn storage_root(database_url: &str) -> std::path::PathBuf {
    let name = database_url.rsplit('/').next().unwrap_or("db");
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("storage")
        .join(name)
}

/// A TCP proxy in front of PostgreSQL that can be cut and restored.
pub struct Proxy {
    port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<tokio::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    /// A proxy in front of the server of `url`, and the same URL through the proxy.
    pub async fn in_front_of(url: &str) -> (Proxy, String) {
        let rest = url.strip_prefix("postgres://").unwrap();
        let (userhost, database) = rest.split_once('/').unwrap();
        let (user, hostport) = userhost.split_once('@').unwrap();
        let proxy = Proxy::start(hostport.to_owned()).await;
        let proxied = format!("postgres://{user}@127.0.0.1:{}/{database}", proxy.port);
        (proxy, proxied)
    }

    async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::new()));
        let (flag, tasks) = (open.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !flag.load(std::sync::atomic::Ordering::SeqCst) {
                    continue;
                }
                let upstream = upstream.clone();
                tasks.lock().await.push(tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Proxy { port, open, links }
    }

    /// Breaks open links and refuses new ones.
    pub async fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().await.drain(..) {
            link.abort();
        }
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A graph of [`PROJECT`] in `graph_status` with two vertices, an edge and a schema,
/// named `name` (or a made-up name); answers its id.
pub async fn insert_graph(pool: &PgPool, name: Option<&str>, graph_status: i16) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    let made_up = format!("g{}", &id.simple().to_string()[..12]);
    sqlx::query(
        "INSERT INTO graphs (id, project_id, name, status, data_store_version, graph_size_type_index,
                             replication, arch, created, updated, loaded, schema_xml)
         VALUES ($1, $2, $3, $4, '2.3.18', 1, 3, 'x86_64', now(), now(), $5, '<schema v=\"1\"/>')",
    )
    .bind(id)
    .bind(PROJECT)
    .bind(name.unwrap_or(&made_up))
    .bind(graph_status)
    .bind(graph_status == 200)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO graph_vertices (graph_id, id, label, props)
         VALUES ($1, 'v1', 'person', '[\"ann\"]'), ($1, 'v2', 'person', '[\"bob\"]')",
    )
    .bind(id)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO graph_edges (graph_id, source, target, label) VALUES ($1, 'v1', 'v2', 'knows')",
    )
    .bind(id)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// Polls `read` until `done` holds of what it answers (every 25 ms, for at most a
/// minute); answers that.
pub async fn poll<T: std::fmt::Debug, F: std::future::Future<Output = T>>(
    what: &str,
    mut read: impl FnMut() -> F,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let value = read().await;
        if done(&value) {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {value:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A loopback port free at this moment (for a process the test starts).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `jobcenter serve` of this build on `url` and `port`: no configuration directory, the
/// test secret, metrics on a port of their own, no retention, no `RUST_LOG` from outside,
/// no colours. Callers add their own settings (a later `env` of a key replaces this one).
pub fn serve_command(url: &str, port: u16) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_jobcenter"));
    command
        .arg("serve")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .env("JOBCENTER_CONFIG_DIR", "/nonexistent")
        .env("JOBCENTER__DATABASE__URL", url)
        .env("JOBCENTER__SERVER__PORT", port.to_string())
        .env("JOBCENTER__METRICS__PORT", "0")
        .env("JOBCENTER__AUTH__JWT_SECRET", SECRET)
        .env("JOBCENTER__RETENTION__ENABLED", "false");
    command
}

/// An INSERT of `n` pending jobs of `project`, each begun at its own millisecond before
/// now, so that each writes a count delta of its own; their ids are laid out as the
/// service's (UUID v7: the time first), so a job's month is known from its id.
pub fn insert_jobs_one_per_millisecond(project: &str, n: u64) -> String {
    format!(
        r#"INSERT INTO jobs (id, project_id, job_type, job_name, status, begin_time)
           SELECT (lpad(to_hex((extract(epoch FROM at) * 1000)::int8), 12, '0') || '7'
                   || substr(md5(random()::text), 1, 19))::uuid,
                  '{project}', 'Noop', 'Noop', 'pending', at
           FROM (SELECT now() - i * interval '1 millisecond' AS at
                 FROM generate_series(1, {n}) AS i) AS begins"#
    )
}
