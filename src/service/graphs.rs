//! Graphs and their operations. An operation is accepted in one transaction: the graph row
//! locked first (so racing callers queue behind each other and the second sees the first's
//! job), the state machine asked ([`operation::accept`]), what depends on the graph checked
//! (a greater version, a backup of this graph), a superseded operation failed, then the
//! job, its backup record and the graph's in-flight status written and the workers woken at
//! commit. Files an operation will read are checked in storage before the transaction.

use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{ServiceError, begin};
use crate::domain::graph::{GraphWithImports, NewGraph, Version};
use crate::domain::operation::{self, InFlight};
use crate::domain::{
    Backup, BackupStatus, Code, GRAPH_MANAGEMENT, Graph, GraphJobPayload, JobId, JobStatus, NewJob,
    ObjectPath, Operation, Origin, Page, ProjectId,
};
use crate::storage::{Storage, StorageError};
use crate::store::{Constraint, StoreError, backups, graphs, jobs, producer, queue};

/// The object an import of backup files reads first (see `engine::backup`).
pub const BACKUP_MANIFEST: &str = "backup.json";

/// A graph created with its `CreateGraph` job.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: Uuid,
    pub name: String,
    pub job: JobId,
}

/// Records a new graph (status 100) and its `CreateGraph` job.
pub async fn create_graph(
    pool: &PgPool,
    project: &ProjectId,
    spec: NewGraph,
    who: &Origin,
) -> Result<Created, ServiceError> {
    let mut graph = Graph::create(project.as_str(), spec, &who.created_by);
    let job = graph_job(project, &graph, Operation::Create, who);
    graph.active_job_id = Some(job.id.0);
    let mut tx = begin(pool).await?;
    graphs::insert_graph(&mut *tx, &graph)
        .await
        .map_err(|e| match e {
            StoreError::Duplicate(Constraint::GraphNameTaken) => {
                ServiceError::rejected(Code::GraphNameTaken)
            }
            other => other.into(),
        })?;
    jobs::insert_job(&mut *tx, &job).await?;
    queue::notify(&mut *tx, GRAPH_MANAGEMENT).await?;
    tx.commit().await?;
    Ok(Created {
        id: graph.id,
        name: graph.name,
        job: job.id,
    })
}

/// A page of the project's graphs with their imports, and how many there are.
pub async fn list_graphs(
    pool: &PgPool,
    project: &ProjectId,
    page: Page,
) -> Result<(i64, Vec<GraphWithImports>), ServiceError> {
    let mut conn = pool.acquire().await?;
    Ok(graphs::list_graphs(&mut conn, project, page).await?)
}

/// One live graph of the project with its imports.
pub async fn show_graph(
    pool: &PgPool,
    project: &ProjectId,
    id: Uuid,
) -> Result<GraphWithImports, ServiceError> {
    let mut conn = pool.acquire().await?;
    graphs::show_graph(&mut conn, project, id)
        .await?
        .ok_or_else(|| ServiceError::rejected(Code::GraphNotFound))
}

/// Accepts `op` on a live graph of `project`, or says why not. A retry of the failed job
/// `retry_of` links the new job to it in the same transaction (a job is retried once).
pub async fn submit(
    pool: &PgPool,
    storage: &Storage,
    project: &ProjectId,
    graph_id: Uuid,
    op: Operation,
    who: &Origin,
    retry_of: Option<Uuid>,
) -> Result<JobId, ServiceError> {
    check_files(storage, &op).await?;
    let mut tx = begin(pool).await?;
    let graph = graphs::lock_graph(&mut tx, project, graph_id)
        .await?
        .ok_or_else(|| ServiceError::rejected(Code::GraphNotFound))?;
    let active = match graph.active_job_id {
        Some(job) => graphs::job_name(&mut *tx, job).await?,
        None => None,
    };
    let in_flight = active.as_deref().map_or(InFlight::Nothing, InFlight::Job);
    operation::accept(&op, graph.status, in_flight)?;
    check_parameters(&mut tx, project, &graph, &op).await?;
    if op.supersedes() {
        let reason = format!("superseded by {} of the graph", op.job_name());
        graphs::fail_in_flight_jobs(&mut *tx, graph.id, &reason).await?;
        backups::fail_running_backups(&mut *tx, graph.id).await?;
    }
    let job = graph_job(project, &graph, op.clone(), who);
    jobs::insert_job(&mut *tx, &job).await?;
    if let Some(old) = retry_of {
        producer::set_retry_of(&mut tx, job.id.0, old)
            .await
            .map_err(already_retried)?;
    }
    if let Some(backup_id) = op.new_backup() {
        backups::insert_backup(&mut *tx, &Backup::starting(&graph, backup_id, job.id)).await?;
    }
    graphs::start_operation(&mut *tx, graph.id, op.status_while_running(), job.id).await?;
    queue::notify(&mut *tx, GRAPH_MANAGEMENT).await?;
    tx.commit().await?;
    Ok(job.id)
}

/// A second retry of one job is a 409.
pub(crate) fn already_retried(err: StoreError) -> ServiceError {
    match err {
        StoreError::Duplicate(Constraint::AlreadyRetried) => {
            ServiceError::with(Code::JobStateConflict, "the job has already been retried")
        }
        other => other.into(),
    }
}

/// Checks that depend on the graph: upgrade to a greater version, start from or export a
/// successful backup of this graph.
async fn check_parameters(
    conn: &mut PgConnection,
    project: &ProjectId,
    graph: &Graph,
    op: &Operation,
) -> Result<(), ServiceError> {
    let (backup, field) = match op {
        Operation::Upgrade { version } => {
            let current = Version::parse(&graph.data_store_version);
            return match Version::parse(version) {
                None => Err(ServiceError::with(
                    Code::BadParameter,
                    "invalid parameter upgrade_version: must be a dotted version such as 2.3.18",
                )),
                Some(new) if current.is_some_and(|cur| new <= cur) => {
                    Err(ServiceError::rejected(Code::VersionNotGreater))
                }
                Some(_) => Ok(()),
            };
        }
        Operation::Start {
            backup_id: Some(backup),
        } => (*backup, "graph_backup_id"),
        Operation::ExportBackup { backup_id, .. } => (*backup_id, "backup_id"),
        _ => return Ok(()),
    };
    match backups::find_backup(&mut *conn, project, graph.id, backup).await? {
        Some(b) if b.status == BackupStatus::Success => Ok(()),
        _ => Err(ServiceError::with(
            Code::BadParameter,
            format!("invalid parameter {field}: must name a successful backup of this graph"),
        )),
    }
}

/// The files an operation reads exist in storage, and where it writes can be written
/// (checked before the job exists).
async fn check_files(storage: &Storage, op: &Operation) -> Result<(), ServiceError> {
    match op {
        Operation::Import { request } => {
            for (field, path) in request.paths() {
                if let Some(path) = path {
                    exists(storage, field, path).await?;
                }
            }
            if let Some(log_dir) = &request.log_dir {
                writable(storage, "log_dir", log_dir).await?;
            }
            Ok(())
        }
        Operation::Export { request } => writable(storage, "graph_export_path", &request.dir).await,
        Operation::ExportBackup { export_path, .. } => {
            writable(storage, "export_path", export_path).await
        }
        Operation::ImportBackup { import_path, .. } => {
            let manifest =
                import_path
                    .join(BACKUP_MANIFEST)
                    .map_err(|e| ServiceError::Storage {
                        field: "import_path",
                        error: StorageError::BadPath(e.0),
                    })?;
            exists(storage, "import_path", &manifest).await
        }
        _ => Ok(()),
    }
}

async fn exists(
    storage: &Storage,
    field: &'static str,
    path: &ObjectPath,
) -> Result<(), ServiceError> {
    match storage.resolve(path).await {
        Ok(_) => Ok(()),
        Err(error) => Err(ServiceError::Storage { field, error }),
    }
}

async fn writable(
    storage: &Storage,
    field: &'static str,
    path: &ObjectPath,
) -> Result<(), ServiceError> {
    storage
        .check_writable(path)
        .await
        .map_err(|error| ServiceError::Storage { field, error })
}

/// The job of `operation` on `graph`.
fn graph_job(project: &ProjectId, graph: &Graph, operation: Operation, who: &Origin) -> NewJob {
    let job_name = operation.job_name().to_owned();
    let payload = GraphJobPayload {
        operation,
        status_before: graph.status,
    };
    NewJob {
        id: JobId::new(),
        project_id: project.clone(),
        graph_id: Some(graph.id),
        graph_name: Some(graph.name.clone()),
        job_type: GRAPH_MANAGEMENT.to_owned(),
        job_name,
        status: JobStatus::Pending,
        begin_time: Utc::now(),
        end_time: None,
        progress: 0.0,
        fail_reason: None,
        created_by: Some(who.created_by.clone()),
        request_id: who.request_id.clone(),
        payload: serde_json::to_value(payload).expect("a payload serializes"),
    }
}
