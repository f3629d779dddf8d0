//! The producer API: other internal services' jobs, enqueued in one transaction per batch
//! (idempotent by key), claimed within their project, and reported under their lease.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::horizon::QueueHorizon;
use super::{ServiceError, begin, runs};
use crate::domain::producer::{Beat, Claim, Completion, NewProducerJob};
use crate::domain::{ClaimedJob, Code, JobId, Origin, ProjectId};
use crate::store::StoreError;
use crate::store::completions::{Completer, Ended, Ending};
use crate::store::enqueues::Enqueuer;
use crate::store::jobs;
use crate::store::producer::{self as store, Enqueue, Enqueued, Fence, Renewed};

/// Records `batch` as pending jobs of `project`, all or none: one statement (through
/// `enqueuer`, shared with the enqueues that arrive meanwhile), or one transaction when
/// some job carries file results (their rows are a second statement).
///
/// No NOTIFY: the built-in workers never run producers' job types (they are refused at
/// the call), producers' workers claim by asking, and a NOTIFY would serialize the commits
/// of every enqueue on the database's notification queue.
pub async fn enqueue(
    pool: &PgPool,
    enqueuer: &Enqueuer,
    project: &ProjectId,
    who: &Origin,
    batch: Vec<NewProducerJob>,
) -> Result<Vec<Enqueued>, ServiceError> {
    let request = Enqueue {
        project: project.as_str().to_owned(),
        origin: who.clone(),
        jobs: batch,
    };
    if request.jobs.iter().all(|job| job.files.is_empty()) {
        return Ok(enqueuer.enqueue(request).await?);
    }
    let mut tx = begin(pool).await?;
    let mut enqueued = store::enqueue(&mut tx, &[&request]).await?;
    tx.commit().await?;
    Ok(enqueued.pop().unwrap_or_default())
}

/// Leases up to `claim.max_jobs` pending jobs of the project to the caller's worker; each
/// job's payload is the producer's own.
pub async fn claim(
    pool: &PgPool,
    horizon: &QueueHorizon,
    project: &ProjectId,
    subject: &str,
    claim: &Claim,
) -> Result<Vec<ClaimedJob>, ServiceError> {
    let worker = format!(
        "producer:{subject}:{}",
        claim.worker_id.as_deref().unwrap_or("-")
    );
    let jobs = runs::claim(
        pool,
        horizon,
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

/// Renews the lease and records progress (never backwards) and, when given, the file
/// results; fenced by the lease token. Without files one statement; with them one
/// transaction.
pub async fn heartbeat(
    pool: &PgPool,
    project: &ProjectId,
    id: Uuid,
    beat: &Beat,
) -> Result<Renewed, ServiceError> {
    let (project, token) = (project.as_str(), beat.lease_token);
    let lease = beat.lease.as_secs_f64();
    let Some(files) = &beat.files else {
        let mut conn = pool.acquire().await.map_err(StoreError::from)?;
        return match store::renew(&mut *conn, project, id, token, lease, beat.progress).await? {
            Some(renewed) => Ok(renewed),
            None => Err(not_held(&mut conn, project, id).await?),
        };
    };
    let mut tx = begin(pool).await?;
    check_fence(store::fence(&mut tx, project, id, token).await?)?;
    let renewed = store::renew(&mut *tx, project, id, token, lease, beat.progress)
        .await?
        .ok_or_else(|| ServiceError::rejected(Code::LeaseNotHeld))?;
    jobs::replace_files(&mut tx, JobId(id), files).await?;
    tx.commit().await?;
    Ok(renewed)
}

/// Ends the job with its final status and, when given, its file results; fenced by the
/// lease token. Without files through `completer` (one statement, shared with the
/// completions that arrive meanwhile); with them one transaction.
pub async fn complete(
    pool: &PgPool,
    completer: &Completer,
    project: &ProjectId,
    id: Uuid,
    done: &Completion,
) -> Result<Ended, ServiceError> {
    let (project, token) = (project.as_str(), done.lease_token);
    let reason = done.fail_reason.as_deref();
    let Some(files) = &done.files else {
        let ending = Ending {
            project: Some(project.to_owned()),
            id,
            lease_token: token,
            status: done.status,
            fail_reason: done.fail_reason.clone(),
        };
        return match completer.end(ending).await? {
            Some(ended) => Ok(ended),
            None => {
                let mut conn = pool.acquire().await.map_err(StoreError::from)?;
                Err(not_held(&mut conn, project, id).await?)
            }
        };
    };
    let mut tx = begin(pool).await?;
    check_fence(store::fence(&mut tx, project, id, token).await?)?;
    jobs::replace_files(&mut tx, JobId(id), files).await?;
    let completed = store::complete(&mut *tx, project, id, token, done.status, reason)
        .await?
        .ok_or_else(|| ServiceError::rejected(Code::LeaseNotHeld))?;
    tx.commit().await?;
    Ok(completed)
}

/// Why a fenced statement changed nothing: no such job, or a lease that does not hold it.
async fn not_held(
    conn: &mut PgConnection,
    project: &str,
    id: Uuid,
) -> Result<ServiceError, ServiceError> {
    Ok(if store::exists(&mut *conn, project, id).await? {
        ServiceError::rejected(Code::LeaseNotHeld)
    } else {
        ServiceError::rejected(Code::JobNotFound)
    })
}

fn check_fence(fence: Fence) -> Result<(), ServiceError> {
    match fence {
        Fence::Held => Ok(()),
        Fence::NotFound => Err(ServiceError::rejected(Code::JobNotFound)),
        Fence::Stale => Err(ServiceError::rejected(Code::LeaseNotHeld)),
    }
}
