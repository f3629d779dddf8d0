//! The job-center read API: list a project's jobs, show one job.

use actix_web::{HttpResponse, get, web};
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::QueryMap;
use super::job_view::{JobListView, JobView};
use super::openapi::errors as err;
use super::openapi::params::{GraphPath, JobListParams, JobPath, ProjectPath};
use crate::auth::{Action, Caller};
use crate::db::LocalPool;
use crate::domain::{JobId, JobQuery, ProjectId};
use crate::store;
use crate::store::jobs::JobKey;
use crate::store::status_reads::StatusReader;

/// The job list's connections of an HTTP worker thread.
pub struct ListPool(pub LocalPool);

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
    caller: Caller,
    path: web::Path<String>,
    query: QueryMap,
    pool: web::Data<ListPool>,
) -> Result<HttpResponse, ApiError> {
    let project = ProjectId::parse(&path)?;
    caller.authorize(&project, Action::Read)?;
    let query = JobQuery::parse(&query.0)?;
    let page = pool
        .0
        .read(async |conn| store::list::list_jobs(conn, &project, &query).await)
        .await?;
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
    caller: Caller,
    path: web::Path<(String, String, String)>,
    reader: web::Data<StatusReader>,
) -> Result<HttpResponse, ApiError> {
    let (project, graph_id, job_id) = path.into_inner();
    let project = ProjectId::parse(&project)?;
    caller.authorize(&project, Action::Read)?;
    let (Ok(graph_id), Some(job_id)) = (Uuid::try_parse(&graph_id), JobId::parse(&job_id)) else {
        return Err(ApiError::job_not_found());
    };
    let key = JobKey {
        project,
        graph_id,
        id: job_id,
    };
    let job = reader
        .find(key)
        .await?
        .ok_or_else(ApiError::job_not_found)?;
    Ok(HttpResponse::Ok().json(JobView::from(job)))
}
