//! The console: its files and redirects, the development-only token form, and the
//! end-to-end run in Debian's Chromium (`tests/console/e2e.mjs`, driven by playwright-core
//! from npm) against a real `jobcenter serve` on 100,000 seeded jobs and a real import
//! with rejects. Screenshots go to `target/console-shots/`.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use jobcenter::auth::TokenKeys;
use jobcenter::config::ServerMode;
use serde_json::{Value, json};

use crate::helpers::{
    PROJECT, TestApp, free_port, fresh_database, poll, serve_command, storage_root, test_settings,
};
use crate::import::copy_fixtures;

/// The console's folder of npm packages (playwright-core, pinned by package-lock.json).
fn console_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/console"))
}

#[tokio::test]
async fn the_console_is_served_from_the_binary_and_slash_leads_to_it() {
    let app = TestApp::spawn_reader().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str| client.get(format!("{}{path}", app.address)).send();
    let root = get("/").await.unwrap();
    assert_eq!(root.status().as_u16(), 307);
    assert_eq!(root.headers()["location"], "/console/");
    assert_eq!(
        get("/console").await.unwrap().headers()["location"],
        "/console/"
    );
    let mut total = 0;
    for (file, kind) in [
        ("", "text/html"),
        ("style.css", "text/css"),
        ("app.js", "text/javascript"),
        ("core.js", "text/javascript"),
        ("jobs.js", "text/javascript"),
        ("job.js", "text/javascript"),
        ("graphs.js", "text/javascript"),
        ("live.js", "text/javascript"),
    ] {
        let response = get(&format!("/console/{file}")).await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{file}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.starts_with(kind), "{file}: {content_type}");
        let text = response.text().await.unwrap();
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{file} fetches nothing from elsewhere"
        );
        total += text.len();
    }
    assert!(total <= 200 * 1024, "the console is {total} bytes");
    let missing = get("/console/nothing.js").await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let (_, settings) = app.get("/console/settings.json", None).await;
    assert_eq!(settings["mode"], "development");
}

async fn mint(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/console/dev-token", app.address))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn development_mode_mints_tokens_and_production_refuses() {
    let app = TestApp::spawn_reader().await;
    let (status, minted) = mint(&app, json!({"project_id": PROJECT, "role": "readonly"})).await;
    assert_eq!(status, 200, "{minted}");
    let token = minted["token"].as_str().unwrap();
    let (status, _) = app
        .get(&format!("/v2/{PROJECT}/graphs/jobs"), Some(token))
        .await;
    assert_eq!(status, 200, "the minted token reads the project");
    let (status, _) = app
        .post_as(
            &format!("/v2/{PROJECT}/graphs/jobs/{}/cancel", "0".repeat(32)),
            token,
            &json!({}),
        )
        .await;
    assert_eq!(status, 403, "a readonly token stays readonly");
    let (status, body) = mint(&app, json!({"project_id": PROJECT, "role": "producer"})).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("GES.0001"))
    );
    let (status, _) = mint(
        &app,
        json!({"project_id": "bad project", "role": "operator"}),
    )
    .await;
    assert_eq!(status, 400);

    let mut settings = test_settings(&fresh_database().await);
    settings.server.mode = ServerMode::Production;
    settings.worker.concurrency = 0;
    let production = TestApp::spawn_with(settings).await;
    let (status, body) = mint(
        &production,
        json!({"project_id": PROJECT, "role": "operator"}),
    )
    .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (404, Some("APIG.0101")),
        "production mints no token: {body}"
    );
    let (_, settings) = production.get("/console/settings.json", None).await;
    assert_eq!(settings["mode"], "production");
}

/// `jobcenter serve` on `url` at `port`, with workers, fast event reads; log to `log`.
fn serve(url: &str, port: u16, log: &Path) -> tokio::process::Child {
    serve_command(url, port)
        .env("JOBCENTER__STORAGE__ROOT", storage_root(url))
        .env("JOBCENTER__WORKER__CONCURRENCY", "2")
        .env("JOBCENTER__EVENTS__POLL_INTERVAL_MS", "250")
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
        .kill_on_drop(true)
        .spawn()
        .expect("start jobcenter serve")
}

/// A client of the served API.
struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    async fn status(&self, graph: &str, job: &str, token: &str) -> Value {
        let path = format!("/v2/{PROJECT}/graphs/{graph}/jobs/{job}/status");
        self.call("GET", &path, token, None).await
    }

    async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.client.get(url),
            _ => self.client.post(url).json(&body.unwrap_or(json!({}))),
        };
        let response = request.header("X-Auth-Token", token).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{method} {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }
}

/// Installs playwright-core from the committed lock file when it is missing.
fn playwright() {
    if console_dir().join("node_modules/playwright-core").is_dir() {
        return;
    }
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(console_dir())
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .status()
        .expect("npm (Node.js) is needed for the console's browser tests");
    assert!(status.success(), "npm ci in tests/console failed");
}

#[tokio::test]
async fn the_console_works_in_chromium_on_100000_jobs() {
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "the console's browser test needs Debian's chromium (apt-get install chromium; .ci/run does)"
    );
    playwright();
    let url = fresh_database().await;
    copy_fixtures(&storage_root(&url));
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let seed = jobcenter::cli::seed::SeedArgs {
        project: PROJECT.into(),
        projects: None,
        jobs: 100_000,
        graphs: 20,
        days: 365,
        seed: 7,
        until: None,
        batch: 50_000,
    };
    jobcenter::cli::seed::run(&pool, &seed).await.unwrap();
    let (graph_name,): (String,) = sqlx::query_as(
        "SELECT graph_name FROM jobs WHERE status = 'failed' AND graph_name IS NOT NULL
         GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();

    let port = free_port();
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let shots = target.join("console-shots");
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-serve.log");
    let mut child = serve(&url, port, &log);
    let api = Api {
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
    };
    let _live = poll(
        "jobcenter serve to come up",
        || api.client.get(format!("{}/health/live", api.base)).send(),
        |r| r.as_ref().is_ok_and(|r| r.status() == 200),
    )
    .await;

    let keys = TokenKeys::from_settings(&test_settings(&url).auth).unwrap();
    let token = |roles: &[&str]| {
        keys.issue("e2e", PROJECT, roles, Duration::from_secs(3600))
            .unwrap()
    };
    let (operator, readonly, producer) = (
        token(&["operator"]),
        token(&["readonly"]),
        token(&["producer"]),
    );
    let mut other = test_settings(&url).auth;
    other.jwt_secret = "another-secret-0123456789abcdef".into();
    let bad = TokenKeys::from_settings(&other)
        .unwrap()
        .issue("e2e", PROJECT, &["operator"], Duration::from_secs(3600))
        .unwrap();

    // A real import with rejects (the dirty fixtures) on a running graph.
    let created = api
        .call(
            "POST",
            &format!("/v2/{PROJECT}/graphs"),
            &operator,
            Some(crate::graphs::create_body("movies")),
        )
        .await;
    let graph = created["id"].as_str().unwrap().to_owned();

    let create_job = created["job_id"].as_str().unwrap().to_owned();
    poll(
        "the graph to be created",
        || api.status(&graph, &create_job, &operator),
        |j| j["status"] == "success",
    )
    .await;
    let body = json!({"schema_path": "demo/movies/dirty/schema.xml",
                      "vertexset_path": "demo/movies/dirty/vertices.csv",
                      "edgeset_path": "demo/movies/dirty/edges.csv"});
    let import = api
        .call(
            "POST",
            &format!("/v2/{PROJECT}/graphs/{graph}/import-graph"),
            &operator,
            Some(body),
        )
        .await;
    let import_job = import["job_id"].as_str().unwrap().to_owned();
    let imported = poll(
        "the import to end",
        || api.status(&graph, &import_job, &operator),
        |j| j["status"] == "partiallyFailed" || j["status"] == "failed",
    )
    .await;
    assert_eq!(
        imported["job_detail"]["vertexset_path"][0]["status"], "partFailed",
        "{imported}"
    );

    // Two running producer jobs: one to watch, one to cancel.
    let enqueue = json!({"jobs": [
        {"job_type": "ConsoleDemo", "job_name": "WatchedReport", "payload": {}},
        {"job_type": "ConsoleDemo", "job_name": "CancelledReport", "payload": {}}]});
    api.call(
        "POST",
        &format!("/internal/v1/{PROJECT}/jobs"),
        &producer,
        Some(enqueue),
    )
    .await;
    let claimed = api
        .call(
            "POST",
            &format!("/internal/v1/{PROJECT}/jobs/claim"),
            &producer,
            Some(json!({"job_types": ["ConsoleDemo"], "max_jobs": 2, "lease_secs": 600})),
        )
        .await;
    let running: Vec<Value> = claimed["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| json!({"id": j["job_id"], "lease": j["lease_token"], "name": j["job_name"]}))
        .collect();
    let by_name = |name: &str| running.iter().find(|j| j["name"] == name).unwrap().clone();

    let config = json!({
        "base": api.base, "project": PROJECT, "shots": shots,
        "operator": operator, "readonly": readonly, "producer": producer, "bad_token": bad,
        "graph_name": graph_name, "import_graph": "movies", "import_job": import_job,
        "progress_job": by_name("WatchedReport"), "cancel_job": by_name("CancelledReport"),
    });
    let output = tokio::process::Command::new("node")
        .arg(console_dir().join("e2e.mjs"))
        .current_dir(console_dir())
        .env("E2E", config.to_string())
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "the browser checks failed (screenshots in {shots:?}, log in {log:?})"
    );
    let result: Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .map(|r| serde_json::from_str(r).unwrap())
        .expect("a RESULT line");
    assert!(result["checks"].as_array().unwrap().len() >= 25, "{result}");

    // The cancel reached the job.
    let cancelled = by_name("CancelledReport")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let requested: bool = sqlx::query_scalar("SELECT cancel_requested FROM jobs WHERE id = $1")
        .bind(uuid::Uuid::try_parse(&cancelled).unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        requested,
        "the console's cancel asked the running job to stop"
    );
    for shot in [
        "jobs",
        "jobs-deep",
        "job-import",
        "graphs",
        "job-readonly",
        "jobs-390",
    ] {
        assert!(shots.join(format!("{shot}.png")).is_file(), "{shot}.png");
    }
    child.start_kill().unwrap();
    let _ = child.wait().await;
}
