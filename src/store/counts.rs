//! The count store's writes: folding the deltas writers append into the counts, and
//! splitting dense segments (migration V8 describes the tables).
//!
//! Policy: only the fold writes the count tables, one fold at a time (the service holds an
//! advisory lock), in a REPEATABLE READ transaction: every statement of a fold sees the
//! same deltas, so the deltas merged at each grain are exactly the ones deleted at the end,
//! and a writer's deltas committed meanwhile wait for the next fold. A count that reaches
//! zero is deleted, so the lists' sums read live rows only.
//! The merges' statements are in `sql/fold_*.sql`: each reads the deltas once, so its cost
//! is linear in them whatever the table's row estimate (`store::plans::fold` checks it).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use super::{StoreError, locks};

/// A segment is split once it holds more jobs than this.
pub const SEGMENT_MAX: i64 = 256;
/// A split makes segments of about this many jobs.
pub const SEGMENT_TARGET: i64 = 128;

/// Adds the visible deltas to the all-time totals.
pub async fn merge_totals(conn: impl PgExecutor<'_>) -> Result<(), StoreError> {
    sqlx::query_file!("src/store/sql/fold_totals.sql")
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds the visible deltas to the month counts.
pub async fn merge_months(conn: impl PgExecutor<'_>) -> Result<(), StoreError> {
    sqlx::query_file!("src/store/sql/fold_months.sql")
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds the visible deltas to the day counts.
pub async fn merge_days(conn: impl PgExecutor<'_>) -> Result<(), StoreError> {
    sqlx::query_file!("src/store/sql/fold_days.sql")
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds the visible deltas to the segment counts.
pub async fn merge_segments(conn: impl PgExecutor<'_>) -> Result<(), StoreError> {
    sqlx::query_file!("src/store/sql/fold_segments.sql")
        .execute(conn)
        .await?;
    Ok(())
}

/// A segment of one project's jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub project_id: String,
    pub starts_at: DateTime<Utc>,
}

/// The segments the visible deltas fall in that now hold more than [`SEGMENT_MAX`] jobs
/// (call after [`merge_segments`], before [`delete_deltas`]).
pub async fn dense_touched_segments(conn: impl PgExecutor<'_>) -> Result<Vec<Segment>, StoreError> {
    Ok(sqlx::query_file_as!(
        Segment,
        "src/store/sql/fold_dense_segments.sql",
        SEGMENT_MAX,
    )
    .fetch_all(conn)
    .await?)
}

/// Deletes the visible deltas (they are folded); answers how many there were.
pub async fn delete_deltas(conn: impl PgExecutor<'_>) -> Result<u64, StoreError> {
    let done = sqlx::query!("DELETE FROM job_count_deltas")
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Vacuums the delta table, whose every row is deleted by the fold that folds it: under
/// load it turns over thousands of rows a second, and each fold and each job list reads
/// past the dead ones until a vacuum clears them (with autovacuum off, or between its
/// rounds, a fold took 78 ms instead of 2). Never truncates the table: truncating takes a
/// lock every job write's trigger would wait for. The estimate it leaves on the nearly
/// empty table (about no rows over its pages) is safe: every fold statement reads the
/// deltas once (`store::plans::fold`).
pub async fn vacuum_deltas(conn: impl PgExecutor<'_>) -> Result<(), StoreError> {
    sqlx::raw_sql("VACUUM (TRUNCATE false) job_count_deltas")
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes up to `limit` days off the queue of days to split; answers their dense segments.
pub async fn take_queued_days(
    conn: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<Segment>, StoreError> {
    Ok(sqlx::query_as!(
        Segment,
        r#"WITH taken AS (
               DELETE FROM job_segment_queue
               WHERE (project_id, day) IN (
                   SELECT project_id, day FROM job_segment_queue ORDER BY 1, 2 LIMIT $1)
               RETURNING project_id, day)
           SELECT c.project_id, c.starts_at FROM taken t
           JOIN job_counts_segment c
             ON c.project_id = t.project_id AND c.graph_key = '*' AND c.status_key = '*'
            AND c.starts_at >= t.day::timestamp AT TIME ZONE 'UTC'
            AND c.starts_at < (t.day + 1)::timestamp AT TIME ZONE 'UTC'
           GROUP BY 1, 2
           HAVING sum(c.n) > $2::int8"#,
        limit,
        SEGMENT_MAX,
    )
    .fetch_all(conn)
    .await?)
}

/// Splits `segment` into segments of about [`SEGMENT_TARGET`] jobs (at begin times, so
/// jobs that began at the same instant stay together) and counts them again from the
/// jobs. Answers how many segments it added (0: its jobs cannot be split further).
pub async fn split_segment(
    conn: &mut sqlx::PgConnection,
    segment: &Segment,
) -> Result<u64, StoreError> {
    let ends_at = sqlx::query_scalar!(
        r#"SELECT coalesce(
                  (SELECT min(starts_at) FROM job_segments
                   WHERE project_id = $1 AND starts_at > $2
                     AND starts_at < date_trunc('day', $2 AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 day'),
                  date_trunc('day', $2 AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 day') AS "ends_at!""#,
        segment.project_id,
        segment.starts_at,
    )
    .fetch_one(&mut *conn)
    .await?;
    let added = sqlx::query!(
        "INSERT INTO job_segments (project_id, starts_at)
         SELECT DISTINCT $1, begin_time FROM (
             SELECT begin_time, row_number() OVER (ORDER BY begin_time, id) AS rn
             FROM jobs WHERE project_id = $1 AND begin_time >= $2 AND begin_time < $3) AS r
         WHERE rn % $4 = 1 AND rn > 1 AND begin_time > $2
         ON CONFLICT DO NOTHING",
        segment.project_id,
        segment.starts_at,
        ends_at,
        SEGMENT_TARGET,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if added == 0 {
        return Ok(0);
    }
    sqlx::query!(
        "DELETE FROM job_counts_segment WHERE project_id = $1 AND starts_at >= $2 AND starts_at < $3",
        segment.project_id,
        segment.starts_at,
        ends_at,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"WITH starts AS (
               SELECT $2::timestamptz AS starts_at
               UNION ALL
               SELECT starts_at FROM job_segments
               WHERE project_id = $1 AND starts_at > $2 AND starts_at < $3),
           bounds AS (
               SELECT starts_at, coalesce(lead(starts_at) OVER (ORDER BY starts_at), $3) AS ends_at
               FROM starts)
           INSERT INTO job_counts_segment (project_id, graph_key, status_key, starts_at, end_key, n)
           SELECT $1, g.key, s.key, j.starts_at, j.end_day, sum(j.n)
           FROM (SELECT b.starts_at, jobs.graph_name, jobs.status, job_day(jobs.end_time) AS end_day,
                        count(*) AS n
                 FROM bounds b
                 JOIN jobs ON jobs.project_id = $1
                          AND jobs.begin_time >= b.starts_at AND jobs.begin_time < b.ends_at
                 GROUP BY 1, 2, 3, 4) AS j
           CROSS JOIN LATERAL (VALUES (coalesce(j.graph_name, '')), ('*')) AS g (key)
           CROSS JOIN LATERAL (VALUES (j.status), ('*')) AS s (key)
           GROUP BY 2, 3, 4, 5"#,
        segment.project_id,
        segment.starts_at,
        ends_at,
    )
    .execute(&mut *conn)
    .await?;
    Ok(added)
}

/// Count rows (at any grain, deltas included) that disagree with `count(*)` of the jobs
/// of their key: 0 when the store is exact. A full scan: for tests and `check-counts`.
pub async fn mismatches(conn: impl PgExecutor<'_>) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar!(
        r#"WITH jobs_keyed AS (
               SELECT j.project_id, g.key AS graph_key, s.key AS status_key,
                      (j.begin_time AT TIME ZONE 'UTC')::date AS day,
                      greatest(date_trunc('day', j.begin_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                        (SELECT max(g.starts_at) FROM job_segments g
                        WHERE g.project_id = j.project_id AND g.starts_at <= j.begin_time)) AS starts_at,
                      job_day(j.end_time) AS end_day
               FROM jobs j
               CROSS JOIN LATERAL (VALUES (coalesce(j.graph_name, '')), ('*')) AS g (key)
               CROSS JOIN LATERAL (VALUES (j.status), ('*')) AS s (key)),
           deltas_keyed AS (
               SELECT d.project_id, g.key AS graph_key, s.key AS status_key,
                      (d.begin_time AT TIME ZONE 'UTC')::date AS day,
                      greatest(date_trunc('day', d.begin_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                        (SELECT max(g.starts_at) FROM job_segments g
                        WHERE g.project_id = d.project_id AND g.starts_at <= d.begin_time)) AS starts_at,
                      d.end_day, d.n
               FROM job_count_deltas d
               CROSS JOIN LATERAL (VALUES (coalesce(d.graph_name, '')), ('*')) AS g (key)
               CROSS JOIN LATERAL (VALUES (d.status), ('*')) AS s (key)),
           counted AS (
               SELECT project_id, graph_key, status_key, starts_at, end_key AS end_day, n
               FROM job_counts_segment
               UNION ALL
               SELECT project_id, graph_key, status_key, starts_at, end_day, n FROM deltas_keyed),
           segment_diff AS (
               SELECT project_id, graph_key, status_key, starts_at, end_day
               FROM (SELECT project_id, graph_key, status_key, starts_at, end_day, count(*) AS n
                     FROM jobs_keyed GROUP BY 1, 2, 3, 4, 5) AS want
               FULL JOIN (SELECT project_id, graph_key, status_key, starts_at, end_day, sum(n) AS n
                          FROM counted GROUP BY 1, 2, 3, 4, 5) AS have
               USING (project_id, graph_key, status_key, starts_at, end_day)
               WHERE coalesce(want.n, 0) <> coalesce(have.n, 0)),
           day_diff AS (
               SELECT project_id, graph_key, status_key, day, end_day
               FROM (SELECT project_id, graph_key, status_key, day, end_day, count(*) AS n
                     FROM jobs_keyed GROUP BY 1, 2, 3, 4, 5) AS want
               FULL JOIN (SELECT project_id, graph_key, status_key, day, end_day, sum(n) AS n
                          FROM (SELECT project_id, graph_key, status_key, day, end_key AS end_day, n
                                FROM job_counts_day
                                UNION ALL
                                SELECT project_id, graph_key, status_key, day, end_day, n
                                FROM deltas_keyed) AS c
                          GROUP BY 1, 2, 3, 4, 5) AS have
               USING (project_id, graph_key, status_key, day, end_day)
               WHERE coalesce(want.n, 0) <> coalesce(have.n, 0)),
           month_diff AS (
               SELECT project_id, graph_key, status_key, month, end_month
               FROM (SELECT project_id, graph_key, status_key,
                            date_trunc('month', day)::date AS month,
                            CASE WHEN end_day = 'infinity' THEN end_day
                                 ELSE date_trunc('month', end_day)::date END AS end_month,
                            count(*) AS n
                     FROM jobs_keyed GROUP BY 1, 2, 3, 4, 5) AS want
               FULL JOIN (SELECT project_id, graph_key, status_key, month, end_month, sum(n) AS n
                          FROM (SELECT project_id, graph_key, status_key, month,
                                       end_key AS end_month, n
                                FROM job_counts_month
                                UNION ALL
                                SELECT project_id, graph_key, status_key,
                                       date_trunc('month', day)::date,
                                       CASE WHEN end_day = 'infinity' THEN end_day
                                            ELSE date_trunc('month', end_day)::date END, n
                                FROM deltas_keyed) AS c
                          GROUP BY 1, 2, 3, 4, 5) AS have
               USING (project_id, graph_key, status_key, month, end_month)
               WHERE coalesce(want.n, 0) <> coalesce(have.n, 0)),
           total_diff AS (
               SELECT project_id, graph_key, status_key
               FROM (SELECT project_id, graph_key, status_key, count(*) AS n
                     FROM jobs_keyed GROUP BY 1, 2, 3) AS want
               FULL JOIN (SELECT project_id, graph_key, status_key, sum(n) AS n
                          FROM (SELECT project_id, graph_key, status_key, n FROM job_counts_total
                                UNION ALL
                                SELECT project_id, graph_key, status_key, n FROM deltas_keyed) AS c
                          GROUP BY 1, 2, 3) AS have
               USING (project_id, graph_key, status_key)
               WHERE coalesce(want.n, 0) <> coalesce(have.n, 0))
           SELECT (SELECT count(*) FROM segment_diff) + (SELECT count(*) FROM day_diff)
                + (SELECT count(*) FROM month_diff) + (SELECT count(*) FROM total_diff) AS "n!""#
    )
    .fetch_one(conn)
    .await?)
}

/// Whether a fold has anything to do: deltas, or days queued for splitting.
pub async fn has_work(conn: impl PgExecutor<'_>) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM job_count_deltas)
               OR EXISTS (SELECT 1 FROM job_segment_queue) AS "any!""#
    )
    .fetch_one(conn)
    .await?)
}

/// Takes the session advisory lock `key` if it is free.
pub async fn try_advisory_lock(conn: impl PgExecutor<'_>, key: i64) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar!(r#"SELECT pg_try_advisory_lock($1) AS "locked!""#, key)
            .fetch_one(conn)
            .await?,
    )
}

/// Releases the session advisory lock `key`.
pub async fn advisory_unlock(conn: impl PgExecutor<'_>, key: i64) -> Result<(), StoreError> {
    sqlx::query_scalar!(r#"SELECT pg_advisory_unlock($1) AS "unlocked!""#, key)
        .fetch_one(conn)
        .await?;
    Ok(())
}

/// Takes the advisory lock `key` until the transaction on `conn` ends, waiting at most
/// `wait` (then SQLSTATE 55P03, lock_not_available; the wait bound lasts the transaction).
pub async fn advisory_xact_lock(
    conn: &mut PgConnection,
    key: i64,
    wait: Duration,
) -> Result<(), StoreError> {
    locks::wait_at_most(&mut *conn, wait).await?;
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
