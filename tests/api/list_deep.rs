//! Deep pages at every grain of the count store: thousands of jobs over a few weeks
//! (dense days split into segments, ties, jobs ending in the next day and month,
//! unfinished ones), listed at random filters and offsets and compared with a plain sort
//! in SQL, while every count is still a delta, after the fold, and with new deltas on top
//! of folded counts.

use std::time::Duration;

use crate::counts::fold_everything;
use crate::helpers::{TestApp, fresh_database, test_settings};

/// Jobs for `project`: `n` over `days` days from 2026-01-20 (so they cross a month),
/// every status, four graphs and none, every fifth sharing its predecessor's begin time.
async fn insert_jobs(app: &TestApp, project: &str, n: i32, days: i32, salt: i32) {
    let first = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let last = first + chrono::TimeDelta::days(i64::from(days) + 20);
    jobcenter::store::months::add_months(&app.pool, first, last)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO jobs (id, project_id, graph_name, job_type, job_name, status, begin_time,
                           end_time)
         SELECT gen_random_uuid(), $1, g.name, 'GraphManagement', 'StopGraph', s.status, b.t,
                CASE WHEN s.status IN ('pending', 'running') THEN NULL
                     ELSE b.t + make_interval(hours => (i * 7 + $4) % 40) END
         FROM generate_series(1, $2) AS i
         CROSS JOIN LATERAL (SELECT timestamptz '2026-01-20'
             + make_interval(secs => ((CASE WHEN i % 5 = 0 THEN i - 1 ELSE i END) * 7919 + $4)
                                     % ($3 * 86400)) AS t) AS b
         CROSS JOIN LATERAL (SELECT (ARRAY['success', 'failed', 'partiallyFailed', 'pending',
                                           'running', 'success', 'success'])[(i + $4) % 7 + 1]
                                    AS status) AS s
         CROSS JOIN LATERAL (SELECT (ARRAY['ga', 'gb', 'gc', 'gd', NULL])[(i * 3 + $4) % 5 + 1]
                                    AS name) AS g",
    )
    .bind(project)
    .bind(n)
    .bind(days)
    .bind(salt)
    .execute(&app.pool)
    .await
    .unwrap();
}

/// `requests` list requests of `project` at random filters, limits and offsets (around
/// segment sizes, anywhere, at and past the end), each compared with the same filter
/// sorted by SQL: `job_count` and the page's ids.
pub async fn assert_pages_match_a_plain_sort(app: &TestApp, project: &str, requests: usize) {
    let token = app.token(project, &["readonly"]);
    let (first, last): (chrono::NaiveDate, chrono::NaiveDate) = sqlx::query_as(
        "SELECT min(begin_time)::date, max(coalesce(end_time, begin_time))::date
         FROM jobs WHERE project_id = $1",
    )
    .bind(project)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let span = (last - first).num_days().max(1);
    let mut rng = fastrand::Rng::with_seed(requests as u64);
    let statuses = [
        None,
        Some("success"),
        Some("failed"),
        Some("waiting"),
        Some("running"),
        Some("partiallyFailed"),
    ];
    let graphs = [None, Some("ga"), Some("gd")];
    for _ in 0..requests {
        let status = statuses[rng.usize(..statuses.len())];
        let graph = graphs[rng.usize(..graphs.len())];
        let day = |rng: &mut fastrand::Rng| first + chrono::Days::new(rng.u64(0..=span as u64));
        let mut start = rng.bool().then(|| day(&mut rng));
        let mut end = rng.bool().then(|| day(&mut rng));
        if let (Some(s), Some(e)) = (start, end)
            && s > e
        {
            (start, end) = (end, start);
        }
        let stored_status = status.map(|s| if s == "waiting" { "pending" } else { s });
        let rows: Vec<(uuid::Uuid,)> = sqlx::query_as(
            "SELECT id FROM jobs WHERE project_id = $1
               AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR graph_name = $3)
               AND ($4::date IS NULL OR begin_time >= $4::timestamp AT TIME ZONE 'UTC')
               AND ($5::date IS NULL OR end_time < ($5 + 1)::timestamp AT TIME ZONE 'UTC')
             ORDER BY begin_time DESC, id DESC",
        )
        .bind(project)
        .bind(stored_status)
        .bind(graph)
        .bind(start)
        .bind(end)
        .fetch_all(&app.pool)
        .await
        .unwrap();
        let total = rows.len();
        let offset = match rng.usize(0..6) {
            0 => rng.usize(0..130),
            1 => 127 + rng.usize(0..4),
            2 => total.saturating_sub(rng.usize(0..12)),
            3 => total + rng.usize(0..3),
            _ => rng.usize(0..=total),
        };
        let limit = [1, 10, 37, 300][rng.usize(0..4)];
        let mut query = format!("offset={offset}&limit={limit}");
        for (name, value) in [("status", status), ("graph_name", graph)] {
            if let Some(value) = value {
                query.push_str(&format!("&{name}={value}"));
            }
        }
        for (name, value) in [("start_time", start), ("end_time", end)] {
            if let Some(value) = value {
                query.push_str(&format!("&{name}={value}"));
            }
        }
        let (code, body) = app
            .get(&format!("/v2/{project}/graphs/jobs?{query}"), Some(&token))
            .await;
        assert_eq!(code, 200, "{query}: {body}");
        assert_eq!(body["job_count"], total as i64, "{query}");
        let want: Vec<String> = rows
            .iter()
            .skip(offset)
            .take(limit)
            .map(|(id,)| id.simple().to_string())
            .collect();
        assert_eq!(crate::helpers::ids(&body), want, "{query}");
    }
}

#[tokio::test]
async fn deep_pages_match_a_plain_sort_before_and_after_folding() {
    let mut settings = test_settings(&fresh_database().await);
    settings.worker.concurrency = 0;
    // The test folds itself.
    settings.counts.fold_interval_ms = 3_600_000;
    let app = TestApp::spawn_with(settings).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    insert_jobs(&app, "deep", 6000, 16, 0).await;
    assert_pages_match_a_plain_sort(&app, "deep", 60).await;

    fold_everything(&app.pool).await;
    let segments: i64 = sqlx::query_scalar("SELECT count(*) FROM job_segments")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        segments > 16,
        "dense days are split: {segments} segment starts"
    );
    assert_pages_match_a_plain_sort(&app, "deep", 60).await;

    // New deltas in split segments, on top of folded counts.
    insert_jobs(&app, "deep", 1500, 16, 3).await;
    sqlx::query(
        "UPDATE jobs SET status = 'success', end_time = begin_time + interval '3 hours'
                 WHERE project_id = 'deep' AND status = 'running' AND random() < 0.5",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    assert_pages_match_a_plain_sort(&app, "deep", 60).await;
    fold_everything(&app.pool).await;
    assert_eq!(crate::counts::mismatches(&app.pool).await, 0);
    assert_pages_match_a_plain_sort(&app, "deep", 40).await;
}
