//! The durable worker pool: claims jobs from the queue ([`crate::service::runs::claim`]) and runs
//! them with an [`Engine`]; how a run ends is written by [`crate::service::runs`].
//!
//! - Wakes on `LISTEN jobcenter_jobs` (reconnecting after errors), on a poll interval as a
//!   fallback, and whenever a slot frees; each wake claims up to the free slots.
//! - Each running job has a heartbeat that renews its lease every third of the lease and
//!   records progress; if the lease is lost the job's work is abandoned (its writes are
//!   fenced anyway).
//! - A reaper puts jobs whose lease expired back in the queue (or fails them once their
//!   attempts are used up).
//! - Transient failures are retried with exponential backoff; a job fails with a reason
//!   after `max_attempts`.
//! - Shutdown stops claiming, waits up to a grace period for running jobs, then releases
//!   the rest back to the queue without consuming an attempt.

pub mod fold;
mod heartbeat;
mod job;
mod listener;
pub mod replicas;
pub mod retention;
mod status;

pub use status::{PoolState, PoolStatus};

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;

use crate::storage::Storage;
use crate::telemetry::error_chain;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinHandle;

use crate::config::WorkerSettings;
use crate::domain::JobStatus;
use crate::engine::{BuiltinEngine, Engine};
use crate::metrics::Metrics;
use crate::service::horizon::QueueHorizon;
use crate::service::runs;
use crate::store::completions::Completer;

/// How the pool runs.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Recorded in `jobs.worker_id` of the jobs this pool runs.
    pub worker_id: String,
    /// Jobs run at once (0: the pool runs nothing).
    pub concurrency: usize,
    /// How long a claim or heartbeat holds a job.
    pub lease: Duration,
    /// How often the queue is polled (and expired leases reaped) without notifications.
    pub poll_interval: Duration,
    /// The first retry delay after a transient failure; doubled each attempt.
    pub retry_base: Duration,
    /// The longest retry delay.
    pub retry_cap: Duration,
}

impl PoolSettings {
    /// From the `[worker]` configuration.
    pub fn from_config(cfg: &WorkerSettings) -> PoolSettings {
        PoolSettings {
            worker_id: default_worker_id(),
            concurrency: cfg.concurrency,
            lease: Duration::from_secs(cfg.lease_secs),
            poll_interval: Duration::from_millis(cfg.poll_interval_ms),
            retry_base: Duration::from_secs(1),
            retry_cap: Duration::from_secs(60),
        }
    }

    /// The delay before attempt `attempt + 1` after attempt `attempt` failed transiently.
    pub fn retry_delay(&self, attempt: i32) -> Duration {
        let exponent = attempt.saturating_sub(1).clamp(0, 20) as u32;
        self.retry_base
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(self.retry_cap)
    }
}

/// `host/pid/random`: unique per pool, readable in `jobs.worker_id`.
fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}/{}/{}", std::process::id(), &suffix[..8])
}

/// Starts a pool running the built-in engine, as configured in `[worker]`.
pub fn start_builtin(pool: PgPool, cfg: &WorkerSettings, storage: Storage) -> WorkerHandle {
    start_builtin_with(pool, cfg, storage, Reporting::new(cfg.concurrency))
}

/// [`start_builtin`], reporting to `reporting`.
pub fn start_builtin_with(
    pool: PgPool,
    cfg: &WorkerSettings,
    storage: Storage,
    reporting: Reporting,
) -> WorkerHandle {
    let engine = BuiltinEngine::new(Duration::from_millis(cfg.step_delay_ms)).with_storage(storage);
    WorkerPool::start_with(
        pool,
        Arc::new(engine),
        PoolSettings::from_config(cfg),
        reporting,
    )
}

/// Where a pool reports: the application's metrics, and the status its readiness reads.
#[derive(Debug, Clone)]
pub struct Reporting {
    pub metrics: Metrics,
    pub status: PoolStatus,
}

impl Reporting {
    /// Metrics of its own and a fresh status, for a pool of `concurrency`.
    pub fn new(concurrency: usize) -> Reporting {
        Reporting {
            metrics: Metrics::new(),
            status: PoolStatus::new(concurrency),
        }
    }
}

/// What the pool's tasks share.
pub(crate) struct Shared {
    pub(crate) pool: PgPool,
    /// Ends jobs without a graph together.
    pub(crate) completer: Completer,
    /// Where the claims start reading the queue.
    pub(crate) horizon: QueueHorizon,
    pub(crate) engine: Arc<dyn Engine>,
    pub(crate) settings: PoolSettings,
    /// Freed by each job as it ends.
    pub(crate) slots: Arc<Semaphore>,
    /// Tells the dispatcher to claim now.
    pub(crate) wake: Notify,
    /// `true`: stop claiming.
    pub(crate) stopping: watch::Sender<bool>,
    /// `true`: the grace period is over; running jobs are released.
    pub(crate) abandon: watch::Sender<bool>,
    pub(crate) metrics: Metrics,
}

/// The worker pool.
pub struct WorkerPool;

impl WorkerPool {
    /// Starts claiming and running jobs of the engine's job types.
    pub fn start(pool: PgPool, engine: Arc<dyn Engine>, settings: PoolSettings) -> WorkerHandle {
        let reporting = Reporting::new(settings.concurrency);
        WorkerPool::start_with(pool, engine, settings, reporting)
    }

    /// [`start`](Self::start), reporting to `reporting` (whose status must be for
    /// `settings.concurrency`).
    pub fn start_with(
        pool: PgPool,
        engine: Arc<dyn Engine>,
        settings: PoolSettings,
        reporting: Reporting,
    ) -> WorkerHandle {
        let concurrency = settings.concurrency;
        debug_assert_eq!(reporting.status.concurrency(), concurrency);
        let shared = Arc::new(Shared {
            completer: Completer::over(pool.clone()),
            horizon: QueueHorizon::default(),
            pool,
            engine,
            slots: Arc::new(Semaphore::new(concurrency)),
            wake: Notify::new(),
            stopping: watch::Sender::new(false),
            abandon: watch::Sender::new(false),
            metrics: reporting.metrics,
            settings,
        });
        let mut tasks = Vec::new();
        if concurrency > 0 {
            tracing::info!(
                worker_id = shared.settings.worker_id,
                concurrency,
                "worker pool started"
            );
            let running = reporting.status.running();
            tasks.push(tokio::spawn(dispatch(shared.clone(), running)));
            tasks.push(tokio::spawn(listener::listen(shared.clone())));
            tasks.push(tokio::spawn(reap(shared.clone())));
        }
        WorkerHandle { shared, tasks }
    }
}

/// A running pool; [`shutdown`](WorkerHandle::shutdown) stops it.
pub struct WorkerHandle {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl WorkerHandle {
    /// This pool's worker id.
    pub fn worker_id(&self) -> &str {
        &self.shared.settings.worker_id
    }

    /// Stops claiming, waits up to `grace` for running jobs to end, then releases the jobs
    /// still running back to the queue (their attempt is not counted).
    pub async fn shutdown(self, grace: Duration) {
        let shared = &self.shared;
        let all = shared.settings.concurrency as u32;
        if all == 0 {
            return;
        }
        shared.stopping.send_replace(true);
        for task in self.tasks {
            let _ = task.await;
        }
        let running = all as usize - shared.slots.available_permits();
        if running > 0 {
            tracing::info!(running, ?grace, "waiting for running jobs before stopping");
        }
        let ended = tokio::time::timeout(grace, shared.slots.acquire_many(all)).await;
        if ended.is_err() {
            tracing::warn!("grace period over: releasing the jobs still running");
            shared.abandon.send_replace(true);
            // Releasing is one short write per job; a lease is the most it may take.
            let released =
                tokio::time::timeout(shared.settings.lease, shared.slots.acquire_many(all)).await;
            if released.is_err() {
                tracing::warn!("some jobs could not be released; their leases will expire");
            }
        }
        tracing::info!(worker_id = shared.settings.worker_id, "worker pool stopped");
    }
}

/// Claims up to the free slots at each wake and starts a task per claimed job; the pool is
/// `running` while this lasts.
async fn dispatch(shared: Arc<Shared>, _running: status::RunningGuard) {
    let types = shared.engine.job_types();
    let mut stopping = shared.stopping.subscribe();
    let mut outage = Outage::default();
    loop {
        if *stopping.borrow() {
            return;
        }
        gather_slots(&shared, &mut stopping).await;
        if *stopping.borrow() {
            return;
        }
        let free = shared.slots.available_permits();
        let mut again = false;
        if free > 0 {
            match runs::claim(
                &shared.pool,
                &shared.horizon,
                None,
                &shared.settings.worker_id,
                &types,
                free as i64,
                shared.settings.lease,
            )
            .await
            {
                Ok(jobs) => {
                    outage.recovered("claiming jobs");
                    again = jobs.len() == free;
                    for claimed in jobs {
                        let permit = shared
                            .slots
                            .clone()
                            .try_acquire_owned()
                            .expect("a slot per claimed job");
                        tokio::spawn(job::run(shared.clone(), claimed, permit));
                    }
                }
                Err(err) => outage.failed("claiming jobs", &err),
            }
        }
        if again {
            continue;
        }
        tokio::select! {
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep(shared.settings.poll_interval) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
    }
}

/// How long a claim waits for more slots to free while jobs run (see [`gather_slots`]).
const CLAIM_WAIT: Duration = Duration::from_millis(2);

/// Whether `free` of `all` slots make a claim worth its statement: a quarter of them, or
/// all (an idle pool claims at once).
fn worth_claiming(free: usize, all: usize) -> bool {
    free * 4 >= all || free == all
}

/// While jobs run and only a few slots are free, waits up to [`CLAIM_WAIT`] for more to
/// free, so that a busy pool claims several jobs per statement instead of one per job
/// that ends.
async fn gather_slots(shared: &Shared, stopping: &mut watch::Receiver<bool>) {
    let all = shared.settings.concurrency;
    let deadline = tokio::time::Instant::now() + CLAIM_WAIT;
    loop {
        let free = shared.slots.available_permits();
        if free == 0 || worth_claiming(free, all) || tokio::time::Instant::now() >= deadline {
            return;
        }
        tokio::select! {
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep_until(deadline) => return,
            _ = stopping.wait_for(|s| *s) => return,
        }
    }
}

/// Every poll interval, settles the jobs whose lease expired.
async fn reap(shared: Arc<Shared>) {
    let mut stopping = shared.stopping.subscribe();
    let mut outage = Outage::default();
    loop {
        let reaped = async {
            let mut conn = shared.pool.acquire().await?;
            runs::reap_expired(&mut conn).await
        }
        .await;
        match reaped {
            Ok(reaped) => {
                outage.recovered("reaping expired leases");
                if !reaped.is_empty() {
                    shared.metrics.leases_expired(reaped.len() as u64);
                    for job in reaped.iter().filter(|job| !job.requeued) {
                        shared
                            .metrics
                            .job_finished(&job.job_name, JobStatus::Failed, None);
                    }
                    shared.wake.notify_one();
                }
            }
            Err(err) => outage.failed("reaping expired leases", &err),
        }
        tokio::select! {
            _ = tokio::time::sleep(shared.settings.poll_interval) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
    }
}

/// Logs the first failure of a repeated action and its recovery, not every attempt.
#[derive(Default)]
pub(crate) struct Outage {
    down: bool,
}

impl Outage {
    pub(crate) fn failed(&mut self, what: &str, err: &(dyn std::error::Error + 'static)) {
        if !self.down {
            tracing::warn!(error = error_chain(err), "{what} failed; retrying");
            self.down = true;
        }
    }

    pub(crate) fn recovered(&mut self, what: &str) {
        if self.down {
            tracing::info!("{what} works again");
            self.down = false;
        }
    }
}
