//! A backup's own copy of a graph's data, as the backup export and import operations read
//! and write it: the schema, vertices by id and edges by `seq`, in keyset pages.

use sqlx::PgExecutor;
use uuid::Uuid;

use super::StoreError;
use super::graph_export::{EdgeRow, VertexRow};
use crate::domain::BackupStatus;

/// A backup's schema and row counts.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupContent {
    pub status: BackupStatus,
    pub schema_xml: Option<String>,
    pub vertices: i64,
    pub edges: i64,
}

/// The content of backup `id`, if it exists.
pub async fn content(
    conn: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<BackupContent>, StoreError> {
    let row = sqlx::query!(
        r#"SELECT status, schema_xml,
                  (SELECT count(*) FROM backup_vertices WHERE backup_id = b.id) AS "vertices!",
                  (SELECT count(*) FROM backup_edges WHERE backup_id = b.id) AS "edges!"
           FROM backups b WHERE id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(BackupContent {
            status: StoreError::parsed("backups.status", &r.status)?,
            schema_xml: r.schema_xml,
            vertices: r.vertices,
            edges: r.edges,
        })
    })
    .transpose()
}

/// Up to `limit` of the backup's vertices with ids after `after`, in id order.
pub async fn vertex_page(
    conn: impl PgExecutor<'_>,
    backup: Uuid,
    after: &str,
    limit: i64,
) -> Result<Vec<VertexRow>, StoreError> {
    Ok(sqlx::query_as!(
        VertexRow,
        "SELECT id, label, props FROM backup_vertices
         WHERE backup_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        backup,
        after,
        limit,
    )
    .fetch_all(conn)
    .await?)
}

/// Up to `limit` of the backup's edges with `seq` after `after`, in `seq` order.
pub async fn edge_page(
    conn: impl PgExecutor<'_>,
    backup: Uuid,
    after: i64,
    limit: i64,
) -> Result<Vec<EdgeRow>, StoreError> {
    Ok(sqlx::query_as!(
        EdgeRow,
        "SELECT seq, source, target, label, props FROM backup_edges
         WHERE backup_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        backup,
        after,
        limit,
    )
    .fetch_all(conn)
    .await?)
}

/// Removes what an earlier attempt loaded into the backup.
pub async fn clear(conn: &mut sqlx::PgConnection, backup: Uuid) -> Result<(), StoreError> {
    sqlx::query!("DELETE FROM backup_edges WHERE backup_id = $1", backup)
        .execute(&mut *conn)
        .await?;
    sqlx::query!("DELETE FROM backup_vertices WHERE backup_id = $1", backup)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Adds vertices to the backup.
pub async fn insert_vertices(
    conn: impl PgExecutor<'_>,
    backup: Uuid,
    rows: &[VertexRow],
) -> Result<(), StoreError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
    let props: Vec<serde_json::Value> = rows.iter().map(|r| r.props.clone()).collect();
    sqlx::query!(
        "INSERT INTO backup_vertices (backup_id, id, label, props)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::jsonb[])",
        backup,
        &ids as &[&str],
        &labels as &[&str],
        &props,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds edges to the backup, each at its `seq`.
pub async fn insert_edges(
    conn: impl PgExecutor<'_>,
    backup: Uuid,
    rows: &[EdgeRow],
) -> Result<(), StoreError> {
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let sources: Vec<&str> = rows.iter().map(|r| r.source.as_str()).collect();
    let targets: Vec<&str> = rows.iter().map(|r| r.target.as_str()).collect();
    let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
    let props: Vec<serde_json::Value> = rows.iter().map(|r| r.props.clone()).collect();
    sqlx::query!(
        "INSERT INTO backup_edges (backup_id, seq, source, target, label, props)
         SELECT $1, * FROM unnest($2::int8[], $3::text[], $4::text[], $5::text[], $6::jsonb[])",
        backup,
        &seqs,
        &sources as &[&str],
        &targets as &[&str],
        &labels as &[&str],
        &props,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The imported backup is complete: its schema, `success`, its end time and size (bytes of
/// its rows, as a backup of a graph counts them).
pub async fn complete(
    conn: impl PgExecutor<'_>,
    backup: Uuid,
    schema_xml: Option<&str>,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar!(
        r#"UPDATE backups b
           SET status = $3, end_time = greatest(now(), b.start_time), schema_xml = $2,
               size = coalesce(pg_column_size($2::text), 0)
                    + (SELECT coalesce(sum(pg_column_size(v.*)), 0)
                       FROM backup_vertices v WHERE v.backup_id = b.id)
                    + (SELECT coalesce(sum(pg_column_size(e.*)), 0)
                       FROM backup_edges e WHERE e.backup_id = b.id)
           WHERE b.id = $1
           RETURNING b.size"#,
        backup,
        schema_xml,
        BackupStatus::Success.as_str(),
    )
    .fetch_one(conn)
    .await?)
}
