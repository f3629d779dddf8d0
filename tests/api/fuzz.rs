//! The fuzz suite: schemathesis (pinned below, in a venv under `target/tmp/fuzz-venv`)
//! drives the test instance's own `/openapi.json` with the settings of
//! `tests/fuzz/schemathesis.toml` (fixed seed, a bounded number of cases per operation,
//! every check) and the error-shape check of `tests/fuzz/hooks.py`: an operator token on
//! `/v2` and `/health`, a producer token on `/internal`. It fails on any 5xx, any answer off
//! its documented status, content type, headers or schema, any error body off
//! `{"error_code", "error_msg"}`, a schema-valid request refused or a schema-violating one
//! accepted. The service's own request counter says how many requests were sent.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::helpers::{PROJECT, TestApp};
use crate::venv::{self, Package, printed};

/// The schemathesis release the suite is checked against; changing it rebuilds the venv.
const SCHEMATHESIS_VERSION: &str = "4.32.5";
/// How long the run may take (about a minute and a half on a quiet machine).
const RUN_TIMEOUT: Duration = Duration::from_secs(900);
/// How long making the venv may take.
const VENV_TIMEOUT: Duration = Duration::from_secs(600);
/// Fewer requests than this means the run did not reach the service as configured.
const AT_LEAST: u64 = 2_000;

#[tokio::test]
async fn schemathesis_finds_no_disagreement_between_the_document_and_the_service() {
    let app = TestApp::spawn().await;
    let python = tokio::time::timeout(VENV_TIMEOUT, tokio::task::spawn_blocking(fuzz_python))
        .await
        .unwrap_or_else(|_| panic!("the schemathesis venv was not ready in {VENV_TIMEOUT:?}"))
        .expect("the venv task");
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    // Hypothesis keeps its example database in the working directory: a fresh one per run,
    // so a run depends on its seed only.
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let run = tokio::process::Command::new(schemathesis_of(&python))
        .arg("--config-file")
        .arg(suite.join("schemathesis.toml"))
        .arg("run")
        .arg(format!("{}/openapi.json", app.address))
        .current_dir(work.path())
        .env("SCHEMATHESIS_HOOKS", suite.join("hooks.py"))
        .env("JC_FUZZ_PROJECT", PROJECT)
        .env("JC_FUZZ_OPERATOR_TOKEN", app.token(PROJECT, &["operator"]))
        .env("JC_FUZZ_PRODUCER_TOKEN", app.token(PROJECT, &["producer"]))
        .env("NO_COLOR", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(RUN_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| panic!("schemathesis did not finish in {RUN_TIMEOUT:?}"))
        .expect("run schemathesis");
    let sent = requests_served(&app.metrics().await);
    eprintln!(
        "schemathesis {SCHEMATHESIS_VERSION}: {sent} requests; {}",
        summary(&output.stdout)
    );
    assert!(
        output.status.success(),
        "schemathesis found problems ({}):\n{}",
        output.status,
        printed(&output)
    );
    assert!(sent >= AT_LEAST, "only {sent} requests reached the service");
    let metrics = app.metrics().await;
    assert!(
        !metrics
            .lines()
            .any(|l| l.starts_with("jobcenter_http_requests_total") && l.contains("status=\"5")),
        "a 5xx was answered"
    );
}

/// The total of `jobcenter_http_requests_total`.
fn requests_served(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("jobcenter_http_requests_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// The closing line of schemathesis's report (`N passed ... in Ts`).
fn summary(stdout: &[u8]) -> String {
    String::from_utf8_lossy(stdout)
        .lines()
        .rev()
        .find(|l| l.contains(" in ") && l.contains('='))
        .unwrap_or("")
        .trim_matches(|c| c == '=' || c == ' ')
        .to_owned()
}

/// The venv's `schemathesis` script, next to its python.
fn schemathesis_of(python: &Path) -> PathBuf {
    python.with_file_name("schemathesis")
}

/// The venv's python, with schemathesis installed.
fn fuzz_python() -> PathBuf {
    venv::python_with(&Package {
        venv: "fuzz-venv",
        name: "schemathesis",
        extras: "",
        version: SCHEMATHESIS_VERSION,
        module: "schemathesis",
    })
}
