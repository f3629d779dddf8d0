//! The `s3` storage backend against a real S3 server: moto's standalone server
//! (`moto[server]` from PyPI, in a venv under `target/tmp`), started by each test on a free
//! port. The credentials test turns moto's IAM checks on (`INITIAL_NO_AUTH_ACTION_COUNT`),
//! so that requests are signed and authorised as on S3: the first three requests (an IAM
//! user, its policy and its access key, made with boto3) go unchecked, everything after
//! that needs the user's key. With those checks on, moto 5.2.1 refuses every list request
//! however it is signed (getmoto/moto#5948), so the other test runs without them.
//!
//! Checked: imports of files and of directories from it, reject logs and exports written to
//! it, a backup exported to it and imported back, path checks, a missing bucket (refused at
//! the call, saying so), and wrong credentials (refused at the call, nothing written).

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use jobcenter::config::Settings;
use jobcenter::storage::{ObjectPath, Storage, StorageSettings};
use serde_json::{Value, json};

use crate::helpers::{TestApp, free_port, fresh_database, test_settings};
use crate::import::{counts, file};
use crate::venv::{Package, printed, python_with};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/movies");
const MOTO: Package = Package {
    venv: "moto-venv",
    name: "moto",
    extras: "[server]",
    version: "5.2.1",
    module: "moto.server",
};

/// With IAM checks (`iam` as the second argument), makes the IAM user `jobcenter` allowed
/// everything and its access key; then the bucket `demo` (with that key, or any); prints
/// the key's id and secret.
const BOOTSTRAP: &str = r#"
import json, sys, boto3
endpoint = sys.argv[1]
key = {"AccessKeyId": "jobcenter-key", "SecretAccessKey": "jobcenter-secret"}
if sys.argv[2] == "iam":
    anyone = dict(endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam = boto3.client("iam", **anyone)
    iam.create_user(UserName="jobcenter")
    iam.put_user_policy(UserName="jobcenter", PolicyName="everything", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="jobcenter")["AccessKey"]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
s3.create_bucket(Bucket="demo")
print(key["AccessKeyId"], key["SecretAccessKey"])
"#;

/// A running moto server and the access key it accepts.
struct Moto {
    _process: tokio::process::Child,
    endpoint: String,
    key_id: String,
    secret: String,
}

impl Moto {
    /// The server, with IAM checks when `iam`; the bucket `demo` made.
    async fn start(iam: bool) -> Moto {
        let python = tokio::task::spawn_blocking(|| python_with(&MOTO))
            .await
            .unwrap();
        let port = free_port();
        let mut command = tokio::process::Command::new(&python);
        command
            .args([
                "-c",
                "import sys; from moto.server import main; main(sys.argv[1:])",
            ])
            .args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        if iam {
            command.env("INITIAL_NO_AUTH_ACTION_COUNT", "3");
        }
        let process = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start moto's server");
        let endpoint = format!("http://127.0.0.1:{port}");
        for _ in 0..600 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let out = tokio::process::Command::new(&python)
            .args(["-c", BOOTSTRAP, &endpoint, if iam { "iam" } else { "open" }])
            .output()
            .await
            .unwrap();
        assert!(out.status.success(), "bootstrap: {}", printed(&out));
        let printed = String::from_utf8(out.stdout).unwrap();
        let mut words = printed.split_whitespace();
        let key_id = words.next().unwrap().to_owned();
        let secret = words.next().unwrap().to_owned();
        Moto {
            _process: process,
            endpoint,
            key_id,
            secret,
        }
    }

    /// `[storage]` settings for this server with `secret` as the secret key.
    fn settings(&self, secret: &str) -> StorageSettings {
        let mut storage = Settings::defaults().unwrap().storage;
        storage.backend = "s3".into();
        storage.s3.endpoint = self.endpoint.clone();
        storage.s3.region = "us-east-1".into();
        storage.s3.access_key_id = self.key_id.clone();
        storage.s3.secret_access_key = secret.to_owned().into();
        storage.s3.allow_http = true;
        storage
    }

    /// The test's own client of the server, with the right key.
    fn storage(&self) -> Storage {
        Storage::from_settings(&self.settings(&self.secret)).unwrap()
    }

    /// A service using this server with `secret`.
    async fn service(&self, secret: &str) -> TestApp {
        let mut settings = test_settings(&fresh_database().await);
        settings.storage = self.settings(secret);
        TestApp::spawn_with(settings).await
    }
}

fn path(text: &str) -> ObjectPath {
    ObjectPath::parse(text).unwrap()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()
}

/// The object's text.
async fn read_object(storage: &Storage, object: &str) -> String {
    let mut reader = storage.reader(&path(object)).await.unwrap();
    tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        text
    })
    .await
    .unwrap()
}

/// The fixtures under `demo/movies`, and the clean vertices split in two under
/// `demo/split`.
async fn upload_fixtures(storage: &Storage) {
    for name in [
        "schema.xml",
        "vertices.csv",
        "edges.csv",
        "dirty/schema.xml",
        "dirty/vertices.csv",
        "dirty/edges.csv",
    ] {
        let to = path(&format!("demo/movies/{name}"));
        storage.put(&to, fixture(name).into_bytes()).await.unwrap();
    }
    let vertices = fixture("vertices.csv");
    let lines: Vec<&str> = vertices.lines().collect();
    for (name, part) in [("b.csv", &lines[..3]), ("a.csv", &lines[3..])] {
        let to = path(&format!("demo/split/{name}"));
        storage
            .put(&to, part.join("\n").into_bytes())
            .await
            .unwrap();
    }
}

/// What `action` on `graph` answered: its HTTP status, error code and message.
async fn refusal(app: &TestApp, graph: &str, action: &str, body: Value) -> (u16, String, String) {
    let (status, answer) = app.post(&format!("/{graph}/{action}"), Some(body)).await;
    let text = |key: &str| answer[key].as_str().unwrap_or_default().to_owned();
    (status, text("error_code"), text("error_msg"))
}

fn export_body(dir: &str) -> Value {
    json!({"graph_export_path": dir, "schema_name": "schema.xml",
           "vertex_set_name": "vertices.csv", "edge_set_name": "edges.csv"})
}

#[tokio::test]
async fn imports_exports_reject_logs_and_backups_go_through_a_real_s3_server() {
    let moto = Moto::start(false).await;
    let storage = moto.storage();
    upload_fixtures(&storage).await;
    let app = moto.service(&moto.secret).await;

    // Files, then a directory.
    let graph = app.running_graph("s3_movies").await;
    let body = json!({"schema_path": "demo/movies/schema.xml", "vertexset_path": "demo/movies/vertices.csv",
                      "edgeset_path": "demo/movies/edges.csv"});
    let job = app.operate(&graph, "import-graph", Some(body)).await;
    assert_eq!(job["status"], "success", "{job}");
    assert_eq!(
        counts(file(&job, "vertexset_path", 0)),
        (8, 8, 0, "success")
    );
    assert_eq!(counts(file(&job, "edgeset_path", 0)), (9, 9, 0, "success"));
    let split = app.running_graph("s3_split").await;
    let body = json!({"schema_path": "demo/movies/schema.xml", "vertexset_path": "demo/split"});
    let job = app.operate(&split, "import-graph", Some(body)).await;
    assert_eq!(job["status"], "success", "{job}");
    assert_eq!(file(&job, "vertexset_path", 0)["path"], "demo/split/a.csv");
    assert_eq!(
        counts(file(&job, "vertexset_path", 1)),
        (3, 3, 0, "success")
    );

    // Reject logs are written to the bucket.
    let dirty = app.running_graph("s3_dirty").await;
    let body = json!({"schema_path": "demo/movies/dirty/schema.xml", "vertexset_path": "demo/movies/dirty/vertices.csv",
                      "edgeset_path": "demo/movies/dirty/edges.csv", "log_dir": "demo/logs"});
    let job = app.operate(&dirty, "import-graph", Some(body)).await;
    assert_eq!(job["status"], "partiallyFailed", "{job}");
    let edges = file(&job, "edgeset_path", 0);
    let log = read_object(&storage, edges["log"].as_str().unwrap()).await;
    assert_eq!(log.lines().count(), 4, "{log}");
    assert!(log.starts_with("demo/movies/dirty/edges.csv:2: "), "{log}");

    // An export, read back from the bucket.
    let job = app
        .operate(&graph, "export-graph", Some(export_body("demo/exports/g1")))
        .await;
    assert_eq!(job["status"], "success", "{job}");
    let schema = read_object(&storage, "demo/exports/g1/schema.xml").await;
    assert_eq!(schema, fixture("schema.xml"));
    let edges = read_object(&storage, "demo/exports/g1/edges.csv").await;
    assert_eq!(edges, fixture("edges.csv"));
    let vertices = read_object(&storage, "demo/exports/g1/vertices.csv").await;
    let source = fixture("vertices.csv");
    let mut expected: Vec<&str> = source.lines().collect();
    expected.sort();
    assert_eq!(vertices, expected.join("\n") + "\n");

    // A backup exported to the bucket and imported back from it.
    assert_eq!(
        app.operate(&graph, "backups", None).await["status"],
        "success"
    );
    let (_, listed) = app
        .call(reqwest::Method::GET, &format!("/{graph}/backups"), None)
        .await;
    let backup = listed["backup_list"][0]["id"].as_str().unwrap().to_owned();
    let body = json!({"backup_id": backup, "export_path": "demo/backup"});
    let job = app.operate(&graph, "backups/export", Some(body)).await;
    assert_eq!(job["status"], "success", "{job}");
    let manifest: Value =
        serde_json::from_str(&read_object(&storage, "demo/backup/backup.json").await).unwrap();
    assert_eq!(manifest["vertices"], 8, "{manifest}");
    let body = json!({"import_path": "demo/backup"});
    let job = app.operate(&graph, "backups/import", Some(body)).await;
    assert_eq!(job["status"], "success", "{job}");

    // Paths: refused at the call.
    let fresh = app.running_graph("s3_paths").await;
    for (bad, code) in [
        ("demo/../../etc/passwd", "GES.7011"),
        ("demo/movies/./vertices.csv", "GES.7011"),
        ("demo/missing.csv", "GES.7017"),
    ] {
        let body = json!({"schema_path": "demo/movies/schema.xml", "vertexset_path": bad});
        let (status, error, _) = refusal(&app, &fresh, "import-graph", body).await;
        assert_eq!((status, error.as_str()), (400, code), "{bad}");
    }

    // A missing bucket: refused at the call, saying so, for reading and for writing.
    let body = json!({"schema_path": "nobucket/schema.xml", "vertexset_path": "nobucket/v.csv"});
    let (status, error, message) = refusal(&app, &fresh, "import-graph", body).await;
    assert_eq!((status, error.as_str()), (400, "GES.7017"), "{message}");
    assert!(message.contains("bucket"), "{message}");
    let body = export_body("nobucket/out");
    let (status, error, message) = refusal(&app, &graph, "export-graph", body).await;
    assert_eq!((status, error.as_str()), (400, "GES.7017"), "{message}");
    assert!(
        message.contains("graph_export_path: the bucket of nobucket/out"),
        "{message}"
    );
}

#[tokio::test]
async fn wrong_s3_credentials_are_refused_at_the_call_and_nothing_is_written() {
    let moto = Moto::start(true).await;
    let storage = moto.storage();
    upload_fixtures(&storage).await;
    let app = moto.service("not-the-secret").await;
    let graph = app.running_graph("s3_denied").await;

    let body = json!({"schema_path": "demo/movies/schema.xml", "vertexset_path": "demo/movies/vertices.csv"});
    let (status, error, message) = refusal(&app, &graph, "import-graph", body).await;
    assert_eq!((status, error.as_str()), (503, "GES.7005"), "{message}");
    assert!(
        message.ends_with("object storage refused the service's credentials"),
        "{message}"
    );
    let (status, error, message) =
        refusal(&app, &graph, "export-graph", export_body("demo/denied")).await;
    assert_eq!((status, error.as_str()), (503, "GES.7005"), "{message}");
    assert_eq!(
        message,
        "graph_export_path: object storage refused the service's credentials"
    );
    let body = json!({"schema_path": "demo/movies/dirty/schema.xml",
                      "vertexset_path": "demo/movies/dirty/vertices.csv", "log_dir": "demo/denied"});
    let (status, error, _) = refusal(&app, &graph, "import-graph", body).await;
    assert_eq!((status, error.as_str()), (503, "GES.7005"));

    // No job was made, nothing was written, and the bucket is as it was.
    let (_, jobs) = app.list("graph_name=s3_denied").await;
    assert_eq!(jobs["job_count"], 1, "only the create job: {jobs}");
    for name in ["schema.xml", "vertices.csv", "edges.csv"] {
        let written = storage.size(&path(&format!("demo/denied/{name}"))).await;
        assert!(written.is_err(), "{name}: {written:?}");
    }
    let kept = storage
        .size(&path("demo/movies/vertices.csv"))
        .await
        .unwrap();
    assert_eq!(kept, fixture("vertices.csv").len() as u64);
}
