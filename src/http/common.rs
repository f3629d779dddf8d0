//! What handlers share: ids from the path (an unparsable id is an unknown object) and the
//! answer of an accepted operation.

use actix_web::HttpResponse;
use uuid::Uuid;

use super::error::ApiError;
use super::graph_view::JobAccepted;
use crate::domain::{Code, JobId};
use crate::metrics::Metrics;

/// A graph id from the path; anything unparsable is an unknown graph.
pub fn graph_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(raw).map_err(|_| ApiError::from(Code::GraphNotFound))
}

/// A job id from the path; anything unparsable is an unknown job.
pub fn job_id(raw: &str) -> Result<JobId, ApiError> {
    JobId::parse(raw).ok_or_else(|| ApiError::from(Code::JobNotFound))
}

/// A backup id from the path; anything unparsable is an unknown backup.
pub fn backup_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(raw)
        .map_err(|_| ApiError::new(Code::GraphNotFound, "the backup does not exist"))
}

/// `{"job_id"}` of an accepted job named `job_name`, counted in the metrics.
pub fn accepted(metrics: &Metrics, job_name: &str, job: JobId) -> HttpResponse {
    metrics.job_accepted(job_name);
    HttpResponse::Ok().json(JobAccepted {
        job_id: job.to_string(),
    })
}
