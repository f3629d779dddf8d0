//! Jobs of a project: the list and the job-status reads (on each HTTP thread's own
//! connections, see `db::local` and `store::status_reads`, on a replica when one is in use:
//! `db::routed`), cancel and retry.

use sqlx::PgPool;
use uuid::Uuid;

use super::graphs::{already_retried, submit};
use super::runs::compensate;
use super::{ServiceError, begin};
pub use crate::db::ReadPools;
use crate::domain::{
    Code, GRAPH_MANAGEMENT, GraphJobPayload, Job, JobFile, JobId, JobKey, JobQuery, JobStatus,
    NewJob, Operation, Origin, ProjectId,
};
use crate::storage::Storage;
pub use crate::store::status_reads::StatusReader;
use crate::store::{JobPage, list, producer, queue, seed};

/// One page of the project's jobs and the exact number matching the filter.
pub async fn list_jobs(
    pools: &ReadPools,
    project: &ProjectId,
    query: &JobQuery,
) -> Result<JobPage, ServiceError> {
    let (page, _) = pools
        .read(async |conn| list::list_jobs(conn, project, query).await)
        .await?;
    Ok(page)
}

/// The job `key` names.
pub async fn show_job(reader: &StatusReader, key: JobKey) -> Result<Job, ServiceError> {
    reader
        .find(key)
        .await?
        .ok_or_else(|| ServiceError::rejected(Code::JobNotFound))
}

/// What a cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// The job was pending: it is now `failed` with reason `cancelled` (and its graph, for a
    /// graph operation, back to the operation's failure status).
    Cancelled,
    /// The job is running: `cancel_requested` is set; its worker ends it.
    Requested,
}

/// Cancels a job of `project` (the graph row locked first, per the lock order); an ended
/// job is a 409.
pub async fn cancel(
    pool: &PgPool,
    project: &ProjectId,
    id: Uuid,
) -> Result<Cancelled, ServiceError> {
    let mut tx = begin(pool).await?;
    queue::lock_graph_of(&mut tx, id).await?;
    let outcome = match queue::lock_job(&mut *tx, project.as_str(), id).await? {
        None => return Err(ServiceError::rejected(Code::JobNotFound)),
        Some(JobStatus::Pending) => {
            let failed = queue::cancel_pending(&mut *tx, id).await?;
            compensate(&mut tx, id, &failed).await?;
            Cancelled::Cancelled
        }
        Some(JobStatus::Running) => {
            queue::request_cancel(&mut *tx, id).await?;
            Cancelled::Requested
        }
        Some(_) => {
            return Err(ServiceError::with(
                Code::JobStateConflict,
                "the job has already ended",
            ));
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// A retry: the new job, and the name of the job it retries.
#[derive(Debug, Clone)]
pub struct Retried {
    pub id: JobId,
    pub job_name: String,
}

/// A failed job of `project` again, as a new job with `retry_of` the old one (a job is
/// retried once). A graph operation goes through the operation path, so the graph's state
/// decides (a backup gets a new backup record); any other job is queued again as it was.
pub async fn retry(
    pool: &PgPool,
    storage: &Storage,
    project: &ProjectId,
    id: Uuid,
    who: &Origin,
) -> Result<Retried, ServiceError> {
    let old = {
        let mut conn = pool.acquire().await?;
        producer::retry_source(&mut conn, project.as_str(), id)
            .await?
            .ok_or_else(|| ServiceError::rejected(Code::JobNotFound))?
    };
    if old.status != JobStatus::Failed {
        return Err(ServiceError::with(
            Code::JobStateConflict,
            "only a failed job can be retried",
        ));
    }
    let new_id = if old.job_type == GRAPH_MANAGEMENT {
        let payload: GraphJobPayload =
            serde_json::from_value(old.payload.clone()).map_err(|_| {
                ServiceError::with(Code::JobStateConflict, "the job has no operation to retry")
            })?;
        let graph = old
            .graph_id
            .ok_or_else(|| ServiceError::rejected(Code::GraphNotFound))?;
        let op = with_new_backup(payload.operation);
        submit(pool, storage, project, graph, op, who, Some(old.id)).await?
    } else {
        let mut tx = begin(pool).await?;
        let new_id = producer::insert_retry(&mut tx, project.as_str(), &old, who)
            .await
            .map_err(already_retried)?;
        tx.commit().await?;
        JobId(new_id)
    };
    Ok(Retried {
        id: new_id,
        job_name: old.job_name,
    })
}

/// An operation that writes a backup gets a new backup record, not the failed one's.
fn with_new_backup(op: Operation) -> Operation {
    match op {
        Operation::Backup { .. } => Operation::Backup {
            backup_id: Uuid::now_v7(),
        },
        Operation::ImportBackup { import_path, .. } => Operation::ImportBackup {
            backup_id: Uuid::now_v7(),
            import_path,
        },
        other => other,
    }
}

/// Records finished history (`jobcenter seed`): jobs and their file results in one
/// transaction, through COPY.
pub async fn record_history(
    pool: &PgPool,
    jobs: &[NewJob],
    files: &[(JobId, Vec<JobFile>)],
) -> Result<(), ServiceError> {
    let mut tx = begin(pool).await?;
    seed::copy_jobs(&mut tx, jobs, files).await?;
    tx.commit().await?;
    Ok(())
}
