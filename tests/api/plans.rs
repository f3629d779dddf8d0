//! Plans of the job list on seeded data: every statement shape (filters, shallow and deep
//! offsets, custom and generic plans) reads an index in list order, never
//! the whole jobs table; the claim reads its batch off the queue's index; the fold reads
//! its deltas once per statement; and the checks do catch a bad plan.

use chrono::NaiveDate;
use jobcenter::cli::seed::{SeedArgs, run as seed};
use jobcenter::domain::ProjectId;
use jobcenter::service::counts::fold_all;
use jobcenter::store::plans::{
    PlanCheck, check_claim_plans, check_fold_plans, check_list_plans, check_status_plans,
};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use crate::helpers::{fresh_database, insert_jobs_one_per_millisecond};

/// A pool on `url` whose connections have the service's session settings (the plans
/// checked are the service's).
async fn service_pool(url: &str) -> PgPool {
    PgPool::connect_with(jobcenter::db::session_options(url.parse().unwrap()))
        .await
        .unwrap()
}

/// A database with one large project among smaller ones, analyzed.
async fn seeded() -> PgPool {
    let url = fresh_database().await;
    let pool = service_pool(&url).await;
    let args = |project: &str, projects: Option<u32>, jobs: u64| SeedArgs {
        project: project.to_owned(),
        projects,
        jobs,
        graphs: 20,
        days: 1095,
        seed: 7,
        until: NaiveDate::from_ymd_opt(2026, 11, 1),
        batch: 50_000,
    };
    seed(&pool, &args("big", None, 60_000)).await.unwrap();
    seed(&pool, &args("p", Some(20), 40_000)).await.unwrap();
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();
    pool
}

async fn checks(pool: &PgPool) -> Vec<PlanCheck> {
    let mut conn = pool.acquire().await.unwrap();
    let big = ProjectId::parse("big").unwrap();
    check_list_plans(&mut conn, &big, 54_000).await.unwrap()
}

#[tokio::test]
async fn every_list_statement_reads_an_index_in_list_order() {
    let pool = seeded().await;
    let checks = checks(&pool).await;
    // 25 filter shapes (16 combinations, those with a start day on a month's first day and
    // in its middle, one range within a month) x 2 offsets x custom/generic plans.
    assert_eq!(checks.len(), 100);
    assert!(
        checks
            .iter()
            .any(|c| c.shape.contains("offset=54000 generic"))
    );
    let bad: Vec<_> = checks.iter().filter(|c| c.problem.is_some()).collect();
    assert!(bad.is_empty(), "bad plans: {bad:#?}");

    // The job-status statement, as the coalescing reader runs it (a generic plan).
    let mut conn = pool.acquire().await.unwrap();
    let status = check_status_plans(&mut conn).await.unwrap();
    assert_eq!(status.len(), 1);
    assert!(status.iter().all(|c| c.problem.is_none()), "{status:#?}");
    drop(conn);

    // Without the index of the unfiltered list the same check must fail.
    sqlx::query("DROP INDEX jobs_by_project")
        .execute(&pool)
        .await
        .unwrap();
    let checks = self::checks(&pool).await;
    let bad: Vec<_> = checks
        .iter()
        .filter(|c| c.problem.is_some())
        .map(|c| c.shape.as_str())
        .collect();
    assert!(
        bad.iter().any(|shape| shape.starts_with("no filter")),
        "no plan flagged without jobs_by_project: {bad:?}"
    );
}

/// The claim with 2,000 jobs waiting behind 20,000 that ran reads its batch off
/// `jobs_claimable` in order; without the statistics of migration V15 the planner reads
/// every pending job and sorts them, and the check says so.
#[tokio::test]
async fn the_claim_reads_its_batch_off_the_queue_index() {
    let pool = service_pool(&fresh_database().await).await;
    sqlx::raw_sql(
        r#"INSERT INTO jobs (id, project_id, job_type, job_name, status, begin_time, end_time, payload)
           SELECT gen_random_uuid(), 'queue', 'Noop', 'Noop', 'success', now(), now(), '{"batch": "a"}'
           FROM generate_series(1, 20000);
           INSERT INTO jobs (id, project_id, job_type, job_name, status, begin_time, payload)
           SELECT gen_random_uuid(), 'queue', 'Noop', 'Noop', 'pending', now(), '{"batch": "b"}'
           FROM generate_series(1, 2000);
           ANALYZE jobs"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let claim = check_claim_plans(&mut conn).await.unwrap();
    assert_eq!(claim.len(), 2);
    assert!(claim.iter().all(|c| c.problem.is_none()), "{claim:#?}");

    sqlx::raw_sql(
        r"DO $$
          DECLARE s text;
          BEGIN
              FOR s IN SELECT stxname FROM pg_statistic_ext WHERE stxname LIKE 'jobs\_%\_payload\_kind'
              LOOP
                  EXECUTE format('DROP STATISTICS %I', s);
              END LOOP;
          END $$;
          ANALYZE jobs",
    )
        .execute(&mut *conn)
        .await
        .unwrap();
    let claim = check_claim_plans(&mut conn).await.unwrap();
    let custom = claim.iter().find(|c| c.shape == "claim custom").unwrap();
    assert!(
        custom
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("every pending job")),
        "{claim:#?}"
    );
}

/// The claim's generic plan for a batch of 10 with the horizon `horizon` (an SQL
/// expression), run under EXPLAIN ANALYZE and rolled back, on months from three back to
/// the next one, 50 pending jobs this month and, with `history`, 100 finished jobs in
/// each of the three past months.
async fn explain_claim(conn: &mut PgConnection, history: bool, horizon: &str) -> Value {
    sqlx::raw_sql(
        r#"SELECT jobs_add_month((now() - make_interval(months => m))::date)
           FROM generate_series(-1, 3) AS m;
           INSERT INTO jobs (id, project_id, job_type, job_name, status, begin_time, payload)
           SELECT gen_random_uuid(), 'queue', 'Noop', 'Noop', 'pending', now(), '{"a": 1}'
           FROM generate_series(1, 50)"#,
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    if history {
        sqlx::raw_sql(
            r#"INSERT INTO jobs (id, project_id, job_type, job_name, status, begin_time, end_time, payload)
               SELECT gen_random_uuid(), 'queue', 'Noop', 'Noop', 'success',
                      now() - make_interval(months => m), now(), '{"a": 1}'
               FROM generate_series(1, 100), generate_series(1, 3) AS m"#,
        )
        .execute(&mut *conn)
        .await
        .unwrap();
    }
    let claim = include_str!("../../src/store/sql/claim.sql");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ANALYZE jobs; SET plan_cache_mode = force_generic_plan; PREPARE claim AS {claim}"
    )))
    .execute(&mut *conn)
    .await
    .unwrap();
    sqlx::raw_sql("BEGIN").execute(&mut *conn).await.unwrap();
    let explained = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE claim('w', '{{Noop}}', 10, 30, NULL, {horizon})"
    )))
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await.unwrap();
    explained
}

/// The name of this month's part of `jobs`.
async fn this_month(conn: &mut PgConnection) -> String {
    sqlx::query_scalar("SELECT 'jobs_' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')")
        .fetch_one(conn)
        .await
        .unwrap()
}

/// The claim's update probes only the months its batch came from: with jobs in three past
/// months and the batch in this one, the generic plan's scans of the other months never
/// run (pruned as the statement runs, on the picked rows' begin-time range).
#[tokio::test]
async fn the_claim_updates_only_the_months_of_its_batch() {
    let pool = service_pool(&fresh_database().await).await;
    let mut conn = pool.acquire().await.unwrap();
    let explained = explain_claim(&mut conn, true, "NULL").await;

    let update = &explained[0]["Plan"];
    assert_eq!(update["Node Type"], "ModifyTable");
    assert_eq!(update["Actual Rows"], 10);
    let months = update["Plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["Parent Relationship"] == "Outer")
        .and_then(|n| n["Plans"].as_array())
        .expect("the update reads its months through an Append");
    let probed: Vec<&str> = months
        .iter()
        .filter(|scan| scan["Actual Loops"].as_u64() != Some(0))
        .map(|scan| scan["Relation Name"].as_str().unwrap())
        .collect();
    let this_month = this_month(&mut conn).await;
    assert!(months.len() >= 5, "{explained:#}");
    assert_eq!(probed, [this_month.as_str()], "{explained:#}");
}

/// With the queue's horizon at this month, the claim's generic plan scans no older month:
/// the picker and the update prune them as the statement starts.
#[tokio::test]
async fn the_claim_scans_no_month_before_its_horizon() {
    let pool = service_pool(&fresh_database().await).await;
    let mut conn = pool.acquire().await.unwrap();
    let explained = explain_claim(&mut conn, false, "date_trunc('month', now(), 'UTC')").await;

    assert_eq!(explained[0]["Plan"]["Actual Rows"], 10);
    fn scanned<'a>(node: &'a Value, months: &mut Vec<&'a str>) {
        if let Some(name) = node["Relation Name"].as_str() {
            months.push(name);
        }
        for child in node["Plans"].as_array().into_iter().flatten() {
            scanned(child, months);
        }
    }
    let mut months = Vec::new();
    scanned(&explained[0]["Plan"], &mut months);
    let this_month = this_month(&mut conn).await;
    let scans: Vec<&str> = months
        .into_iter()
        .filter(|m| m.starts_with("jobs_"))
        .collect();
    assert!(scans.contains(&this_month.as_str()), "{explained:#}");
    assert!(
        scans.iter().all(|m| *m >= this_month.as_str()),
        "an older month is scanned: {scans:?}"
    );
}

/// The fold reads the deltas once per statement even when planned on the estimate a vacuum
/// leaves on a nearly empty delta table (about no rows over its pages), and then folds
/// thousands of deltas, each job its own, into exact counts.
#[tokio::test]
async fn the_fold_reads_its_deltas_once_whatever_their_estimate() {
    let pool = service_pool(&fresh_database().await).await;
    let today = chrono::Utc::now().date_naive();
    jobcenter::store::months::add_months(&pool, today - chrono::Days::new(1), today)
        .await
        .unwrap();
    // One live delta at the table's end keeps the vacuum from truncating it.
    sqlx::raw_sql(
        "INSERT INTO job_count_deltas SELECT 'stale', NULL, 'success', now(), 'infinity', 0
         FROM generate_series(1, 3000);
         INSERT INTO job_count_deltas VALUES ('stale', NULL, 'running', now(), 'infinity', 0);
         DELETE FROM job_count_deltas WHERE status = 'success'",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::raw_sql("VACUUM job_count_deltas")
        .execute(&pool)
        .await
        .unwrap();
    let (pages, rows): (i32, f32) = sqlx::query_as(
        "SELECT relpages, reltuples FROM pg_class WHERE relname = 'job_count_deltas'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(pages > 10 && rows <= 1.0, "{pages} pages, {rows} rows");
    // Each job begins at its own millisecond: one delta per job.
    sqlx::raw_sql(sqlx::AssertSqlSafe(insert_jobs_one_per_millisecond(
        "many", 5000,
    )))
    .execute(&pool)
    .await
    .unwrap();

    let mut conn = pool.acquire().await.unwrap();
    let fold = check_fold_plans(&mut conn).await.unwrap();
    assert_eq!(fold.len(), 5);
    assert!(fold.iter().all(|c| c.problem.is_none()), "{fold:#?}");
    assert!(fold_all(&mut conn).await.unwrap());
    let counted = |table: &'static str| {
        let statement = format!(
            "SELECT sum(n)::int8 FROM {table}
             WHERE project_id = 'many' AND graph_key = '*' AND status_key = '*'"
        );
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<i64>>(sqlx::AssertSqlSafe(statement))
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    for table in [
        "job_counts_total",
        "job_counts_month",
        "job_counts_day",
        "job_counts_segment",
    ] {
        assert_eq!(counted(table).await, Some(5000), "{table}");
    }
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM job_count_deltas")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}
