//! One data file of an import: a blocking task reads and validates records, the job's task
//! commits them in fenced batches, counting them in the import library's [`FileTally`]
//! (restored from the committed counts when a taken-over import resumes), then the file's
//! [`RejectLog`] and result (the tally's status and cause) are written.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;
use uuid::Uuid;

use super::import::storage_failure;
use super::{EngineError, JobContext};
use crate::domain::{CsvFormat, FileKind, FileStatus, ObjectPath, ParallelEdges};
use crate::import::{
    Edge, End, FileTally, ReasonKind, Records, RejectLog, Rejection, Schema, Vertex, props_to_json,
    validate_edge, validate_vertex,
};
use crate::storage::{Storage, StorageError};
use crate::store::import_data::{self, EdgeColumns, ImportFile, RejectRow};

/// Records per committed batch.
const BATCH: usize = 5_000;
/// Rejected lines read back per page when writing a log.
const LOG_PAGE: i64 = 10_000;

/// What a file's import needs to know.
pub struct FileJob<'a> {
    pub graph: Uuid,
    pub schema: &'a Schema,
    pub format: CsvFormat,
    pub parallel: ParallelEdges,
    pub log_dir: &'a ObjectPath,
    /// This file's place among the job's data files (for progress).
    pub index: usize,
    pub of: usize,
}

enum Parsed {
    Vertex(Vertex),
    Edge(Edge),
}

/// Records read and checked, not yet committed.
struct Batch {
    lines: Vec<(u64, Result<Parsed, Rejection>)>,
}

/// Imports one vertex or edge file, resuming after its last committed record.
pub async fn run(
    ctx: &JobContext,
    storage: &Storage,
    job: &FileJob<'_>,
    file: &ImportFile,
) -> Result<(), EngineError> {
    let path = ObjectPath::parse(&file.path).map_err(|e| storage_failure(e.into()))?;
    let size = storage.size(&path).await.map_err(storage_failure)?.max(1);
    let reader = storage.reader(&path).await.map_err(storage_failure)?;
    let mut tally = resume(ctx, file).await?;
    let read = Arc::new(AtomicU64::new(0));
    let (sender, mut batches) = mpsc::channel::<Batch>(2);
    let reading = {
        let (schema, format, read) = (job.schema.clone(), job.format, read.clone());
        let (edges, skip) = (file.kind == FileKind::Edge, tally.total());
        tokio::task::spawn_blocking(move || {
            read_file(
                Counting {
                    inner: reader,
                    read,
                },
                schema,
                format,
                edges,
                skip,
                sender,
            )
        })
    };
    while let Some(batch) = batches.recv().await {
        ctx.checkpoint()?;
        let mut tx = ctx.begin_fenced().await?;
        let rejects = commit(&mut tx, job, batch, &mut tally).await?;
        let counts = counted(file, &tally, FileStatus::Running);
        import_data::add_rejects(&mut *tx, ctx.job_id(), &counts, &rejects).await?;
        import_data::update_file(&mut *tx, ctx.job_id(), &counts, None, None).await?;
        tx.commit().await?;
        let within = read.load(Ordering::Relaxed) as f32 / size as f32;
        ctx.progress(((job.index as f32 + within.min(1.0)) / job.of as f32 * 100.0).min(99.0));
    }
    reading
        .await
        .map_err(|e| EngineError::Failed(format!("reading {}: {e}", file.path)))?
        .map_err(|e| EngineError::Transient(format!("reading {}: {e}", file.path)))?;
    finish_file(ctx, storage, job, file, &tally).await
}

/// The file's tally as committed so far (empty on a first attempt).
async fn resume(ctx: &JobContext, file: &ImportFile) -> Result<FileTally, EngineError> {
    if file.total_lines <= 0 {
        return Ok(FileTally::new());
    }
    let summary = import_data::reject_summary(ctx.pool(), ctx.job_id(), file).await?;
    let mut kinds = Vec::with_capacity(summary.len());
    for (kind, count, line, reason) in summary {
        let kind = ReasonKind::parse(&kind).ok_or_else(|| {
            EngineError::Failed(format!("internal error (stored reason kind {kind:?})"))
        })?;
        kinds.push((kind, count as u64, line as u64, reason));
    }
    Ok(FileTally::resume(
        file.successful_lines.max(0) as u64,
        kinds,
    ))
}

/// The file's row with the tally's counts and `status`.
fn counted(file: &ImportFile, tally: &FileTally, status: FileStatus) -> ImportFile {
    ImportFile {
        status,
        total_lines: tally.total() as i64,
        failed_lines: tally.failed() as i64,
        successful_lines: tally.successful() as i64,
        ..file.clone()
    }
}

/// Reads records after the first `skip`, checks them, and sends them in batches.
fn read_file(
    input: impl Read,
    schema: Schema,
    format: CsvFormat,
    edges: bool,
    skip: u64,
    sender: mpsc::Sender<Batch>,
) -> std::io::Result<()> {
    let mut batch = Batch {
        lines: Vec::with_capacity(BATCH),
    };
    for record in Records::new(input, format) {
        let record = record?;
        if record.number <= skip {
            continue;
        }
        let checked = match record.fields {
            Err(malformed) => Err(Rejection::Malformed(malformed)),
            Ok(fields) if edges => validate_edge(&schema, &fields, |_| true).map(Parsed::Edge),
            Ok(fields) => validate_vertex(&schema, &fields).map(Parsed::Vertex),
        };
        batch.lines.push((record.line, checked));
        if batch.lines.len() == BATCH {
            let full = std::mem::replace(
                &mut batch,
                Batch {
                    lines: Vec::with_capacity(BATCH),
                },
            );
            if sender.blocking_send(full).is_err() {
                return Ok(());
            }
        }
    }
    if !batch.lines.is_empty() {
        let _ = sender.blocking_send(batch);
    }
    Ok(())
}

/// Loads a batch's accepted lines and counts every line in `tally`; answers the rejected
/// lines to record.
async fn commit(
    conn: &mut sqlx::PgConnection,
    job: &FileJob<'_>,
    batch: Batch,
    tally: &mut FileTally,
) -> Result<Vec<RejectRow>, EngineError> {
    let records = batch.lines.len();
    let mut rejected: Vec<(u64, Rejection)> = Vec::new();
    let mut reject = |line: u64, why: &Rejection| rejected.push((line, why.clone()));
    let mut vertices = Vec::new();
    let mut edges = Vec::new();
    for (line, checked) in batch.lines {
        match checked {
            Ok(Parsed::Vertex(v)) => vertices.push((line, v)),
            Ok(Parsed::Edge(e)) => edges.push((line, e)),
            Err(why) => reject(line, &why),
        }
    }
    if !vertices.is_empty() {
        load_vertices(conn, job.graph, vertices, &mut reject).await?;
    }
    if !edges.is_empty() {
        load_edges(conn, job, edges, &mut reject).await?;
    }
    rejected.sort_by_key(|(line, _)| *line);
    for _ in rejected.len()..records {
        tally.accept();
    }
    Ok(rejected
        .into_iter()
        .map(|(line, why)| {
            tally.reject(line, &why);
            RejectRow {
                line: line as i64,
                reason_kind: why.kind().as_str(),
                reason: why.to_string(),
            }
        })
        .collect())
}

async fn load_vertices(
    conn: &mut sqlx::PgConnection,
    graph: Uuid,
    vertices: Vec<(u64, Vertex)>,
    reject: &mut impl FnMut(u64, &Rejection),
) -> Result<(), EngineError> {
    let mut seen = HashSet::new();
    let (mut ids, mut labels, mut props, mut lines) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (line, v) in vertices {
        if !seen.insert(v.id.clone()) {
            reject(line, &Rejection::duplicate_vertex(&v.id));
            continue;
        }
        lines.push(line);
        props.push(props_to_json(&v.props));
        ids.push(v.id);
        labels.push(v.label);
    }
    let inserted = import_data::insert_vertices(&mut *conn, graph, &ids, &labels, &props).await?;
    for (line, id) in lines.into_iter().zip(&ids) {
        if !inserted.contains(id) {
            reject(line, &Rejection::duplicate_vertex(id));
        }
    }
    Ok(())
}

async fn load_edges(
    conn: &mut sqlx::PgConnection,
    job: &FileJob<'_>,
    edges: Vec<(u64, Edge)>,
    reject: &mut impl FnMut(u64, &Rejection),
) -> Result<(), EngineError> {
    let ends: Vec<String> = edges
        .iter()
        .flat_map(|(_, e)| [e.source.clone(), e.target.clone()])
        .collect();
    let known = import_data::existing_vertices(&mut *conn, job.graph, &ends).await?;
    let mut kept: Vec<Edge> = Vec::with_capacity(edges.len());
    for (line, edge) in edges {
        if !known.contains(&edge.source) {
            reject(line, &Rejection::missing_vertex(End::Source, &edge.source));
        } else if !known.contains(&edge.target) {
            reject(line, &Rejection::missing_vertex(End::Target, &edge.target));
        } else {
            kept.push(edge);
        }
    }
    let (skip_parallel, ignore_label) = match job.parallel {
        ParallelEdges::Allow => (false, true),
        ParallelEdges::Ignore { ignore_label } => {
            kept = dedupe(kept, ignore_label, false);
            (true, ignore_label)
        }
        ParallelEdges::Override { ignore_label } => {
            kept = dedupe(kept, ignore_label, true);
            (false, ignore_label)
        }
    };
    let mut columns = EdgeColumns::default();
    for edge in kept {
        columns.props.push(props_to_json(&edge.props));
        columns.sources.push(edge.source);
        columns.targets.push(edge.target);
        columns.labels.push(edge.label);
    }
    if let ParallelEdges::Override { ignore_label } = job.parallel {
        import_data::delete_parallel_edges(&mut *conn, job.graph, &columns, ignore_label).await?;
    }
    import_data::insert_edges(&mut *conn, job.graph, &columns, skip_parallel, ignore_label).await?;
    Ok(())
}

/// Parallel edges within a batch: the first (or, when `keep_last`, the last) stays.
fn dedupe(edges: Vec<Edge>, ignore_label: bool, keep_last: bool) -> Vec<Edge> {
    let key = |e: &Edge| {
        (
            e.source.clone(),
            e.target.clone(),
            if ignore_label {
                String::new()
            } else {
                e.label.clone()
            },
        )
    };
    let mut position: HashMap<(String, String, String), usize> = HashMap::new();
    let mut out: Vec<Edge> = Vec::with_capacity(edges.len());
    for edge in edges {
        match position.get(&key(&edge)) {
            Some(&at) if keep_last => out[at] = edge,
            Some(_) => {}
            None => {
                position.insert(key(&edge), out.len());
                out.push(edge);
            }
        }
    }
    out
}

/// Writes the file's reject log and records its result: the tally's status and cause.
async fn finish_file(
    ctx: &JobContext,
    storage: &Storage,
    job: &FileJob<'_>,
    file: &ImportFile,
    tally: &FileTally,
) -> Result<(), EngineError> {
    let counts = counted(file, tally, tally.status());
    let log = if tally.failed() == 0 {
        None
    } else {
        let name = counts.path.rsplit('/').next().unwrap_or("data");
        let log = job
            .log_dir
            .join(&format!(
                "{}-{}-{name}.log",
                counts.kind.as_str(),
                counts.ordinal
            ))
            .map_err(|e| storage_failure(StorageError::BadPath(e.0)))?;
        write_log(ctx, storage, &counts, &log).await?;
        Some(log.to_string())
    };
    let cause = tally.cause();
    let mut tx = ctx.begin_fenced().await?;
    import_data::update_file(
        &mut *tx,
        ctx.job_id(),
        &counts,
        cause.as_deref(),
        log.as_deref(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The rejected lines, `path:line: reason`, paged out of the database through a
/// [`RejectLog`] into a local file, and uploaded.
async fn write_log(
    ctx: &JobContext,
    storage: &Storage,
    counts: &ImportFile,
    log: &ObjectPath,
) -> Result<(), EngineError> {
    let failed = |e: std::io::Error| EngineError::Transient(format!("log: {e}"));
    let local = tempfile::NamedTempFile::new()
        .map_err(|e| EngineError::Transient(format!("temporary file: {e}")))?;
    let mut out = RejectLog::new(
        counts.path.clone(),
        std::io::BufWriter::new(local.as_file()),
    );
    let mut after = 0;
    loop {
        let page =
            import_data::rejects_after(ctx.pool(), ctx.job_id(), counts, after, LOG_PAGE).await?;
        for (line, reason) in &page {
            out.write(*line as u64, reason).map_err(failed)?;
        }
        match page.last() {
            Some((line, _)) if page.len() as i64 == LOG_PAGE => after = *line,
            _ => break,
        }
    }
    drop(out.finish().map_err(failed)?);
    storage
        .upload(local.path(), log)
        .await
        .map_err(storage_failure)
}

/// Counts the bytes read through it (for progress).
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
