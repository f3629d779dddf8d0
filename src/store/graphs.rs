//! Graphs and backups: rows, the locked read that operations start from, and the lists.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::StoreError;
use crate::domain::ProjectId;
use crate::domain::graph::status;

/// A graph as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Graph {
    pub id: Uuid,
    pub project_id: String,
    pub name: String,
    pub status: i16,
    pub action_progress: f32,
    pub data_store_version: String,
    pub graph_size_type_index: i32,
    pub replication: i32,
    pub arch: String,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub security_group_id: Option<String>,
    pub tags: Value,
    pub extra: Value,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub created_by: Option<String>,
    pub active_job_id: Option<Uuid>,
}

/// One past import of a graph, for the graph object's `*_path` lists.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportedFile {
    pub job_id: Uuid,
    pub kind: String,
    pub path: String,
    pub job_status: String,
}

/// Records a new graph.
pub async fn insert_graph(conn: impl PgExecutor<'_>, graph: &Graph) -> Result<(), StoreError> {
    sqlx::query!(
        "INSERT INTO graphs (id, project_id, name, status, action_progress, data_store_version,
                             graph_size_type_index, replication, arch, vpc_id, subnet_id,
                             security_group_id, tags, extra, created, updated, created_by, active_job_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
        graph.id,
        graph.project_id,
        graph.name,
        graph.status,
        graph.action_progress,
        graph.data_store_version,
        graph.graph_size_type_index,
        graph.replication,
        graph.arch,
        graph.vpc_id,
        graph.subnet_id,
        graph.security_group_id,
        graph.tags,
        graph.extra,
        graph.created,
        graph.updated,
        graph.created_by,
        graph.active_job_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A live (not deleted) graph of the project, locked for the rest of the transaction.
pub async fn lock_graph(
    conn: &mut PgConnection,
    project: &ProjectId,
    id: Uuid,
) -> Result<Option<Graph>, StoreError> {
    Ok(sqlx::query_as!(
        Graph,
        "SELECT id, project_id, name, status, action_progress, data_store_version, graph_size_type_index,
                replication, arch, vpc_id, subnet_id, security_group_id, tags, extra, created, updated,
                created_by, active_job_id
         FROM graphs WHERE id = $1 AND project_id = $2 AND status <> 400 FOR UPDATE",
        id,
        project.as_str(),
    )
    .fetch_optional(conn)
    .await?)
}

/// A live graph of the project.
pub async fn find_graph(
    conn: impl PgExecutor<'_>,
    project: &ProjectId,
    id: Uuid,
) -> Result<Option<Graph>, StoreError> {
    Ok(sqlx::query_as!(
        Graph,
        "SELECT id, project_id, name, status, action_progress, data_store_version, graph_size_type_index,
                replication, arch, vpc_id, subnet_id, security_group_id, tags, extra, created, updated,
                created_by, active_job_id
         FROM graphs WHERE id = $1 AND project_id = $2 AND status <> 400",
        id,
        project.as_str(),
    )
    .fetch_optional(conn)
    .await?)
}

/// A page of the project's live graphs, newest first, and how many there are.
pub async fn list_graphs(
    conn: &mut PgConnection,
    project: &ProjectId,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Graph>), StoreError> {
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM graphs WHERE project_id = $1 AND status <> 400"#,
        project.as_str()
    )
    .fetch_one(&mut *conn)
    .await?;
    let graphs = sqlx::query_as!(
        Graph,
        "SELECT id, project_id, name, status, action_progress, data_store_version, graph_size_type_index,
                replication, arch, vpc_id, subnet_id, security_group_id, tags, extra, created, updated,
                created_by, active_job_id
         FROM graphs WHERE project_id = $1 AND status <> 400
         ORDER BY created DESC, id DESC LIMIT $2 OFFSET $3",
        project.as_str(),
        limit,
        offset,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok((total, graphs))
}

/// The `job_name` of a job, if it exists.
pub async fn job_name(conn: impl PgExecutor<'_>, job: Uuid) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar!("SELECT job_name FROM jobs WHERE id = $1", job)
            .fetch_optional(conn)
            .await?,
    )
}

/// Fails the graph's pending and running jobs (a superseding operation arrived).
pub async fn fail_in_flight_jobs(
    conn: impl PgExecutor<'_>,
    graph: Uuid,
    reason: &str,
) -> Result<u64, StoreError> {
    let done = sqlx::query!(
        "UPDATE jobs SET status = 'failed', end_time = greatest(now(), begin_time), fail_reason = $2,
                         lease_token = NULL, lease_expires_at = NULL
         WHERE graph_id = $1 AND status IN ('pending', 'running')",
        graph,
        reason,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Marks an operation in flight: the graph's status while it runs (if it changes) and its job.
pub async fn start_operation(
    conn: impl PgExecutor<'_>,
    graph: Uuid,
    running_status: Option<i16>,
    job: Uuid,
) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE graphs SET status = coalesce($2, status), active_job_id = $3, action_progress = 0, updated = now()
         WHERE id = $1",
        graph,
        running_status,
        job,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Wakes the workers listening for new jobs of `job_type` (delivered at commit).
pub async fn notify_new_job(conn: impl PgExecutor<'_>, job_type: &str) -> Result<(), StoreError> {
    sqlx::query!("SELECT pg_notify('jobcenter_jobs', $1)", job_type)
        .execute(conn)
        .await?;
    Ok(())
}

/// The imports of a graph so far (newest first).
pub async fn imported_files(
    conn: impl PgExecutor<'_>,
    graph: Uuid,
) -> Result<Vec<ImportedFile>, StoreError> {
    Ok(sqlx::query_as!(
        ImportedFile,
        "SELECT f.job_id, f.kind, f.path, j.status AS job_status
         FROM jobs j JOIN job_files f ON f.job_id = j.id
         WHERE j.graph_id = $1 AND j.job_name = 'ImportGraph' AND j.status IN ('success', 'partiallyFailed', 'failed')
         ORDER BY j.begin_time DESC, f.kind, f.ordinal",
        graph,
    )
    .fetch_all(conn)
    .await?)
}

/// True when the graph is deleted or gone.
pub fn is_deleted(graph: &Graph) -> bool {
    graph.status == status::DELETED
}
