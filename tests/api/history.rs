//! The history in monthly partitions (migration V16): months made ahead, whole months
//! dropped by retention with their file rows, rejects, keys, logs and counts, the edge month
//! pruned row by row, and an existing database's rows moved by the migration.

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeDelta, Utc};
use jobcenter::config::RetentionSettings;
use jobcenter::domain::{JobStatus, NewJob};
use jobcenter::storage::Storage;
use jobcenter::store::months;
use jobcenter::worker::retention::{self, Policy};
use sqlx::PgPool;
use uuid::Uuid;

use crate::counts::fold_everything;
use crate::helpers::{TestApp, job, storage_root, test_settings};
use crate::retention::assert_counts_exact;

async fn count(pool: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// The first day of the month `back` months before this one.
fn months_ago(back: u32) -> NaiveDate {
    months::month_of(Utc::now().date_naive()) - Months::new(back)
}

fn at(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    day.and_hms_opt(hour, 0, 0).unwrap().and_utc()
}

/// Jobs of `status` on graph `g1`, one a day through the month of `month`.
fn month_of_jobs(month: NaiveDate, status: JobStatus) -> Vec<NewJob> {
    (0..28)
        .map(|d| {
            job(
                "g1",
                "ImportGraph",
                status,
                at(month + TimeDelta::days(d), 9),
            )
        })
        .collect()
}

/// A file row with a reject log (in storage) for `job`, a reject, an idempotency key and a
/// retry key, all of the job's month.
async fn with_rows(app: &TestApp, root: &std::path::Path, job: Uuid) -> std::path::PathBuf {
    let log = format!("bucket/import-logs/{}/vertex-0-v.csv.log", job.simple());
    for sql in [
        "UPDATE jobs SET idempotency_key = 'key-' || id WHERE id = $1 AND $2 <> ''",
        "INSERT INTO job_files (job_id, begin_time, kind, ordinal, path, log, status)
         SELECT id, begin_time, 'vertex', 1, 'bucket/v.csv', $2, 'partFailed' FROM jobs WHERE id = $1",
        "INSERT INTO import_rejects (job_id, begin_time, kind, ordinal, line, reason_kind, reason)
         SELECT id, begin_time, 'vertex', 1, 3, 'bad_id', 'bad id' FROM jobs WHERE id = $1",
        "INSERT INTO job_idempotency_keys (project_id, idempotency_key, job_id, begin_time)
         SELECT project_id, 'key-' || id, id, begin_time FROM jobs WHERE id = $1 AND $2 <> ''",
        "INSERT INTO job_retries (retry_of, retried_begin, job_id)
         SELECT id, begin_time, gen_random_uuid() FROM jobs WHERE id = $1 AND $2 <> ''",
    ] {
        sqlx::query(sql)
            .bind(job)
            .bind(&log)
            .execute(&app.pool)
            .await
            .unwrap();
    }
    let file = root.join(&log);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "line 3: bad id\n").unwrap();
    file
}

#[tokio::test]
async fn the_service_makes_the_current_and_next_months() {
    let app = TestApp::spawn_reader().await;
    let made = months::months(&app.pool).await.unwrap();
    let this = months_ago(0);
    assert!(made.contains(&this), "{made:?}");
    assert!(made.contains(&months::next_month(this)), "{made:?}");
    // Making them again makes nothing.
    let again = months::add_months(&app.pool, this, months::next_month(this))
        .await
        .unwrap();
    assert_eq!(again, 0);
}

#[tokio::test]
async fn retention_drops_whole_months_and_prunes_the_edge_row_by_row() {
    let app = TestApp::spawn_reader().await;
    let db: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let root = storage_root(&format!("x/{db}"));
    let storage = Storage::local(&root).unwrap();

    // Months 7 and 6 back: finished, they go whole. Month 5 back: one job still running
    // holds it (and every younger month) back, so its finished jobs go row by row. Jobs
    // of the last 20 days stay.
    let (gone_a, gone_b, held) = (months_ago(7), months_ago(6), months_ago(5));
    let mut jobs = month_of_jobs(gone_a, JobStatus::Success);
    jobs.extend(month_of_jobs(gone_b, JobStatus::Failed));
    let held_jobs = month_of_jobs(held, JobStatus::PartiallyFailed);
    jobs.extend(held_jobs.clone());
    let running = job(
        "g2",
        "ImportGraph",
        JobStatus::Running,
        at(held + TimeDelta::days(3), 1),
    );
    let recent: Vec<NewJob> = (1..20)
        .map(|d| {
            job(
                "g1",
                "StopGraph",
                JobStatus::Success,
                Utc::now() - TimeDelta::days(d),
            )
        })
        .collect();
    jobs.push(running.clone());
    jobs.extend(recent.clone());
    app.insert(&jobs).await;
    let gone_log = with_rows(&app, &root, jobs[3].id.0).await;
    let held_log = with_rows(&app, &root, running.id.0).await;
    fold_everything(&app.pool).await;
    assert_counts_exact(&app).await;

    let settings = RetentionSettings {
        max_age_days: 30,
        batch_size: 10,
        ..test_settings("postgres://x/y").retention
    };
    let policy = Policy::from_settings(&settings, Utc::now());
    let deleted = retention::prune(&app.pool, &storage, &policy, None, |_| {})
        .await
        .unwrap();
    assert_eq!(
        deleted,
        28 + 28 + 28,
        "two months whole, the held month's finished jobs"
    );

    let left = months::months(&app.pool).await.unwrap();
    assert!(
        !left.contains(&gone_a) && !left.contains(&gone_b),
        "{left:?}"
    );
    assert!(left.contains(&held), "{left:?}");
    assert!(
        !gone_log.exists(),
        "the dropped month's reject log is deleted"
    );
    assert!(held_log.exists(), "the running job's log stays");
    assert_eq!(count(&app.pool, "SELECT count(*) FROM jobs").await, 1 + 19);
    assert_eq!(count(&app.pool, "SELECT count(*) FROM job_files").await, 1);
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM import_rejects").await,
        1
    );
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM job_idempotency_keys").await,
        1
    );
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM job_retries").await,
        1
    );
    let month_rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM job_counts_month WHERE month IN ($1, $2)")
            .bind(gone_a)
            .bind(gone_b)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(month_rows, 0, "the dropped months' counts are gone");
    assert_counts_exact(&app).await;
    fold_everything(&app.pool).await;
    assert_counts_exact(&app).await;
    let (_, body) = app.list("limit=100").await;
    assert_eq!(body["job_count"], 20, "{body}");

    // A job deleted by hand takes its rows with it, as a cascade did (V17).
    sqlx::query("DELETE FROM jobs WHERE id = $1")
        .bind(running.id.0)
        .execute(&app.pool)
        .await
        .unwrap();
    for table in [
        "SELECT count(*) FROM job_files",
        "SELECT count(*) FROM import_rejects",
        "SELECT count(*) FROM job_idempotency_keys",
        "SELECT count(*) FROM job_retries",
    ] {
        assert_eq!(count(&app.pool, table).await, 0, "{table}");
    }
    assert_counts_exact(&app).await;
}

#[tokio::test]
async fn the_migration_moves_an_existing_history_into_months() {
    let url = crate::helpers::empty_database().await;
    jobcenter::db::migrate_to(&url, std::time::Duration::from_secs(30), Some(15))
        .await
        .unwrap();
    let pool = PgPool::connect(&url).await.unwrap();
    // 3,000 jobs over 10 months under V15 (random ids, as older services and seeds made),
    // with file rows, rejects, idempotency keys and retries.
    for statement in [
        "INSERT INTO jobs (id, project_id, graph_id, graph_name, job_type, job_name, status,
                           begin_time, end_time, idempotency_key)
         SELECT gen_random_uuid(), 'moved', ('00000000-0000-0000-0000-00000000000' || (i % 4))::uuid,
                'graph' || (i % 4), 'GraphManagement', 'ImportGraph',
                'success', b.t, b.t + interval '1 hour', CASE WHEN i % 7 = 0 THEN 'k' || i END
         FROM generate_series(1, 3000) AS i
         CROSS JOIN LATERAL (SELECT timestamptz '2025-03-01' + make_interval(hours => i * 2) AS t) AS b",
        "INSERT INTO job_files (job_id, kind, ordinal, path, status)
         SELECT id, 'edge', 1, 'bucket/e.csv', 'success' FROM jobs WHERE idempotency_key IS NULL",
        "INSERT INTO import_rejects (job_id, kind, ordinal, line, reason_kind, reason)
         SELECT id, 'edge', 1, 7, 'bad_line', 'bad' FROM jobs WHERE idempotency_key IS NOT NULL",
        "UPDATE jobs r SET retry_of = o.id FROM jobs o
         WHERE r.idempotency_key = 'k' || 700 AND o.idempotency_key = 'k' || 7",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    fold_everything(&pool).await;
    let files_before = count(&pool, "SELECT count(*) FROM job_files").await;

    jobcenter::db::migrate_to(&url, std::time::Duration::from_secs(30), None)
        .await
        .unwrap();
    assert_eq!(count(&pool, "SELECT count(*) FROM jobs").await, 3000);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM job_files f JOIN jobs j ON j.id = f.job_id AND j.begin_time = f.begin_time").await,
        files_before
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM import_rejects r JOIN jobs j ON j.id = r.job_id AND j.begin_time = r.begin_time").await,
        3000 / 7
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM job_idempotency_keys").await,
        3000 / 7
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM job_retries").await, 1);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM ONLY jobs").await,
        0,
        "every row is in a month's partition"
    );
    let made = months::months(&pool).await.unwrap();
    let first = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
    assert_eq!(made.first(), Some(&first), "{made:?}");
    let this = months_ago(0);
    assert!(made.contains(&months::next_month(this)), "{made:?}");
    let months_apart = |a: NaiveDate, b: NaiveDate| {
        (b.year() - a.year()) * 12 + b.month() as i32 - a.month() as i32
    };
    assert_eq!(made.len() as i32, months_apart(first, this) + 2, "{made:?}");
    assert_eq!(
        jobcenter::store::counts::mismatches(&pool).await.unwrap(),
        0
    );

    // The service runs on it: the list's total and a moved job's status.
    let mut settings = test_settings(&url);
    settings.worker.concurrency = 0;
    let app = TestApp::spawn_with(settings).await;
    let token = app.token("moved", &["readonly"]);
    let (_, body) = app.get("/v2/moved/graphs/jobs?limit=2", Some(&token)).await;
    assert_eq!(body["job_count"], 3000, "{body}");
    let (id, graph): (Uuid, Uuid) =
        sqlx::query_as("SELECT id, graph_id FROM jobs ORDER BY begin_time LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    let path = format!("/v2/moved/graphs/{graph}/jobs/{}/status", id.simple());
    let (status, body) = app.get(&path, Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "success", "{body}");
}
