//! The history's months: the monthly partitions of `jobs`, `job_files` and
//! `import_rejects` (migration V16), made ahead of time and dropped whole by retention.
//!
//! Policy: a month is named by its first day (UTC). Partitions are made and dropped by the
//! migration's functions `jobs_add_month` and `jobs_drop_month` (identifiers are formatted
//! there, by `format('%I')`, from the bound date). Dropping a month forgets its counts at
//! every grain in the same transaction, so totals stay exact: the caller holds the fold
//! lock, so the counts of the month are its month rows plus its unfolded deltas.

use std::time::Duration;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, Utc};
use sqlx::PgExecutor;

use super::{StoreError, locks};
use crate::domain::JobStatus;

/// The first day of the month of `day`.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day0(0).unwrap_or(day)
}

/// The instant `month` begins (00:00 UTC of its first day).
pub fn start_of(month: NaiveDate) -> DateTime<Utc> {
    month_of(month).and_time(NaiveTime::MIN).and_utc()
}

/// The first day of the month after `month`.
pub fn next_month(month: NaiveDate) -> NaiveDate {
    month_of(month) + Months::new(1)
}

/// Makes the months from that of `first` to that of `last` that do not exist yet; answers
/// how many it made.
pub async fn add_months(
    conn: impl PgExecutor<'_>,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) FILTER (WHERE jobs_add_month(m::date)) AS "made!"
           FROM generate_series(date_trunc('month', $1::date), $2::date, interval '1 month') AS m"#,
        first,
        last,
    )
    .fetch_one(conn)
    .await?)
}

/// The months that exist, oldest first.
pub async fn months(conn: impl PgExecutor<'_>) -> Result<Vec<NaiveDate>, StoreError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT to_date(substr(c.relname, 6), 'YYYY_MM') AS "month!"
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'jobs'::regclass
           ORDER BY 1"#
    )
    .fetch_all(conn)
    .await?)
}

/// Per final status (success, partiallyFailed, failed), the time before which its jobs
/// must have ended to go.
#[derive(Debug, Clone, Copy)]
pub struct Cutoffs {
    pub success: DateTime<Utc>,
    pub partially_failed: DateTime<Utc>,
    pub failed: DateTime<Utc>,
}

/// Whether every job that began in `month` may go: final, ended before its status's
/// cutoff, and not the operation a graph names as in flight. Index probes only (the queue
/// indexes, `jobs_ended` from its newest end, the graphs' active jobs).
pub async fn may_drop(
    conn: impl PgExecutor<'_>,
    month: NaiveDate,
    cutoffs: &Cutoffs,
) -> Result<bool, StoreError> {
    // The bounds are parameters (not a CTE) so each probe is pruned to the month.
    let (lo, hi) = (start_of(month), start_of(next_month(month)));
    Ok(sqlx::query_scalar!(
        r#"SELECT NOT EXISTS (SELECT 1 FROM jobs WHERE begin_time >= $1 AND begin_time < $2
                                                AND status = 'pending')
              AND NOT EXISTS (SELECT 1 FROM jobs WHERE begin_time >= $1 AND begin_time < $2
                                                AND status = 'running')
              AND NOT EXISTS (SELECT 1 FROM jobs WHERE begin_time >= $1 AND begin_time < $2
                                                AND status = 'success' AND end_time >= $3)
              AND NOT EXISTS (SELECT 1 FROM jobs WHERE begin_time >= $1 AND begin_time < $2
                                                AND status = 'partiallyFailed' AND end_time >= $4)
              AND NOT EXISTS (SELECT 1 FROM jobs WHERE begin_time >= $1 AND begin_time < $2
                                                AND status = 'failed' AND end_time >= $5)
              AND NOT EXISTS (SELECT 1 FROM graphs g JOIN jobs j ON j.id = g.active_job_id
                              WHERE j.begin_time >= $1 AND j.begin_time < $2
                                AND j.begin_time BETWEEN job_begin_min(g.active_job_id)
                                                     AND job_begin_max(g.active_job_id))
              AS "may!""#,
        lo,
        hi,
        cutoffs.success,
        cutoffs.partially_failed,
        cutoffs.failed,
    )
    .fetch_one(conn)
    .await?)
}

/// The reject-log objects the file rows of `month` name.
pub async fn logs(conn: impl PgExecutor<'_>, month: NaiveDate) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT log AS "log!" FROM job_files
           WHERE begin_time >= $1::date::timestamp AT TIME ZONE 'UTC'
             AND begin_time < $2::date::timestamp AT TIME ZONE 'UTC'
             AND log IS NOT NULL"#,
        month,
        next_month(month),
    )
    .fetch_all(conn)
    .await?)
}

/// How many jobs of each status began in `month`, from the counts (the caller holds the
/// fold lock, so the month's counts are its month rows and its unfolded deltas).
pub async fn jobs_in(
    conn: impl PgExecutor<'_>,
    month: NaiveDate,
) -> Result<Vec<(JobStatus, i64)>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT status AS "status!", sum(n)::int8 AS "n!" FROM (
               SELECT status_key AS status, n FROM job_counts_month
               WHERE month = $1 AND graph_key = '*' AND status_key <> '*'
               UNION ALL
               SELECT status, n FROM job_count_deltas
               WHERE begin_time >= $1::date::timestamp AT TIME ZONE 'UTC'
                 AND begin_time < $2::date::timestamp AT TIME ZONE 'UTC') AS c
           GROUP BY 1 HAVING sum(n) <> 0 ORDER BY 1"#,
        month,
        next_month(month),
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                StoreError::parsed("job_counts_month.status_key", &r.status)?,
                r.n,
            ))
        })
        .collect()
}

/// Locks the history's tables (in the order the readers lock them) for a drop, waiting at
/// most 500 ms (less than `deadlock_timeout`), so that in a deadlock with a request the
/// drop gives way and is tried again at the next run, never the request.
pub async fn lock_history(conn: &mut sqlx::PgConnection) -> Result<(), StoreError> {
    locks::wait_at_most(&mut *conn, Duration::from_millis(500)).await?;
    sqlx::query!("LOCK TABLE jobs, job_files, import_rejects IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Subtracts the counts of the jobs that began in `month` from the totals and deletes its
/// month, day and segment counts, its segments, its unfolded deltas and its keys.
pub async fn forget(conn: &mut sqlx::PgConnection, month: NaiveDate) -> Result<(), StoreError> {
    let next = next_month(month);
    sqlx::query!(
        "MERGE INTO job_counts_total c
         USING (SELECT project_id, graph_key, status_key, sum(n)::int8 AS n
                FROM job_counts_month WHERE month = $1 GROUP BY 1, 2, 3) AS m
         ON c.project_id = m.project_id AND c.graph_key = m.graph_key AND c.status_key = m.status_key
         WHEN MATCHED AND c.n = m.n THEN DELETE
         WHEN MATCHED THEN UPDATE SET n = c.n - m.n",
        month,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "WITH p AS (SELECT DISTINCT project_id FROM job_counts_month WHERE month = $1),
              segments AS (
                  DELETE FROM job_segments s USING p
                  WHERE s.project_id = p.project_id
                    AND s.starts_at >= $1::date::timestamp AT TIME ZONE 'UTC'
                    AND s.starts_at < $2::date::timestamp AT TIME ZONE 'UTC')
         DELETE FROM job_counts_segment s USING p
         WHERE s.project_id = p.project_id
           AND s.starts_at >= $1::date::timestamp AT TIME ZONE 'UTC'
           AND s.starts_at < $2::date::timestamp AT TIME ZONE 'UTC'",
        month,
        next,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "WITH days AS (DELETE FROM job_counts_day WHERE day >= $1 AND day < $2),
              queued AS (DELETE FROM job_segment_queue WHERE day >= $1 AND day < $2),
              deltas AS (
                  DELETE FROM job_count_deltas
                  WHERE begin_time >= $1::date::timestamp AT TIME ZONE 'UTC'
                    AND begin_time < $2::date::timestamp AT TIME ZONE 'UTC'),
              keys AS (
                  DELETE FROM job_idempotency_keys
                  WHERE begin_time >= $1::date::timestamp AT TIME ZONE 'UTC'
                    AND begin_time < $2::date::timestamp AT TIME ZONE 'UTC'),
              retries AS (
                  DELETE FROM job_retries
                  WHERE retried_begin >= $1::date::timestamp AT TIME ZONE 'UTC'
                    AND retried_begin < $2::date::timestamp AT TIME ZONE 'UTC')
         DELETE FROM job_counts_month WHERE month = $1",
        month,
        next,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Detaches and drops the partitions of `month`; `false`: it did not exist.
pub async fn drop_month(conn: impl PgExecutor<'_>, month: NaiveDate) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar!(r#"SELECT jobs_drop_month($1) AS "dropped!""#, month)
            .fetch_one(conn)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_named_by_their_first_day() {
        let day = NaiveDate::from_ymd_opt(2024, 12, 17).unwrap();
        assert_eq!(month_of(day), NaiveDate::from_ymd_opt(2024, 12, 1).unwrap());
        assert_eq!(
            next_month(day),
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()
        );
    }
}
