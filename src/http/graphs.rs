//! Graphs: create, list, show, delete.

use actix_web::{HttpResponse, delete, get, post, web};
use sqlx::PgPool;

use super::common::{accepted, graph_id};
use super::error::{ApiError, ErrorBody};
use super::extract::{Authorized, JsonBody, Operator, Query, Reader};
use super::graph_view::{GraphCreated, GraphDetailView, GraphListView, GraphView, JobAccepted};
use super::openapi::errors as err;
use super::requests::graphs::CreateGraphBody;
use super::requests::params::{DeleteGraphParams, GraphPath, PageParams, ProjectPath};
use crate::domain::graph::NewGraph;
use crate::domain::{Operation, Page};
use crate::metrics::Metrics;
use crate::service::graphs;
use crate::storage::Storage;

/// `POST /v2/{project_id}/graphs`
#[utoipa::path(
    post,
    path = "/v2/{project_id}/graphs",
    tag = "graphs",
    summary = "Create a graph",
    description = "Records the graph and runs its `CreateGraph` job. Needs an `operator` token.",
    params(ProjectPath),
    request_body = CreateGraphBody,
    responses(
        (status = 200, description = "The graph is recorded and its job queued.", body = GraphCreated),
        (status = 400, description = err::BAD_CREATE, body = ErrorBody),
        (status = 409, description = err::NAME_TAKEN, body = ErrorBody),
    )
)]
#[post("/v2/{project_id}/graphs")]
pub async fn create_graph(
    auth: Authorized<Operator>,
    body: JsonBody<CreateGraphBody>,
    pool: web::Data<PgPool>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let spec = NewGraph::try_from(body.0)?;
    let created = graphs::create_graph(&pool, &auth.project, spec, &auth.origin()).await?;
    metrics.job_accepted(Operation::Create.job_name());
    Ok(HttpResponse::Ok().json(GraphCreated {
        id: created.id.simple().to_string(),
        name: created.name,
        job_id: created.job.to_string(),
    }))
}

/// `GET /v2/{project_id}/graphs`
#[utoipa::path(
    get,
    path = "/v2/{project_id}/graphs",
    tag = "graphs",
    summary = "List the project's graphs",
    description = "Needs a `readonly` or `operator` token.",
    params(ProjectPath, PageParams),
    responses(
        (status = 200, description = "One page of graphs.", body = GraphListView),
        (status = 400, description = err::BAD_PARAMETER, body = ErrorBody),
    )
)]
#[get("/v2/{project_id}/graphs")]
pub async fn list_graphs(
    auth: Authorized<Reader>,
    query: Query<PageParams>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let page = Page::try_from(query.0)?;
    let (total, graphs) = graphs::list_graphs(&pool, &auth.project, page).await?;
    Ok(HttpResponse::Ok().json(GraphListView {
        graph_count: total,
        graphs: graphs.into_iter().map(GraphView::from).collect(),
    }))
}

/// `GET /v2/{project_id}/graphs/{graph_id}`
#[utoipa::path(
    get,
    path = "/v2/{project_id}/graphs/{graph_id}",
    tag = "graphs",
    summary = "Show one graph",
    description = "Needs a `readonly` or `operator` token.",
    params(ProjectPath, GraphPath),
    responses(
        (status = 200, description = "The graph.", body = GraphDetailView),
        (status = 400, description = err::BAD_PARAMETER, body = ErrorBody),
        (status = 404, description = err::GRAPH_NOT_FOUND, body = ErrorBody),
    )
)]
#[get("/v2/{project_id}/graphs/{graph_id}")]
pub async fn show_graph(
    auth: Authorized<Reader>,
    path: web::Path<GraphPath>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let graph = graphs::show_graph(&pool, &auth.project, graph_id(&path.graph_id)?).await?;
    Ok(HttpResponse::Ok().json(GraphDetailView {
        graph: GraphView::from(graph),
    }))
}

/// `DELETE /v2/{project_id}/graphs/{graph_id}?keep_backup&delete_eip`
#[utoipa::path(
    delete,
    path = "/v2/{project_id}/graphs/{graph_id}",
    tag = "graphs",
    summary = "Delete a graph",
    description = "Runs a `DeleteGraph` job, which supersedes the operation in flight. Needs an `operator` token.",
    params(ProjectPath, GraphPath, DeleteGraphParams),
    responses(
        (status = 200, description = "The `DeleteGraph` job is queued.", body = JobAccepted),
        (status = 400, description = err::BAD_PARAMETER, body = ErrorBody),
        (status = 404, description = err::GRAPH_NOT_FOUND, body = ErrorBody),
        (status = 409, description = err::GRAPH_REFUSED, body = ErrorBody),
    )
)]
#[delete("/v2/{project_id}/graphs/{graph_id}")]
pub async fn delete_graph(
    auth: Authorized<Operator>,
    path: web::Path<GraphPath>,
    query: Query<DeleteGraphParams>,
    pool: web::Data<PgPool>,
    storage: web::Data<Storage>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let op = Operation::Delete {
        keep_backup: query.0.keep_backup.unwrap_or(false),
    };
    let name = op.job_name();
    let graph = graph_id(&path.graph_id)?;
    let job = graphs::submit(
        &pool,
        &storage,
        &auth.project,
        graph,
        op,
        &auth.origin(),
        None,
    )
    .await?;
    Ok(accepted(&metrics, name, job))
}
