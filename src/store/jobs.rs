//! Single jobs: insert, read, file results.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::StoreError;
use super::file_rows::FileRows;
use crate::domain::{FileKind, FileStatus, JobId, JobStatus, ProjectId};

/// The `job_name` whose jobs carry per-file results.
pub const IMPORT_GRAPH: &str = "ImportGraph";

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub project_id: String,
    pub graph_id: Option<Uuid>,
    pub graph_name: Option<String>,
    pub job_type: String,
    pub job_name: String,
    pub status: JobStatus,
    pub begin_time: DateTime<Utc>,
    pub end_time: Option<DateTime<Utc>>,
    pub progress: f32,
    pub fail_reason: Option<String>,
    /// Per-file results; loaded for `ImportGraph` jobs only.
    pub files: Option<Vec<JobFile>>,
}

/// One file's result within an import job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobFile {
    pub kind: FileKind,
    pub path: String,
    pub log: Option<String>,
    pub status: FileStatus,
    pub cause: Option<String>,
    pub total_lines: i64,
    pub failed_lines: i64,
    pub successful_lines: i64,
}

/// A job to record.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: JobId,
    pub project_id: ProjectId,
    pub graph_id: Option<Uuid>,
    pub graph_name: Option<String>,
    pub job_type: String,
    pub job_name: String,
    pub status: JobStatus,
    pub begin_time: DateTime<Utc>,
    pub end_time: Option<DateTime<Utc>>,
    pub progress: f32,
    pub fail_reason: Option<String>,
    pub created_by: Option<String>,
    pub request_id: Option<String>,
    /// What a worker needs to run the job.
    pub payload: serde_json::Value,
}

/// A jobs row as selected; turned into [`Job`] by [`JobRow::into_job`].
#[derive(Debug)]
pub(crate) struct JobRow {
    pub id: Uuid,
    pub project_id: String,
    pub graph_id: Option<Uuid>,
    pub graph_name: Option<String>,
    pub job_type: String,
    pub job_name: String,
    pub status: String,
    pub begin_time: DateTime<Utc>,
    pub end_time: Option<DateTime<Utc>>,
    pub progress: f32,
    pub fail_reason: Option<String>,
}

impl JobRow {
    pub(crate) fn into_job(self) -> Result<Job, StoreError> {
        let status = self
            .status
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("jobs.status: {e}")))?;
        Ok(Job {
            id: JobId(self.id),
            project_id: self.project_id,
            graph_id: self.graph_id,
            graph_name: self.graph_name,
            job_type: self.job_type,
            job_name: self.job_name,
            status,
            begin_time: self.begin_time,
            end_time: self.end_time,
            progress: self.progress,
            fail_reason: self.fail_reason,
            files: None,
        })
    }
}

/// Records a job (its counts follow in the same transaction, by trigger).
pub async fn insert_job(conn: impl PgExecutor<'_>, job: &NewJob) -> Result<(), StoreError> {
    sqlx::query!(
        "INSERT INTO jobs (id, project_id, graph_id, graph_name, job_type, job_name, status,
                           begin_time, end_time, progress, fail_reason, created_by, request_id, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        job.id.0,
        job.project_id.as_str(),
        job.graph_id,
        job.graph_name,
        job.job_type,
        job.job_name,
        job.status.as_str(),
        job.begin_time,
        job.end_time,
        job.progress,
        job.fail_reason,
        job.created_by,
        job.request_id,
        job.payload,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces the per-file results of a job.
pub async fn replace_files(
    conn: &mut PgConnection,
    job: JobId,
    files: &[JobFile],
) -> Result<(), StoreError> {
    sqlx::query!("DELETE FROM job_files WHERE job_id = $1", job.0)
        .execute(&mut *conn)
        .await?;
    let mut ordinal = std::collections::HashMap::<FileKind, i32>::new();
    for file in files {
        let n = ordinal.entry(file.kind).or_default();
        *n += 1;
        sqlx::query!(
            "INSERT INTO job_files (job_id, kind, ordinal, path, log, status, cause,
                                    total_lines, failed_lines, successful_lines)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            job.0,
            file.kind.as_str(),
            *n,
            file.path,
            file.log,
            file.status.as_str(),
            file.cause,
            file.total_lines,
            file.failed_lines,
            file.successful_lines,
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// One job of a project and graph, with its file results when it is an import (or a
/// producer job): one statement, the files as one array as in the list.
pub async fn find_job(
    conn: &mut PgConnection,
    project: &ProjectId,
    graph_id: Uuid,
    id: JobId,
) -> Result<Option<Job>, StoreError> {
    let row = sqlx::query_file_as!(
        StatusRow,
        "src/store/sql/job_status.sql",
        id.0,
        project.as_str(),
        graph_id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    row.map(StatusRow::into_job).transpose()
}

/// Names one job as the job-status URL does: its project, graph and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobKey {
    pub project: ProjectId,
    pub graph_id: Uuid,
    pub id: JobId,
}

impl JobKey {
    /// Whether `job` is the job this key names.
    pub fn names(&self, job: &Job) -> bool {
        job.id == self.id
            && job.project_id == self.project.as_str()
            && job.graph_id == Some(self.graph_id)
    }
}

/// The jobs named by `keys` (those that exist), with their files, in one statement: what
/// [`find_job`] reads, for several jobs at once. Keys may repeat.
pub async fn find_jobs(conn: &mut PgConnection, keys: &[JobKey]) -> Result<Vec<Job>, StoreError> {
    let ids: Vec<Uuid> = keys.iter().map(|k| k.id.0).collect();
    let projects: Vec<String> = keys.iter().map(|k| k.project.as_str().to_owned()).collect();
    let graphs: Vec<Uuid> = keys.iter().map(|k| k.graph_id).collect();
    let rows = sqlx::query_file_as!(
        StatusRow,
        "src/store/sql/job_statuses.sql",
        &ids,
        &projects,
        &graphs,
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(StatusRow::into_job).collect()
}

/// A row of the job-status statements.
struct StatusRow {
    id: Uuid,
    project_id: String,
    graph_id: Option<Uuid>,
    graph_name: Option<String>,
    job_type: String,
    job_name: String,
    status: String,
    begin_time: DateTime<Utc>,
    end_time: Option<DateTime<Utc>>,
    progress: f32,
    fail_reason: Option<String>,
    files: FileRows,
}

impl StatusRow {
    fn into_job(self) -> Result<Job, StoreError> {
        let job = JobRow {
            id: self.id,
            project_id: self.project_id,
            graph_id: self.graph_id,
            graph_name: self.graph_name,
            job_type: self.job_type,
            job_name: self.job_name,
            status: self.status,
            begin_time: self.begin_time,
            end_time: self.end_time,
            progress: self.progress,
            fail_reason: self.fail_reason,
        }
        .into_job()?;
        Ok(with_files(job, self.files.0))
    }
}

/// Sets a job's file results from a statement's `files` array: an `ImportGraph` job always
/// has a (possibly empty) list, other jobs only when they have files.
pub(crate) fn with_files(mut job: Job, files: Vec<JobFile>) -> Job {
    job.files = if !files.is_empty() {
        Some(files)
    } else if job.job_name == IMPORT_GRAPH {
        Some(Vec::new())
    } else {
        None
    };
    job
}
