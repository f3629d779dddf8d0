//! The producer API's checked requests: other internal services enqueue jobs of their own
//! types, run them on their own workers (claim, heartbeat, complete) and report them. The
//! request bodies are read in `http::requests::producer` and turned into these.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::ParamError;
use super::graph::GraphName;
use super::job::{FileKind, FileStatus, JobStatus, RESERVED_TYPES};
use super::jobs::JobFile;

/// The most jobs one enqueue call may carry.
pub const MAX_BATCH: usize = 1000;
/// The most jobs one claim may take.
pub const MAX_CLAIM: i64 = 100;
/// The most job types one claim may name.
pub const MAX_CLAIM_TYPES: usize = 50;
/// Lease lengths a claim or heartbeat may ask for, in seconds.
pub const LEASE_SECS: std::ops::RangeInclusive<u64> = 1..=3600;
/// The lease when none is asked for.
pub const DEFAULT_LEASE_SECS: u64 = 30;

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

/// A checked claim.
#[derive(Debug, Clone)]
pub struct Claim {
    pub job_types: Vec<String>,
    pub max_jobs: i64,
    pub lease: Duration,
    pub worker_id: Option<String>,
}

/// A checked heartbeat.
#[derive(Debug, Clone)]
pub struct Beat {
    pub lease_token: Uuid,
    pub lease: Duration,
    pub progress: Option<f32>,
    pub files: Option<Vec<JobFile>>,
}

/// A checked report of a job's end.
#[derive(Debug, Clone)]
pub struct Completion {
    pub lease_token: Uuid,
    pub status: JobStatus,
    pub fail_reason: Option<String>,
    pub files: Option<Vec<JobFile>>,
}

/// `raw` is 1 to `max` ASCII letters, digits or `_ - . : /`.
pub fn name_like(param: &'static str, raw: &str, max: usize) -> Result<(), ParamError> {
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

/// A related graph's name.
pub fn check_related_graph(raw: &str) -> Result<(), ParamError> {
    GraphName::parse(raw)
        .map(drop)
        .ok_or_else(|| ParamError::new("related_graph", "not a graph name"))
}

/// A lease length in range, or the default.
pub fn lease(raw: Option<u64>) -> Result<Duration, ParamError> {
    let secs = raw.unwrap_or(DEFAULT_LEASE_SECS);
    if LEASE_SECS.contains(&secs) {
        Ok(Duration::from_secs(secs))
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

/// A file kind's spelling.
pub fn file_kind(raw: &str) -> Result<FileKind, ParamError> {
    raw.parse()
        .map_err(|_| ParamError::new("files.kind", "schema, vertex or edge"))
}

/// A file status's spelling (`pending` when absent).
pub fn file_status(raw: Option<&str>) -> Result<FileStatus, ParamError> {
    raw.unwrap_or("pending").parse().map_err(|_| {
        ParamError::new(
            "files.status",
            "pending, running, success, failed or partFailed",
        )
    })
}
