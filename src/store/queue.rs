//! The durable queue over `jobs`: claiming with `FOR UPDATE SKIP LOCKED`, leases renewed by
//! heartbeat, fenced writes, and what the reaper of expired leases and cancel read and
//! write. The transactions these compose into, and what a failure does to the graph, are
//! the service's ([`crate::service::runs`]).
//!
//! A claimed job holds a lease: a random token and an expiry. Every later write of the
//! worker names the token, which only a running job holds (the constraint
//! `jobs_lease_only_while_running`), so once a lease has been taken over (reaped,
//! re-claimed, or the job failed by someone else) the old worker's writes touch nothing.
//!
//! A job whose `payload` is not a non-empty object (the column default `{}`, or `null`) is
//! a record only (history loaded by `jobcenter seed`, imported, or written by tests) and is
//! never claimed: work is always enqueued with a payload.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::StoreError;
use crate::domain::{ClaimedJob, JobId, JobStatus};

/// The channel `NOTIFY`d when claimable work appears (payload: the job type).
pub const CHANNEL: &str = "jobcenter_jobs";

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Claims up to `limit` claimable jobs of `job_types` (of one project when `project` is
/// given), highest priority first, leasing them to `worker_id` for `lease`. Jobs locked by
/// another claimer are skipped, never waited for.
///
/// Each job type is read in the order of the `jobs_claimable` index (one ordered index scan
/// that stops after `limit` rows, whatever the queue's length), and the types are merged;
/// rows locked for a type but not taken are unlocked when the statement ends. With a
/// `horizon`, only jobs that began at or after it are read (and only their months opened).
pub async fn claim(
    conn: impl PgExecutor<'_>,
    project: Option<&str>,
    worker_id: &str,
    job_types: &[String],
    limit: i64,
    lease: Duration,
    horizon: Option<DateTime<Utc>>,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let rows = sqlx::query_file!(
        "src/store/sql/claim.sql",
        worker_id,
        job_types,
        limit,
        secs(lease),
        project,
        horizon,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ClaimedJob {
            job_id: JobId(r.id),
            project_id: r.project_id,
            job_type: r.job_type,
            job_name: r.job_name,
            graph_id: r.graph_id,
            related_graph: r.graph_name,
            payload: r.payload,
            attempt: r.attempt,
            max_attempts: r.max_attempts,
            lease_token: r.lease_token,
            lease_expires_at: r.lease_expires_at,
            cancel_requested: r.cancel_requested,
        })
        .collect())
}

/// The start (00:00 UTC of its first day) of the oldest month holding a pending job; of
/// the current month when none does. One probe of each month's part of `jobs_claimable`
/// in turn (the month bounds prune the others as the probe runs), stopping at the first
/// month with a pending job.
pub async fn oldest_pending_month(conn: &mut PgConnection) -> Result<DateTime<Utc>, StoreError> {
    let months = super::months::months(&mut *conn).await?;
    Ok(sqlx::query_scalar!(
        r#"SELECT coalesce(
               (SELECT m.start
                FROM (SELECT d::timestamp AT TIME ZONE 'UTC' AS start,
                             (d + interval '1 month') AT TIME ZONE 'UTC' AS next
                      FROM unnest($1::date[]) AS d
                      ORDER BY 1) AS m
                CROSS JOIN LATERAL (
                    SELECT FROM jobs j
                    WHERE j.status = 'pending' AND j.begin_time >= m.start
                      AND j.begin_time < m.next
                    ORDER BY j.job_type, j.priority DESC, j.run_after, j.id
                    LIMIT 1) AS p
                LIMIT 1),
               date_trunc('month', now(), 'UTC')) AS "start!""#,
        &months,
    )
    .fetch_one(conn)
    .await?)
}

/// Renews the lease for another `lease` and, with `progress`, records it (progress never
/// moves backwards, so a retried job does not appear to lose ground). Answers whether
/// cancellation was requested, or `None` when the lease is no longer ours.
pub async fn heartbeat(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    lease_token: Uuid,
    lease: Duration,
    progress: Option<f32>,
) -> Result<Option<bool>, StoreError> {
    let progress = progress.map(|p| p.clamp(0.0, 100.0));
    let row = sqlx::query_scalar!(
        "UPDATE jobs
         SET lease_expires_at = now() + make_interval(secs => $3),
             progress = greatest(progress, coalesce($4::real, progress))
         WHERE id = $1 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1) AND lease_token = $2 AND status = 'running'
         RETURNING cancel_requested",
        id,
        lease_token,
        secs(lease),
        progress,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row)
}

/// Ends a running job with a final `status` (fenced by the lease token): `end_time` now,
/// progress 100 on success, lease cleared. `false`: the lease was not ours, nothing changed.
pub async fn finish(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    lease_token: Uuid,
    status: JobStatus,
    fail_reason: Option<&str>,
) -> Result<bool, StoreError> {
    debug_assert!(status.is_final());
    let done = sqlx::query!(
        "UPDATE jobs
         SET status = $3, end_time = greatest(now(), begin_time),
             progress = CASE WHEN $3 = 'success' THEN 100 ELSE progress END,
             fail_reason = $4, lease_token = NULL, lease_expires_at = NULL
         WHERE id = $1 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1) AND lease_token = $2 AND status = 'running'",
        id,
        lease_token,
        status.as_str(),
        fail_reason,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Locks, for the rest of the transaction, the job's graph (if any) and then the job itself,
/// provided the lease is still ours. `false`: the lease is lost (nothing is locked but
/// possibly the graph; roll back).
pub async fn lock_leased(
    conn: &mut PgConnection,
    id: Uuid,
    lease_token: Uuid,
) -> Result<bool, StoreError> {
    lock_graph_of(&mut *conn, id).await?;
    let held = sqlx::query_scalar!(
        "SELECT 1 AS \"one!\" FROM jobs
         WHERE id = $1 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1) AND lease_token = $2 AND status = 'running'
         FOR NO KEY UPDATE",
        id,
        lease_token,
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(held.is_some())
}

/// Locks the graph row of a job (first, per the lock order), if the job has a graph.
pub async fn lock_graph_of(conn: &mut PgConnection, job_id: Uuid) -> Result<(), StoreError> {
    sqlx::query_scalar!(
        "SELECT g.id FROM graphs g
         WHERE g.id = (SELECT graph_id FROM jobs WHERE id = $1 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1))
         FOR NO KEY UPDATE OF g",
        job_id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(())
}

/// Gives a running job back: `pending` at once, the attempt it used returned. Fenced;
/// answers the job's type when it was given back.
pub async fn release(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    lease_token: Uuid,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar!(
        "UPDATE jobs
         SET status = 'pending', attempt = greatest(attempt - 1, 0), run_after = now(),
             lease_token = NULL, lease_expires_at = NULL, worker_id = NULL
         WHERE id = $1 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1) AND lease_token = $2 AND status = 'running'
         RETURNING job_type",
        id,
        lease_token,
    )
    .fetch_optional(conn)
    .await?)
}

/// Back to `pending`, claimable after `delay`, while attempts remain. Fenced; `false`: no
/// attempt remains (or the lease is not ours).
pub async fn requeue(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    lease_token: Uuid,
    delay: Duration,
) -> Result<bool, StoreError> {
    let requeued = sqlx::query!(
        "UPDATE jobs
         SET status = 'pending', run_after = now() + make_interval(secs => $3),
             lease_token = NULL, lease_expires_at = NULL, worker_id = NULL
         WHERE id = $1 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1) AND lease_token = $2 AND status = 'running' AND attempt < max_attempts",
        id,
        lease_token,
        secs(delay),
    )
    .execute(conn)
    .await?;
    Ok(requeued.rows_affected() == 1)
}

/// The attempts a job has made.
pub async fn attempts(conn: impl PgExecutor<'_>, id: Uuid) -> Result<i32, StoreError> {
    Ok(
        sqlx::query_scalar!("SELECT attempt FROM jobs WHERE id = $1 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1)",
            id
        )
            .fetch_one(conn)
            .await?,
    )
}

/// A job that was just failed: what its compensation needs.
#[derive(Debug, Clone)]
pub struct FailedJob {
    pub job_type: String,
    pub graph_id: Option<Uuid>,
    pub payload: serde_json::Value,
}

/// Ends a running job `failed` with `reason`. Fenced; `None`: the lease was not ours.
pub async fn fail(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    lease_token: Uuid,
    reason: &str,
) -> Result<Option<FailedJob>, StoreError> {
    Ok(sqlx::query_as!(
        FailedJob,
        "UPDATE jobs
         SET status = 'failed', end_time = greatest(now(), begin_time), fail_reason = $3,
             lease_token = NULL, lease_expires_at = NULL
         WHERE id = $1 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1) AND lease_token = $2 AND status = 'running'
         RETURNING job_type, graph_id, payload",
        id,
        lease_token,
        reason,
    )
    .fetch_optional(conn)
    .await?)
}

/// A running job whose lease expired.
#[derive(Debug, Clone)]
pub struct ExpiredLease {
    pub id: Uuid,
    pub lease_token: Uuid,
    pub worker_id: Option<String>,
    pub attempt: i32,
    pub max_attempts: i32,
    pub job_name: String,
}

/// Up to 100 running jobs whose lease expired, longest expired first.
pub async fn expired_leases(conn: impl PgExecutor<'_>) -> Result<Vec<ExpiredLease>, StoreError> {
    Ok(sqlx::query_as!(
        ExpiredLease,
        "SELECT id, lease_token AS \"lease_token!\", worker_id, attempt, max_attempts, job_name
         FROM jobs
         WHERE status = 'running' AND lease_expires_at < now() AND lease_token IS NOT NULL
         ORDER BY lease_expires_at
         LIMIT 100"
    )
    .fetch_all(conn)
    .await?)
}

/// An expired job back to `pending` while attempts remain; answers its type when it was.
pub async fn requeue_expired(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    lease_token: Uuid,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar!(
        "UPDATE jobs
         SET status = 'pending', run_after = now(),
             lease_token = NULL, lease_expires_at = NULL, worker_id = NULL
         WHERE id = $1 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1) AND lease_token = $2 AND status = 'running'
           AND lease_expires_at < now() AND attempt < max_attempts
         RETURNING job_type",
        id,
        lease_token,
    )
    .fetch_optional(conn)
    .await?)
}

/// Locks the job if its lease `lease_token` is still expired; whether it is.
pub async fn lock_expired(
    conn: impl PgExecutor<'_>,
    id: Uuid,
    lease_token: Uuid,
) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar!(
        "SELECT 1 AS \"one!\" FROM jobs
         WHERE id = $1 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1) AND lease_token = $2 AND status = 'running' AND lease_expires_at < now()
         FOR NO KEY UPDATE",
        id,
        lease_token,
    )
    .fetch_optional(conn)
    .await?
    .is_some())
}

/// Wakes the workers listening on [`CHANNEL`] (delivered at commit).
pub async fn notify(conn: impl PgExecutor<'_>, job_type: &str) -> Result<(), StoreError> {
    sqlx::query_scalar!("SELECT pg_notify('jobcenter_jobs', $1)::text", job_type)
        .fetch_one(conn)
        .await?;
    Ok(())
}

/// The status of a job of `project`, its row locked for the rest of the transaction.
pub async fn lock_job(
    conn: impl PgExecutor<'_>,
    project: &str,
    id: Uuid,
) -> Result<Option<JobStatus>, StoreError> {
    let status = sqlx::query_scalar!(
        "SELECT status FROM jobs WHERE id = $1 AND project_id = $2 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1)
         FOR NO KEY UPDATE",
        id,
        project,
    )
    .fetch_optional(conn)
    .await?;
    status
        .map(|s| StoreError::parsed("jobs.status", &s))
        .transpose()
}

/// Ends a pending job `failed` with reason `cancelled`.
pub async fn cancel_pending(conn: impl PgExecutor<'_>, id: Uuid) -> Result<FailedJob, StoreError> {
    Ok(sqlx::query_as!(
        FailedJob,
        "UPDATE jobs
         SET status = 'failed', end_time = greatest(now(), begin_time),
             fail_reason = 'cancelled', cancel_requested = true
         WHERE id = $1 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1) AND status = 'pending'
         RETURNING job_type, graph_id, payload",
        id,
    )
    .fetch_one(conn)
    .await?)
}

/// Asks the worker of a running job to stop (it learns it on its next heartbeat).
pub async fn request_cancel(conn: impl PgExecutor<'_>, id: Uuid) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE jobs SET cancel_requested = true WHERE id = $1 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1)
           AND status = 'running'",
        id,
    )
    .execute(conn)
    .await?;
    Ok(())
}
