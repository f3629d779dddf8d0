//! The benchmark harness (scripts/bench) runs end to end at scale 0.01 against the test
//! PostgreSQL with the test build, so it cannot rot: it seeds 100,000 jobs in 10 projects,
//! checks every list plan and every measured job_count against count(*), measures the list,
//! job status, enqueue and the worker pool, and writes its report.

use std::process::Command;

use crate::helpers::server_url;

#[tokio::test]
async fn the_harness_runs_end_to_end_at_scale_one_hundredth() {
    let server = server_url().await;
    let name = format!("jc_bench_{}", uuid::Uuid::new_v4().simple());
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.md");
    let output = Command::new("scripts/bench")
        .args(["--scale", "0.01", "--seconds", "1", "--out"])
        .arg(&report)
        .env("BENCH_DATABASE_URL", format!("{server}/{name}"))
        .env("JOBCENTER_BIN", env!("CARGO_BIN_EXE_jobcenter"))
        .output()
        .expect("run scripts/bench");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "scripts/bench failed:\n{stderr}");
    let report = std::fs::read_to_string(&report).expect("the report");
    for expected in [
        "100000 jobs, 10 projects, \"big\" 10000",
        "Plans: 108 plans checked",
        "| big | offset 9000 | 10000 |",
        "| p0001 | no filter | 10000 |",
        "| big | job status, one job polled (import, files) |",
        "| p0001 | job status, 2 jobs in turn (imports, files) |",
        "Enqueue: create-graph operations",
        "| concurrency 16 |",
        "| W1 enqueue, one job per call, 16 clients |",
        "Exact counts: every job_count above equals count(*)",
    ] {
        assert!(
            report.contains(expected),
            "{expected:?} missing from:\n{report}"
        );
    }
    assert!(!report.contains("FAILED"), "{report}");
}
