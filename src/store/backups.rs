//! Backups of graphs.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::StoreError;
use crate::domain::ProjectId;

/// A backup as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Backup {
    pub id: Uuid,
    pub project_id: String,
    pub graph_id: Uuid,
    pub graph_name: String,
    pub name: String,
    pub backup_method: String,
    pub status: String,
    pub job_id: Option<Uuid>,
    pub graph_status: i16,
    pub graph_size_type_index: i32,
    pub data_store_version: String,
    pub arch: String,
    pub start_time: DateTime<Utc>,
    pub end_time: Option<DateTime<Utc>>,
    pub size: i64,
}

/// Records a backup that is starting.
pub async fn insert_backup(conn: impl PgExecutor<'_>, backup: &Backup) -> Result<(), StoreError> {
    sqlx::query!(
        "INSERT INTO backups (id, project_id, graph_id, graph_name, name, backup_method, status, job_id,
                              graph_status, graph_size_type_index, data_store_version, arch, start_time, size)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        backup.id,
        backup.project_id,
        backup.graph_id,
        backup.graph_name,
        backup.name,
        backup.backup_method,
        backup.status,
        backup.job_id,
        backup.graph_status,
        backup.graph_size_type_index,
        backup.data_store_version,
        backup.arch,
        backup.start_time,
        backup.size,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A page of a project's backups (of one graph when `graph` is given), newest first.
pub async fn list_backups(
    conn: &mut PgConnection,
    project: &ProjectId,
    graph: Option<Uuid>,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Backup>), StoreError> {
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM backups WHERE project_id = $1 AND ($2::uuid IS NULL OR graph_id = $2)"#,
        project.as_str(),
        graph,
    )
    .fetch_one(&mut *conn)
    .await?;
    let backups = sqlx::query_as!(
        Backup,
        "SELECT id, project_id, graph_id, graph_name, name, backup_method, status, job_id, graph_status,
                graph_size_type_index, data_store_version, arch, start_time, end_time, size
         FROM backups WHERE project_id = $1 AND ($2::uuid IS NULL OR graph_id = $2)
         ORDER BY start_time DESC, id DESC LIMIT $3 OFFSET $4",
        project.as_str(),
        graph,
        limit,
        offset,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok((total, backups))
}

/// A backup of a graph of the project.
pub async fn find_backup(
    conn: impl PgExecutor<'_>,
    project: &ProjectId,
    graph: Uuid,
    id: Uuid,
) -> Result<Option<Backup>, StoreError> {
    Ok(sqlx::query_as!(
        Backup,
        "SELECT id, project_id, graph_id, graph_name, name, backup_method, status, job_id, graph_status,
                graph_size_type_index, data_store_version, arch, start_time, end_time, size
         FROM backups WHERE project_id = $1 AND graph_id = $2 AND id = $3",
        project.as_str(),
        graph,
        id,
    )
    .fetch_optional(conn)
    .await?)
}

/// Deletes a backup and its data.
pub async fn delete_backup(conn: impl PgExecutor<'_>, id: Uuid) -> Result<(), StoreError> {
    sqlx::query!("DELETE FROM backups WHERE id = $1", id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks the graph's unfinished backups failed (their job was superseded).
pub async fn fail_running_backups(
    conn: impl PgExecutor<'_>,
    graph: Uuid,
) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE backups SET status = 'failed', end_time = now() WHERE graph_id = $1 AND status = 'backing_up'",
        graph
    )
    .execute(conn)
    .await?;
    Ok(())
}
