//! Graphs: the row, the locked read that operations start from, and the lists with the
//! files their imports brought in. Every read of graph rows is one statement,
//! `sql/graphs.sql` (a project's live graphs, one of them or a page).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::StoreError;
use crate::domain::graph::{Graph, GraphStatus, GraphWithImports, ImportedFile};
use crate::domain::{JobId, Page, ProjectId};

/// A graphs row as selected.
struct GraphRow {
    id: Uuid,
    project_id: String,
    name: String,
    status: i16,
    action_progress: f32,
    data_store_version: String,
    graph_size_type_index: i32,
    replication: i32,
    arch: String,
    vpc_id: Option<String>,
    subnet_id: Option<String>,
    security_group_id: Option<String>,
    tags: Value,
    extra: Value,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    created_by: Option<String>,
    active_job_id: Option<Uuid>,
}

impl TryFrom<GraphRow> for Graph {
    type Error = StoreError;

    fn try_from(row: GraphRow) -> Result<Self, Self::Error> {
        Ok(Graph {
            status: GraphStatus::from_code(row.status)
                .ok_or_else(|| StoreError::corrupt("graphs.status", row.status))?,
            id: row.id,
            project_id: row.project_id,
            name: row.name,
            action_progress: row.action_progress,
            data_store_version: row.data_store_version,
            graph_size_type_index: row.graph_size_type_index,
            replication: row.replication,
            arch: row.arch,
            vpc_id: row.vpc_id,
            subnet_id: row.subnet_id,
            security_group_id: row.security_group_id,
            tags: row.tags,
            extra: row.extra,
            created: row.created,
            updated: row.updated,
            created_by: row.created_by,
            active_job_id: row.active_job_id,
        })
    }
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
        graph.status.code(),
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

/// The project's live graphs (only `id` when given), newest first, one page.
async fn select(
    conn: impl PgExecutor<'_>,
    project: &ProjectId,
    id: Option<Uuid>,
    page: Page,
) -> Result<Vec<Graph>, StoreError> {
    let rows = sqlx::query_file_as!(
        GraphRow,
        "src/store/sql/graphs.sql",
        project.as_str(),
        id,
        page.limit,
        page.offset,
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(Graph::try_from).collect()
}

/// A live graph of the project.
pub async fn find_graph(
    conn: impl PgExecutor<'_>,
    project: &ProjectId,
    id: Uuid,
) -> Result<Option<Graph>, StoreError> {
    let page = Page {
        offset: 0,
        limit: 1,
    };
    Ok(select(conn, project, Some(id), page).await?.pop())
}

/// A live graph of the project, locked for the rest of the transaction.
pub async fn lock_graph(
    conn: &mut PgConnection,
    project: &ProjectId,
    id: Uuid,
) -> Result<Option<Graph>, StoreError> {
    let locked = sqlx::query_scalar!(
        "SELECT id FROM graphs WHERE id = $1 AND project_id = $2 AND live FOR UPDATE",
        id,
        project.as_str(),
    )
    .fetch_optional(&mut *conn)
    .await?;
    match locked {
        Some(_) => find_graph(&mut *conn, project, id).await,
        None => Ok(None),
    }
}

/// A page of the project's live graphs, newest first, each with its imports, and how many
/// live graphs there are: three statements, whatever the page's size.
pub async fn list_graphs(
    conn: &mut PgConnection,
    project: &ProjectId,
    page: Page,
) -> Result<(i64, Vec<GraphWithImports>), StoreError> {
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM graphs WHERE project_id = $1 AND live"#,
        project.as_str()
    )
    .fetch_one(&mut *conn)
    .await?;
    let graphs = select(&mut *conn, project, None, page).await?;
    let ids: Vec<Uuid> = graphs.iter().map(|g| g.id).collect();
    let mut by_graph: HashMap<Uuid, Vec<ImportedFile>> = HashMap::new();
    for (id, file) in imported_files(&mut *conn, &ids).await? {
        by_graph.entry(id).or_default().push(file);
    }
    let graphs = graphs
        .into_iter()
        .map(|graph| GraphWithImports {
            imports: by_graph.remove(&graph.id).unwrap_or_default(),
            graph,
        })
        .collect();
    Ok((total, graphs))
}

/// A live graph of the project with its imports.
pub async fn show_graph(
    conn: &mut PgConnection,
    project: &ProjectId,
    id: Uuid,
) -> Result<Option<GraphWithImports>, StoreError> {
    let Some(graph) = find_graph(&mut *conn, project, id).await? else {
        return Ok(None);
    };
    let imports = imported_files(&mut *conn, &[graph.id]).await?;
    Ok(Some(GraphWithImports {
        graph,
        imports: imports.into_iter().map(|(_, file)| file).collect(),
    }))
}

/// The files of the finished imports of `graphs`, each graph's newest first.
async fn imported_files(
    conn: impl PgExecutor<'_>,
    graphs: &[Uuid],
) -> Result<Vec<(Uuid, ImportedFile)>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT j.graph_id AS "graph_id!", f.job_id, f.kind, f.path, j.status AS job_status
           FROM jobs j JOIN job_files f ON f.job_id = j.id AND f.begin_time = j.begin_time
           WHERE j.graph_id = ANY($1) AND j.job_name = 'ImportGraph'
             AND j.status IN ('success', 'partiallyFailed', 'failed')
           ORDER BY j.begin_time DESC, f.kind, f.ordinal"#,
        graphs,
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let file = ImportedFile {
                job_id: r.job_id,
                kind: StoreError::parsed("job_files.kind", &r.kind)?,
                path: r.path,
                job_status: StoreError::parsed("jobs.status", &r.job_status)?,
            };
            Ok((r.graph_id, file))
        })
        .collect()
}

/// The `job_name` of a job, if it exists.
pub async fn job_name(conn: impl PgExecutor<'_>, job: Uuid) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar!("SELECT job_name FROM jobs WHERE id = $1 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1)",
            job
        )
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
    running_status: Option<GraphStatus>,
    job: JobId,
) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE graphs SET status = coalesce($2, status), active_job_id = $3, action_progress = 0, updated = now()
         WHERE id = $1",
        graph,
        running_status.map(GraphStatus::code),
        job.0,
    )
    .execute(conn)
    .await?;
    Ok(())
}
