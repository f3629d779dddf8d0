//! The count folder's upkeep of the delta table: once it has folded enough deltas it
//! vacuums the table itself (autovacuum may be off, or a minute away), and the counts
//! stay exact.

use std::time::{Duration, Instant};

use jobcenter::worker::fold::VACUUM_AFTER;

use crate::helpers::{TestApp, insert_jobs_one_per_millisecond};

#[tokio::test]
async fn the_folder_vacuums_the_delta_table_after_folding_many_deltas() {
    let app = TestApp::spawn().await;
    let vacuums = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'job_count_deltas'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    let before = vacuums().await;
    // Each job begins at its own millisecond, so each insert and each delete writes a
    // delta of its own: twice VACUUM_AFTER deltas, which cancel out, in one transaction.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "BEGIN; {}; DELETE FROM jobs WHERE project_id = 'vacuumed'; COMMIT;",
        insert_jobs_one_per_millisecond("vacuumed", VACUUM_AFTER)
    )))
    .execute(&app.pool)
    .await
    .unwrap();

    let started = Instant::now();
    while vacuums().await == before {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the delta table was never vacuumed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM job_count_deltas")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let token = app.token("vacuumed", &["readonly"]);
    let (status, body) = app
        .get("/v2/vacuumed/graphs/jobs?limit=10", Some(&token))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["job_count"], 0, "{body}");
}
