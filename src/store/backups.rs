//! Backups of graphs: the row, the lists, and the locked read a deletion starts from.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::StoreError;
use crate::domain::{Backup, BackupStatus, GraphStatus, Page, ProjectId};

/// A backups row as selected.
struct BackupRow {
    id: Uuid,
    project_id: String,
    graph_id: Uuid,
    graph_name: String,
    name: String,
    backup_method: String,
    status: String,
    job_id: Option<Uuid>,
    graph_status: i16,
    graph_size_type_index: i32,
    data_store_version: String,
    arch: String,
    start_time: DateTime<Utc>,
    end_time: Option<DateTime<Utc>>,
    size: i64,
}

impl TryFrom<BackupRow> for Backup {
    type Error = StoreError;

    fn try_from(row: BackupRow) -> Result<Self, Self::Error> {
        Ok(Backup {
            status: StoreError::parsed("backups.status", &row.status)?,
            graph_status: GraphStatus::from_code(row.graph_status)
                .ok_or_else(|| StoreError::corrupt("backups.graph_status", row.graph_status))?,
            id: row.id,
            project_id: row.project_id,
            graph_id: row.graph_id,
            graph_name: row.graph_name,
            name: row.name,
            backup_method: row.backup_method,
            job_id: row.job_id,
            graph_size_type_index: row.graph_size_type_index,
            data_store_version: row.data_store_version,
            arch: row.arch,
            start_time: row.start_time,
            end_time: row.end_time,
            size: row.size,
        })
    }
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
        backup.status.as_str(),
        backup.job_id,
        backup.graph_status.code(),
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

/// The project's backups (of one graph when `graph` is given, of one backup when `id` is
/// given), newest first, one page: the one statement that reads backups rows.
async fn select(
    conn: impl PgExecutor<'_>,
    project: &ProjectId,
    graph: Option<Uuid>,
    id: Option<Uuid>,
    page: Page,
) -> Result<Vec<Backup>, StoreError> {
    let rows = sqlx::query_as!(
        BackupRow,
        "SELECT id, project_id, graph_id, graph_name, name, backup_method, status, job_id, graph_status,
                graph_size_type_index, data_store_version, arch, start_time, end_time, size
         FROM backups
         WHERE project_id = $1 AND ($2::uuid IS NULL OR graph_id = $2) AND ($3::uuid IS NULL OR id = $3)
         ORDER BY start_time DESC, id DESC LIMIT $4 OFFSET $5",
        project.as_str(),
        graph,
        id,
        page.limit,
        page.offset,
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(Backup::try_from).collect()
}

/// A page of a project's backups (of one graph when `graph` is given), newest first, and
/// how many there are.
pub async fn list_backups(
    conn: &mut PgConnection,
    project: &ProjectId,
    graph: Option<Uuid>,
    page: Page,
) -> Result<(i64, Vec<Backup>), StoreError> {
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM backups WHERE project_id = $1 AND ($2::uuid IS NULL OR graph_id = $2)"#,
        project.as_str(),
        graph,
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((total, select(&mut *conn, project, graph, None, page).await?))
}

/// A backup of a graph of the project.
pub async fn find_backup(
    conn: impl PgExecutor<'_>,
    project: &ProjectId,
    graph: Uuid,
    id: Uuid,
) -> Result<Option<Backup>, StoreError> {
    let page = Page {
        offset: 0,
        limit: 1,
    };
    Ok(select(conn, project, Some(graph), Some(id), page)
        .await?
        .pop())
}

/// [`find_backup`], the row locked for the rest of the transaction (a backup job ending
/// waits for it).
pub async fn lock_backup(
    conn: &mut PgConnection,
    project: &ProjectId,
    graph: Uuid,
    id: Uuid,
) -> Result<Option<Backup>, StoreError> {
    let locked = sqlx::query_scalar!(
        "SELECT id FROM backups WHERE id = $1 AND graph_id = $2 AND project_id = $3 FOR UPDATE",
        id,
        graph,
        project.as_str(),
    )
    .fetch_optional(&mut *conn)
    .await?;
    match locked {
        Some(_) => find_backup(&mut *conn, project, graph, id).await,
        None => Ok(None),
    }
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
        "UPDATE backups SET status = $2, end_time = now() WHERE graph_id = $1 AND status = $3",
        graph,
        BackupStatus::Failed.as_str(),
        BackupStatus::BackingUp.as_str(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A backup that was being written has failed.
pub async fn fail_backup(conn: impl PgExecutor<'_>, backup_id: Uuid) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE backups SET status = $2, end_time = greatest(now(), start_time)
         WHERE id = $1 AND status = $3",
        backup_id,
        BackupStatus::Failed.as_str(),
        BackupStatus::BackingUp.as_str(),
    )
    .execute(conn)
    .await?;
    Ok(())
}
