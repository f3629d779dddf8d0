//! Retention: deleting finished jobs whose `end_time` is older than a cutoff, row by row
//! (the months that may go as a whole are dropped first: `store::months`).
//!
//! Policy:
//! - only final jobs (`success`, `partiallyFailed`, `failed`; exactly those with an
//!   `end_time`) are candidates, one status at a time, oldest first, through the index
//!   `jobs_ended (status, end_time)`: a batch never scans the table;
//! - a batch is one `DELETE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`
//!   statement (its own transaction), so concurrent pruners and writers never wait on each
//!   other, and the statement trigger of `jobs` keeps `job_day_counts` exact;
//!   `job_files`, `import_rejects`, the job's idempotency key and the retry key of the job
//!   go with their job, by the same statement's delete trigger (V17);
//! - kept although old: a job still named by a graph's `active_job_id` (an operation in
//!   flight points at it), and a retry whose original job (`retry_of`) still exists (the
//!   retry's row is what makes a second retry of the original a 409). Backups keep their
//!   `job_id` as a plain reference (no foreign key): it may outlive the job.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::StoreError;
use crate::domain::JobStatus;

/// The jobs of one status a prune would delete.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidates {
    pub count: i64,
    pub oldest_end: Option<DateTime<Utc>>,
    pub newest_end: Option<DateTime<Utc>>,
}

/// One deleted job and the reject-log objects its files named.
#[derive(Debug, Clone, PartialEq)]
pub struct PrunedJob {
    pub id: Uuid,
    pub end_time: DateTime<Utc>,
    pub logs: Vec<String>,
}

/// What [`delete_batch`] would delete, all batches together (for `prune --dry-run`).
pub async fn candidates(
    conn: impl PgExecutor<'_>,
    status: JobStatus,
    ended_before: DateTime<Utc>,
) -> Result<Candidates, StoreError> {
    let row = sqlx::query!(
        r#"SELECT count(*) AS "count!", min(j.end_time) AS oldest, max(j.end_time) AS newest
           FROM jobs j
           WHERE j.status = $1 AND j.end_time IS NOT NULL AND j.end_time < $2
             AND NOT EXISTS (SELECT 1 FROM graphs g WHERE g.active_job_id = j.id)
             AND NOT EXISTS (SELECT 1 FROM jobs o WHERE o.id = j.retry_of
                         AND o.begin_time BETWEEN job_begin_min(j.retry_of) AND job_begin_max(j.retry_of))"#,
        status.as_str(),
        ended_before,
    )
    .fetch_one(conn)
    .await?;
    Ok(Candidates {
        count: row.count,
        oldest_end: row.oldest,
        newest_end: row.newest,
    })
}

/// Deletes up to `limit` jobs of `status` that ended before `ended_before`, oldest first,
/// in one statement; answers them with their log paths (read in the statement's snapshot,
/// before its delete trigger removes their file rows, rejects and keys: migration V17). Fewer than `limit` means none are left.
pub async fn delete_batch(
    conn: impl PgExecutor<'_>,
    status: JobStatus,
    ended_before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<PrunedJob>, StoreError> {
    Ok(sqlx::query_as!(
        PrunedJob,
        r#"WITH gone AS (
               DELETE FROM jobs WHERE (id, begin_time) IN (
                   SELECT j.id, j.begin_time FROM jobs j
                   WHERE j.status = $1 AND j.end_time IS NOT NULL AND j.end_time < $2
                     AND NOT EXISTS (SELECT 1 FROM graphs g WHERE g.active_job_id = j.id)
                     AND NOT EXISTS (SELECT 1 FROM jobs o WHERE o.id = j.retry_of
                         AND o.begin_time BETWEEN job_begin_min(j.retry_of) AND job_begin_max(j.retry_of))
                   ORDER BY j.end_time
                   LIMIT $3
                   FOR UPDATE SKIP LOCKED)
               RETURNING id, begin_time, end_time)
           SELECT g.id AS "id!", g.end_time AS "end_time!",
                  ARRAY(SELECT f.log FROM job_files f
                        WHERE f.job_id = g.id AND f.begin_time = g.begin_time
                          AND f.log IS NOT NULL
                        ORDER BY f.kind, f.ordinal) AS "logs!"
           FROM gone g"#,
        status.as_str(),
        ended_before,
        limit,
    )
    .fetch_all(conn)
    .await?)
}
