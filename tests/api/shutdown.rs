//! Start-up and shutdown. The database password may come from a file. Graceful shutdown
//! of the real binary: SIGTERM lets a request in flight finish, refuses new connections,
//! gives the running job its grace (then releases it to the queue), and the process exits 0
//! saying it drained.
//!
//! The slow request is a slow client: an enqueue whose body arrives in two halves, the
//! second after the signal, so the server is inside the request when it is told to stop.

use std::process::Stdio;
use std::time::{Duration, Instant};

use jobcenter::auth::TokenKeys;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::graphs::create_body;
use crate::helpers::{
    PROJECT, TestApp, free_port, fresh_database, serve_command, storage_root, test_settings,
};

/// `jobcenter serve` on `url` and `port`; its log goes to `log`.
fn start_binary(url: &str, port: u16, log: &std::path::Path) -> tokio::process::Child {
    let log = std::fs::File::create(log).unwrap();
    serve_command(url, port)
        .env("JOBCENTER__STORAGE__ROOT", storage_root(url))
        .env("JOBCENTER__WORKER__STEP_DELAY_MS", "1500")
        .env("JOBCENTER__WORKER__SHUTDOWN_GRACE_SECS", "1")
        .env("JOBCENTER__SERVER__SHUTDOWN_TIMEOUT_SECS", "15")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .expect("start jobcenter serve")
}

async fn wait_until_live(client: &reqwest::Client, base: &str) {
    for _ in 0..300 {
        if let Ok(response) = client.get(format!("{base}/health/live")).send().await
            && response.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("jobcenter serve did not come up");
}

async fn job_status(pool: &sqlx::PgPool, id: uuid::Uuid) -> (String, Option<uuid::Uuid>) {
    sqlx::query_as("SELECT status, lease_token FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn sigterm_drains_requests_and_jobs_then_exits_zero() {
    let url = fresh_database().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log = storage_root(&url).with_extension("log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    let mut child = start_binary(&url, port, &log);
    let client = reqwest::Client::new();
    wait_until_live(&client, &base).await;
    let keys = TokenKeys::from_settings(&test_settings(&url).auth).unwrap();
    let token = |role: &str| {
        keys.issue("tester", PROJECT, &[role], Duration::from_secs(600))
            .unwrap()
    };
    let pool = sqlx::PgPool::connect(&url).await.unwrap();

    // A graph operation running (each step waits 1.5 s).
    let created: serde_json::Value = client
        .post(format!("{base}/v2/{PROJECT}/graphs"))
        .header("X-Auth-Token", token("operator"))
        .json(&create_body("draining"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job = uuid::Uuid::try_parse(created["job_id"].as_str().unwrap()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while job_status(&pool, job).await.0 != "running" {
        assert!(Instant::now() < deadline, "the create job never ran");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A request in flight: headers and half the body.
    let body = json!({"job_type": "ReportExport", "job_name": "SlowClient", "payload": {"n": 1}})
        .to_string();
    let (first, second) = body.split_at(body.len() / 2);
    let mut slow = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "POST /internal/v1/{PROJECT}/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        token("producer"),
        body.len()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let signalled = Instant::now();
    kill(Pid::from_raw(child.id().unwrap() as i32), Signal::SIGTERM).unwrap();

    // New connections are refused once the server stops accepting.
    let mut refused = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused, "new connections were still accepted after SIGTERM");

    // The request in flight completes.
    slow.write_all(second.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), slow.read_to_string(&mut answer))
        .await
        .expect("the in-flight request was answered")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let enqueued: i64 =
        sqlx::query_scalar("SELECT count(*) FROM jobs WHERE job_name = 'SlowClient'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(enqueued, 1);

    // The process exits 0 within the grace periods.
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("jobcenter exited after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status}");
    assert!(signalled.elapsed() < Duration::from_secs(20));

    // The running job finished or went back to the queue, unleased.
    let (state, lease) = job_status(&pool, job).await;
    assert!(
        state == "success" || (state == "pending" && lease.is_none()),
        "{state} {lease:?}"
    );
    let log = std::fs::read_to_string(&log).unwrap();
    for line in [
        "SIGTERM",
        "draining requests in flight",
        "HTTP server drained",
        "worker pool stopped",
        "jobcenter stopped",
    ] {
        assert!(log.contains(line), "no {line:?} in the log:\n{log}");
    }
}

/// The test PostgreSQL trusts local users, so any password is accepted: this checks that a
/// password read from a file reaches both connections (refinery's and the pool's) intact,
/// and that a bad file stops start-up naming the key.
#[tokio::test]
async fn the_database_password_comes_from_a_file() {
    let url = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("db-password");
    std::fs::write(&file, "p@ss:w/rd\n").unwrap();
    let mut settings = test_settings(&url);
    settings.database.password_file = file.to_str().unwrap().to_owned();

    let built = jobcenter::db::configured_url(&settings.database).unwrap();
    let parsed: tokio_postgres::Config = built.parse().unwrap();
    assert_eq!(parsed.get_password(), Some("p@ss:w/rd".as_bytes()));
    let expected: tokio_postgres::Config = url.parse().unwrap();
    assert_eq!(parsed.get_dbname(), expected.get_dbname());
    assert_eq!(parsed.get_user(), expected.get_user());

    let app = TestApp::spawn_with(settings.clone()).await;
    let (status, body) = app.get("/health/ready", None).await;
    assert_eq!(status, 200, "{body}");

    for bad in [dir.path().join("missing"), dir.path().to_path_buf()] {
        settings.database.password_file = bad.to_str().unwrap().to_owned();
        let err = match jobcenter::app::Application::build(&settings).await {
            Ok(_) => panic!("started with password_file {bad:?}"),
            Err(err) => format!("{err:#}"),
        };
        assert!(err.contains("database.password_file"), "{err}");
    }
}

/// A start with everything logged (`RUST_LOG=debug`) shows none of the secrets: the
/// database password in the URL, the JWT secret, the S3 secret key.
#[tokio::test]
async fn a_debug_log_of_a_start_shows_no_secret() {
    const DB_SECRET: &str = "db-secret-4c1d";
    const JWT: &str = "jwt-secret-9f2e-0123456789";
    const S3: &str = "s3-secret-77aa";
    let url = fresh_database().await;
    let with_password = url.replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{DB_SECRET}@"),
        1,
    );
    assert_ne!(with_password, url, "the test URL names its user: {url}");
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let mut child = serve_command(&with_password, port)
        .env("RUST_LOG", "debug")
        .env("JOBCENTER__AUTH__JWT_SECRET", JWT)
        .env("JOBCENTER__STORAGE__S3__SECRET_ACCESS_KEY", S3)
        .env("JOBCENTER__STORAGE__ROOT", storage_root(&url))
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
        .kill_on_drop(true)
        .spawn()
        .expect("start jobcenter serve");
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    wait_until_live(&client, &base).await;
    let token = TokenKeys::from_settings(&test_settings(&url).auth)
        .unwrap()
        .issue("tester", PROJECT, &["readonly"], Duration::from_secs(60))
        .unwrap();
    let listed = client
        .get(format!("{base}/v2/{PROJECT}/graphs/jobs"))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.status().as_u16(),
        401,
        "the service uses its own secret, not the tests'"
    );
    kill(Pid::from_raw(child.id().unwrap() as i32), Signal::SIGTERM).unwrap();
    child.wait().await.unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("jobcenter listening"), "{text}");
    assert!(text.lines().count() > 10, "a debug log: {text}");
    for secret in [DB_SECRET, JWT, S3] {
        assert!(!text.contains(secret), "{secret} is in the log");
    }
}

/// In production mode a start without a database URL or a JWT secret stops naming the key;
/// the default mode starts a private database instead (the README's first command).
#[tokio::test]
async fn production_mode_refuses_to_start_without_a_database_or_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let run = |envs: Vec<(&'static str, String)>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_jobcenter"));
        command
            .arg("serve")
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .env("JOBCENTER_CONFIG_DIR", "/nonexistent")
            .env_remove("JOBCENTER__DATABASE__URL")
            .env_remove("JOBCENTER__AUTH__JWT_SECRET");
        command.envs(envs);
        command.output().unwrap()
    };
    let out = run(vec![("JOBCENTER_ENV", "production".into())]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("database.url"),
        "{stderr}"
    );
    let out = run(vec![
        ("JOBCENTER__SERVER__MODE", "production".into()),
        (
            "JOBCENTER__DATABASE__URL",
            "postgres://postgres@127.0.0.1:1/none".into(),
        ),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("auth.jwt_secret"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("var/jwt-secret").exists(),
        "no secret file was created"
    );
}
