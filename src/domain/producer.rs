//! Requests of the producer API (`/internal/v1/`), parsed and checked: other internal
//! services enqueue jobs of their own types, run them on their own workers, report them.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ParamError;
use super::graph::GraphName;
use super::job::{FileKind, FileStatus, JobStatus};
use crate::store::JobFile;

/// The most jobs one enqueue call may carry.
pub const MAX_BATCH: usize = 1000;
/// The most jobs one claim may take.
pub const MAX_CLAIM: i64 = 100;
/// Lease lengths a claim or heartbeat may ask for, in seconds.
pub const LEASE_SECS: std::ops::RangeInclusive<u64> = 1..=3600;
/// The lease when none is asked for.
pub const DEFAULT_LEASE_SECS: u64 = 30;

/// Job types that the built-in worker pool runs; producers may not use them (a producer's
/// job would be claimed and run by the built-in engine).
pub const RESERVED_TYPES: [&str; 2] = [
    crate::store::queue::GRAPH_MANAGEMENT,
    crate::engine::builtin::NOOP,
];

/// One job as a producer sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobRequest {
    /// The producer's own job type (not a built-in one: `GraphManagement`, `Noop`).
    #[schema(pattern = "^[A-Za-z0-9_.:/-]{1,64}$")]
    pub job_type: String,
    #[schema(pattern = "^[A-Za-z0-9_.:/-]{1,128}$")]
    pub job_name: String,
    /// A graph name of the project, shown as the job's `related_graph`.
    #[serde(default)]
    pub related_graph: Option<String>,
    /// Any JSON, handed to the worker that claims the job.
    #[serde(default)]
    pub payload: Value,
    /// Files shown in the job's `job_detail`.
    #[serde(default)]
    pub files: Option<Vec<FileRequest>>,
    /// Not claimed before this time.
    #[serde(default)]
    pub run_after: Option<DateTime<Utc>>,
    /// 1..100; 3 when absent.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub max_attempts: Option<i32>,
    /// -1000..1000, higher first; 0 when absent.
    #[serde(default)]
    #[schema(minimum = -1000, maximum = 1000)]
    pub priority: Option<i32>,
    /// 1 to 200 bytes; a second enqueue with the same key answers the first job's id.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// One file entry, as in `job_detail`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRequest {
    #[schema(value_type = FileKind)]
    pub kind: String,
    #[schema(min_length = 1)]
    pub path: String,
    #[serde(default)]
    pub log: Option<String>,
    /// `pending` when absent.
    #[serde(default)]
    #[schema(value_type = Option<FileStatus>)]
    pub status: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
    #[serde(default)]
    pub total_lines: Option<i64>,
    #[serde(default)]
    pub failed_lines: Option<i64>,
    #[serde(default)]
    pub successful_lines: Option<i64>,
}

/// A checked job to enqueue.
#[derive(Debug, Clone)]
pub struct NewProducerJob {
    pub job_type: String,
    pub job_name: String,
    pub related_graph: Option<String>,
    pub payload: Value,
    pub files: Vec<JobFile>,
    pub run_after: Option<DateTime<Utc>>,
    pub max_attempts: i32,
    pub priority: i32,
    pub idempotency_key: Option<String>,
}

fn name_like(param: &'static str, raw: &str, max: usize) -> Result<(), ParamError> {
    let ok = !raw.is_empty()
        && raw.chars().count() <= max
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ParamError::new(
            param,
            format!("1 to {max} ASCII letters, digits or _ - . : /"),
        ))
    }
}

/// A job type a producer may use: a name, and none of the built-in pool's types.
pub fn check_job_type(raw: &str) -> Result<(), ParamError> {
    name_like("job_type", raw, 64)?;
    if RESERVED_TYPES.contains(&raw) {
        return Err(ParamError::new(
            "job_type",
            format!("{raw} is reserved for the built-in worker pool"),
        ));
    }
    Ok(())
}

impl JobRequest {
    /// Checks every field.
    pub fn check(self) -> Result<NewProducerJob, ParamError> {
        check_job_type(&self.job_type)?;
        name_like("job_name", &self.job_name, 128)?;
        if let Some(graph) = &self.related_graph {
            GraphName::parse(graph)
                .ok_or_else(|| ParamError::new("related_graph", "not a graph name"))?;
        }
        let max_attempts = self.max_attempts.unwrap_or(3);
        if !(1..=100).contains(&max_attempts) {
            return Err(ParamError::new("max_attempts", "must be 1..100"));
        }
        let priority = self.priority.unwrap_or(0);
        if !(-1000..=1000).contains(&priority) {
            return Err(ParamError::new("priority", "must be -1000..1000"));
        }
        if let Some(key) = &self.idempotency_key
            && (key.is_empty() || key.len() > 200)
        {
            return Err(ParamError::new("idempotency_key", "1 to 200 bytes"));
        }
        let files = self
            .files
            .unwrap_or_default()
            .into_iter()
            .map(FileRequest::check)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NewProducerJob {
            job_type: self.job_type,
            job_name: self.job_name,
            related_graph: self.related_graph,
            payload: self.payload,
            files,
            run_after: self.run_after,
            max_attempts,
            priority,
            idempotency_key: self.idempotency_key,
        })
    }
}

impl FileRequest {
    /// Checks the kind and status spellings.
    pub fn check(self) -> Result<JobFile, ParamError> {
        let kind: FileKind = self
            .kind
            .parse()
            .map_err(|_| ParamError::new("files.kind", "schema, vertex or edge"))?;
        let status: FileStatus = self
            .status
            .as_deref()
            .unwrap_or("pending")
            .parse()
            .map_err(|_| {
                ParamError::new(
                    "files.status",
                    "pending, running, success, failed or partFailed",
                )
            })?;
        if self.path.is_empty() {
            return Err(ParamError::new("files.path", "must not be empty"));
        }
        Ok(JobFile {
            kind,
            path: self.path,
            log: self.log,
            status,
            cause: self.cause,
            total_lines: self.total_lines.unwrap_or(-1),
            failed_lines: self.failed_lines.unwrap_or(-1),
            successful_lines: self.successful_lines.unwrap_or(-1),
        })
    }
}

/// `claim`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    /// 1 to 50 job types to take jobs of.
    #[schema(min_items = 1, max_items = 50)]
    pub job_types: Vec<String>,
    /// 1..100; 1 when absent.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub max_jobs: Option<i64>,
    /// The lease, 1..3600 seconds; 30 when absent.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3600)]
    pub lease_secs: Option<u64>,
    /// Names the claiming worker in the job's record.
    #[serde(default)]
    pub worker_id: Option<String>,
}

/// `heartbeat`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatRequest {
    /// The token the claim answered.
    pub lease_token: Uuid,
    /// The renewed lease, 1..3600 seconds; 30 when absent.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3600)]
    pub lease_secs: Option<u64>,
    /// 0..100 (never goes backwards).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub progress: Option<f32>,
    #[serde(default)]
    pub files: Option<Vec<FileRequest>>,
}

/// `complete`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    /// The token the claim answered.
    pub lease_token: Uuid,
    #[schema(value_type = FinalStatus)]
    pub status: String,
    #[serde(default)]
    pub fail_reason: Option<String>,
    #[serde(default)]
    pub files: Option<Vec<FileRequest>>,
}

/// The statuses a producer's worker may end a job with.
// The schema of `CompleteRequest::status`, which `final_status` parses.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "camelCase")]
pub enum FinalStatus {
    Success,
    PartiallyFailed,
    Failed,
}

/// A lease length in range, or the default.
pub fn lease_secs(raw: Option<u64>) -> Result<u64, ParamError> {
    let secs = raw.unwrap_or(DEFAULT_LEASE_SECS);
    if LEASE_SECS.contains(&secs) {
        Ok(secs)
    } else {
        Err(ParamError::new("lease_secs", "must be 1..3600"))
    }
}

/// The final status a producer's worker may report.
pub fn final_status(raw: &str) -> Result<JobStatus, ParamError> {
    match raw {
        "success" => Ok(JobStatus::Success),
        "partiallyFailed" => Ok(JobStatus::PartiallyFailed),
        "failed" => Ok(JobStatus::Failed),
        _ => Err(ParamError::new(
            "status",
            "success, partiallyFailed or failed",
        )),
    }
}

/// Optional file lists, checked.
pub fn check_files(files: Option<Vec<FileRequest>>) -> Result<Option<Vec<JobFile>>, ParamError> {
    files
        .map(|list| list.into_iter().map(FileRequest::check).collect())
        .transpose()
}
