//! Backups: list (all of a project, or of one graph) and delete. Adding one is an
//! operation (`POST .../backups`, in graph_ops).

use actix_web::{HttpResponse, delete, get, web};
use sqlx::PgPool;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::QueryMap;
use super::graph_view::{BackupListView, BackupView, Empty};
use super::graphs::{authorize, graph_id};
use super::openapi::errors as err;
use super::openapi::params::{BackupPath, GraphPath, PageParams, ProjectPath};
use crate::auth::{Action, Caller};
use crate::domain::{Page, ProjectId};
use crate::store::{self, StoreError};

/// `GET /v2/{project_id}/graphs/backups`
#[utoipa::path(
    get,
    path = "/v2/{project_id}/graphs/backups",
    tag = "backups",
    summary = "List the project's backups",
    description = "Needs a `readonly` or `operator` token.",
    params(ProjectPath, PageParams),
    responses(
        (status = 200, description = "One page of backups.", body = BackupListView),
        (status = 400, description = err::BAD_PARAMETER, body = ErrorBody),
    )
)]
#[get("/v2/{project_id}/graphs/backups")]
pub async fn list_all_backups(
    caller: Caller,
    path: web::Path<String>,
    query: QueryMap,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let project = authorize(&caller, &path, Action::Read)?;
    list(&pool, &project, None, &query).await
}

/// `GET /v2/{project_id}/graphs/{graph_id}/backups`
#[utoipa::path(
    get,
    path = "/v2/{project_id}/graphs/{graph_id}/backups",
    tag = "backups",
    summary = "List a graph's backups",
    description = "Needs a `readonly` or `operator` token.",
    params(ProjectPath, GraphPath, PageParams),
    responses(
        (status = 200, description = "One page of the graph's backups.", body = BackupListView),
        (status = 400, description = err::BAD_PARAMETER, body = ErrorBody),
        (status = 404, description = err::GRAPH_NOT_FOUND, body = ErrorBody),
    )
)]
#[get("/v2/{project_id}/graphs/{graph_id}/backups")]
pub async fn list_graph_backups(
    caller: Caller,
    path: web::Path<(String, String)>,
    query: QueryMap,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let (project, graph) = path.into_inner();
    let project = authorize(&caller, &project, Action::Read)?;
    let graph = graph_id(&graph)?;
    store::graphs::find_graph(pool.get_ref(), &project, graph)
        .await?
        .ok_or_else(ApiError::graph_not_found)?;
    list(&pool, &project, Some(graph), &query).await
}

async fn list(
    pool: &PgPool,
    project: &ProjectId,
    graph: Option<Uuid>,
    query: &QueryMap,
) -> Result<HttpResponse, ApiError> {
    let page = Page::parse(&query.0)?;
    let mut conn = pool.acquire().await.map_err(StoreError::from)?;
    let (total, backups) =
        store::backups::list_backups(&mut conn, project, graph, page.offset, page.limit).await?;
    Ok(HttpResponse::Ok().json(BackupListView {
        backup_count: total,
        backup_list: backups.iter().map(BackupView::from).collect(),
    }))
}

/// `DELETE /v2/{project_id}/graphs/{graph_id}/backups/{backup_id}`
#[utoipa::path(
    delete,
    path = "/v2/{project_id}/graphs/{graph_id}/backups/{backup_id}",
    tag = "backups",
    summary = "Delete a backup",
    description = "Needs an `operator` token.",
    params(ProjectPath, GraphPath, BackupPath),
    responses(
        (status = 200, description = "The backup is deleted.", body = Empty),
        (status = 400, description = err::BAD_PARAMETER, body = ErrorBody),
        (status = 404, description = err::BACKUP_NOT_FOUND, body = ErrorBody),
        (status = 409, description = err::BACKUP_RUNNING, body = ErrorBody),
    )
)]
#[delete("/v2/{project_id}/graphs/{graph_id}/backups/{backup_id}")]
pub async fn delete_backup(
    caller: Caller,
    path: web::Path<(String, String, String)>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let (project, graph, backup) = path.into_inner();
    let project = authorize(&caller, &project, Action::Operate)?;
    let not_found = || {
        ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "GES.7000",
            "the backup does not exist",
        )
    };
    let backup = Uuid::try_parse(&backup).map_err(|_| not_found())?;
    let found = store::backups::find_backup(pool.get_ref(), &project, graph_id(&graph)?, backup)
        .await?
        .ok_or_else(not_found)?;
    if found.status == "backing_up" {
        return Err(ApiError::new(
            actix_web::http::StatusCode::CONFLICT,
            "GES.7002",
            "the backup is still running",
        ));
    }
    store::backups::delete_backup(pool.get_ref(), backup).await?;
    Ok(HttpResponse::Ok().json(Empty {}))
}
