//! The official GES Python SDK (`huaweicloudsdkges`) drives a graph's whole life against the
//! service, with the worker pool running in process: `tests/sdk/graph_life.py`; and moves a
//! backup out and back (`export_backup2`, `import_backup2`): `tests/sdk/backup_transfer.py`.
//!
//! The SDK lives in a virtualenv under `target/tmp/sdk-venv` (see `venv`), at the version
//! pinned below.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::helpers::{PROJECT, TestApp, fresh_database, storage_root, test_settings};
use crate::import::copy_fixtures;
use crate::venv::{self, Package, printed};

/// The SDK release the script is checked against; changing it rebuilds the venv.
const SDK_VERSION: &str = "3.1.219";
/// How long the script may take (jobs run in a few milliseconds each here).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);
/// How long making the venv may take (waiting for another process's included).
const VENV_TIMEOUT: Duration = Duration::from_secs(600);

#[tokio::test]
async fn the_official_python_sdk_drives_a_graph_through_its_whole_life() {
    run_script(&TestApp::spawn().await, "graph_life.py").await;
}

#[tokio::test]
async fn a_backup_exported_and_imported_through_the_sdk_restores_the_same_graph() {
    let url = fresh_database().await;
    let root = storage_root(&url);
    copy_fixtures(&root);
    run_script(
        &TestApp::spawn_with(test_settings(&url)).await,
        "backup_transfer.py",
    )
    .await;
    for file in ["schema.xml", "vertices.csv", "edges.csv"] {
        let read =
            |dir: &str| std::fs::read_to_string(root.join("demo").join(dir).join(file)).unwrap();
        let before = read("before");
        assert!(!before.is_empty(), "{file} is empty");
        assert_eq!(before, read("after"), "{file} differs after the round trip");
    }
    for file in ["backup.json", "vertices.jsonl", "edges.jsonl"] {
        assert!(
            root.join("demo/backup-out").join(file).is_file(),
            "{file} was not exported"
        );
    }
}

/// Runs `tests/sdk/<script>` against `app` with an operator token; it must exit 0.
async fn run_script(app: &TestApp, script: &str) {
    let python = tokio::time::timeout(VENV_TIMEOUT, tokio::task::spawn_blocking(sdk_python))
        .await
        .unwrap_or_else(|_| panic!("the SDK venv was not ready in {VENV_TIMEOUT:?}"))
        .expect("the venv task");
    let token = app.token(PROJECT, &["operator"]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sdk")
        .join(script);
    let run = tokio::process::Command::new(&python)
        .arg(&script)
        .args([app.address.as_str(), PROJECT, token.as_str()])
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(SCRIPT_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| panic!("{} did not finish in {SCRIPT_TIMEOUT:?}", script.display()))
        .expect("run the SDK script");
    assert!(
        output.status.success(),
        "the SDK script failed ({}):\n{}",
        output.status,
        printed(&output)
    );
}

/// The venv's python, with the SDK installed.
fn sdk_python() -> PathBuf {
    venv::python_with(&Package {
        venv: "sdk-venv",
        name: "huaweicloudsdkges",
        extras: "",
        version: SDK_VERSION,
        module: "huaweicloudsdkges.v2",
    })
}
