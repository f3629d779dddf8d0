//! The answers of the producer API and of cancel/retry, as JSON.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{ClaimedJob, JobStatus};

/// The enqueue answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Enqueued {
    /// One id per job, in order (an idempotency key already used answers that job's id).
    pub job_ids: Vec<String>,
    /// The job's id, when one job (not a batch) was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
}

/// The claim answer: the jobs now leased to the caller (none when nothing is pending).
#[derive(Debug, Serialize, ToSchema)]
pub struct Claimed {
    pub jobs: Vec<ClaimedJob>,
}

/// The heartbeat answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeartbeatAnswer {
    /// An operator asked to cancel the job: stop and complete it as failed.
    pub cancel_requested: bool,
    pub lease_expires_at: DateTime<Utc>,
}

/// The complete answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Completed {
    pub job_id: String,
    #[schema(value_type = crate::http::requests::producer::FinalStatus)]
    pub status: JobStatus,
}

/// What a cancel did.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CancelResult {
    /// The job was pending: it ended `failed`.
    Cancelled,
    /// The job is running: its worker is asked to stop.
    CancelRequested,
}

/// The cancel answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CancelAnswer {
    pub job_id: String,
    pub result: CancelResult,
}

/// The retry answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Retried {
    /// The new job.
    pub job_id: String,
    /// The failed job it retries.
    pub retry_of: String,
}
