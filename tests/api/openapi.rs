//! The OpenAPI document (`GET /openapi.json`) and the docs page (`GET /docs`): every route
//! is documented, the document is valid OpenAPI 3.1 (checked with `openapi-spec-validator`
//! from PyPI, in a venv under `target/tmp`), it equals the committed snapshot
//! `tests/api/snapshots/openapi.json` (`UPDATE_SNAPSHOTS=1` rewrites the snapshot instead),
//! and the page loads only assets the service serves itself.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::helpers::{PROJECT, TestApp};
use crate::venv::{self, Package, printed};

/// Every route the app serves, as documented: the graph operations (one handler,
/// `POST .../{graph_id}/{action}`) are one path each.
const ROUTES: [(&str, &str); 38] = [
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/openapi.json"),
    ("get", "/docs"),
    ("get", "/docs/{file}"),
    ("get", "/"),
    ("get", "/console"),
    ("get", "/console/{file}"),
    ("post", "/console/dev-token"),
    ("get", "/v2/{project_id}/graphs/jobs"),
    ("get", "/v2/{project_id}/graphs/jobs/events"),
    (
        "get",
        "/v2/{project_id}/graphs/jobs/{job_id}/files/{kind}/{ordinal}/log",
    ),
    (
        "get",
        "/v2/{project_id}/graphs/{graph_id}/jobs/{job_id}/status",
    ),
    ("post", "/v2/{project_id}/graphs/jobs/{job_id}/cancel"),
    ("post", "/v2/{project_id}/graphs/jobs/{job_id}/retry"),
    ("post", "/v2/{project_id}/graphs"),
    ("get", "/v2/{project_id}/graphs"),
    ("get", "/v2/{project_id}/graphs/{graph_id}"),
    ("delete", "/v2/{project_id}/graphs/{graph_id}"),
    ("post", "/v2/{project_id}/graphs/{graph_id}/stop"),
    ("post", "/v2/{project_id}/graphs/{graph_id}/start"),
    ("post", "/v2/{project_id}/graphs/{graph_id}/restart"),
    ("post", "/v2/{project_id}/graphs/{graph_id}/clear-graph"),
    ("post", "/v2/{project_id}/graphs/{graph_id}/upgrade"),
    ("post", "/v2/{project_id}/graphs/{graph_id}/resize"),
    ("post", "/v2/{project_id}/graphs/{graph_id}/expand"),
    ("post", "/v2/{project_id}/graphs/{graph_id}/import-graph"),
    ("post", "/v2/{project_id}/graphs/{graph_id}/export-graph"),
    ("post", "/v2/{project_id}/graphs/{graph_id}/backups"),
    ("post", "/v2/{project_id}/graphs/{graph_id}/backups/export"),
    ("post", "/v2/{project_id}/graphs/{graph_id}/backups/import"),
    ("get", "/v2/{project_id}/graphs/backups"),
    ("get", "/v2/{project_id}/graphs/{graph_id}/backups"),
    (
        "delete",
        "/v2/{project_id}/graphs/{graph_id}/backups/{backup_id}",
    ),
    ("post", "/internal/v1/{project_id}/jobs"),
    ("post", "/internal/v1/{project_id}/jobs/claim"),
    ("post", "/internal/v1/{project_id}/jobs/{job_id}/heartbeat"),
    ("post", "/internal/v1/{project_id}/jobs/{job_id}/complete"),
];

/// The validator release the document is checked with; changing it rebuilds the venv.
const VALIDATOR: Package = Package {
    venv: "openapi-venv",
    name: "openapi-spec-validator",
    extras: "",
    version: "0.9.0",
    module: "openapi_spec_validator",
};

fn snapshot_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/snapshots/openapi.json")
}

/// The served document, fetched without a token.
async fn document(app: &TestApp) -> Value {
    let response = app
        .client
        .get(format!("{}/openapi.json", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    response.json().await.expect("the document is JSON")
}

/// (method, path) of every operation of the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                found.insert((method.clone(), path.clone()));
            }
        }
    }
    found
}

/// A concrete URL path for a documented path template.
fn concrete(path: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    path.replace("{project_id}", PROJECT)
        .replace("{graph_id}", &id)
        .replace("{job_id}", &id)
        .replace("{backup_id}", &id)
        .replace("{file}", "index.html")
        .replace("{kind}", "vertex")
        .replace("{ordinal}", "1")
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_documents_every_route_the_app_serves() {
    let app = TestApp::spawn_reader().await;
    let doc = document(&app).await;
    let version = doc["openapi"].as_str().expect("openapi");
    assert!(version.starts_with("3.1."), "openapi {version}");
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(operations(&doc), expected);
    // Every documented route is served: none answers "no API at this path".
    let token = app.token(PROJECT, &["operator", "producer"]);
    for (method, path) in &expected {
        let url = format!("{}{}", app.address, concrete(path));
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let response = app
            .client
            .request(method.clone(), &url)
            .header("X-Auth-Token", &token)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let stream = response
            .headers()
            .get("content-type")
            .is_some_and(|t| t == "text/event-stream");
        // An event stream never ends: its answer is its status.
        let body: Value = match stream {
            true => Value::Null,
            false => response.json().await.unwrap_or(Value::Null),
        };
        assert_ne!(
            body["error_code"], "APIG.0101",
            "{method} {path} is not served"
        );
        assert!(status < 500, "{method} {path}: {status} {body}");
    }
    let unknown = concrete("/v2/{project_id}/graphs/{graph_id}/fly");
    let (status, body) = post_empty(&app, &unknown, &token).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (404, Some("APIG.0101"))
    );
}

async fn post_empty(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .header("X-Auth-Token", token)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn routes_with_a_token_document_it_and_their_error_answers() {
    let app = TestApp::spawn_reader().await;
    let doc = document(&app).await;
    let scheme = &doc["components"]["securitySchemes"]["x_auth_token"];
    assert_eq!(scheme["type"], "apiKey");
    assert_eq!(
        (&scheme["in"], &scheme["name"]),
        (&"header".into(), &"X-Auth-Token".into())
    );
    let error = &doc["components"]["schemas"]["ErrorBody"];
    let mut required: Vec<&str> = error["required"]
        .as_array()
        .expect("ErrorBody.required")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    required.sort();
    assert_eq!(required, ["error_code", "error_msg"]);
    for (method, path) in operations(&doc) {
        let operation = &doc["paths"][&path][&method];
        let responses = operation["responses"].as_object().unwrap();
        assert!(
            ["200", "307", "308"]
                .iter()
                .any(|s| responses.contains_key(*s)),
            "{path}"
        );
        let open = path.starts_with("/health/")
            || path.starts_with("/docs")
            || path.starts_with("/console")
            || path == "/"
            || path == "/openapi.json";
        let has_401 = responses.contains_key("401");
        assert_eq!(
            has_401, !open,
            "{method} {path}: 401 documented only with a token"
        );
        if !open {
            for status in ["400", "401", "403", "500", "503"] {
                let schema = &responses[status]["content"]["application/json"]["schema"];
                assert_eq!(
                    schema["$ref"], "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
    }
    let list = &doc["paths"]["/v2/{project_id}/graphs/jobs"]["get"]["parameters"];
    let status = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "status")
        .expect("the status filter");
    assert!(
        status["schema"]["enum"]
            .as_array()
            .unwrap()
            .contains(&"partiallyFailed".into())
    );
}

#[tokio::test]
async fn the_served_document_equals_the_committed_snapshot() {
    let app = TestApp::spawn_reader().await;
    let doc = document(&app).await;
    let path = snapshot_path();
    let pretty = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &pretty).expect("write the snapshot");
        return;
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_SNAPSHOTS=1 writes it)", path.display()));
    let committed_doc: Value = serde_json::from_str(&committed).expect("the snapshot is JSON");
    if committed_doc != doc {
        let line = pretty
            .lines()
            .zip(committed.lines())
            .position(|(a, b)| a != b)
            .map_or(committed.lines().count().min(pretty.lines().count()), |i| i);
        panic!(
            "the served OpenAPI document differs from {} (first at line {}: served {:?}); \
             if the change is meant, run the test with UPDATE_SNAPSHOTS=1 and review the diff",
            path.display(),
            line + 1,
            pretty.lines().nth(line).unwrap_or("<end>"),
        );
    }
}

#[tokio::test]
async fn the_document_passes_openapi_spec_validator() {
    let app = TestApp::spawn_reader().await;
    let doc = document(&app).await;
    let python = tokio::task::spawn_blocking(|| venv::python_with(&VALIDATOR))
        .await
        .expect("the venv task");
    let file = tempfile::Builder::new()
        .suffix(".json")
        .tempfile()
        .expect("a temporary file");
    std::fs::write(file.path(), serde_json::to_vec(&doc).unwrap()).unwrap();
    let output = tokio::process::Command::new(&python)
        .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
        .arg(file.path())
        .output()
        .await
        .expect("run openapi-spec-validator");
    assert!(
        output.status.success(),
        "openapi-spec-validator rejects the document:\n{}",
        printed(&output)
    );
}

#[tokio::test]
async fn the_docs_page_loads_only_assets_the_service_serves() {
    let app = TestApp::spawn_reader().await;
    let response = app
        .client
        .get(format!("{}/docs", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.url().path().ends_with("/docs/"),
        "{}",
        response.url()
    );
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = response.text().await.unwrap();
    let assets = references(&html);
    assert!(
        assets.iter().any(|a| a.ends_with(".js")) && assets.iter().any(|a| a.ends_with(".css")),
        "scripts and styles: {assets:?}"
    );
    for asset in &assets {
        assert!(
            !asset.contains("://") && !asset.starts_with("//"),
            "the page loads {asset} from another host"
        );
        let url = format!("{}/docs/{}", app.address, asset.trim_start_matches("./"));
        let status = app.client.get(&url).send().await.expect("request").status();
        assert_eq!(status.as_u16(), 200, "{url}");
    }
    let init = app
        .client
        .get(format!("{}/docs/swagger-initializer.js", app.address))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .unwrap();
    assert!(init.contains("\"/openapi.json\""), "{init}");
}

/// The values of `src="..."` and `href="..."` attributes.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(start) = rest.find(attribute) {
            rest = &rest[start + attribute.len()..];
            let end = rest.find('"').expect("a closed attribute");
            found.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    found
}
