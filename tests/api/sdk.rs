//! The official GES Python SDK (`huaweicloudsdkges`) drives a graph's whole life against the
//! service, with the worker pool running in process: `tests/sdk/graph_life.py`.
//!
//! The SDK lives in a virtualenv under `target/tmp/sdk-venv`, made on first use with
//! `python3 -m venv` and pip (the version pinned below); an exclusive lock on
//! `target/tmp/sdk-venv.lock` keeps two test processes from building it at once.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use crate::helpers::{PROJECT, TestApp};

/// The SDK release the script is checked against; changing it rebuilds the venv.
const SDK_VERSION: &str = "3.1.219";
/// How long the script may take (jobs run in a few milliseconds each here).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);
/// How long making the venv may take (waiting for another process's included).
const VENV_TIMEOUT: Duration = Duration::from_secs(600);

#[tokio::test]
async fn the_official_python_sdk_drives_a_graph_through_its_whole_life() {
    let python = tokio::time::timeout(VENV_TIMEOUT, tokio::task::spawn_blocking(sdk_python))
        .await
        .unwrap_or_else(|_| panic!("the SDK venv was not ready in {VENV_TIMEOUT:?}"))
        .expect("the venv task");
    let app = TestApp::spawn().await;
    let token = app.token(PROJECT, &["operator"]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/graph_life.py");
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

/// The venv's python, with the SDK installed; builds the venv when missing or stale.
fn sdk_python() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let venv = tmp.join("sdk-venv");
    let python = venv.join("bin").join("python");
    std::fs::create_dir_all(tmp).expect("create the target tmp directory");
    let lock = std::fs::File::create(tmp.join("sdk-venv.lock")).expect("open the venv lock");
    lock.lock().expect("lock the venv");
    if !sdk_installed(&python) {
        run(
            std::process::Command::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(&venv),
            "python3 -m venv (Python 3 with the venv module is needed)",
        );
        run(
            std::process::Command::new(&python).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--timeout",
                "60",
                &format!("huaweicloudsdkges=={SDK_VERSION}"),
            ]),
            "pip install huaweicloudsdkges",
        );
        assert!(
            sdk_installed(&python),
            "huaweicloudsdkges {SDK_VERSION} still missing"
        );
    }
    python
}

/// Whether `python` imports the SDK at the pinned version.
fn sdk_installed(python: &Path) -> bool {
    let check = format!(
        "import importlib.metadata as m, huaweicloudsdkges.v2; \
         assert m.version('huaweicloudsdkges') == '{SDK_VERSION}'"
    );
    std::process::Command::new(python)
        .args(["-c", &check])
        .output()
        .is_ok_and(|out| out.status.success())
}

fn run(command: &mut std::process::Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}",
        output.status,
        printed(&output)
    );
}

fn printed(output: &Output) -> String {
    format!(
        "--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
