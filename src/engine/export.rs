//! Export: the graph's schema, vertices and edges written as import-format files.
//!
//! The request names a directory (`graph_export_path`) and three file names under it. The
//! schema is written as stored; vertices (`id,label,props...`, in id order) and edges
//! (`source,target,label,props...`, in insertion order) are read in keyset pages of
//! [`PAGE_ROWS`] and written by a blocking writer task through the import library's
//! [`CsvExport`] into local scratch files, which are then uploaded in parts: memory holds
//! a few pages whatever the graph's size. Nothing is uploaded unless every row was written.
//!
//! Every row is checked against the schema on the way (known label, one value per
//! property, values of the property's cardinality, list elements that survive the `;`
//! split), so what is exported imports back into an empty graph as the same graph; a row
//! that would not fails the job and names the row.

use std::fs::File;
use std::future::Future;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value as Json;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{EngineError, JobContext};
use crate::import::value::LIST_SEPARATOR;
use crate::import::{Cardinality, CsvExport, CsvFormat, Schema, Value, props_from_json};
use crate::storage::{ObjectPath, Storage, StorageError};
use crate::store::StoreError;
use crate::store::graph_export::{self, EdgeRow, VertexRow};

/// Rows read from the database at a time.
pub const PAGE_ROWS: i64 = 10_000;
/// Pages fetched ahead of the writer.
const PAGES_AHEAD: usize = 2;
/// Progress when every row is written locally (the uploads take the rest).
const ROWS_DONE_PERCENT: f32 = 90.0;

type Out = CsvExport<BufWriter<File>>;

/// Writes the graph under the request's `graph_export_path`.
pub async fn run(
    ctx: &mut JobContext,
    storage: &Storage,
    request: &Json,
) -> Result<(), EngineError> {
    let graph_id = ctx
        .graph_id()
        .ok_or_else(|| failed("the job names no graph"))?;
    let targets = Targets::from_request(request)?;

    let source = graph_export::source(ctx.pool(), graph_id)
        .await?
        .ok_or_else(|| failed("the graph does not exist"))?;
    let schema_xml = source.schema_xml.ok_or_else(|| {
        failed("the graph has no schema (import one first); nothing was exported")
    })?;
    let schema = Schema::parse(&schema_xml)
        .map_err(|e| failed(format!("the graph's stored schema cannot be read: {e}")))?;
    let schema = Arc::new(schema);
    let (vertex_count, edge_count) = graph_export::counts(ctx.pool(), graph_id).await?;

    let scratch = Scratch::new(ctx.job_id())?;
    let progress = Progress {
        total: (vertex_count + edge_count).max(0) as u64,
        written: Arc::new(AtomicU64::new(0)),
    };
    ctx.progress(0.0);

    let vertex_file = scratch.file("vertices.csv");
    let pool = ctx.pool().clone();
    stream_rows(
        ctx,
        &progress,
        Writer::spawn(&vertex_file, &schema, &progress, write_vertex),
        String::new(),
        |v: &VertexRow| v.id.clone(),
        |after: String| {
            let pool = pool.clone();
            async move { graph_export::vertex_page(&pool, graph_id, &after, PAGE_ROWS).await }
        },
    )
    .await?;

    let edge_file = scratch.file("edges.csv");
    stream_rows(
        ctx,
        &progress,
        Writer::spawn(&edge_file, &schema, &progress, write_edge),
        0,
        |e: &EdgeRow| e.seq,
        |after: i64| {
            let pool = pool.clone();
            async move { graph_export::edge_page(&pool, graph_id, after, PAGE_ROWS).await }
        },
    )
    .await?;

    let uploads = [
        (&vertex_file, &targets.vertices),
        (&edge_file, &targets.edges),
    ];
    let share = (100.0 - ROWS_DONE_PERCENT) / 3.0;
    for (i, (file, target)) in uploads.into_iter().enumerate() {
        ctx.checkpoint()?;
        storage
            .upload(file, target)
            .await
            .map_err(|e| storage_failed(target, e))?;
        ctx.progress(ROWS_DONE_PERCENT + share * (i + 1) as f32);
    }
    ctx.checkpoint()?;
    storage
        .put(&targets.schema, schema_xml.into_bytes())
        .await
        .map_err(|e| storage_failed(&targets.schema, e))?;
    drop(scratch);
    tracing::info!(
        %graph_id,
        vertices = vertex_count,
        edges = edge_count,
        path = %targets.dir,
        "graph exported"
    );
    ctx.progress(100.0);

    let tx = ctx.begin_fenced().await?;
    ctx.succeed(tx).await
}

/// Where the three files go.
#[derive(Debug)]
struct Targets {
    dir: ObjectPath,
    schema: ObjectPath,
    vertices: ObjectPath,
    edges: ObjectPath,
}

impl Targets {
    fn from_request(request: &Json) -> Result<Targets, EngineError> {
        let field = |name: &str| {
            request
                .get(name)
                .and_then(Json::as_str)
                .ok_or_else(|| failed(format!("the request has no {name}")))
        };
        let raw_dir = field("graph_export_path")?;
        let dir = ObjectPath::parse(raw_dir).map_err(|_| {
            failed(format!(
                "graph_export_path {raw_dir:?} is not a valid object path"
            ))
        })?;
        let file = |name: &str| {
            let raw = field(name)?;
            dir.join(raw).map_err(|_| {
                failed(format!(
                    "{name} {raw:?} does not make a valid object path under {dir}"
                ))
            })
        };
        let targets = Targets {
            schema: file("schema_name")?,
            vertices: file("vertex_set_name")?,
            edges: file("edge_set_name")?,
            dir: dir.clone(),
        };
        if targets.schema == targets.vertices
            || targets.schema == targets.edges
            || targets.vertices == targets.edges
        {
            return Err(failed(
                "schema_name, vertex_set_name and edge_set_name must name three different files",
            ));
        }
        Ok(targets)
    }
}

/// Rows written so far out of the graph's rows.
struct Progress {
    total: u64,
    written: Arc<AtomicU64>,
}

impl Progress {
    fn report(&self, ctx: &JobContext) {
        if self.total > 0 {
            let done = self.written.load(Ordering::Relaxed).min(self.total);
            ctx.progress(ROWS_DONE_PERCENT * done as f32 / self.total as f32);
        }
    }
}

/// Fetches pages of rows after `start` (keyset: `key` of a page's last row) and hands them
/// to `writer` until a short page, checking for cancellation and a lost lease in between.
async fn stream_rows<T, K, F, Fut>(
    ctx: &JobContext,
    progress: &Progress,
    writer: Writer<T>,
    start: K,
    key: impl Fn(&T) -> K,
    mut fetch: F,
) -> Result<(), EngineError>
where
    T: Send + 'static,
    F: FnMut(K) -> Fut,
    Fut: Future<Output = Result<Vec<T>, StoreError>>,
{
    let Writer { pages, task } = writer;
    let fetched = async {
        let mut after = start;
        loop {
            ctx.checkpoint()?;
            let page = fetch(after).await?;
            let last = page.last().map(&key);
            let full = page.len() as i64 >= PAGE_ROWS;
            if !page.is_empty() && pages.send(page).await.is_err() {
                // The writer stopped; its error is the one to report.
                return Ok::<(), EngineError>(());
            }
            progress.report(ctx);
            match last {
                Some(last) if full => after = last,
                _ => return Ok(()),
            }
        }
    }
    .await;
    drop(pages);
    let written = task
        .await
        .map_err(|e| failed(format!("internal error (export writer: {e})")))?;
    fetched?;
    written?;
    progress.report(ctx);
    Ok(())
}

/// A blocking task writing pages of rows into a local file.
struct Writer<T> {
    pages: mpsc::Sender<Vec<T>>,
    task: JoinHandle<Result<(), EngineError>>,
}

impl<T: Send + 'static> Writer<T> {
    fn spawn(
        file: &Path,
        schema: &Arc<Schema>,
        progress: &Progress,
        write_row: fn(&mut Out, &Schema, &T) -> Result<(), EngineError>,
    ) -> Writer<T> {
        let (pages, mut incoming) = mpsc::channel::<Vec<T>>(PAGES_AHEAD);
        let (file, schema) = (file.to_path_buf(), schema.clone());
        let written = progress.written.clone();
        let task = tokio::task::spawn_blocking(move || {
            let local = |e: io::Error| failed(format!("cannot write the local export file: {e}"));
            let mut out = CsvExport::new(
                BufWriter::with_capacity(256 << 10, File::create(&file).map_err(local)?),
                CsvFormat::default(),
            );
            while let Some(page) = incoming.blocking_recv() {
                for row in &page {
                    write_row(&mut out, &schema, row)?;
                }
                written.fetch_add(page.len() as u64, Ordering::Relaxed);
            }
            out.finish()
                .map_err(local)?
                .into_inner()
                .map(drop)
                .map_err(|e| local(e.into_error()))
        });
        Writer { pages, task }
    }
}

fn write_vertex(out: &mut Out, schema: &Schema, v: &VertexRow) -> Result<(), EngineError> {
    let props = checked_props(schema, &v.label, &v.props, || format!("vertex {:?}", v.id))?;
    out.write_vertex(&v.id, &v.label, &props)
        .map_err(|e| failed(format!("cannot write the local export file: {e}")))
}

fn write_edge(out: &mut Out, schema: &Schema, e: &EdgeRow) -> Result<(), EngineError> {
    let props = checked_props(schema, &e.label, &e.props, || {
        format!("edge {:?} -> {:?} (#{})", e.source, e.target, e.seq)
    })?;
    out.write_edge(&e.source, &e.target, &e.label, &props)
        .map_err(|err| failed(format!("cannot write the local export file: {err}")))
}

/// The row's stored properties, provided they export to a line that imports back to the
/// same values under `schema`.
fn checked_props(
    schema: &Schema,
    label: &str,
    props: &Json,
    row: impl Fn() -> String,
) -> Result<Vec<Value>, EngineError> {
    let unfit = |why: String| failed(format!("cannot export {}: {why}", row()));
    let declared = schema
        .label(label)
        .ok_or_else(|| unfit(format!("its label {label:?} is not in the graph's schema")))?;
    let values =
        props_from_json(props).map_err(|e| unfit(format!("its stored properties: {e}")))?;
    if values.len() != declared.properties.len() {
        return Err(unfit(format!(
            "it has {} property values, label {label:?} declares {}",
            values.len(),
            declared.properties.len()
        )));
    }
    for (value, property) in values.iter().zip(&declared.properties) {
        let fits = match (value, property.cardinality) {
            (Value::Null, _) => true,
            (Value::Single(_), Cardinality::Single) => true,
            (Value::Multi(elements), Cardinality::List | Cardinality::Set) => elements
                .iter()
                .all(|e| !e.is_empty() && !e.contains(LIST_SEPARATOR)),
            _ => false,
        };
        if !fits {
            return Err(unfit(format!(
                "its value {} does not fit {} property {:?}",
                value.to_json(),
                property.cardinality.as_str(),
                property.name
            )));
        }
    }
    Ok(values)
}

/// A private local directory for the job's files, removed when dropped.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(job_id: uuid::Uuid) -> Result<Scratch, EngineError> {
        let dir = std::env::temp_dir().join(format!(
            "jobcenter-export-{job_id}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| {
            failed(format!(
                "cannot create a local directory for the export: {e}"
            ))
        })?;
        Ok(Scratch { dir })
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(dir = ?self.dir, error = %err, "cannot remove the export's local files");
        }
    }
}

fn failed(reason: impl Into<String>) -> EngineError {
    EngineError::Failed(reason.into())
}

/// A failed write of `path`, with its cause (an outage of the store is worth retrying).
fn storage_failed(path: &ObjectPath, err: StorageError) -> EngineError {
    match err {
        StorageError::BadPath(_) => failed(format!("{path} is not a valid object path")),
        StorageError::NotFound(_) => failed(format!("cannot write {path}: {err}")),
        StorageError::Backend(_) | StorageError::Io(_) => EngineError::Transient(format!(
            "cannot write {path}: {}",
            crate::telemetry::error_chain(&err)
        )),
    }
}
