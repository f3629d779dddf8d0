//! Retention: old finished jobs go with their file rows and reject logs; recent jobs, old
//! pending/running jobs, and jobs something still needs stay; every count stays exact.

use chrono::{TimeDelta, Utc};
use jobcenter::config::RetentionSettings;
use jobcenter::domain::JobStatus;
use jobcenter::domain::NewJob;
use jobcenter::storage::Storage;
use jobcenter::worker::retention::{self, Batch, Policy};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{PROJECT, TestApp, job, storage_root, test_settings};

/// A job of `graph` that began `days_ago` days ago (final ones end 10 minutes later).
fn aged(graph: &str, status: JobStatus, days_ago: i64) -> NewJob {
    job(
        graph,
        "ImportGraph",
        status,
        Utc::now() - TimeDelta::days(days_ago),
    )
}

fn settings(max_age_days: u32, batch_size: u32) -> RetentionSettings {
    RetentionSettings {
        max_age_days,
        batch_size,
        ..test_settings("postgres://x/y").retention
    }
}

/// Gives `job` a file row whose reject log exists in storage; answers the log's file.
async fn with_log(app: &TestApp, root: &std::path::Path, job: Uuid) -> std::path::PathBuf {
    let log = format!("bucket/import-logs/{}/vertex-0-v.csv.log", job.simple());
    sqlx::query(
        "INSERT INTO job_files (job_id, begin_time, kind, ordinal, path, log, status, total_lines,
                                failed_lines, successful_lines)
         SELECT $1, j.begin_time, f.* FROM jobs j,
                (VALUES ('vertex', 0, 'bucket/v.csv', $2, 'partFailed', 10, 1, 9),
                        ('edge', 0, 'bucket/e.csv', NULL, 'success', 5, 0, 5)) AS f
         WHERE j.id = $1",
    )
    .bind(job)
    .bind(&log)
    .execute(&app.pool)
    .await
    .unwrap();
    let file = root.join(&log);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "line 3: bad id\n").unwrap();
    file
}

async fn exists(pool: &PgPool, id: Uuid) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM jobs WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Every count of the count store (deltas included) agrees with `count(*)` of its key, and
/// so does the list API's `job_count` for the project, each status and each graph.
pub async fn assert_counts_exact(app: &TestApp) {
    let mismatches = jobcenter::store::counts::mismatches(&app.pool)
        .await
        .unwrap();
    assert_eq!(mismatches, 0, "the count store disagrees with count(*)");
    let total = count(
        &app.pool,
        &format!("SELECT count(*) FROM jobs WHERE project_id = '{PROJECT}'"),
    )
    .await;
    let (_, body) = app.list("limit=1").await;
    assert_eq!(body["job_count"], total, "{body}");
    for (filter, status) in [
        ("waiting", "pending"),
        ("running", "running"),
        ("success", "success"),
        ("partiallyFailed", "partiallyFailed"),
        ("failed", "failed"),
    ] {
        let n = count(
            &app.pool,
            &format!(
                "SELECT count(*) FROM jobs WHERE project_id = '{PROJECT}' AND status = '{status}'"
            ),
        )
        .await;
        let (_, body) = app.list(&format!("status={filter}&limit=1")).await;
        assert_eq!(body["job_count"], n, "status {status}: {body}");
    }
    let graphs: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT graph_name FROM jobs WHERE project_id = $1 AND graph_name IS NOT NULL",
    )
    .bind(PROJECT)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    for graph in graphs {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM jobs WHERE project_id = $1 AND graph_name = $2",
        )
        .bind(PROJECT)
        .bind(&graph)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        let (_, body) = app.list(&format!("graph_name={graph}&limit=1")).await;
        assert_eq!(body["job_count"], n, "graph {graph}: {body}");
    }
}

#[tokio::test]
async fn old_finished_jobs_go_with_their_files_and_logs_and_counts_stay_exact() {
    let app = TestApp::spawn_reader().await;
    let url: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let root = storage_root(&format!("x/{url}"));
    let storage = Storage::local(&root).unwrap();

    let mut doomed = Vec::new();
    for (graph, status) in [
        ("g1", JobStatus::Success),
        ("g1", JobStatus::Success),
        ("g2", JobStatus::Success),
        ("g1", JobStatus::Failed),
        ("g2", JobStatus::PartiallyFailed),
        ("g2", JobStatus::PartiallyFailed),
        ("g3", JobStatus::Failed),
    ] {
        doomed.push(aged(graph, status, 40));
    }
    let kept = vec![
        aged("g1", JobStatus::Success, 5),
        aged("g2", JobStatus::Failed, 29),
        aged("g1", JobStatus::Pending, 300),
        aged("g2", JobStatus::Running, 300),
    ];
    // A retry whose original is still there stays while the original does; a job still
    // named as a graph's operation in flight stays.
    let original = aged("g3", JobStatus::Failed, 50);
    let retry = aged("g3", JobStatus::Success, 45);
    let active = aged("g4", JobStatus::Success, 60);
    app.insert(&doomed).await;
    app.insert(&kept).await;
    app.insert(&[original.clone(), retry.clone(), active.clone()])
        .await;
    sqlx::query("UPDATE jobs SET retry_of = $1 WHERE id = $2")
        .bind(original.id.0)
        .bind(retry.id.0)
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO graphs (id, project_id, name, status, data_store_version, graph_size_type_index,
                             replication, arch, created, updated, active_job_id)
         VALUES ($1, $2, 'g4', 200, '2.3.18', 1, 3, 'x86_64', now(), now(), $3)",
    )
    .bind(Uuid::new_v4())
    .bind(PROJECT)
    .bind(active.id.0)
    .execute(&app.pool)
    .await
    .unwrap();
    let mut doomed_logs = Vec::new();
    for j in doomed.iter().skip(3) {
        doomed_logs.push(with_log(&app, &root, j.id.0).await);
    }
    let kept_log = with_log(&app, &root, kept[1].id.0).await;
    let before = count(&app.pool, "SELECT count(*) FROM jobs").await;
    assert_counts_exact(&app).await;

    let policy = Policy::from_settings(&settings(30, 2), Utc::now());
    let planned = retention::dry_run(&app.pool, &policy).await.unwrap();
    let planned: Vec<(&str, i64)> = planned.iter().map(|(s, c)| (s.as_str(), c.count)).collect();
    // success: 3 doomed (the retry waits for its original); failed: 2 doomed + the original.
    assert_eq!(
        planned,
        [("success", 3), ("partiallyFailed", 2), ("failed", 3)]
    );
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM jobs").await,
        before,
        "a dry run deletes nothing"
    );

    // A log object already gone is no error.
    std::fs::remove_file(&doomed_logs[0]).unwrap();
    let mut batches: Vec<Batch> = Vec::new();
    let deleted = retention::prune(&app.pool, &storage, &policy, None, |b| {
        batches.push(b.clone())
    })
    .await
    .unwrap();
    assert_eq!(deleted, 8);
    assert!(batches.iter().all(|b| b.jobs <= 2), "{batches:?}");
    assert_eq!(
        batches.len(),
        5,
        "2+1 success, 2 partiallyFailed, 2+1 failed: {batches:?}"
    );
    assert_eq!(batches.iter().map(|b| b.logs_deleted).sum::<usize>(), 4);

    for j in &doomed {
        assert!(
            !exists(&app.pool, j.id.0).await,
            "{:?} {:?}",
            j.status,
            j.begin_time
        );
    }
    assert!(!exists(&app.pool, original.id.0).await);
    for j in kept.iter().chain([&retry, &active]) {
        assert!(
            exists(&app.pool, j.id.0).await,
            "{:?} {:?}",
            j.status,
            j.begin_time
        );
    }
    let orphans = count(&app.pool, "SELECT count(*) FROM job_files f WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = f.job_id)").await;
    assert_eq!(orphans, 0);
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM job_files").await,
        2,
        "the kept job's files stay"
    );
    assert!(doomed_logs.iter().all(|f| !f.exists()));
    assert!(kept_log.exists());
    assert_counts_exact(&app).await;

    // Next round the retry goes too, its original being gone.
    let again = retention::prune(&app.pool, &storage, &policy, None, |_| {})
        .await
        .unwrap();
    assert_eq!(again, 1);
    assert!(!exists(&app.pool, retry.id.0).await);
    assert!(exists(&app.pool, active.id.0).await);
    assert_counts_exact(&app).await;
}

#[tokio::test]
async fn each_final_status_may_have_its_own_age() {
    let app = TestApp::spawn_reader().await;
    app.insert(&[
        aged("g1", JobStatus::Success, 20),
        aged("g1", JobStatus::Failed, 20),
        aged("g1", JobStatus::Failed, 100),
        aged("g1", JobStatus::PartiallyFailed, 20),
    ])
    .await;
    let cfg = RetentionSettings {
        success_days: 10,
        failed_days: 90,
        ..settings(30, 100)
    };
    let planned = retention::dry_run(&app.pool, &Policy::from_settings(&cfg, Utc::now()))
        .await
        .unwrap();
    let planned: Vec<(&str, i64)> = planned.iter().map(|(s, c)| (s.as_str(), c.count)).collect();
    assert_eq!(
        planned,
        [("success", 1), ("partiallyFailed", 0), ("failed", 1)]
    );
}

/// Runs the binary with `args` on `url` and answers its stdout, without blocking the test's
/// runtime: the service the test started runs its fold task there, and a prune waits for
/// the fold lock (a fold frozen mid-statement would hold it for ever).
async fn cli(url: &str, args: &[&str]) -> String {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_jobcenter"))
        .args(args)
        .env_remove("RUST_LOG")
        .env("JOBCENTER_CONFIG_DIR", "/nonexistent")
        .env("JOBCENTER__DATABASE__URL", url)
        .env("JOBCENTER__STORAGE__ROOT", storage_root(url))
        .env("JOBCENTER__LOG__LEVEL", "warn")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The first number on each line starting with `prefix`, with the status word after it.
fn counts(out: &str, prefix: &str) -> Vec<(i64, String)> {
    out.lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .filter_map(|rest| {
            let mut words = rest.split_whitespace();
            let n = words.next()?.parse().ok()?;
            Some((n, words.next()?.to_owned()))
        })
        .collect()
}

#[tokio::test]
async fn prune_on_seeded_jobs_uses_the_index_and_keeps_counts_exact() {
    let url = crate::helpers::fresh_database().await;
    cli(
        &url,
        &[
            "seed",
            "--project",
            PROJECT,
            "--jobs",
            "3000",
            "--days",
            "60",
            "--graphs",
            "5",
        ],
    )
    .await;
    let app = TestApp::spawn_with({
        let mut settings = test_settings(&url);
        settings.worker.concurrency = 0;
        settings
    })
    .await;
    sqlx::query("ANALYZE jobs")
        .execute(&app.pool)
        .await
        .unwrap();
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT j.id FROM jobs j
         WHERE j.status = 'success' AND j.end_time IS NOT NULL AND j.end_time < now() - interval '30 days'
           AND NOT EXISTS (SELECT 1 FROM graphs g WHERE g.active_job_id = j.id)
           AND NOT EXISTS (SELECT 1 FROM jobs o WHERE o.id = j.retry_of
               AND o.begin_time BETWEEN job_begin_min(j.retry_of) AND job_begin_max(j.retry_of))
         ORDER BY j.end_time LIMIT 50 FOR UPDATE SKIP LOCKED",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let plan = plan.join("\n");
    // jobs_ended, on each month's partition.
    assert!(plan.contains("_status_end_time_idx"), "{plan}");
    // (A month made ahead is empty: the planner scans it at no cost.)
    assert!(
        plan.lines()
            .filter(|l| l.contains("Seq Scan on jobs"))
            .all(|l| l.contains("cost=0.00..0.00")),
        "{plan}"
    );

    let unfinished = "SELECT count(*) FROM jobs WHERE end_time IS NULL";
    let unfinished_before = count(&app.pool, unfinished).await;
    let total_before = count(&app.pool, "SELECT count(*) FROM jobs").await;
    let old = count(
        &app.pool,
        "SELECT count(*) FROM jobs WHERE end_time < now() - interval '30 days'",
    )
    .await;
    assert!(old > 500, "the seed spreads jobs over 60 days: {old}");

    let dry = cli(&url, &["prune", "--dry-run", "--max-age-days", "30"]).await;
    let planned = counts(&dry, "would delete");
    assert_eq!(planned.len(), 3, "{dry}");
    let planned_total: i64 = planned.iter().map(|(n, _)| n).sum();
    assert!((planned_total - old).abs() <= 1, "{dry} vs {old}");
    assert!(dry.contains("nothing deleted"), "{dry}");
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM jobs").await,
        total_before
    );

    let wet = cli(
        &url,
        &["prune", "--max-age-days", "30", "--batch-size", "400"],
    )
    .await;
    let batches = counts(&wet, "deleted");
    assert!(batches.len() >= 3, "{wet}");
    let months = wet.lines().filter(|l| l.contains("dropped whole")).count();
    assert!(months >= 1, "the seed's oldest month goes whole: {wet}");
    let rows: Vec<&str> = wet
        .lines()
        .filter(|l| l.starts_with("deleted") && !l.contains("dropped whole"))
        .collect();
    assert!(!rows.is_empty(), "the edge month goes row by row: {wet}");
    assert!(batches.iter().all(|(n, _)| *n > 0), "{wet}");
    assert!(
        counts(&rows.join("\n"), "deleted")
            .iter()
            .all(|(n, _)| *n <= 400),
        "{wet}"
    );
    let deleted: i64 = batches.iter().map(|(n, _)| n).sum();
    assert!((deleted - planned_total).abs() <= 1, "{wet} vs {dry}");
    for (status, n) in planned.iter().map(|(n, s)| (s, n)) {
        let per_status: i64 = batches
            .iter()
            .filter(|(_, s)| s == status)
            .map(|(n, _)| n)
            .sum();
        assert!((per_status - n).abs() <= 1, "{status}: {wet} vs {dry}");
    }
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM jobs").await,
        total_before - deleted
    );
    assert_eq!(count(&app.pool, unfinished).await, unfinished_before);
    let left = count(
        &app.pool,
        "SELECT count(*) FROM jobs WHERE end_time < now() - interval '30 days 1 minute'",
    )
    .await;
    assert_eq!(left, 0);
    assert_counts_exact(&app).await;
}
