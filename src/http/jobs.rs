//! Jobs of a project: list, show one, cancel, retry.

use actix_web::{HttpResponse, get, post, web};
use sqlx::PgPool;

use super::common::{graph_id, job_id};
use super::error::{ApiError, ErrorBody};
use super::extract::{Authorized, Operator, Query, Reader};
use super::job_view::{JobListView, JobView};
use super::openapi::errors as err;
use super::producer_view::{CancelAnswer, CancelResult, Retried};
use super::requests::params::{GraphJobPath, GraphPath, JobListParams, JobPath, ProjectPath};
use crate::domain::{JobKey, JobQuery};
use crate::metrics::Metrics;
use crate::service::jobs::{self, Cancelled, ReadPools, StatusReader};
use crate::storage::Storage;

/// The job list's connections of an HTTP worker thread.
pub struct ListPool(pub ReadPools);

/// `GET /v2/{project_id}/graphs/jobs`
#[utoipa::path(
    get,
    path = "/v2/{project_id}/graphs/jobs",
    tag = "jobs",
    summary = "List the project's jobs",
    description = "Newest first, filtered and paged. Needs a `readonly` or `operator` token.",
    params(ProjectPath, JobListParams),
    responses(
        (status = 200, description = "One page of jobs.", body = JobListView),
        (status = 400, description = err::BAD_JOB_QUERY, body = ErrorBody),
    )
)]
#[get("/v2/{project_id}/graphs/jobs")]
pub async fn list_jobs(
    auth: Authorized<Reader>,
    query: Query<JobListParams>,
    pool: web::Data<ListPool>,
) -> Result<HttpResponse, ApiError> {
    let query = JobQuery::try_from(query.0)?;
    let page = jobs::list_jobs(&pool.0, &auth.project, &query).await?;
    Ok(HttpResponse::Ok().json(JobListView {
        job_count: page.total,
        job_list: page.jobs.into_iter().map(JobView::from).collect(),
    }))
}

/// `GET /v2/{project_id}/graphs/{graph_id}/jobs/{job_id}/status`
#[utoipa::path(
    get,
    path = "/v2/{project_id}/graphs/{graph_id}/jobs/{job_id}/status",
    tag = "jobs",
    summary = "Show one job",
    description = "Needs a `readonly` or `operator` token.",
    params(ProjectPath, GraphPath, JobPath),
    responses(
        (status = 200, description = "The job.", body = JobView),
        (status = 400, description = err::BAD_PARAMETER, body = ErrorBody),
        (status = 404, description = err::JOB_NOT_FOUND, body = ErrorBody),
    )
)]
#[get("/v2/{project_id}/graphs/{graph_id}/jobs/{job_id}/status")]
pub async fn show_job(
    auth: Authorized<Reader>,
    path: web::Path<GraphJobPath>,
    reader: web::Data<StatusReader>,
) -> Result<HttpResponse, ApiError> {
    let (Ok(graph_id), Ok(id)) = (graph_id(&path.graph_id), job_id(&path.job_id)) else {
        return Err(crate::domain::Code::JobNotFound.into());
    };
    let key = JobKey {
        project: auth.project,
        graph_id,
        id,
    };
    let job = jobs::show_job(&reader, key).await?;
    Ok(HttpResponse::Ok().json(JobView::from(job)))
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
    auth: Authorized<Operator>,
    path: web::Path<JobPath>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let id = job_id(&path.job_id)?;
    let result = match jobs::cancel(&pool, &auth.project, id.0).await? {
        Cancelled::Cancelled => CancelResult::Cancelled,
        Cancelled::Requested => CancelResult::CancelRequested,
    };
    Ok(HttpResponse::Ok().json(CancelAnswer {
        job_id: id.to_string(),
        result,
    }))
}

/// `POST /v2/{project_id}/graphs/jobs/{job_id}/retry` (operator): a failed job again, as a
/// new job with `retry_of` the old one.
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
    auth: Authorized<Operator>,
    path: web::Path<JobPath>,
    pool: web::Data<PgPool>,
    storage: web::Data<Storage>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let id = job_id(&path.job_id)?;
    let retried = jobs::retry(&pool, &storage, &auth.project, id.0, &auth.origin()).await?;
    metrics.job_accepted(&retried.job_name);
    Ok(HttpResponse::Ok().json(Retried {
        job_id: retried.id.to_string(),
        retry_of: id.to_string(),
    }))
}
