//! What imports write: per-file progress and results, rejected lines, vertices and edges.

use std::collections::HashSet;

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::StoreError;
use crate::domain::{FileKind, FileStatus};

/// One file of an import job, as recorded in `job_files`.
#[derive(Debug, Clone)]
pub struct ImportFile {
    pub kind: FileKind,
    pub ordinal: i32,
    pub path: String,
    pub status: FileStatus,
    pub total_lines: i64,
    pub failed_lines: i64,
    pub successful_lines: i64,
}

/// A rejected line.
#[derive(Debug, Clone)]
pub struct RejectRow {
    pub line: i64,
    pub reason_kind: &'static str,
    pub reason: String,
}

/// The job's files (by kind and ordinal).
pub async fn files(conn: impl PgExecutor<'_>, job: Uuid) -> Result<Vec<ImportFile>, StoreError> {
    let rows = sqlx::query!(
        "SELECT kind, ordinal, path, status, total_lines, failed_lines, successful_lines
         FROM job_files WHERE job_id = $1 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1)
         ORDER BY kind, ordinal",
        job
    )
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(ImportFile {
                kind: StoreError::parsed("job_files.kind", &r.kind)?,
                status: StoreError::parsed("job_files.status", &r.status)?,
                ordinal: r.ordinal,
                path: r.path,
                total_lines: r.total_lines,
                failed_lines: r.failed_lines,
                successful_lines: r.successful_lines,
            })
        })
        .collect()
}

/// Records the files of a job, all pending.
pub async fn add_files(
    conn: &mut PgConnection,
    job: Uuid,
    files: &[(FileKind, String)],
) -> Result<(), StoreError> {
    let mut ordinal = std::collections::HashMap::<FileKind, i32>::new();
    for (kind, path) in files {
        let n = ordinal.entry(*kind).or_default();
        *n += 1;
        sqlx::query!(
            "INSERT INTO job_files (job_id, begin_time, kind, ordinal, path, status)
             SELECT $1, j.begin_time, $2, $3, $4, $5 FROM jobs j
             WHERE j.id = $1 AND j.begin_time BETWEEN job_begin_min($1) AND job_begin_max($1)",
            job,
            kind.as_str(),
            *n,
            path,
            FileStatus::Pending.as_str(),
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A file's counts and status (cause and log once it is done).
pub async fn update_file(
    conn: impl PgExecutor<'_>,
    job: Uuid,
    file: &ImportFile,
    cause: Option<&str>,
    log: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE job_files SET status = $4, total_lines = $5, failed_lines = $6, successful_lines = $7,
                              cause = $8, log = $9
         WHERE job_id = $1 AND kind = $2 AND ordinal = $3 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1)",
        job,
        file.kind.as_str(),
        file.ordinal,
        file.status.as_str(),
        file.total_lines,
        file.failed_lines,
        file.successful_lines,
        cause,
        log,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records rejected lines of a file.
pub async fn add_rejects(
    conn: impl PgExecutor<'_>,
    job: Uuid,
    file: &ImportFile,
    rows: &[RejectRow],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let lines: Vec<i64> = rows.iter().map(|r| r.line).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.reason_kind).collect();
    let reasons: Vec<&str> = rows.iter().map(|r| r.reason.as_str()).collect();
    sqlx::query!(
        "INSERT INTO import_rejects (job_id, begin_time, kind, ordinal, line, reason_kind, reason)
         SELECT $1, f.begin_time, $2, $3, r.* FROM job_files f,
                unnest($4::int8[], $5::text[], $6::text[]) AS r
         WHERE f.job_id = $1 AND f.kind = $2 AND f.ordinal = $3 AND f.begin_time BETWEEN job_begin_min($1) AND job_begin_max($1)",
        job,
        file.kind.as_str(),
        file.ordinal,
        &lines,
        &kinds as &[&str],
        &reasons as &[&str],
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Up to `limit` of a file's rejected lines after line `after`, in line order.
pub async fn rejects_after(
    conn: impl PgExecutor<'_>,
    job: Uuid,
    file: &ImportFile,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, StoreError> {
    let rows = sqlx::query!(
        "SELECT line, reason FROM import_rejects
         WHERE job_id = $1 AND kind = $2 AND ordinal = $3 AND line > $4 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1)
         ORDER BY line LIMIT $5",
        job,
        file.kind.as_str(),
        file.ordinal,
        after,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.line, r.reason)).collect())
}

/// Per reason kind: how many lines, and the first one.
pub async fn reject_summary(
    conn: impl PgExecutor<'_>,
    job: Uuid,
    file: &ImportFile,
) -> Result<Vec<(String, i64, i64, String)>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT DISTINCT ON (reason_kind) reason_kind, line, reason,
                  count(*) OVER (PARTITION BY reason_kind) AS "n!"
           FROM import_rejects
           WHERE job_id = $1 AND kind = $2 AND ordinal = $3 AND begin_time BETWEEN job_begin_min($1) AND job_begin_max($1)
           ORDER BY reason_kind, line"#,
        job,
        file.kind.as_str(),
        file.ordinal
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.reason_kind, r.n, r.line, r.reason))
        .collect())
}

/// Inserts vertices, skipping ids the graph already has; answers the ids inserted.
pub async fn insert_vertices(
    conn: impl PgExecutor<'_>,
    graph: Uuid,
    ids: &[String],
    labels: &[String],
    props: &[serde_json::Value],
) -> Result<HashSet<String>, StoreError> {
    let inserted = sqlx::query_scalar!(
        "INSERT INTO graph_vertices (graph_id, id, label, props)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::jsonb[])
         ON CONFLICT (graph_id, id) DO NOTHING RETURNING id",
        graph,
        ids,
        labels,
        props,
    )
    .fetch_all(conn)
    .await?;
    Ok(inserted.into_iter().collect())
}

/// The ids among `ids` that are vertices of the graph.
pub async fn existing_vertices(
    conn: impl PgExecutor<'_>,
    graph: Uuid,
    ids: &[String],
) -> Result<HashSet<String>, StoreError> {
    let found = sqlx::query_scalar!(
        "SELECT id FROM graph_vertices WHERE graph_id = $1 AND id = ANY($2)",
        graph,
        ids
    )
    .fetch_all(conn)
    .await?;
    Ok(found.into_iter().collect())
}

/// Edges to insert, column-wise.
#[derive(Debug, Default)]
pub struct EdgeColumns {
    pub sources: Vec<String>,
    pub targets: Vec<String>,
    pub labels: Vec<String>,
    pub props: Vec<serde_json::Value>,
}

/// Deletes the graph's edges parallel to these (same ends, and same label unless
/// `ignore_label`): `parallel_edge.action = override`.
pub async fn delete_parallel_edges(
    conn: impl PgExecutor<'_>,
    graph: Uuid,
    edges: &EdgeColumns,
    ignore_label: bool,
) -> Result<(), StoreError> {
    sqlx::query!(
        "DELETE FROM graph_edges e USING unnest($2::text[], $3::text[], $4::text[]) AS n (source, target, label)
         WHERE e.graph_id = $1 AND e.source = n.source AND e.target = n.target AND ($5 OR e.label = n.label)",
        graph,
        &edges.sources,
        &edges.targets,
        &edges.labels,
        ignore_label,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts edges; with `skip_parallel`, those parallel to an existing edge are left out.
pub async fn insert_edges(
    conn: impl PgExecutor<'_>,
    graph: Uuid,
    edges: &EdgeColumns,
    skip_parallel: bool,
    ignore_label: bool,
) -> Result<(), StoreError> {
    sqlx::query!(
        "INSERT INTO graph_edges (graph_id, source, target, label, props)
         SELECT $1, n.source, n.target, n.label, n.props
         FROM unnest($2::text[], $3::text[], $4::text[], $5::jsonb[]) WITH ORDINALITY AS n (source, target, label, props, ord)
         WHERE NOT $6 OR NOT EXISTS (
             SELECT 1 FROM graph_edges e
             WHERE e.graph_id = $1 AND e.source = n.source AND e.target = n.target AND ($7 OR e.label = n.label))
         ORDER BY n.ord",
        graph,
        &edges.sources,
        &edges.targets,
        &edges.labels,
        &edges.props,
        skip_parallel,
        ignore_label,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The graph's stored schema.
pub async fn graph_schema(
    conn: impl PgExecutor<'_>,
    graph: Uuid,
) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar!("SELECT schema_xml FROM graphs WHERE id = $1", graph)
            .fetch_optional(conn)
            .await?
            .flatten(),
    )
}

/// Stores the graph's schema.
pub async fn set_graph_schema(
    conn: impl PgExecutor<'_>,
    graph: Uuid,
    xml: &str,
) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE graphs SET schema_xml = $2, updated = now() WHERE id = $1",
        graph,
        xml
    )
    .execute(conn)
    .await?;
    Ok(())
}
