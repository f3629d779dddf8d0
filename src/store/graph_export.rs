//! What an export reads: the graph's stored schema, its row counts, and its vertices and
//! edges in keyset pages (vertices by `(graph_id, id)`, edges by `(graph_id, seq)`, both
//! primary keys), so that an export of any size holds one page at a time.

use sqlx::PgExecutor;
use uuid::Uuid;

use super::StoreError;

/// A graph's schema as stored (`None` when it has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSource {
    pub schema_xml: Option<String>,
}

/// One stored vertex.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VertexRow {
    pub id: String,
    pub label: String,
    pub props: serde_json::Value,
}

/// One stored edge; `seq` is its position in the graph (insertion order).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EdgeRow {
    pub seq: i64,
    pub source: String,
    pub target: String,
    pub label: String,
    pub props: serde_json::Value,
}

/// The graph's stored schema; `None` when the graph does not exist.
pub async fn source(
    conn: impl PgExecutor<'_>,
    graph_id: Uuid,
) -> Result<Option<ExportSource>, StoreError> {
    let row = sqlx::query_as!(
        ExportSource,
        "SELECT schema_xml FROM graphs WHERE id = $1",
        graph_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row)
}

/// How many vertices and edges the graph has.
pub async fn counts(conn: impl PgExecutor<'_>, graph_id: Uuid) -> Result<(i64, i64), StoreError> {
    let row = sqlx::query!(
        r#"SELECT (SELECT count(*) FROM graph_vertices WHERE graph_id = $1) AS "vertices!",
                  (SELECT count(*) FROM graph_edges WHERE graph_id = $1) AS "edges!""#,
        graph_id
    )
    .fetch_one(conn)
    .await?;
    Ok((row.vertices, row.edges))
}

/// Up to `limit` vertices with ids after `after` (`""` for the first page: ids are never
/// empty), in id order.
pub async fn vertex_page(
    conn: impl PgExecutor<'_>,
    graph_id: Uuid,
    after: &str,
    limit: i64,
) -> Result<Vec<VertexRow>, StoreError> {
    let rows = sqlx::query_as!(
        VertexRow,
        "SELECT id, label, props FROM graph_vertices
         WHERE graph_id = $1 AND id > $2
         ORDER BY id
         LIMIT $3",
        graph_id,
        after,
        limit,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// Up to `limit` edges with `seq` after `after` (`0` for the first page), in `seq` order.
pub async fn edge_page(
    conn: impl PgExecutor<'_>,
    graph_id: Uuid,
    after: i64,
    limit: i64,
) -> Result<Vec<EdgeRow>, StoreError> {
    let rows = sqlx::query_as!(
        EdgeRow,
        "SELECT seq, source, target, label, props FROM graph_edges
         WHERE graph_id = $1 AND seq > $2
         ORDER BY seq
         LIMIT $3",
        graph_id,
        after,
        limit,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows)
}
