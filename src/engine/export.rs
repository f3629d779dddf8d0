//! Export: the graph's schema, vertices and edges written as import-format files.
//!
//! The request names a directory (`graph_export_path`) and three file names under it. The
//! schema is written as stored; vertices (`id,label,props...`, in id order) and edges
//! (`source,target,label,props...`, in insertion order) are streamed ([`super::spool`])
//! through the import library's [`CsvExport`] into local scratch files, which are then
//! uploaded in parts. Nothing is uploaded unless every row was written.
//!
//! Every row is checked against the schema on the way (known label, one value per
//! property, values of the property's cardinality, list elements that survive the `;`
//! split), so what is exported imports back into an empty graph as the same graph; a row
//! that would not fails the job and names the row.

use std::fs::File;
use std::io::BufWriter;
use std::sync::Arc;

use serde_json::Value as Json;

use super::spool::{self, PAGE_ROWS, Progress, ROWS_DONE_PERCENT, RowSink, Scratch};
use super::{EngineError, JobContext};
use crate::domain::{CsvFormat, ExportRequest, ObjectPath};
use crate::import::value::LIST_SEPARATOR;
use crate::import::{Cardinality, CsvExport, Schema, Value, props_from_json};
use crate::storage::{Storage, StorageError};
use crate::store::graph_export::{self, EdgeRow, VertexRow};

type Out = CsvExport<BufWriter<File>>;

/// Writes the graph under the request's `graph_export_path`.
pub async fn run(
    ctx: &mut JobContext,
    storage: &Storage,
    targets: &ExportRequest,
) -> Result<(), EngineError> {
    let graph_id = ctx
        .graph_id()
        .ok_or_else(|| failed("the job names no graph"))?;

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
    let progress = Progress::of(vertex_count + edge_count);
    ctx.progress(0.0);

    let vertex_file = scratch.file("vertices.csv");
    let pool = ctx.pool().clone();
    spool::stream_rows(
        ctx,
        &progress,
        CsvSink::new(&vertex_file, &schema, write_vertex)?,
        String::new(),
        |v: &VertexRow| v.id.clone(),
        |after: String| {
            let pool = pool.clone();
            async move { graph_export::vertex_page(&pool, graph_id, &after, PAGE_ROWS).await }
        },
    )
    .await?;

    let edge_file = scratch.file("edges.csv");
    spool::stream_rows(
        ctx,
        &progress,
        CsvSink::new(&edge_file, &schema, write_edge)?,
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

/// CSV rows into a local file, each checked against the schema by `write_row`.
struct CsvSink<T> {
    out: Out,
    schema: Arc<Schema>,
    write_row: fn(&mut Out, &Schema, &T) -> Result<(), EngineError>,
}

impl<T> CsvSink<T> {
    fn new(
        file: &std::path::Path,
        schema: &Arc<Schema>,
        write_row: fn(&mut Out, &Schema, &T) -> Result<(), EngineError>,
    ) -> Result<CsvSink<T>, EngineError> {
        Ok(CsvSink {
            out: CsvExport::new(spool::create(file)?, CsvFormat::default()),
            schema: schema.clone(),
            write_row,
        })
    }
}

impl<T: 'static> RowSink<T> for CsvSink<T> {
    fn write(&mut self, row: &T) -> Result<(), EngineError> {
        (self.write_row)(&mut self.out, &self.schema, row)
    }

    fn finish(self) -> Result<(), EngineError> {
        self.out
            .finish()
            .map_err(spool::local_failure)?
            .into_inner()
            .map(drop)
            .map_err(|e| spool::local_failure(e.into_error()))
    }
}

fn write_vertex(out: &mut Out, schema: &Schema, v: &VertexRow) -> Result<(), EngineError> {
    let props = checked_props(schema, &v.label, &v.props, || format!("vertex {:?}", v.id))?;
    out.write_vertex(&v.id, &v.label, &props)
        .map_err(spool::local_failure)
}

fn write_edge(out: &mut Out, schema: &Schema, e: &EdgeRow) -> Result<(), EngineError> {
    let props = checked_props(schema, &e.label, &e.props, || {
        format!("edge {:?} -> {:?} (#{})", e.source, e.target, e.seq)
    })?;
    out.write_edge(&e.source, &e.target, &e.label, &props)
        .map_err(spool::local_failure)
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

fn failed(reason: impl Into<String>) -> EngineError {
    EngineError::Failed(reason.into())
}

/// A failed write of `path`, with its cause (an outage of the store is worth retrying).
pub fn storage_failed(path: &ObjectPath, err: StorageError) -> EngineError {
    if err.is_transient() {
        EngineError::Transient(format!(
            "cannot write {path}: {}",
            crate::telemetry::error_chain(&err)
        ))
    } else {
        failed(format!("cannot write {path}: {err}"))
    }
}
