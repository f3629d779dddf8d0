//! The producer API: other internal services' jobs, enqueued in one transaction per batch
//! (idempotent by key), claimed within their project, and reported under their lease.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::{ServiceError, begin};
use crate::domain::producer::{Beat, Claim, Completion, NewProducerJob};
use crate::domain::{ClaimedJob, Code, JobId, Origin, ProjectId};
use crate::store::producer::{self as store, Completed, Enqueued, Fence};
use crate::store::{jobs, queue};

/// Records `batch` as pending jobs of `project` in one transaction.
pub async fn enqueue(
    pool: &PgPool,
    project: &ProjectId,
    who: &Origin,
    batch: &[NewProducerJob],
) -> Result<Vec<Enqueued>, ServiceError> {
    let mut tx = begin(pool).await?;
    let enqueued = store::enqueue(&mut tx, project.as_str(), who, batch).await?;
    tx.commit().await?;
    Ok(enqueued)
}

/// Leases up to `claim.max_jobs` pending jobs of the project to the caller's worker; each
/// job's payload is the producer's own.
pub async fn claim(
    pool: &PgPool,
    project: &ProjectId,
    subject: &str,
    claim: &Claim,
) -> Result<Vec<ClaimedJob>, ServiceError> {
    let worker = format!(
        "producer:{subject}:{}",
        claim.worker_id.as_deref().unwrap_or("-")
    );
    let jobs = queue::claim(
        pool,
        Some(project.as_str()),
        &worker,
        &claim.job_types,
        claim.max_jobs,
        claim.lease,
    )
    .await?;
    Ok(jobs
        .into_iter()
        .map(|job| ClaimedJob {
            payload: store::unwrap_payload(&job.payload),
            ..job
        })
        .collect())
}

/// What a heartbeat learnt.
#[derive(Debug, Clone, Copy)]
pub struct Renewed {
    pub cancel_requested: bool,
    pub lease_expires_at: DateTime<Utc>,
}

/// Renews the lease, records progress (never backwards) and, when given, the file results,
/// in one transaction; fenced by the lease token.
pub async fn heartbeat(
    pool: &PgPool,
    project: &ProjectId,
    id: Uuid,
    beat: &Beat,
) -> Result<Renewed, ServiceError> {
    let mut tx = begin(pool).await?;
    check_fence(store::fence(&mut tx, project.as_str(), id, beat.lease_token).await?)?;
    let cancel_requested =
        queue::heartbeat(&mut *tx, id, beat.lease_token, beat.lease, beat.progress)
            .await?
            .ok_or_else(|| ServiceError::rejected(Code::LeaseNotHeld))?;
    if let Some(files) = &beat.files {
        jobs::replace_files(&mut tx, JobId(id), files).await?;
    }
    let lease_expires_at = store::lease_expires_at(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(Renewed {
        cancel_requested,
        lease_expires_at,
    })
}

/// Ends the job with its final status and, when given, its file results, in one
/// transaction; fenced by the lease token.
pub async fn complete(
    pool: &PgPool,
    project: &ProjectId,
    id: Uuid,
    done: &Completion,
) -> Result<Completed, ServiceError> {
    let mut tx = begin(pool).await?;
    check_fence(store::fence(&mut tx, project.as_str(), id, done.lease_token).await?)?;
    if let Some(files) = &done.files {
        jobs::replace_files(&mut tx, JobId(id), files).await?;
    }
    let reason = done.fail_reason.as_deref();
    if !queue::finish(&mut *tx, id, done.lease_token, done.status, reason).await? {
        return Err(ServiceError::rejected(Code::LeaseNotHeld));
    }
    let completed = store::completed(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(completed)
}

fn check_fence(fence: Fence) -> Result<(), ServiceError> {
    match fence {
        Fence::Held => Ok(()),
        Fence::NotFound => Err(ServiceError::rejected(Code::JobNotFound)),
        Fence::Stale => Err(ServiceError::rejected(Code::LeaseNotHeld)),
    }
}
