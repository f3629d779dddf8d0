//! Import: the schema, then every vertex file, then every edge file, each validated line by
//! line and loaded in batches.
//!
//! Policy: each batch's rows, rejected lines and file counts are committed together under
//! the job's lease, so a worker that takes over a crashed import resumes after the last
//! committed line: no line is loaded twice and none is lost. Memory is bounded by the batch
//! size, whatever the file size.

use uuid::Uuid;

use super::import_file::{self, FileJob};
use super::{EngineError, JobContext};
use crate::domain::{Code, FileKind, FileStatus, ImportRequest, JobStatus, ObjectPath};
use crate::import::{Schema, job_status};
use crate::storage::{Storage, StorageError};
use crate::store::import_data::{self, ImportFile};

/// Loads the request's files into the job's graph.
pub async fn run(
    ctx: &mut JobContext,
    storage: &Storage,
    request: &ImportRequest,
) -> Result<(), EngineError> {
    let graph = ctx
        .graph_id()
        .ok_or_else(|| EngineError::Failed("the job names no graph".into()))?;
    let files = job_files(ctx, storage, request).await?;
    let schema = load_schema(ctx, storage, graph, &files).await?;
    let log_dir = log_dir(ctx.job_id(), request.log_dir.as_ref(), &files)?;
    let data: Vec<&ImportFile> = [FileKind::Vertex, FileKind::Edge]
        .iter()
        .flat_map(|kind| files.iter().filter(move |f| f.kind == *kind))
        .collect();
    for (index, file) in data.iter().enumerate() {
        if matches!(file.status, FileStatus::Pending | FileStatus::Running) {
            let job = FileJob {
                graph,
                schema: &schema,
                format: request.format,
                parallel: request.parallel_edges,
                log_dir: &log_dir,
                index,
                of: data.len(),
            };
            import_file::run(ctx, storage, &job, file).await?;
        }
    }
    finish(ctx).await
}

/// The job's files: recorded on the first attempt, read back on a takeover.
async fn job_files(
    ctx: &JobContext,
    storage: &Storage,
    request: &ImportRequest,
) -> Result<Vec<ImportFile>, EngineError> {
    let recorded = import_data::files(ctx.pool(), ctx.job_id()).await?;
    if !recorded.is_empty() {
        return Ok(recorded);
    }
    let mut files = Vec::new();
    let kinds = [FileKind::Schema, FileKind::Vertex, FileKind::Edge];
    for (kind, (_, path)) in kinds.into_iter().zip(request.paths()) {
        let Some(path) = path else { continue };
        let found = storage.resolve(path).await.map_err(storage_failure)?;
        files.extend(found.into_iter().map(|file| (kind, file.to_string())));
    }
    let mut tx = ctx.begin_fenced().await?;
    import_data::add_files(&mut tx, ctx.job_id(), &files).await?;
    tx.commit().await?;
    Ok(import_data::files(ctx.pool(), ctx.job_id()).await?)
}

/// A storage error as a job failure (an outage is worth retrying).
pub fn storage_failure(err: StorageError) -> EngineError {
    if err.is_transient() {
        EngineError::Transient(format!(
            "object storage: {}",
            crate::telemetry::error_chain(&err)
        ))
    } else {
        EngineError::Failed(err.to_string())
    }
}

/// A `GES.7070` failure: the schema cannot be read.
fn schema_failure(why: impl std::fmt::Display) -> EngineError {
    EngineError::Failed(format!("{}: {why}", Code::SchemaUnreadable))
}

/// The schema from `schema_path` (stored with the graph), or the graph's stored one.
async fn load_schema(
    ctx: &JobContext,
    storage: &Storage,
    graph: Uuid,
    files: &[ImportFile],
) -> Result<Schema, EngineError> {
    let schema_files: Vec<&ImportFile> = files
        .iter()
        .filter(|f| f.kind == FileKind::Schema)
        .collect();
    let Some(file) = schema_files.first() else {
        let stored = import_data::graph_schema(ctx.pool(), graph).await?;
        let xml = stored
            .ok_or_else(|| schema_failure("the graph has no schema yet; give schema_path"))?;
        return Schema::parse(&xml).map_err(|e| schema_failure(format!("stored schema: {e}")));
    };
    let parsed = read_schema(storage, &file.path).await;
    let mut tx = ctx.begin_fenced().await?;
    let outcome = match &parsed {
        Ok(schema) if schema_files.len() == 1 => {
            import_data::set_graph_schema(&mut *tx, graph, &schema.to_xml()).await?;
            let done = ImportFile {
                status: FileStatus::Success,
                ..(*file).clone()
            };
            import_data::update_file(&mut *tx, ctx.job_id(), &done, None, None).await?;
            Ok(())
        }
        Ok(_) => Err("schema_path must name one file".to_owned()),
        Err(why) => Err(why.clone()),
    };
    if let Err(why) = &outcome {
        let failed = ImportFile {
            status: FileStatus::Failed,
            ..(*file).clone()
        };
        import_data::update_file(&mut *tx, ctx.job_id(), &failed, Some(why), None).await?;
    }
    tx.commit().await?;
    match (outcome, parsed) {
        (Ok(()), Ok(schema)) => Ok(schema),
        (Err(why), _) | (_, Err(why)) => Err(schema_failure(format!("{}: {why}", file.path))),
    }
}

async fn read_schema(storage: &Storage, path: &str) -> Result<Schema, String> {
    let path = ObjectPath::parse(path).map_err(|e| e.to_string())?;
    let reader = storage.reader(&path).await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || Schema::read(reader).map_err(|e| e.to_string()))
        .await
        .map_err(|e| format!("reading the schema: {e}"))?
}

/// Where reject logs go: `log_dir`, else `<bucket of the first file>/import-logs`; one
/// folder per job.
fn log_dir(
    job: Uuid,
    requested: Option<&ObjectPath>,
    files: &[ImportFile],
) -> Result<ObjectPath, EngineError> {
    let base = match requested {
        Some(dir) => dir.to_string(),
        None => {
            let bucket = files
                .first()
                .and_then(|f| f.path.split('/').next())
                .unwrap_or("logs");
            format!("{bucket}/import-logs")
        }
    };
    ObjectPath::parse(&format!("{base}/{}", job.simple()))
        .map_err(|e| storage_failure(StorageError::BadPath(e.0)))
}

/// Ends the job from its files' results.
async fn finish(ctx: &mut JobContext) -> Result<(), EngineError> {
    let files = import_data::files(ctx.pool(), ctx.job_id()).await?;
    let data: Vec<&ImportFile> = files
        .iter()
        .filter(|f| f.kind != FileKind::Schema)
        .collect();
    let failed_lines: i64 = data.iter().map(|f| f.failed_lines.max(0)).sum();
    let total_lines: i64 = data.iter().map(|f| f.total_lines.max(0)).sum();
    let summary = format!("{failed_lines} of {total_lines} lines rejected; see job_detail");
    match job_status(false, data.iter().map(|f| f.status)) {
        JobStatus::Success => {
            let tx = ctx.begin_fenced().await?;
            ctx.succeed(tx).await
        }
        JobStatus::PartiallyFailed => {
            let tx = ctx.begin_fenced().await?;
            ctx.succeed_partially(tx, &summary).await
        }
        _ => Err(EngineError::Failed(summary)),
    }
}
