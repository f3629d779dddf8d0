//! Jobs as the service knows them: a recorded job with its file results, a job to record,
//! a job leased to a worker, and the key the job-status API names a job by.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ProjectId;
use super::job::{FileKind, FileStatus, IMPORT_GRAPH, JobId, JobStatus};

/// A recorded job.
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
    /// Per-file results: always for `ImportGraph` jobs, for others when they have files.
    pub files: Option<Vec<JobFile>>,
}

impl Job {
    /// Sets the file results read with the job: an `ImportGraph` job always has a
    /// (possibly empty) list, other jobs only when they have files.
    pub fn with_files(mut self, files: Vec<JobFile>) -> Job {
        self.files = if !files.is_empty() {
            Some(files)
        } else if self.job_name == IMPORT_GRAPH {
            Some(Vec::new())
        } else {
            None
        };
        self
    }
}

/// One file's result within a job (an import's, or a producer's report).
#[derive(Debug, Clone, PartialEq)]
pub struct JobFile {
    pub kind: FileKind,
    pub path: String,
    pub log: Option<String>,
    pub status: FileStatus,
    pub cause: Option<String>,
    /// -1: not reported.
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

/// A job leased to a worker (the built-in pool's, or a producer's over HTTP, which gets
/// its own payload back unwrapped).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimedJob {
    /// 32 lowercase hex characters.
    #[schema(value_type = String)]
    pub job_id: JobId,
    #[serde(skip)]
    pub project_id: String,
    pub job_type: String,
    pub job_name: String,
    #[serde(skip)]
    pub graph_id: Option<Uuid>,
    /// The graph's name.
    pub related_graph: Option<String>,
    /// As enqueued.
    pub payload: serde_json::Value,
    /// 1 for the first run, 2 for the first retry, ...
    pub attempt: i32,
    pub max_attempts: i32,
    /// Fences every later write: only the lease's holder may report.
    pub lease_token: Uuid,
    pub lease_expires_at: DateTime<Utc>,
    /// An operator asked to cancel the job: stop and end it as failed.
    pub cancel_requested: bool,
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

/// Who asked for a job, for its record (`created_by`, `request_id`).
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The token's subject.
    pub created_by: String,
    /// The request that created the job.
    pub request_id: Option<String>,
}
