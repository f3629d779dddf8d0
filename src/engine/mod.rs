//! Engines carry out jobs; the worker pool ([`crate::worker`]) claims jobs, keeps their
//! leases alive and records how they ended.
//!
//! An engine gets a [`JobContext`] for the claimed job: its ids and lease, the pool,
//! progress reporting, cancellation and lease checks, and fenced transactions. It ends a job
//! successfully either by committing its final effects through [`JobContext::succeed`] (one
//! transaction with the job's final status and the graph's new status) or by returning
//! `Ok(())`, after which the pool does that with no further effects. Errors end the job:
//! [`EngineError::Transient`] is retried later, the others fail it.
//!
//! A long engine (an import, say) commits its work in batches, each in a transaction from
//! [`JobContext::begin_fenced`] so that a worker whose lease was taken over writes nothing,
//! calls [`JobContext::progress`] as it goes and [`JobContext::checkpoint`] between batches.
//! The transactions themselves are the service's ([`crate::service::runs`]).

pub mod backup;
pub mod builtin;
pub mod export;
pub mod import;
pub mod import_file;
pub mod spool;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::PgPool;
use tokio::sync::watch;
use uuid::Uuid;

use crate::domain::{
    ClaimedJob, GRAPH_MANAGEMENT, GraphJobPayload, GraphStatus, JobStatus, Operation,
};
use crate::service::runs::{self, Fenced};
use crate::store::StoreError;
use crate::store::completions::Completer;

pub use builtin::BuiltinEngine;

/// How a job did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// Worth another attempt later (the database or a dependency is unavailable).
    #[error("{0}")]
    Transient(String),
    /// Will not succeed; the reason is shown to the user as the job's `fail_reason`.
    #[error("{0}")]
    Failed(String),
    /// `cancel_requested` was set; the job ends `failed` with reason `cancelled`.
    #[error("cancelled")]
    Cancelled,
    /// The lease was taken over: this worker must stop and write nothing more.
    #[error("the lease on this job was lost")]
    LeaseLost,
}

impl From<StoreError> for EngineError {
    fn from(err: StoreError) -> Self {
        match &err {
            StoreError::Unavailable(_) => EngineError::Transient(format!("{err}")),
            StoreError::Database(sqlx::Error::Database(db))
                if db
                    .code()
                    .is_some_and(|c| c == "40001" || c == "40P01" || c == "55P03") =>
            {
                EngineError::Transient(format!("database conflict: {}", db.message()))
            }
            StoreError::Database(inner) => {
                tracing::error!(error = %inner, "database error in a job");
                EngineError::Failed("internal error (database)".to_owned())
            }
            StoreError::Invalid(inner) => {
                tracing::error!(error = %inner, "a value the database refused in a job");
                EngineError::Failed("internal error (a value the database cannot store)".to_owned())
            }
            StoreError::Duplicate(constraint) => {
                EngineError::Failed(format!("internal error (duplicate: {constraint:?})"))
            }
            StoreError::Corrupt(what) => {
                EngineError::Failed(format!("internal error (stored data: {what})"))
            }
            StoreError::Shared(_) => EngineError::Failed(format!("internal error ({err})")),
        }
    }
}

impl From<sqlx::Error> for EngineError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::from(err).into()
    }
}

/// The future an engine returns.
pub type EngineFuture<'a> = Pin<Box<dyn Future<Output = Result<(), EngineError>> + Send + 'a>>;

/// Something that carries out jobs. Object safe: the pool holds an `Arc<dyn Engine>`.
pub trait Engine: Send + Sync + 'static {
    /// The `job_type`s this engine runs; the pool claims only these.
    fn job_types(&self) -> Vec<String> {
        vec![GRAPH_MANAGEMENT.to_owned()]
    }

    /// Carries out a graph operation (`job_type` `GraphManagement`).
    fn run<'a>(&'a self, ctx: &'a mut JobContext, op: &'a Operation) -> EngineFuture<'a>;

    /// Carries out a job of another type (default: it fails).
    fn run_other<'a>(&'a self, ctx: &'a mut JobContext) -> EngineFuture<'a> {
        let job_type = ctx.job().job_type.clone();
        Box::pin(async move {
            Err(EngineError::Failed(format!(
                "no engine runs jobs of type {job_type}"
            )))
        })
    }
}

/// What a running job shares with its heartbeat.
#[derive(Debug)]
pub(crate) struct LeaseState {
    pub(crate) progress: watch::Sender<f32>,
    pub(crate) cancel_requested: AtomicBool,
    pub(crate) lost: watch::Sender<bool>,
}

impl LeaseState {
    pub(crate) fn new(cancel_requested: bool) -> Arc<LeaseState> {
        Arc::new(LeaseState {
            progress: watch::Sender::new(0.0),
            cancel_requested: AtomicBool::new(cancel_requested),
            lost: watch::Sender::new(false),
        })
    }

    pub(crate) fn mark_lost(&self) {
        self.lost.send_replace(true);
    }

    pub(crate) fn is_lost(&self) -> bool {
        *self.lost.borrow()
    }
}

/// One claimed job as an engine sees it.
pub struct JobContext {
    pool: PgPool,
    /// Ends a job without a graph together with other jobs' endings.
    completer: Completer,
    job: ClaimedJob,
    graph_job: Option<GraphJobPayload>,
    lease: Arc<LeaseState>,
    /// The final status the job was ended with through this context.
    ended: Option<JobStatus>,
}

impl JobContext {
    /// A context for a claimed job, without a heartbeat (the pool adds one; tools and tests
    /// drive an engine directly with this).
    pub fn new(pool: PgPool, job: ClaimedJob) -> JobContext {
        let graph_job = serde_json::from_value(job.payload.clone()).ok();
        let lease = LeaseState::new(job.cancel_requested);
        let completer = Completer::over(pool.clone());
        JobContext::with_lease(pool, completer, job, graph_job, lease)
    }

    pub(crate) fn with_lease(
        pool: PgPool,
        completer: Completer,
        job: ClaimedJob,
        graph_job: Option<GraphJobPayload>,
        lease: Arc<LeaseState>,
    ) -> JobContext {
        JobContext {
            pool,
            completer,
            job,
            graph_job,
            lease,
            ended: None,
        }
    }

    /// The claimed job (ids, payload, attempt).
    pub fn job(&self) -> &ClaimedJob {
        &self.job
    }

    /// The job's id.
    pub fn job_id(&self) -> Uuid {
        self.job.job_id.0
    }

    /// The graph the job operates on, if any.
    pub fn graph_id(&self) -> Option<Uuid> {
        self.job.graph_id
    }

    /// The token every write of this worker is fenced with.
    pub fn lease_token(&self) -> Uuid {
        self.job.lease_token
    }

    /// The graph's status when the operation was accepted (graph operations only).
    pub fn status_before(&self) -> Option<GraphStatus> {
        self.graph_job.as_ref().map(|g| g.status_before)
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Reports progress in percent (0 to 100); recorded by the heartbeat at once. Progress
    /// shown to users never moves backwards.
    pub fn progress(&self, percent: f32) {
        self.lease.progress.send_replace(percent.clamp(0.0, 100.0));
    }

    /// Whether cancellation was requested (as of the last heartbeat).
    pub fn is_cancelled(&self) -> bool {
        self.lease.cancel_requested.load(Ordering::SeqCst)
    }

    /// Whether the lease was lost (as of the last heartbeat).
    pub fn lease_lost(&self) -> bool {
        self.lease.is_lost()
    }

    /// `Err` when the job should stop now: cancelled, or its lease lost.
    pub fn checkpoint(&self) -> Result<(), EngineError> {
        if self.lease_lost() {
            Err(EngineError::LeaseLost)
        } else if self.is_cancelled() {
            Err(EngineError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// A transaction in which the job's graph (first) and the job are locked, provided the
    /// lease is still ours: whatever it writes is committed only by the lease holder.
    pub async fn begin_fenced(&self) -> Result<Fenced, EngineError> {
        match Fenced::begin(&self.pool, self.job_id(), self.job.lease_token).await? {
            Some(fenced) => Ok(fenced),
            None => {
                self.lease.mark_lost();
                Err(EngineError::LeaseLost)
            }
        }
    }

    /// Commits `tx` (from [`begin_fenced`](Self::begin_fenced), holding the operation's
    /// final effects) together with the job's success and, for a graph operation, the
    /// graph's status after success, no action progress and no operation in flight.
    pub async fn succeed(&mut self, tx: Fenced) -> Result<(), EngineError> {
        self.end_well(tx, JobStatus::Success, None).await
    }

    /// Ends the job successfully with no effects of its own: a job without a graph in one
    /// fenced statement (shared with other jobs' endings), a graph operation through [`succeed`](Self::succeed) (the graph's
    /// status changes with it).
    pub async fn succeed_now(&mut self) -> Result<(), EngineError> {
        if self.job.graph_id.is_some() {
            let tx = self.begin_fenced().await?;
            return self.succeed(tx).await;
        }
        if !runs::succeed_alone(&self.completer, self.job_id(), self.job.lease_token).await? {
            self.lease.mark_lost();
            return Err(EngineError::LeaseLost);
        }
        self.ended = Some(JobStatus::Success);
        Ok(())
    }

    /// Like [`succeed`](Self::succeed), but the job ends `partiallyFailed` with `summary`
    /// as its `fail_reason` (an import some of whose lines were rejected).
    pub async fn succeed_partially(
        &mut self,
        tx: Fenced,
        summary: &str,
    ) -> Result<(), EngineError> {
        self.end_well(tx, JobStatus::PartiallyFailed, Some(summary))
            .await
    }

    async fn end_well(
        &mut self,
        tx: Fenced,
        status: JobStatus,
        reason: Option<&str>,
    ) -> Result<(), EngineError> {
        let graph = self.job.graph_id.zip(self.graph_job.as_ref());
        let done = runs::succeed(
            tx,
            self.job_id(),
            self.job.lease_token,
            graph,
            status,
            reason,
        )
        .await?;
        if !done {
            self.lease.mark_lost();
            return Err(EngineError::LeaseLost);
        }
        self.ended = Some(status);
        Ok(())
    }

    /// Whether the job was ended through this context.
    pub fn is_finished(&self) -> bool {
        self.ended.is_some()
    }

    /// The final status the job was ended with through this context, if it was.
    pub fn final_status(&self) -> Option<JobStatus> {
        self.ended
    }
}
