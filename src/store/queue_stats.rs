//! What the metrics read of the queue at scrape time.
//!
//! One statement over the `jobs_claimable` partial index (`WHERE status = 'pending'`): it
//! reads only the pending jobs, never the history, so its cost follows the queue's length
//! and not the table's. Seeded or recorded pending jobs (no payload, `run_after` infinity)
//! are not work and are not counted, as the claim does not take them.

use sqlx::PgExecutor;

use super::StoreError;

/// The ready (claimable now) jobs of one job type.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadyJobs {
    pub job_type: String,
    /// Pending jobs whose `run_after` has passed.
    pub count: i64,
    /// Seconds since the longest-waiting of them became claimable.
    pub oldest_age_secs: f64,
}

/// The ready jobs per job type (job types with none are absent).
pub async fn ready_jobs(conn: impl PgExecutor<'_>) -> Result<Vec<ReadyJobs>, StoreError> {
    let rows = sqlx::query_as!(
        ReadyJobs,
        r#"SELECT job_type, count(*) AS "count!",
                  extract(epoch FROM now() - min(run_after))::float8 AS "oldest_age_secs!"
           FROM jobs
           WHERE status = 'pending' AND run_after <= now()
             AND jsonb_typeof(payload) = 'object' AND payload <> '{}'::jsonb
           GROUP BY job_type"#
    )
    .fetch_all(conn)
    .await?;
    Ok(rows)
}
