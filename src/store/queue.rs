//! The durable queue over `jobs`: claiming with `FOR UPDATE SKIP LOCKED`, leases renewed by
//! heartbeat, fenced writes, and the reaper of expired leases.
//!
//! A claimed job holds a lease: a random token and an expiry. Every later write of the
//! worker names the token and requires `status = 'running'`, so once a lease has been taken
//! over (reaped, re-claimed, or the job failed by someone else) the old worker's writes
//! touch nothing.
//!
//! A job whose `payload` is not a non-empty object (the column default `{}`, or `null`) is
//! a record only (history loaded by `jobcenter seed`, imported, or written by tests) and is
//! never claimed: work is always enqueued with a payload.
//!
//! Lock order, everywhere a graph and its job are both written: the graph row first, then
//! the job row (the HTTP layer locks the graph before it touches jobs).

use std::time::Duration;

use sqlx::{Acquire, PgConnection, PgExecutor};
use uuid::Uuid;

use super::StoreError;
use super::graph_data;
use crate::domain::JobStatus;
use crate::domain::graph::{GraphJobPayload, Operation};

/// The `job_type` of graph operations.
pub const GRAPH_MANAGEMENT: &str = "GraphManagement";

/// The channel `NOTIFY`d when claimable work appears (payload: the job type).
pub const CHANNEL: &str = "jobcenter_jobs";

/// A job this worker now holds the lease of.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: Uuid,
    pub project_id: String,
    pub job_type: String,
    pub job_name: String,
    pub graph_id: Option<Uuid>,
    pub graph_name: Option<String>,
    pub payload: serde_json::Value,
    /// 1 for the first run, 2 for the first retry, ...
    pub attempt: i32,
    pub max_attempts: i32,
    pub lease_token: Uuid,
    pub lease_expires_at: chrono::DateTime<chrono::Utc>,
    pub cancel_requested: bool,
}

/// What [`retry_later`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryOutcome {
    /// Back to `pending`, claimable again after the delay.
    Requeued,
    /// Its attempts were used up: the job is `failed`.
    Failed,
    /// The lease was no longer ours; nothing changed.
    LeaseLost,
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Claims up to `limit` claimable jobs of `job_types`, highest priority first, leasing them
/// to `worker_id` for `lease`. Jobs locked by another claimer are skipped, never waited for.
///
/// Each job type is read in the order of the `jobs_claimable` index (one ordered index scan
/// that stops after `limit` rows, whatever the queue's length), and the types are merged;
/// rows locked for a type but not taken are unlocked when the statement ends.
pub async fn claim(
    conn: impl PgExecutor<'_>,
    worker_id: &str,
    job_types: &[&str],
    limit: i64,
    lease: Duration,
) -> Result<Vec<ClaimedJob>, StoreError> {
    claim_in(conn, None, worker_id, job_types, limit, lease).await
}

/// [`claim`], limited to one project when `project` is given (the producer API).
pub async fn claim_in(
    conn: impl PgExecutor<'_>,
    project: Option<&str>,
    worker_id: &str,
    job_types: &[&str],
    limit: i64,
    lease: Duration,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let types: Vec<String> = job_types.iter().map(|t| (*t).to_owned()).collect();
    let jobs = sqlx::query_as!(
        ClaimedJob,
        r#"WITH picked AS MATERIALIZED (
               SELECT c.id
               FROM unnest($2::text[]) AS t (job_type)
               CROSS JOIN LATERAL (
                   SELECT id, priority, run_after FROM jobs
                   WHERE status = 'pending' AND job_type = t.job_type AND run_after <= now()
                     AND ($5::text IS NULL OR project_id = $5)
                     AND jsonb_typeof(payload) = 'object' AND payload <> '{}'::jsonb
                   ORDER BY priority DESC, run_after, id
                   LIMIT $3
                   FOR UPDATE SKIP LOCKED) AS c
               ORDER BY c.priority DESC, c.run_after, c.id
               LIMIT $3)
           UPDATE jobs j
           SET status = 'running', attempt = j.attempt + 1, lease_token = gen_random_uuid(),
               lease_expires_at = now() + make_interval(secs => $4), worker_id = $1,
               started_at = coalesce(j.started_at, now())
           FROM picked
           WHERE j.id = picked.id
           RETURNING j.id, j.project_id, j.job_type, j.job_name, j.graph_id, j.graph_name,
                     j.payload, j.attempt, j.max_attempts, j.lease_token AS "lease_token!",
                     j.lease_expires_at AS "lease_expires_at!", j.cancel_requested"#,
        worker_id,
        &types,
        limit,
        secs(lease),
        project,
    )
    .fetch_all(conn)
    .await?;
    Ok(jobs)
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
         WHERE id = $1 AND lease_token = $2 AND status = 'running'
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
         WHERE id = $1 AND lease_token = $2 AND status = 'running'",
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
         WHERE id = $1 AND lease_token = $2 AND status = 'running'
         FOR NO KEY UPDATE",
        id,
        lease_token,
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(held.is_some())
}

/// Locks the graph row of a job (first, per the lock order), if the job has a graph.
async fn lock_graph_of(conn: &mut PgConnection, job_id: Uuid) -> Result<(), StoreError> {
    sqlx::query_scalar!(
        "SELECT g.id FROM graphs g
         WHERE g.id = (SELECT graph_id FROM jobs WHERE id = $1)
         FOR NO KEY UPDATE OF g",
        job_id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(())
}

/// Gives a running job back (graceful shutdown): `pending` at once, and the attempt it used
/// is returned, so a release does not count as a failure. Fenced.
pub async fn release(
    conn: &mut PgConnection,
    id: Uuid,
    lease_token: Uuid,
) -> Result<bool, StoreError> {
    let mut tx = conn.begin().await?;
    let job_type = sqlx::query_scalar!(
        "UPDATE jobs
         SET status = 'pending', attempt = greatest(attempt - 1, 0), run_after = now(),
             lease_token = NULL, lease_expires_at = NULL, worker_id = NULL
         WHERE id = $1 AND lease_token = $2 AND status = 'running'
         RETURNING job_type",
        id,
        lease_token,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(job_type) = &job_type {
        notify(&mut *tx, job_type).await?;
    }
    tx.commit().await?;
    Ok(job_type.is_some())
}

/// After a transient failure: back to `pending`, claimable after `delay`, while attempts
/// remain; otherwise `failed` with a reason naming the attempts and `reason`. Fenced.
pub async fn retry_later(
    conn: &mut PgConnection,
    id: Uuid,
    lease_token: Uuid,
    delay: Duration,
    reason: &str,
) -> Result<RetryOutcome, StoreError> {
    let mut tx = conn.begin().await?;
    if !lock_leased(&mut tx, id, lease_token).await? {
        tx.rollback().await?;
        return Ok(RetryOutcome::LeaseLost);
    }
    let requeued = sqlx::query!(
        "UPDATE jobs
         SET status = 'pending', run_after = now() + make_interval(secs => $3),
             lease_token = NULL, lease_expires_at = NULL, worker_id = NULL
         WHERE id = $1 AND lease_token = $2 AND status = 'running' AND attempt < max_attempts",
        id,
        lease_token,
        secs(delay),
    )
    .execute(&mut *tx)
    .await?;
    let outcome = if requeued.rows_affected() == 1 {
        RetryOutcome::Requeued
    } else {
        let attempts = sqlx::query_scalar!("SELECT attempt FROM jobs WHERE id = $1", id)
            .fetch_one(&mut *tx)
            .await?;
        let why = format!("gave up after {attempts} attempts; the last one failed: {reason}");
        if fail_locked(&mut tx, id, lease_token, &why).await? {
            RetryOutcome::Failed
        } else {
            RetryOutcome::LeaseLost
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Ends a running job `failed` with `reason`, and undoes its graph's in-flight state (the
/// graph returns to the operation's failure status; a backup being taken is marked failed).
/// Fenced; `false`: the lease was not ours, nothing changed.
pub async fn fail(
    conn: &mut PgConnection,
    id: Uuid,
    lease_token: Uuid,
    reason: &str,
) -> Result<bool, StoreError> {
    let mut tx = conn.begin().await?;
    if !lock_leased(&mut tx, id, lease_token).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    let done = fail_locked(&mut tx, id, lease_token, reason).await?;
    tx.commit().await?;
    Ok(done)
}

/// [`fail`] once the graph and job are locked.
async fn fail_locked(
    conn: &mut PgConnection,
    id: Uuid,
    lease_token: Uuid,
    reason: &str,
) -> Result<bool, StoreError> {
    let row = sqlx::query!(
        "UPDATE jobs
         SET status = 'failed', end_time = greatest(now(), begin_time), fail_reason = $3,
             lease_token = NULL, lease_expires_at = NULL
         WHERE id = $1 AND lease_token = $2 AND status = 'running'
         RETURNING job_type, graph_id, payload",
        id,
        lease_token,
        reason,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(false) };
    if row.job_type == GRAPH_MANAGEMENT
        && let Some(graph_id) = row.graph_id
    {
        undo_graph(conn, id, graph_id, &row.payload).await?;
    }
    Ok(true)
}

/// The graph side of a failed graph operation.
async fn undo_graph(
    conn: &mut PgConnection,
    job_id: Uuid,
    graph_id: Uuid,
    payload: &serde_json::Value,
) -> Result<(), StoreError> {
    match serde_json::from_value::<GraphJobPayload>(payload.clone()) {
        Ok(payload) => {
            let status = payload.operation.status_on_failure(payload.status_before);
            graph_data::settle(&mut *conn, graph_id, job_id, status).await?;
            if let Operation::Backup { backup_id } = payload.operation {
                graph_data::fail_backup(&mut *conn, backup_id).await?;
            }
        }
        Err(err) => {
            // Without the operation the failure status is unknown: leave the status, free
            // the graph for the next operation.
            tracing::warn!(job_id = %job_id, error = %err, "failed job has an unreadable payload");
            graph_data::release_graph(&mut *conn, graph_id, job_id).await?;
        }
    }
    Ok(())
}

/// A job [`reap_expired`] settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReapedJob {
    pub id: Uuid,
    pub job_name: String,
    /// `true`: back in the queue; `false`: no attempts remained, it failed.
    pub requeued: bool,
}

/// Running jobs whose lease expired (their worker died or lost the database): back to
/// `pending` while attempts remain, else `failed` (and their graph restored). Answers the
/// jobs requeued or failed. Each job is settled in its own transaction.
pub async fn reap_expired(conn: &mut PgConnection) -> Result<Vec<ReapedJob>, StoreError> {
    let expired = sqlx::query!(
        "SELECT id, lease_token AS \"lease_token!\", worker_id, attempt, max_attempts, job_name
         FROM jobs
         WHERE status = 'running' AND lease_expires_at < now() AND lease_token IS NOT NULL
         ORDER BY lease_expires_at
         LIMIT 100"
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut reaped = Vec::new();
    for job in expired {
        let mut tx = conn.begin().await?;
        lock_graph_of(&mut tx, job.id).await?;
        let requeued = sqlx::query_scalar!(
            "UPDATE jobs
             SET status = 'pending', run_after = now(),
                 lease_token = NULL, lease_expires_at = NULL, worker_id = NULL
             WHERE id = $1 AND lease_token = $2 AND status = 'running'
               AND lease_expires_at < now() AND attempt < max_attempts
             RETURNING job_type",
            job.id,
            job.lease_token,
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(job_type) = requeued {
            notify(&mut *tx, &job_type).await?;
            tracing::warn!(
                job_id = %job.id, worker_id = job.worker_id, attempt = job.attempt,
                "lease expired: the job goes back to the queue"
            );
            reaped.push(ReapedJob {
                id: job.id,
                job_name: job.job_name,
                requeued: true,
            });
        } else {
            let still_expired = sqlx::query_scalar!(
                "SELECT 1 AS \"one!\" FROM jobs
                 WHERE id = $1 AND lease_token = $2 AND status = 'running'
                   AND lease_expires_at < now()
                 FOR NO KEY UPDATE",
                job.id,
                job.lease_token,
            )
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
            let reason = format!(
                "the worker running this job stopped responding; gave up after {} attempts",
                job.attempt
            );
            if still_expired && fail_locked(&mut tx, job.id, job.lease_token, &reason).await? {
                tracing::warn!(
                    job_id = %job.id, worker_id = job.worker_id, attempt = job.attempt,
                    max_attempts = job.max_attempts,
                    "lease expired and no attempts remain: the job failed"
                );
                reaped.push(ReapedJob {
                    id: job.id,
                    job_name: job.job_name,
                    requeued: false,
                });
            }
        }
        tx.commit().await?;
    }
    Ok(reaped)
}

/// Wakes the workers listening on [`CHANNEL`] (delivered at commit).
pub async fn notify(conn: impl PgExecutor<'_>, job_type: &str) -> Result<(), StoreError> {
    sqlx::query_scalar!("SELECT pg_notify('jobcenter_jobs', $1)::text", job_type)
        .fetch_one(conn)
        .await?;
    Ok(())
}

/// What [`cancel`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The job was pending: it is now `failed` with reason `cancelled` (and its graph, for a
    /// graph operation, back to the operation's failure status).
    Cancelled,
    /// The job is running: `cancel_requested` is set; its worker ends it.
    Requested,
    /// The job had already ended; nothing changed.
    Finished,
    /// No such job in the project.
    NotFound,
}

/// Cancels a job of `project` (the graph row locked first, per the lock order).
pub async fn cancel(
    conn: &mut PgConnection,
    project: &str,
    id: Uuid,
) -> Result<CancelOutcome, StoreError> {
    let mut tx = conn.begin().await?;
    lock_graph_of(&mut tx, id).await?;
    let status = sqlx::query_scalar!(
        "SELECT status FROM jobs WHERE id = $1 AND project_id = $2 FOR NO KEY UPDATE",
        id,
        project,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let outcome = match status.as_deref() {
        None => CancelOutcome::NotFound,
        Some("pending") => {
            let row = sqlx::query!(
                "UPDATE jobs
                 SET status = 'failed', end_time = greatest(now(), begin_time),
                     fail_reason = 'cancelled', cancel_requested = true
                 WHERE id = $1 AND status = 'pending'
                 RETURNING job_type, graph_id, payload",
                id,
            )
            .fetch_one(&mut *tx)
            .await?;
            if row.job_type == GRAPH_MANAGEMENT
                && let Some(graph_id) = row.graph_id
            {
                undo_graph(&mut tx, id, graph_id, &row.payload).await?;
            }
            CancelOutcome::Cancelled
        }
        Some("running") => {
            sqlx::query!(
                "UPDATE jobs SET cancel_requested = true WHERE id = $1 AND status = 'running'",
                id,
            )
            .execute(&mut *tx)
            .await?;
            CancelOutcome::Requested
        }
        Some(_) => CancelOutcome::Finished,
    };
    tx.commit().await?;
    Ok(outcome)
}
