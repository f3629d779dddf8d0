//! Backups: list (all of a project, or of one graph) and delete. Adding one is an
//! operation (`POST .../backups`, in graph_ops).

use actix_web::{HttpResponse, delete, get, web};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::error::ApiError;
use super::extract::QueryMap;
use super::graph_view::backup_json;
use super::graphs::{authorize, graph_id};
use crate::auth::{Action, Caller};
use crate::domain::{Page, ProjectId};
use crate::store::{self, StoreError};

/// `GET /v2/{project_id}/graphs/backups`
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
    let list: Vec<_> = backups.iter().map(backup_json).collect();
    Ok(HttpResponse::Ok().json(json!({"backup_count": total, "backup_list": list})))
}

/// `DELETE /v2/{project_id}/graphs/{graph_id}/backups/{backup_id}`
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
    Ok(HttpResponse::Ok().json(json!({})))
}
