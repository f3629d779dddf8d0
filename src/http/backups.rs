//! Backups: list (all of a project, or of one graph) and delete. Taking, exporting and
//! importing one are operations (in graph_ops).

use actix_web::{HttpResponse, delete, get, web};
use sqlx::PgPool;

use super::common::{backup_id, graph_id};
use super::error::{ApiError, ErrorBody};
use super::extract::{Authorized, Operator, Query, Reader};
use super::graph_view::{BackupListView, BackupView, Empty};
use super::openapi::errors as err;
use super::requests::params::{BackupPath, GraphPath, PageParams, ProjectPath};
use crate::domain::{Backup, Page};
use crate::service::backups;

fn listed(total: i64, backups: &[Backup]) -> HttpResponse {
    HttpResponse::Ok().json(BackupListView {
        backup_count: total,
        backup_list: backups.iter().map(BackupView::from).collect(),
    })
}

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
    auth: Authorized<Reader>,
    query: Query<PageParams>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let page = Page::try_from(query.0)?;
    let (total, list) = backups::list_backups(&pool, &auth.project, None, page).await?;
    Ok(listed(total, &list))
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
    auth: Authorized<Reader>,
    path: web::Path<GraphPath>,
    query: Query<PageParams>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let graph = graph_id(&path.graph_id)?;
    let page = Page::try_from(query.0)?;
    let (total, list) = backups::list_backups(&pool, &auth.project, Some(graph), page).await?;
    Ok(listed(total, &list))
}

/// `DELETE /v2/{project_id}/graphs/{graph_id}/backups/{backup_id}`
#[utoipa::path(
    delete,
    path = "/v2/{project_id}/graphs/{graph_id}/backups/{backup_id}",
    tag = "backups",
    summary = "Delete a backup",
    description = "Needs an `operator` token.",
    params(ProjectPath, BackupPath),
    responses(
        (status = 200, description = "The backup is deleted.", body = Empty),
        (status = 400, description = err::BAD_PARAMETER, body = ErrorBody),
        (status = 404, description = err::BACKUP_NOT_FOUND, body = ErrorBody),
        (status = 409, description = err::BACKUP_RUNNING, body = ErrorBody),
    )
)]
#[delete("/v2/{project_id}/graphs/{graph_id}/backups/{backup_id}")]
pub async fn delete_backup(
    auth: Authorized<Operator>,
    path: web::Path<BackupPath>,
    pool: web::Data<PgPool>,
) -> Result<HttpResponse, ApiError> {
    let backup = backup_id(&path.backup_id)?;
    let graph = graph_id(&path.graph_id)?;
    backups::delete_backup(&pool, &auth.project, graph, backup).await?;
    Ok(HttpResponse::Ok().json(Empty {}))
}
