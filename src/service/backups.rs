//! Backups: the lists, and deletion (taking one is a graph operation, see [`super::graphs`]).

use sqlx::PgPool;
use uuid::Uuid;

use super::{ServiceError, begin};
use crate::domain::{Backup, BackupStatus, Code, Page, ProjectId};
use crate::store::{backups, graphs};

/// A page of the project's backups (of one live graph when `graph` is given), and how many
/// there are.
pub async fn list_backups(
    pool: &PgPool,
    project: &ProjectId,
    graph: Option<Uuid>,
    page: Page,
) -> Result<(i64, Vec<Backup>), ServiceError> {
    let mut conn = pool.acquire().await?;
    if let Some(graph) = graph
        && graphs::find_graph(&mut *conn, project, graph)
            .await?
            .is_none()
    {
        return Err(ServiceError::rejected(Code::GraphNotFound));
    }
    Ok(backups::list_backups(&mut conn, project, graph, page).await?)
}

/// Deletes a backup of a graph of the project, unless it is still being written: the
/// backup row is locked while its status is checked, so a backup job cannot end it in
/// between.
pub async fn delete_backup(
    pool: &PgPool,
    project: &ProjectId,
    graph: Uuid,
    id: Uuid,
) -> Result<(), ServiceError> {
    let mut tx = begin(pool).await?;
    let backup = backups::lock_backup(&mut tx, project, graph, id)
        .await?
        .ok_or_else(|| ServiceError::with(Code::GraphNotFound, "the backup does not exist"))?;
    if backup.status == BackupStatus::BackingUp {
        return Err(ServiceError::with(
            Code::BackupRunning,
            "the backup is still running",
        ));
    }
    backups::delete_backup(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(())
}
