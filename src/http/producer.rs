//! The producer API (`/internal/v1/{project_id}/...`, `producer` tokens): other internal
//! services enqueue jobs of their own types and run them on their own workers (claim,
//! heartbeat, complete).

use std::time::Duration;

use actix_web::{HttpResponse, post, web};
use sqlx::PgPool;

use super::common::job_id;
use super::error::{ApiError, ErrorBody};
use super::extract::{Authorized, JsonBody, Producer};
use super::openapi::errors as err;
use super::producer_view::{Claimed, Completed, Enqueued, HeartbeatAnswer};
use super::requests::params::{JobPath, ProjectPath};
use super::requests::producer::{ClaimBody, CompleteBody, EnqueueBody, HeartbeatBody};
use crate::domain::producer::{Beat, Claim, Completion};
use crate::metrics::Metrics;
use crate::service::horizon::QueueHorizon;
use crate::service::producer;
use crate::store::completions::Completer;
use crate::store::enqueues::Enqueuer;

/// `POST /internal/v1/{project_id}/jobs`: one job (a job object) or a batch
/// (`{"jobs": [...]}`, up to 1,000) in one transaction. Answers `{"job_ids": [...]}` (and
/// `job_id` for a single job).
#[utoipa::path(
    post,
    path = "/internal/v1/{project_id}/jobs",
    tag = "producer",
    summary = "Enqueue jobs",
    description = "One job, or a batch of 1 to 1,000 in one transaction. Needs a `producer` token.",
    params(ProjectPath),
    request_body = EnqueueBody,
    responses(
        (status = 200, description = "The jobs are pending.", body = Enqueued),
        (status = 400, description = err::BAD_PRODUCER, body = ErrorBody),
    )
)]
#[post("/internal/v1/{project_id}/jobs")]
pub async fn enqueue(
    auth: Authorized<Producer>,
    body: JsonBody<EnqueueBody>,
    pool: web::Data<PgPool>,
    enqueuer: web::Data<Enqueuer>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let (batch, single) = body.0.jobs()?;
    let names: Vec<String> = batch.iter().map(|job| job.job_name.clone()).collect();
    let enqueued =
        producer::enqueue(&pool, &enqueuer, &auth.project, &auth.origin(), batch).await?;
    for (name, _) in names.iter().zip(&enqueued).filter(|(_, e)| e.created) {
        metrics.job_accepted(name);
    }
    let ids: Vec<String> = enqueued.iter().map(|e| e.id.simple().to_string()).collect();
    Ok(HttpResponse::Ok().json(Enqueued {
        job_id: single.then(|| ids[0].clone()),
        job_ids: ids,
    }))
}

/// `POST /internal/v1/{project_id}/jobs/claim`
#[utoipa::path(
    post,
    path = "/internal/v1/{project_id}/jobs/claim",
    tag = "producer",
    summary = "Claim pending jobs",
    description = "Leases up to `max_jobs` pending jobs of the given types, highest priority first. Needs a `producer` token.",
    params(ProjectPath),
    request_body = ClaimBody,
    responses(
        (status = 200, description = "The jobs leased (possibly none).", body = Claimed),
        (status = 400, description = err::BAD_PRODUCER, body = ErrorBody),
    )
)]
#[post("/internal/v1/{project_id}/jobs/claim")]
pub async fn claim(
    auth: Authorized<Producer>,
    body: JsonBody<ClaimBody>,
    pool: web::Data<PgPool>,
    horizon: web::Data<QueueHorizon>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let claim = Claim::try_from(body.0)?;
    let subject = &auth.caller.subject;
    let jobs = producer::claim(&pool, &horizon, &auth.project, subject, &claim).await?;
    for job in &jobs {
        metrics.job_started(&job.job_name);
    }
    Ok(HttpResponse::Ok().json(Claimed { jobs }))
}

/// `POST /internal/v1/{project_id}/jobs/{job_id}/heartbeat`
#[utoipa::path(
    post,
    path = "/internal/v1/{project_id}/jobs/{job_id}/heartbeat",
    tag = "producer",
    summary = "Renew a lease and report progress",
    description = "Needs a `producer` token and the lease's token.",
    params(ProjectPath, JobPath),
    request_body = HeartbeatBody,
    responses(
        (status = 200, description = "The lease is renewed.", body = HeartbeatAnswer),
        (status = 400, description = err::BAD_PRODUCER, body = ErrorBody),
        (status = 404, description = err::JOB_NOT_FOUND, body = ErrorBody),
        (status = 409, description = err::STALE_LEASE, body = ErrorBody),
    )
)]
#[post("/internal/v1/{project_id}/jobs/{job_id}/heartbeat")]
pub async fn heartbeat(
    auth: Authorized<Producer>,
    path: web::Path<JobPath>,
    body: JsonBody<HeartbeatBody>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let id = job_id(&path.job_id)?;
    let beat = Beat::try_from(body.0)?;
    let renewed = producer::heartbeat(&pool, &auth.project, id.0, &beat).await?;
    Ok(HttpResponse::Ok().json(HeartbeatAnswer {
        cancel_requested: renewed.cancel_requested,
        lease_expires_at: renewed.lease_expires_at,
    }))
}

/// `POST /internal/v1/{project_id}/jobs/{job_id}/complete`
#[utoipa::path(
    post,
    path = "/internal/v1/{project_id}/jobs/{job_id}/complete",
    tag = "producer",
    summary = "Report a job's end",
    description = "Needs a `producer` token and the lease's token.",
    params(ProjectPath, JobPath),
    request_body = CompleteBody,
    responses(
        (status = 200, description = "The job has ended.", body = Completed),
        (status = 400, description = err::BAD_PRODUCER, body = ErrorBody),
        (status = 404, description = err::JOB_NOT_FOUND, body = ErrorBody),
        (status = 409, description = err::STALE_LEASE, body = ErrorBody),
    )
)]
#[post("/internal/v1/{project_id}/jobs/{job_id}/complete")]
pub async fn complete(
    auth: Authorized<Producer>,
    path: web::Path<JobPath>,
    body: JsonBody<CompleteBody>,
    pool: web::Data<PgPool>,
    completer: web::Data<Completer>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let id = job_id(&path.job_id)?;
    let done = Completion::try_from(body.0)?;
    let completed = producer::complete(&pool, &completer, &auth.project, id.0, &done).await?;
    let run_time = completed
        .run_secs
        .and_then(|secs| Duration::try_from_secs_f64(secs.max(0.0)).ok());
    metrics.job_finished(&completed.job_name, done.status, run_time);
    Ok(HttpResponse::Ok().json(Completed {
        job_id: id.to_string(),
        status: done.status,
    }))
}
