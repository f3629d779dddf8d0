//! Backups moved through object storage: an export writes a successful backup's data
//! under a path, an import makes a backup of the graph from such files (a start from that
//! backup then restores it).
//!
//! The files: `backup.json` (the manifest: format, the backup's name and version, the row
//! counts, whether there is a schema), `schema.xml` (when the backup has one),
//! `vertices.jsonl` and `edges.jsonl` (one stored row per line, as JSON: vertices in id
//! order, edges in `seq` order). The manifest is written last, so an import only finds
//! complete exports; an import checks the counts against it and fails on any difference.
//! An import loads in fenced batches and starts again from nothing on a takeover.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::export::storage_failed;
use super::import::storage_failure;
use super::spool::{self, PAGE_ROWS, Progress, ROWS_DONE_PERCENT, RowSink, Scratch};
use super::{EngineError, JobContext};
use crate::domain::{BackupStatus, Code, ObjectPath};
use crate::import::Schema;
use crate::service::graphs::BACKUP_MANIFEST;
use crate::storage::Storage;
use crate::store::graph_export::{EdgeRow, VertexRow};
use crate::store::{StoreError, backup_data};

/// The manifest's `format`.
const FORMAT: &str = "jobcenter-backup/1";
const SCHEMA: &str = "schema.xml";
const VERTICES: &str = "vertices.jsonl";
const EDGES: &str = "edges.jsonl";
/// Rows per committed batch of an import.
const BATCH: usize = 5_000;

/// `backup.json`.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    backup_id: Uuid,
    vertices: i64,
    edges: i64,
    schema: bool,
}

fn failed(reason: impl Into<String>) -> EngineError {
    EngineError::Failed(reason.into())
}

fn file(dir: &ObjectPath, name: &str) -> Result<ObjectPath, EngineError> {
    dir.join(name).map_err(|e| failed(e.to_string()))
}

/// Writes the successful backup `backup_id` under `dir`.
pub async fn export(
    ctx: &mut JobContext,
    storage: &Storage,
    backup_id: Uuid,
    dir: &ObjectPath,
) -> Result<(), EngineError> {
    let content = backup_data::content(ctx.pool(), backup_id)
        .await?
        .filter(|c| c.status == BackupStatus::Success)
        .ok_or_else(|| failed(format!("backup {backup_id} is not a successful backup")))?;
    let scratch = Scratch::new(ctx.job_id())?;
    let progress = Progress::of(content.vertices + content.edges);
    let (vertices, edges) = (scratch.file(VERTICES), scratch.file(EDGES));
    let pool = ctx.pool().clone();
    let sink = JsonLines::create(&vertices)?;
    spool::stream_rows(
        ctx,
        &progress,
        sink,
        String::new(),
        |v: &VertexRow| v.id.clone(),
        |after: String| {
            let pool = pool.clone();
            async move { backup_data::vertex_page(&pool, backup_id, &after, PAGE_ROWS).await }
        },
    )
    .await?;
    let sink = JsonLines::create(&edges)?;
    spool::stream_rows(
        ctx,
        &progress,
        sink,
        0,
        |e: &EdgeRow| e.seq,
        |after: i64| {
            let pool = pool.clone();
            async move { backup_data::edge_page(&pool, backup_id, after, PAGE_ROWS).await }
        },
    )
    .await?;
    for (local, name) in [(&vertices, VERTICES), (&edges, EDGES)] {
        ctx.checkpoint()?;
        let target = file(dir, name)?;
        storage
            .upload(local, &target)
            .await
            .map_err(|e| storage_failed(&target, e))?;
    }
    if let Some(xml) = &content.schema_xml {
        let target = file(dir, SCHEMA)?;
        storage
            .put(&target, xml.clone().into_bytes())
            .await
            .map_err(|e| storage_failed(&target, e))?;
    }
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        backup_id,
        vertices: content.vertices,
        edges: content.edges,
        schema: content.schema_xml.is_some(),
    };
    let target = file(dir, BACKUP_MANIFEST)?;
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| failed(e.to_string()))?;
    storage
        .put(&target, bytes)
        .await
        .map_err(|e| storage_failed(&target, e))?;
    ctx.progress(100.0);
    let tx = ctx.begin_fenced().await?;
    ctx.succeed(tx).await
}

/// Stored rows as JSON lines into a local file.
struct JsonLines(std::io::BufWriter<std::fs::File>);

impl JsonLines {
    fn create(path: &Path) -> Result<JsonLines, EngineError> {
        Ok(JsonLines(spool::create(path)?))
    }
}

impl<T: Serialize> RowSink<T> for JsonLines {
    fn write(&mut self, row: &T) -> Result<(), EngineError> {
        serde_json::to_writer(&mut self.0, row).map_err(spool::local_failure)?;
        self.0.write_all(b"\n").map_err(spool::local_failure)
    }

    fn finish(mut self) -> Result<(), EngineError> {
        self.0.flush().map_err(spool::local_failure)
    }
}

/// Loads the files under `dir` into the backup `backup_id` (made, `backing_up`, when the
/// operation was accepted), which then succeeds.
pub async fn import(
    ctx: &mut JobContext,
    storage: &Storage,
    backup_id: Uuid,
    dir: &ObjectPath,
) -> Result<(), EngineError> {
    let manifest: Manifest = serde_json::from_slice(
        &read_all(storage, &file(dir, BACKUP_MANIFEST)?).await?,
    )
    .map_err(|e| {
        failed(format!(
            "{dir}/{BACKUP_MANIFEST} is not a backup manifest: {e}"
        ))
    })?;
    if manifest.format != FORMAT {
        return Err(failed(format!(
            "{dir}/{BACKUP_MANIFEST}: unknown format {:?}",
            manifest.format
        )));
    }
    let schema = if manifest.schema {
        let xml = String::from_utf8(read_all(storage, &file(dir, SCHEMA)?).await?)
            .map_err(|e| failed(format!("{dir}/{SCHEMA}: {e}")))?;
        Schema::parse(&xml)
            .map_err(|e| failed(format!("{}: {dir}/{SCHEMA}: {e}", Code::SchemaUnreadable)))?;
        Some(xml)
    } else {
        None
    };
    let mut tx = ctx.begin_fenced().await?;
    backup_data::clear(&mut tx, backup_id).await?;
    tx.commit().await?;
    let total = manifest.vertices + manifest.edges;
    let vertices =
        load::<VertexRow>(ctx, storage, &file(dir, VERTICES)?, backup_id, 0, total).await?;
    let edges =
        load::<EdgeRow>(ctx, storage, &file(dir, EDGES)?, backup_id, vertices, total).await?;
    if (vertices, edges) != (manifest.vertices, manifest.edges) {
        return Err(failed(format!(
            "{dir} holds {vertices} vertices and {edges} edges; its manifest says {} and {}",
            manifest.vertices, manifest.edges
        )));
    }
    let mut tx = ctx.begin_fenced().await?;
    let size = backup_data::complete(&mut *tx, backup_id, schema.as_deref()).await?;
    tracing::info!(%backup_id, size, path = %dir, "backup imported");
    ctx.succeed(tx).await
}

/// A whole (small) object.
async fn read_all(storage: &Storage, path: &ObjectPath) -> Result<Vec<u8>, EngineError> {
    let mut reader = storage.reader(path).await.map_err(storage_failure)?;
    tokio::task::spawn_blocking(move || {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map(|_| bytes)
    })
    .await
    .map_err(|e| failed(format!("reading {path}: {e}")))?
    .map_err(|e| EngineError::Transient(format!("reading {path}: {e}")))
}

/// Rows of a backup file.
trait Loadable: DeserializeOwned + Send + 'static {
    /// Adds `rows` to backup `backup`.
    fn insert(
        conn: &mut sqlx::PgConnection,
        backup: Uuid,
        rows: &[Self],
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;
}

impl Loadable for VertexRow {
    fn insert(
        conn: &mut sqlx::PgConnection,
        backup: Uuid,
        rows: &[Self],
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send {
        backup_data::insert_vertices(conn, backup, rows)
    }
}

impl Loadable for EdgeRow {
    fn insert(
        conn: &mut sqlx::PgConnection,
        backup: Uuid,
        rows: &[Self],
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send {
        backup_data::insert_edges(conn, backup, rows)
    }
}

/// Loads the JSON lines of `path` into backup `backup` in fenced batches; answers how many
/// rows. `before` rows of `total` were loaded already (for progress).
async fn load<T: Loadable>(
    ctx: &JobContext,
    storage: &Storage,
    path: &ObjectPath,
    backup: Uuid,
    before: i64,
    total: i64,
) -> Result<i64, EngineError> {
    let reader = storage.reader(path).await.map_err(storage_failure)?;
    let (sender, mut batches) = mpsc::channel::<Result<Vec<T>, String>>(2);
    let shown = path.to_string();
    let reading = tokio::task::spawn_blocking(move || read_lines(reader, &shown, sender));
    let mut loaded = 0i64;
    while let Some(batch) = batches.recv().await {
        let rows = batch.map_err(failed)?;
        ctx.checkpoint()?;
        let mut tx = ctx.begin_fenced().await?;
        T::insert(&mut tx, backup, &rows).await?;
        tx.commit().await?;
        loaded += rows.len() as i64;
        if total > 0 {
            ctx.progress(ROWS_DONE_PERCENT * (before + loaded) as f32 / total as f32);
        }
    }
    reading
        .await
        .map_err(|e| failed(format!("reading {path}: {e}")))?
        .map_err(|e| EngineError::Transient(format!("reading {path}: {e}")))?;
    Ok(loaded)
}

/// Parses one row per line and sends them in batches; a line that is not a row is sent
/// as the error that fails the import.
fn read_lines<T: DeserializeOwned>(
    input: impl Read,
    path: &str,
    sender: mpsc::Sender<Result<Vec<T>, String>>,
) -> std::io::Result<()> {
    let mut batch = Vec::with_capacity(BATCH);
    for (n, line) in BufReader::new(input).lines().enumerate() {
        let line = line?;
        match serde_json::from_str(&line) {
            Ok(row) => batch.push(row),
            Err(e) => {
                let _ =
                    sender.blocking_send(Err(format!("{path}:{}: not a backup row: {e}", n + 1)));
                return Ok(());
            }
        }
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if sender.blocking_send(Ok(full)).is_err() {
                return Ok(());
            }
        }
    }
    if !batch.is_empty() {
        let _ = sender.blocking_send(Ok(batch));
    }
    Ok(())
}
