//! Accepting graph operations: the graph's state change and the job are written in one
//! transaction (the graph row locked first, so racing callers queue behind each other and
//! the second sees the first's job), and the workers are woken at commit.

use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::graph::{self, GraphJobPayload, InFlight, Operation, Version};
use crate::domain::{JobId, JobStatus, ProjectId};
use crate::store::backups::{self, Backup};
use crate::store::graphs::{self, Graph};
use crate::store::{NewJob, StoreError, jobs, producer};

/// The `job_type` of graph operations.
pub const GRAPH_MANAGEMENT: &str = "GraphManagement";

/// Why an operation was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("the graph does not exist")]
    GraphNotFound,
    #[error("not allowed in the graph's current state ({0})")]
    Refused(&'static str),
    #[error("the graph name is taken")]
    NameTaken,
    #[error("{field}: {rule}")]
    Invalid {
        code: &'static str,
        field: &'static str,
        rule: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who asked, for the job's record.
#[derive(Debug, Clone, Default)]
pub struct Requester {
    pub subject: String,
    pub request_id: Option<String>,
}

/// Records a new graph (status 100) and its `CreateGraph` job.
pub async fn create_graph(
    pool: &PgPool,
    mut graph: Graph,
    who: &Requester,
) -> Result<JobId, OpError> {
    let mut tx = pool.begin().await.map_err(StoreError::from)?;
    let job = graph_job(&graph, Operation::Create, graph::status::PREPARING, who)?;
    graph.status = graph::status::PREPARING;
    graph.active_job_id = Some(job.id.0);
    graphs::insert_graph(&mut *tx, &graph)
        .await
        .map_err(name_taken)?;
    jobs::insert_job(&mut *tx, &job).await?;
    graphs::notify_new_job(&mut *tx, GRAPH_MANAGEMENT).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(job.id)
}

/// Accepts `op` on a live graph of `project`, or says why not.
pub async fn submit(
    pool: &PgPool,
    project: &ProjectId,
    graph_id: Uuid,
    op: Operation,
    who: &Requester,
) -> Result<JobId, OpError> {
    submit_job(pool, project, graph_id, op, who, None).await
}

/// [`submit`] of a retry of the failed job `retry_of`: the new job links to it, in the same
/// transaction (a job is retried at most once: `Store(Duplicate("jobs_one_retry"))`).
pub async fn submit_retry(
    pool: &PgPool,
    project: &ProjectId,
    graph_id: Uuid,
    op: Operation,
    who: &Requester,
    retry_of: Uuid,
) -> Result<JobId, OpError> {
    submit_job(pool, project, graph_id, op, who, Some(retry_of)).await
}

async fn submit_job(
    pool: &PgPool,
    project: &ProjectId,
    graph_id: Uuid,
    op: Operation,
    who: &Requester,
    retry_of: Option<Uuid>,
) -> Result<JobId, OpError> {
    let mut tx = pool.begin().await.map_err(StoreError::from)?;
    let graph = graphs::lock_graph(&mut tx, project, graph_id)
        .await?
        .ok_or(OpError::GraphNotFound)?;
    let active = match graph.active_job_id {
        Some(job) => graphs::job_name(&mut *tx, job).await?,
        None => None,
    };
    let in_flight = active.as_deref().map_or(InFlight::Nothing, InFlight::Job);
    graph::accept(&op, graph.status, in_flight).map_err(|refusal| OpError::Refused(refusal.0))?;
    check_parameters(&mut tx, project, &graph, &op).await?;
    if op.supersedes() {
        let reason = format!("superseded by {} of the graph", op.job_name());
        graphs::fail_in_flight_jobs(&mut *tx, graph.id, &reason).await?;
        backups::fail_running_backups(&mut *tx, graph.id).await?;
    }
    let job = graph_job(&graph, op.clone(), graph.status, who)?;
    jobs::insert_job(&mut *tx, &job)
        .await
        .map_err(|e| busy(e, graph.status))?;
    if let Some(old) = retry_of {
        producer::set_retry_of(&mut tx, job.id.0, old).await?;
    }
    if let Operation::Backup { backup_id } = op {
        backups::insert_backup(&mut *tx, &new_backup(&graph, backup_id, job.id)).await?;
    }
    graphs::start_operation(&mut *tx, graph.id, op.status_while_running(), job.id.0).await?;
    graphs::notify_new_job(&mut *tx, GRAPH_MANAGEMENT).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(job.id)
}

/// Checks that depend on the graph: upgrade to a greater version, start from its own backup.
async fn check_parameters(
    conn: &mut PgConnection,
    project: &ProjectId,
    graph: &Graph,
    op: &Operation,
) -> Result<(), OpError> {
    match op {
        Operation::Upgrade { version } => {
            let current = Version::parse(&graph.data_store_version);
            match Version::parse(version) {
                None => Err(OpError::Invalid {
                    code: "GES.0001",
                    field: "upgrade_version",
                    rule: "must be a dotted version such as 2.3.18".into(),
                }),
                Some(new) if current.is_some_and(|cur| new <= cur) => {
                    Err(OpError::Refused("GES.7036"))
                }
                Some(_) => Ok(()),
            }
        }
        Operation::Start {
            backup_id: Some(backup),
        } => {
            let found = backups::find_backup(&mut *conn, project, graph.id, *backup).await?;
            match found {
                Some(b) if b.status == "success" => Ok(()),
                _ => Err(OpError::Invalid {
                    code: "GES.0001",
                    field: "graph_backup_id",
                    rule: "must name a successful backup of this graph".into(),
                }),
            }
        }
        _ => Ok(()),
    }
}

fn graph_job(
    graph: &Graph,
    operation: Operation,
    status_before: i16,
    who: &Requester,
) -> Result<NewJob, OpError> {
    let payload = serde_json::to_value(GraphJobPayload {
        operation: operation.clone(),
        status_before,
    })
    .map_err(|e| StoreError::Corrupt(format!("job payload: {e}")))?;
    let project_id =
        ProjectId::parse(&graph.project_id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(NewJob {
        id: JobId::new(),
        project_id,
        graph_id: Some(graph.id),
        graph_name: Some(graph.name.clone()),
        job_type: GRAPH_MANAGEMENT.to_owned(),
        job_name: operation.job_name().to_owned(),
        status: JobStatus::Pending,
        begin_time: Utc::now(),
        end_time: None,
        progress: 0.0,
        fail_reason: None,
        created_by: Some(who.subject.clone()),
        request_id: who.request_id.clone(),
        payload,
    })
}

fn new_backup(graph: &Graph, id: Uuid, job: JobId) -> Backup {
    let now = Utc::now();
    Backup {
        id,
        project_id: graph.project_id.clone(),
        graph_id: graph.id,
        graph_name: graph.name.clone(),
        name: format!("{}_{}", graph.name, now.format("%Y%m%d%H%M%S")),
        backup_method: "manual".to_owned(),
        status: "backing_up".to_owned(),
        job_id: Some(job.0),
        graph_status: graph.status,
        graph_size_type_index: graph.graph_size_type_index,
        data_store_version: graph.data_store_version.clone(),
        arch: graph.arch.clone(),
        start_time: now,
        end_time: None,
        size: 0,
    }
}

fn name_taken(err: StoreError) -> OpError {
    match err {
        StoreError::Duplicate(c) if c == "graphs_live_name" => OpError::NameTaken,
        other => OpError::Store(other),
    }
}

/// The database's one-job-per-graph index caught a race the row lock did not.
fn busy(err: StoreError, status: i16) -> OpError {
    match err {
        StoreError::Duplicate(c) if c == "jobs_one_in_flight_per_graph" => {
            OpError::Refused(if status == graph::status::STOPPED {
                "GES.7003"
            } else {
                "GES.7001"
            })
        }
        other => OpError::Store(other),
    }
}
