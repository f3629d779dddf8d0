//! Running jobs: the transactions of the worker pool and of engines. A fenced transaction
//! ([`Fenced`]) holds the job's graph and the job locked under the lease, so only the
//! lease holder commits; a job's end (success, failure, retry, release, reaping) is one
//! transaction each; a failed graph operation is compensated ([`compensate`]) in the
//! transaction that fails it.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use sqlx::{Acquire, PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::horizon::QueueHorizon;
use crate::domain::{ClaimedJob, GRAPH_MANAGEMENT, GraphJobPayload, JobStatus};
use crate::store::completions::{Completer, Ending};
use crate::store::queue::{self, FailedJob};
use crate::store::{StoreError, backups, graph_data};

/// A transaction in which the job's graph (first) and the job are locked under its lease.
pub struct Fenced(Transaction<'static, Postgres>);

impl Fenced {
    /// Begins one, provided the lease `lease_token` still holds job `id`; `None`: it does not.
    pub async fn begin(
        pool: &PgPool,
        id: Uuid,
        lease_token: Uuid,
    ) -> Result<Option<Fenced>, StoreError> {
        let mut tx = pool.begin().await?;
        if queue::lock_leased(&mut tx, id, lease_token).await? {
            Ok(Some(Fenced(tx)))
        } else {
            tx.rollback().await?;
            Ok(None)
        }
    }

    /// Commits what was written under the fence.
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.0.commit().await?)
    }
}

impl Deref for Fenced {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.0
    }
}

impl DerefMut for Fenced {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.0
    }
}

/// Claims up to `limit` claimable jobs of `job_types` (of `project` when given) for
/// `worker_id`, leased for `lease` ([`queue::claim`]), from the queue's `horizon` on; when
/// nothing is claimable there, over every month (a job made pending in an older month
/// since the horizon was read).
///
/// The claim commits without waiting for the disk ([`crate::db::begin_unflushed`]): a
/// claim lost in a crash of PostgreSQL is a lease that expired at once. The job is pending
/// again and claimable, and every write the worker makes under the lost lease is fenced by
/// its token and touches nothing; the job's end, which does wait for the disk, makes the
/// claim before it durable too. The job's start thus costs no disk flush of its own.
pub async fn claim(
    pool: &PgPool,
    horizon: &QueueHorizon,
    project: Option<&str>,
    worker_id: &str,
    job_types: &[String],
    limit: i64,
    lease: Duration,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let mut tx = crate::db::begin_unflushed(pool).await?;
    let from = horizon.current(&mut tx).await?;
    let mut jobs = queue::claim(
        &mut *tx,
        project,
        worker_id,
        job_types,
        limit,
        lease,
        Some(from),
    )
    .await?;
    if jobs.is_empty() {
        jobs = queue::claim(&mut *tx, project, worker_id, job_types, limit, lease, None).await?;
    }
    tx.commit().await?;
    Ok(jobs)
}

/// Commits `fenced` (holding the operation's final effects) with the job's final `status`
/// and, for a graph operation, the graph's status after success, no action progress and no
/// operation in flight. `false`: the lease was lost (nothing is committed).
pub async fn succeed(
    mut fenced: Fenced,
    id: Uuid,
    lease_token: Uuid,
    graph: Option<(Uuid, &GraphJobPayload)>,
    status: JobStatus,
    reason: Option<&str>,
) -> Result<bool, StoreError> {
    if let Some((graph_id, job)) = graph {
        let after = job.operation.status_on_success(job.status_before);
        graph_data::settle(&mut *fenced, graph_id, id, after).await?;
    }
    // The job's status change last, just before the commit: it locks the project's
    // job_day_counts rows, which every job's status change of the project waits for.
    if !queue::finish(&mut *fenced, id, lease_token, status, reason).await? {
        fenced.0.rollback().await?;
        return Ok(false);
    }
    fenced.commit().await?;
    Ok(true)
}

/// Ends a running job without a graph `success`, in one fenced statement (nothing else
/// changes with it; `completer` shares the statement with other endings). `false`: the
/// lease was lost.
pub async fn succeed_alone(
    completer: &Completer,
    id: Uuid,
    lease_token: Uuid,
) -> Result<bool, StoreError> {
    let ending = Ending {
        project: None,
        id,
        lease_token,
        status: JobStatus::Success,
        fail_reason: None,
    };
    Ok(completer.end(ending).await?.is_some())
}

/// The graph side of a failed graph operation: the graph returns to the operation's
/// failure status (only while this job is its operation in flight); a backup being written
/// is marked failed.
pub async fn compensate(
    conn: &mut PgConnection,
    job_id: Uuid,
    failed: &FailedJob,
) -> Result<(), StoreError> {
    let Some(graph_id) = failed
        .graph_id
        .filter(|_| failed.job_type == GRAPH_MANAGEMENT)
    else {
        return Ok(());
    };
    match serde_json::from_value::<GraphJobPayload>(failed.payload.clone()) {
        Ok(payload) => {
            let status = payload.operation.status_on_failure(payload.status_before);
            graph_data::settle(&mut *conn, graph_id, job_id, status).await?;
            if let Some(backup_id) = payload.operation.new_backup() {
                backups::fail_backup(&mut *conn, backup_id).await?;
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

/// Fails a running job with `reason` and compensates its graph. Fenced; `false`: the lease
/// was not ours, nothing changed.
pub async fn fail(
    conn: &mut PgConnection,
    id: Uuid,
    lease_token: Uuid,
    reason: &str,
) -> Result<bool, StoreError> {
    let mut tx = conn.begin().await?;
    if !queue::lock_leased(&mut tx, id, lease_token).await? {
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
    match queue::fail(&mut *conn, id, lease_token, reason).await? {
        Some(failed) => {
            compensate(conn, id, &failed).await?;
            Ok(true)
        }
        None => Ok(false),
    }
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
    if !queue::lock_leased(&mut tx, id, lease_token).await? {
        tx.rollback().await?;
        return Ok(RetryOutcome::LeaseLost);
    }
    let outcome = if queue::requeue(&mut *tx, id, lease_token, delay).await? {
        RetryOutcome::Requeued
    } else {
        let attempts = queue::attempts(&mut *tx, id).await?;
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

/// Gives a running job back (graceful shutdown): `pending` at once, and the attempt it used
/// is returned, so a release does not count as a failure. Fenced.
pub async fn release(
    conn: &mut PgConnection,
    id: Uuid,
    lease_token: Uuid,
) -> Result<bool, StoreError> {
    let mut tx = conn.begin().await?;
    let job_type = queue::release(&mut *tx, id, lease_token).await?;
    if let Some(job_type) = &job_type {
        queue::notify(&mut *tx, job_type).await?;
    }
    tx.commit().await?;
    Ok(job_type.is_some())
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
    let expired = queue::expired_leases(&mut *conn).await?;
    let mut reaped = Vec::new();
    for job in expired {
        let mut tx = conn.begin().await?;
        queue::lock_graph_of(&mut tx, job.id).await?;
        let requeued = match queue::requeue_expired(&mut *tx, job.id, job.lease_token).await? {
            Some(job_type) => {
                queue::notify(&mut *tx, &job_type).await?;
                tracing::warn!(
                    job_id = %job.id, worker_id = job.worker_id, attempt = job.attempt,
                    "lease expired: the job goes back to the queue"
                );
                Some(true)
            }
            None => {
                let reason = format!(
                    "the worker running this job stopped responding; gave up after {} attempts",
                    job.attempt
                );
                let still_expired = queue::lock_expired(&mut *tx, job.id, job.lease_token).await?;
                let failed =
                    still_expired && fail_locked(&mut tx, job.id, job.lease_token, &reason).await?;
                if failed {
                    tracing::warn!(
                        job_id = %job.id, worker_id = job.worker_id, attempt = job.attempt,
                        max_attempts = job.max_attempts,
                        "lease expired and no attempts remain: the job failed"
                    );
                }
                failed.then_some(false)
            }
        };
        tx.commit().await?;
        if let Some(requeued) = requeued {
            reaped.push(ReapedJob {
                id: job.id,
                job_name: job.job_name,
                requeued,
            });
        }
    }
    Ok(reaped)
}
