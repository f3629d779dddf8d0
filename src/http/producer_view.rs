//! The answers of the producer API and of cancel/retry, as JSON.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::store::producer::ProducerClaim;

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

/// A job leased to a producer's worker.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimedJob {
    pub job_id: String,
    pub job_type: String,
    pub job_name: String,
    pub related_graph: Option<String>,
    /// As enqueued.
    pub payload: Value,
    /// 1 for the first run.
    pub attempt: i32,
    pub max_attempts: i32,
    /// Fences heartbeat and complete: only the lease's holder may report.
    pub lease_token: Uuid,
    pub lease_expires_at: DateTime<Utc>,
    /// An operator asked to cancel the job: stop and complete it as failed.
    pub cancel_requested: bool,
}

impl From<ProducerClaim> for ClaimedJob {
    fn from(j: ProducerClaim) -> Self {
        ClaimedJob {
            job_id: j.id.simple().to_string(),
            job_type: j.job_type,
            job_name: j.job_name,
            related_graph: j.graph_name,
            payload: j.payload,
            attempt: j.attempt,
            max_attempts: j.max_attempts,
            lease_token: j.lease_token,
            lease_expires_at: j.lease_expires_at,
            cancel_requested: j.cancel_requested,
        }
    }
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
    #[schema(value_type = crate::domain::producer::FinalStatus)]
    pub status: &'static str,
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
