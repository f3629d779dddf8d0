//! Single jobs: insert, per-file results, and the job-status read.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::StoreError;
use super::file_rows::FileRows;
use crate::domain::{FileKind, Job, JobFile, JobId, JobKey, NewJob};

/// A jobs row as the read statements select it, with its file results; turned into [`Job`]
/// by [`JobRow::into_job`].
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
    pub files: FileRows,
}

impl JobRow {
    /// The job, with its file results.
    pub(crate) fn into_job(self) -> Result<Job, StoreError> {
        let status = StoreError::parsed("jobs.status", &self.status)?;
        let job = Job {
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
        };
        Ok(job.with_files(self.files.0))
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
    sqlx::query!(
        "DELETE FROM job_files
         WHERE job_id = $1 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1)",
        job.0
    )
    .execute(&mut *conn)
    .await?;
    insert_files(&mut *conn, &[(job, files)]).await
}

/// Records the file results of new jobs, every file of every job in one statement
/// (ordinals per kind in the order given; each row takes its job's `begin_time`, which
/// places it in its job's month).
pub async fn insert_files(
    conn: impl PgExecutor<'_>,
    jobs: &[(JobId, &[JobFile])],
) -> Result<(), StoreError> {
    if jobs.is_empty() {
        return Ok(());
    }
    let mut rows = FileColumns::default();
    for (job, files) in jobs {
        let mut ordinal = std::collections::HashMap::<FileKind, i32>::new();
        for file in *files {
            let n = ordinal.entry(file.kind).or_default();
            *n += 1;
            rows.push(*job, *n, file);
        }
    }
    sqlx::query!(
        "INSERT INTO job_files (job_id, begin_time, kind, ordinal, path, log, status, cause,
                                total_lines, failed_lines, successful_lines)
         SELECT f.job_id, j.begin_time, f.kind, f.ordinal, f.path, f.log, f.status, f.cause,
                f.total_lines, f.failed_lines, f.successful_lines
         FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[],
                     $6::text[], $7::text[], $8::int8[], $9::int8[], $10::int8[])
              AS f (job_id, kind, ordinal, path, log, status, cause,
                    total_lines, failed_lines, successful_lines)
         JOIN jobs j ON j.id = f.job_id
                    AND j.begin_time BETWEEN job_begin_min(f.job_id) AND job_begin_max(f.job_id)",
        &rows.job_ids,
        &rows.kinds as &[&str],
        &rows.ordinals,
        &rows.paths,
        &rows.logs as &[Option<String>],
        &rows.statuses as &[&str],
        &rows.causes as &[Option<String>],
        &rows.total_lines,
        &rows.failed_lines,
        &rows.successful_lines,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// File results, column by column (for [`insert_files`]).
#[derive(Default)]
struct FileColumns {
    job_ids: Vec<Uuid>,
    kinds: Vec<&'static str>,
    ordinals: Vec<i32>,
    paths: Vec<String>,
    logs: Vec<Option<String>>,
    statuses: Vec<&'static str>,
    causes: Vec<Option<String>>,
    total_lines: Vec<i64>,
    failed_lines: Vec<i64>,
    successful_lines: Vec<i64>,
}

impl FileColumns {
    fn push(&mut self, job: JobId, ordinal: i32, file: &JobFile) {
        self.job_ids.push(job.0);
        self.kinds.push(file.kind.as_str());
        self.ordinals.push(ordinal);
        self.paths.push(file.path.clone());
        self.logs.push(file.log.clone());
        self.statuses.push(file.status.as_str());
        self.causes.push(file.cause.clone());
        self.total_lines.push(file.total_lines);
        self.failed_lines.push(file.failed_lines);
        self.successful_lines.push(file.successful_lines);
    }
}

/// The jobs named by `keys` (those that exist), each with its file results as one array
/// (as in the list), in one statement (`sql/job_status.sql`, also pgbench's). Keys may
/// repeat; one key is the single job-status read. Its last two parameters are the window
/// of begin times the ids allow ([`JobId::begin_window_of`]; NULL: unbounded), so the
/// generic plan opens only the months it covers.
pub async fn find_jobs(conn: &mut PgConnection, keys: &[JobKey]) -> Result<Vec<Job>, StoreError> {
    let ids: Vec<Uuid> = keys.iter().map(|k| k.id.0).collect();
    let projects: Vec<String> = keys.iter().map(|k| k.project.as_str().to_owned()).collect();
    let graphs: Vec<Uuid> = keys.iter().map(|k| k.graph_id).collect();
    let window = JobId::begin_window_of(keys.iter().map(|k| k.id));
    let rows = sqlx::query_file_as!(
        JobRow,
        "src/store/sql/job_status.sql",
        &ids,
        &projects,
        &graphs,
        window.map(|w| w.0),
        window.map(|w| w.1),
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(JobRow::into_job).collect()
}

/// Job `id` of `project` and the reject log recorded for its file `kind` #`ordinal`:
/// `None` when the project has no such job; `Some(None)` when the job has no such file or
/// the file no log.
pub async fn find_file_log(
    conn: impl PgExecutor<'_>,
    project: &str,
    id: Uuid,
    kind: FileKind,
    ordinal: i32,
) -> Result<Option<Option<String>>, StoreError> {
    let found = sqlx::query_scalar!(
        "SELECT f.log FROM jobs j
         LEFT JOIN job_files f ON f.job_id = j.id AND f.begin_time = j.begin_time
                              AND f.kind = $3 AND f.ordinal = $4
         WHERE j.id = $1 AND j.project_id = $2
           AND j.begin_time BETWEEN job_begin_min($1) AND job_begin_max($1)",
        id,
        project,
        kind.as_str(),
        ordinal,
    )
    .fetch_optional(conn)
    .await?;
    Ok(found)
}
