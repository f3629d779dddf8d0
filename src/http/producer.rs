//! The producer API (`/internal/v1/{project_id}/...`, `producer` tokens): other internal
//! services enqueue jobs of their own types and run them on their own workers (claim,
//! heartbeat, complete); and the public cancel and retry of any job (`operator` tokens).

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::graphs::{authorize, requester};
use super::openapi::bodies::EnqueueRequest;
use super::openapi::errors as err;
use super::openapi::params::{JobPath, ProjectPath};
use super::producer_view::{
    CancelAnswer, CancelResult, Claimed, ClaimedJob, Completed, Enqueued, HeartbeatAnswer, Retried,
};
use super::request_id::RequestIdentity;
use crate::auth::{Action, Caller};
use crate::domain::graph::{GraphJobPayload, Operation};
use crate::domain::producer::{
    self, ClaimRequest, CompleteRequest, HeartbeatRequest, JobRequest, MAX_BATCH, MAX_CLAIM,
};
use crate::domain::{JobId, ParamError};
use crate::metrics::Metrics;
use crate::ops::{self, OpError};
use crate::store::StoreError;
use crate::store::producer::{self as store, Fence, Origin};
use crate::store::queue::{self, CancelOutcome};

/// 409 `GES.7009`: the lease token does not hold the job (expired and reaped, taken over,
/// or the job already ended).
pub fn stale_lease() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "GES.7009",
        "the lease is not held: it expired, was taken over, or the job has ended",
    )
}

/// 409 `GES.7010`: the job's status does not allow this.
fn wrong_state(message: &str) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "GES.7010", message)
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(invalid_body)
}

/// The body, already read as JSON, as its request type.
fn from_value<T: DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    serde_json::from_value(body).map_err(invalid_body)
}

fn invalid_body(err: serde_json::Error) -> ApiError {
    ApiError::bad_request("GES.0001", format!("invalid request body: {err}"))
}

/// A second retry of the same job is a 409.
fn retried(err: StoreError) -> ApiError {
    match err {
        StoreError::Duplicate(c) if c == "jobs_one_retry" => {
            wrong_state("the job has already been retried")
        }
        other => other.into(),
    }
}

fn job_id(raw: &str) -> Result<Uuid, ApiError> {
    JobId::parse(raw)
        .map(|j| j.0)
        .ok_or_else(ApiError::job_not_found)
}

fn fenced(fence: Fence) -> ApiError {
    match fence {
        Fence::NotFound => ApiError::job_not_found(),
        Fence::Held | Fence::Stale => stale_lease(),
    }
}

fn origin(caller: &Caller, request_id: &RequestIdentity) -> Origin {
    Origin {
        created_by: caller.subject.clone(),
        request_id: Some(request_id.0.clone()),
    }
}

fn job_ids(ids: &[Uuid]) -> Vec<String> {
    ids.iter().map(|id| id.simple().to_string()).collect()
}

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
    request_body = EnqueueRequest,
    responses(
        (status = 200, description = "The jobs are pending.", body = Enqueued),
        (status = 400, description = err::BAD_PRODUCER, body = ErrorBody),
    )
)]
#[post("/internal/v1/{project_id}/jobs")]
pub async fn enqueue(
    caller: Caller,
    request_id: RequestIdentity,
    path: web::Path<String>,
    bytes: web::Bytes,
    pool: web::Data<PgPool>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let project = authorize(&caller, &path, Action::Produce)?;
    let body: Value = parse(&bytes)?;
    let single = body.get("jobs").is_none();
    let requests: Vec<JobRequest> = if single {
        vec![from_value(body)?]
    } else {
        from_value::<BatchRequest>(body)?.jobs
    };
    if requests.is_empty() || requests.len() > MAX_BATCH {
        return Err(ParamError::new("jobs", format!("1 to {MAX_BATCH} jobs")).into());
    }
    let batch = requests
        .into_iter()
        .map(JobRequest::check)
        .collect::<Result<Vec<_>, _>>()?;
    let mut tx = pool.begin().await.map_err(StoreError::from)?;
    let enqueued = store::enqueue(
        &mut tx,
        project.as_str(),
        &origin(&caller, &request_id),
        &batch,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    for (job, _) in batch.iter().zip(&enqueued).filter(|(_, e)| e.created) {
        metrics.job_accepted(&job.job_name);
    }
    let ids: Vec<Uuid> = enqueued.iter().map(|e| e.id).collect();
    Ok(HttpResponse::Ok().json(Enqueued {
        job_ids: job_ids(&ids),
        job_id: single.then(|| ids[0].simple().to_string()),
    }))
}

/// A batch of jobs to enqueue.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// 1 to 1,000 jobs.
    #[schema(min_items = 1, max_items = 1000)]
    pub jobs: Vec<JobRequest>,
}

/// `POST /internal/v1/{project_id}/jobs/claim`
#[utoipa::path(
    post,
    path = "/internal/v1/{project_id}/jobs/claim",
    tag = "producer",
    summary = "Claim pending jobs",
    description = "Leases up to `max_jobs` pending jobs of the given types, highest priority first. Needs a `producer` token.",
    params(ProjectPath),
    request_body = ClaimRequest,
    responses(
        (status = 200, description = "The jobs leased (possibly none).", body = Claimed),
        (status = 400, description = err::BAD_PRODUCER, body = ErrorBody),
    )
)]
#[post("/internal/v1/{project_id}/jobs/claim")]
pub async fn claim(
    caller: Caller,
    path: web::Path<String>,
    bytes: web::Bytes,
    pool: web::Data<PgPool>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let project = authorize(&caller, &path, Action::Produce)?;
    let request: ClaimRequest = parse(&bytes)?;
    if request.job_types.is_empty() || request.job_types.len() > 50 {
        return Err(ParamError::new("job_types", "1 to 50 job types").into());
    }
    for job_type in &request.job_types {
        producer::check_job_type(job_type)?;
    }
    let limit = request.max_jobs.unwrap_or(1);
    if !(1..=MAX_CLAIM).contains(&limit) {
        return Err(ParamError::new("max_jobs", format!("must be 1..{MAX_CLAIM}")).into());
    }
    let lease = producer::lease_secs(request.lease_secs)?;
    let worker = format!(
        "producer:{}:{}",
        caller.subject,
        request.worker_id.as_deref().unwrap_or("-")
    );
    let mut conn = pool.acquire().await.map_err(StoreError::from)?;
    let jobs = store::claim(
        &mut conn,
        project.as_str(),
        &worker,
        &request.job_types,
        limit,
        Duration::from_secs(lease),
    )
    .await?;
    for job in &jobs {
        metrics.job_started(&job.job_name);
    }
    Ok(HttpResponse::Ok().json(Claimed {
        jobs: jobs.into_iter().map(ClaimedJob::from).collect(),
    }))
}

/// `POST /internal/v1/{project_id}/jobs/{job_id}/heartbeat`
#[utoipa::path(
    post,
    path = "/internal/v1/{project_id}/jobs/{job_id}/heartbeat",
    tag = "producer",
    summary = "Renew a lease and report progress",
    description = "Needs a `producer` token and the lease's token.",
    params(ProjectPath, JobPath),
    request_body = HeartbeatRequest,
    responses(
        (status = 200, description = "The lease is renewed.", body = HeartbeatAnswer),
        (status = 400, description = err::BAD_PRODUCER, body = ErrorBody),
        (status = 404, description = err::JOB_NOT_FOUND, body = ErrorBody),
        (status = 409, description = err::STALE_LEASE, body = ErrorBody),
    )
)]
#[post("/internal/v1/{project_id}/jobs/{job_id}/heartbeat")]
pub async fn heartbeat(
    caller: Caller,
    path: web::Path<(String, String)>,
    bytes: web::Bytes,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let (project, job) = path.into_inner();
    let project = authorize(&caller, &project, Action::Produce)?;
    let id = job_id(&job)?;
    let request: HeartbeatRequest = parse(&bytes)?;
    let lease = producer::lease_secs(request.lease_secs)?;
    if let Some(p) = request.progress
        && !(0.0..=100.0).contains(&p)
    {
        return Err(ParamError::new("progress", "must be 0..100").into());
    }
    let files = producer::check_files(request.files)?;
    let mut conn = pool.acquire().await.map_err(StoreError::from)?;
    let beat = store::heartbeat(
        &mut conn,
        project.as_str(),
        id,
        request.lease_token,
        Duration::from_secs(lease),
        request.progress,
        files.as_deref(),
    )
    .await?
    .map_err(fenced)?;
    Ok(HttpResponse::Ok().json(HeartbeatAnswer {
        cancel_requested: beat.cancel_requested,
        lease_expires_at: beat.lease_expires_at,
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
    request_body = CompleteRequest,
    responses(
        (status = 200, description = "The job has ended.", body = Completed),
        (status = 400, description = err::BAD_PRODUCER, body = ErrorBody),
        (status = 404, description = err::JOB_NOT_FOUND, body = ErrorBody),
        (status = 409, description = err::STALE_LEASE, body = ErrorBody),
    )
)]
#[post("/internal/v1/{project_id}/jobs/{job_id}/complete")]
pub async fn complete(
    caller: Caller,
    path: web::Path<(String, String)>,
    bytes: web::Bytes,
    pool: web::Data<PgPool>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let (project, job) = path.into_inner();
    let project = authorize(&caller, &project, Action::Produce)?;
    let id = job_id(&job)?;
    let request: CompleteRequest = parse(&bytes)?;
    let status = producer::final_status(&request.status)?;
    let files = producer::check_files(request.files)?;
    let mut conn = pool.acquire().await.map_err(StoreError::from)?;
    let completed = store::complete(
        &mut conn,
        project.as_str(),
        id,
        request.lease_token,
        status,
        request.fail_reason.as_deref(),
        files.as_deref(),
    )
    .await?
    .map_err(fenced)?;
    let run_time = completed
        .run_secs
        .and_then(|secs| Duration::try_from_secs_f64(secs.max(0.0)).ok());
    metrics.job_finished(&completed.job_name, status, run_time);
    Ok(HttpResponse::Ok().json(Completed {
        job_id: id.simple().to_string(),
        status: status.as_str(),
    }))
}

/// `POST /v2/{project_id}/graphs/jobs/{job_id}/cancel` (operator): a pending job ends
/// `failed` (`cancelled`); a running one is asked to stop; an ended one is a 409.
#[utoipa::path(
    post,
    path = "/v2/{project_id}/graphs/jobs/{job_id}/cancel",
    tag = "jobs",
    summary = "Cancel a job",
    description = "A pending job ends `failed` (`cancelled`); a running one is asked to stop. Needs an `operator` token.",
    params(ProjectPath, JobPath),
    responses(
        (status = 200, description = "The job is cancelled, or asked to stop.", body = CancelAnswer),
        (status = 400, description = err::BAD_PARAMETER, body = ErrorBody),
        (status = 404, description = err::JOB_NOT_FOUND, body = ErrorBody),
        (status = 409, description = err::CANCEL_ENDED, body = ErrorBody),
    )
)]
#[post("/v2/{project_id}/graphs/jobs/{job_id}/cancel")]
pub async fn cancel(
    caller: Caller,
    path: web::Path<(String, String)>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let (project, job) = path.into_inner();
    let project = authorize(&caller, &project, Action::Operate)?;
    let id = job_id(&job)?;
    let mut conn = pool.acquire().await.map_err(StoreError::from)?;
    let outcome = match queue::cancel(&mut conn, project.as_str(), id).await? {
        CancelOutcome::NotFound => return Err(ApiError::job_not_found()),
        CancelOutcome::Finished => return Err(wrong_state("the job has already ended")),
        CancelOutcome::Cancelled => CancelResult::Cancelled,
        CancelOutcome::Requested => CancelResult::CancelRequested,
    };
    Ok(HttpResponse::Ok().json(CancelAnswer {
        job_id: id.simple().to_string(),
        result: outcome,
    }))
}

/// `POST /v2/{project_id}/graphs/jobs/{job_id}/retry` (operator): a failed job again, as a
/// new job with `retry_of` the old one. A graph operation goes through the operation path
/// (the graph's state decides); any other job is queued again as it was.
#[utoipa::path(
    post,
    path = "/v2/{project_id}/graphs/jobs/{job_id}/retry",
    tag = "jobs",
    summary = "Retry a failed job",
    description = "Queues the job again as a new job with `retry_of` the old one; a graph operation goes through the graph's state checks. Needs an `operator` token.",
    params(ProjectPath, JobPath),
    responses(
        (status = 200, description = "The new job is queued.", body = Retried),
        (status = 400, description = err::BAD_PARAMETER, body = ErrorBody),
        (status = 404, description = err::RETRY_NOT_FOUND, body = ErrorBody),
        (status = 409, description = err::RETRY_REFUSED, body = ErrorBody),
    )
)]
#[post("/v2/{project_id}/graphs/jobs/{job_id}/retry")]
pub async fn retry(
    caller: Caller,
    request_id: RequestIdentity,
    path: web::Path<(String, String)>,
    pool: web::Data<PgPool>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let (project, job) = path.into_inner();
    let project = authorize(&caller, &project, Action::Operate)?;
    let id = job_id(&job)?;
    let mut conn = pool.acquire().await.map_err(StoreError::from)?;
    let old = store::retry_source(&mut conn, project.as_str(), id)
        .await?
        .ok_or_else(ApiError::job_not_found)?;
    if old.status != "failed" {
        return Err(wrong_state("only a failed job can be retried"));
    }
    let new_id = if old.job_type == queue::GRAPH_MANAGEMENT {
        let payload: GraphJobPayload = serde_json::from_value(old.payload.clone())
            .map_err(|_| wrong_state("the job has no operation to retry"))?;
        let graph = old.graph_id.ok_or_else(ApiError::graph_not_found)?;
        let op = match payload.operation {
            // A new backup record, not the failed one's.
            Operation::Backup { .. } => Operation::Backup {
                backup_id: Uuid::now_v7(),
            },
            other => other,
        };
        drop(conn);
        let who = requester(&caller, &request_id);
        match ops::submit_retry(&pool, &project, graph, op, &who, old.id).await {
            Ok(job) => job.0,
            Err(OpError::Store(err)) => return Err(retried(err)),
            Err(other) => return Err(other.into()),
        }
    } else {
        let mut tx = pool.begin().await.map_err(StoreError::from)?;
        let new_id = store::insert_retry(
            &mut tx,
            project.as_str(),
            &old,
            &origin(&caller, &request_id),
        )
        .await
        .map_err(retried)?;
        tx.commit().await.map_err(StoreError::from)?;
        new_id
    };
    metrics.job_accepted(&old.job_name);
    Ok(HttpResponse::Ok().json(Retried {
        job_id: new_id.simple().to_string(),
        retry_of: old.id.simple().to_string(),
    }))
}
