//! What graph operations do to the stored graph: its status while and after a job, its
//! flags and sizes, its vertices and edges, and its backups' copies of them.
//!
//! The writes here run inside a worker's fenced transaction (see
//! [`crate::service::runs::Fenced`]); the ones that could be reached by a stale worker
//! outside of one ([`set_status_fenced`], [`set_action_progress`]) carry the fence
//! themselves.

use sqlx::PgExecutor;
use uuid::Uuid;

use super::StoreError;
use crate::domain::{BackupStatus, GraphStatus};

/// The parts of a graph an operation reads.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphState {
    pub id: Uuid,
    pub data_store_version: String,
    pub active_job_id: Option<Uuid>,
    pub loaded: bool,
}

/// The parts of a backup an operation reads.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupState {
    pub id: Uuid,
    pub graph_id: Uuid,
    pub status: BackupStatus,
}

/// A graph as it is now.
pub async fn graph_state(
    conn: impl PgExecutor<'_>,
    graph_id: Uuid,
) -> Result<Option<GraphState>, StoreError> {
    let row = sqlx::query_as!(
        GraphState,
        "SELECT id, data_store_version, active_job_id, loaded FROM graphs WHERE id = $1",
        graph_id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row)
}

/// A backup as it is now.
pub async fn backup_state(
    conn: impl PgExecutor<'_>,
    backup_id: Uuid,
) -> Result<Option<BackupState>, StoreError> {
    let row = sqlx::query!(
        "SELECT id, graph_id, status FROM backups WHERE id = $1",
        backup_id
    )
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(BackupState {
            id: r.id,
            graph_id: r.graph_id,
            status: StoreError::parsed("backups.status", &r.status)?,
        })
    })
    .transpose()
}

/// The graph's state after its operation `job_id` ended: `status`, no action progress, no
/// operation in flight. Only while `job_id` is still the graph's active job (a superseded
/// operation does not touch the graph). Answers whether the graph was updated.
pub async fn settle(
    conn: impl PgExecutor<'_>,
    graph_id: Uuid,
    job_id: Uuid,
    status: GraphStatus,
) -> Result<bool, StoreError> {
    let done = sqlx::query!(
        "UPDATE graphs
         SET status = $3, action_progress = 0, updated = now(), active_job_id = NULL
         WHERE id = $1 AND active_job_id = $2",
        graph_id,
        job_id,
        status.code(),
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Frees the graph of its operation `job_id` without changing its status.
pub async fn release_graph(
    conn: impl PgExecutor<'_>,
    graph_id: Uuid,
    job_id: Uuid,
) -> Result<bool, StoreError> {
    let done = sqlx::query!(
        "UPDATE graphs SET action_progress = 0, updated = now(), active_job_id = NULL
         WHERE id = $1 AND active_job_id = $2",
        graph_id,
        job_id,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An intermediate status while `job_id` runs; only while the job is the graph's active job
/// and its lease is `lease_token` (a stale worker changes nothing).
pub async fn set_status_fenced(
    conn: impl PgExecutor<'_>,
    graph_id: Uuid,
    job_id: Uuid,
    lease_token: Uuid,
    status: GraphStatus,
) -> Result<bool, StoreError> {
    let done = sqlx::query!(
        "UPDATE graphs SET status = $4, updated = now()
         WHERE id = $1 AND active_job_id = $2
           AND EXISTS (SELECT 1 FROM jobs
                       WHERE id = $2 AND begin_time BETWEEN job_begin_min($2) AND job_begin_max($2)
                         AND lease_token = $3 AND status = 'running')",
        graph_id,
        job_id,
        lease_token,
        status.code(),
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The graph's `action_progress` while `job_id` is its active job.
pub async fn set_action_progress(
    conn: impl PgExecutor<'_>,
    graph_id: Uuid,
    job_id: Uuid,
    progress: f32,
) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE graphs SET action_progress = $3 WHERE id = $1 AND active_job_id = $2",
        graph_id,
        job_id,
        progress,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether the graph's data is loaded (started) or not (stopped).
pub async fn set_loaded(
    conn: impl PgExecutor<'_>,
    graph_id: Uuid,
    loaded: bool,
) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE graphs SET loaded = $2 WHERE id = $1",
        graph_id,
        loaded
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes every vertex and edge of the graph.
pub async fn delete_data(conn: &mut sqlx::PgConnection, graph_id: Uuid) -> Result<(), StoreError> {
    sqlx::query!("DELETE FROM graph_edges WHERE graph_id = $1", graph_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query!("DELETE FROM graph_vertices WHERE graph_id = $1", graph_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes the graph's backups (their copied data goes with them). Answers how many.
pub async fn delete_backups(conn: impl PgExecutor<'_>, graph_id: Uuid) -> Result<u64, StoreError> {
    let done = sqlx::query!("DELETE FROM backups WHERE graph_id = $1", graph_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Drops the graph's schema (metadata).
pub async fn clear_schema(conn: impl PgExecutor<'_>, graph_id: Uuid) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE graphs SET schema_xml = NULL WHERE id = $1",
        graph_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The graph's engine version.
pub async fn set_data_store_version(
    conn: impl PgExecutor<'_>,
    graph_id: Uuid,
    version: &str,
) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE graphs SET data_store_version = $2 WHERE id = $1",
        graph_id,
        version
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The graph's size class.
pub async fn set_size_type(
    conn: impl PgExecutor<'_>,
    graph_id: Uuid,
    graph_size_type_index: i32,
) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE graphs SET graph_size_type_index = $2 WHERE id = $1",
        graph_id,
        graph_size_type_index
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The graph's number of replicas.
pub async fn set_replication(
    conn: impl PgExecutor<'_>,
    graph_id: Uuid,
    replication: i32,
) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE graphs SET replication = $2 WHERE id = $1",
        graph_id,
        replication
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Copies the graph's vertices, edges and schema into the backup, which becomes `success`
/// with its end time and size (bytes of the copied rows). Answers the size.
pub async fn copy_into_backup(
    conn: &mut sqlx::PgConnection,
    graph_id: Uuid,
    backup_id: Uuid,
) -> Result<i64, StoreError> {
    // A previous attempt rolled back, but be exact anyway.
    sqlx::query!("DELETE FROM backup_edges WHERE backup_id = $1", backup_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "DELETE FROM backup_vertices WHERE backup_id = $1",
        backup_id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO backup_vertices (backup_id, id, label, props)
         SELECT $2, id, label, props FROM graph_vertices WHERE graph_id = $1",
        graph_id,
        backup_id,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO backup_edges (backup_id, seq, source, target, label, props)
         SELECT $2, seq, source, target, label, props FROM graph_edges WHERE graph_id = $1",
        graph_id,
        backup_id,
    )
    .execute(&mut *conn)
    .await?;
    let size = sqlx::query_scalar!(
        r#"UPDATE backups b
           SET status = 'success', end_time = greatest(now(), b.start_time),
               schema_xml = g.schema_xml,
               size = coalesce(pg_column_size(g.schema_xml), 0)
                    + (SELECT coalesce(sum(pg_column_size(v.*)), 0)
                       FROM backup_vertices v WHERE v.backup_id = b.id)
                    + (SELECT coalesce(sum(pg_column_size(e.*)), 0)
                       FROM backup_edges e WHERE e.backup_id = b.id)
           FROM graphs g
           WHERE b.id = $2 AND g.id = $1
           RETURNING b.size"#,
        graph_id,
        backup_id,
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(size)
}

/// Replaces the graph's vertices, edges and schema with the backup's copies.
pub async fn restore_backup(
    conn: &mut sqlx::PgConnection,
    graph_id: Uuid,
    backup_id: Uuid,
) -> Result<(), StoreError> {
    delete_data(&mut *conn, graph_id).await?;
    sqlx::query!(
        "INSERT INTO graph_vertices (graph_id, id, label, props)
         SELECT $1, id, label, props FROM backup_vertices WHERE backup_id = $2",
        graph_id,
        backup_id,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO graph_edges (graph_id, source, target, label, props)
         SELECT $1, source, target, label, props FROM backup_edges
         WHERE backup_id = $2 ORDER BY seq",
        graph_id,
        backup_id,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE graphs SET schema_xml = (SELECT schema_xml FROM backups WHERE id = $2)
         WHERE id = $1",
        graph_id,
        backup_id,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
