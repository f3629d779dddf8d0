//! The retention task: deletes finished jobs older than `[retention]` allows: first the
//! months of the history whose every job may go, whole ([`crate::service::history`]),
//! then the rest batch by batch ([`crate::store::retention`]), and then their reject-log
//! objects.
//!
//! It runs wherever a worker pool runs (`serve` with workers, `worker`), first at start and
//! then every `interval_secs`, and stops between batches on shutdown. Log objects are
//! deleted after their jobs' rows are committed: a crash in between leaves an orphan object,
//! never a job whose log is gone. A log that cannot be deleted is logged and skipped.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::RetentionSettings;
use crate::domain::JobStatus;
use crate::service::history;
use crate::storage::{ObjectPath, Storage};
use crate::store::StoreError;
use crate::store::months::Cutoffs;
use crate::store::retention::{self, Candidates};
use crate::telemetry::error_chain;

/// The final statuses, in the order they are pruned.
const FINAL: [JobStatus; 3] = [
    JobStatus::Success,
    JobStatus::PartiallyFailed,
    JobStatus::Failed,
];

/// What to delete: per final status, jobs that ended before its cutoff.
#[derive(Debug, Clone)]
pub struct Policy {
    pub cutoffs: Vec<(JobStatus, DateTime<Utc>)>,
    pub batch_size: u32,
}

impl Policy {
    /// `[retention]` as of `now`: each status's own age, else `max_age_days`.
    pub fn from_settings(cfg: &RetentionSettings, now: DateTime<Utc>) -> Policy {
        Policy {
            cutoffs: FINAL
                .iter()
                .map(|&s| (s, now - TimeDelta::days(i64::from(cfg.days_for(s)))))
                .collect(),
            batch_size: cfg.batch_size,
        }
    }

    /// One age for every final status (`prune --max-age-days`).
    pub fn uniform(days: u32, batch_size: u32, now: DateTime<Utc>) -> Policy {
        let cutoff = now - TimeDelta::days(i64::from(days));
        Policy {
            cutoffs: FINAL.iter().map(|&s| (s, cutoff)).collect(),
            batch_size,
        }
    }
}

impl Policy {
    /// The day a month must end by to be dropped whole (that of the earliest cutoff) and
    /// the cutoffs; `None` when a final status has none.
    fn month_cutoffs(&self) -> Option<(NaiveDate, Cutoffs)> {
        let cutoff = |status| {
            self.cutoffs
                .iter()
                .find(|(s, _)| *s == status)
                .map(|(_, c)| *c)
        };
        let cutoffs = Cutoffs {
            success: cutoff(JobStatus::Success)?,
            partially_failed: cutoff(JobStatus::PartiallyFailed)?,
            failed: cutoff(JobStatus::Failed)?,
        };
        let earliest = cutoffs
            .success
            .min(cutoffs.partially_failed)
            .min(cutoffs.failed);
        Some((earliest.date_naive(), cutoffs))
    }
}

/// One committed batch.
#[derive(Debug, Clone)]
pub struct Batch {
    pub status: JobStatus,
    pub jobs: usize,
    /// `Some`: the jobs of this month of the history, dropped whole, and how long the
    /// drop took.
    pub month: Option<(NaiveDate, Duration)>,
    pub oldest_end: Option<DateTime<Utc>>,
    pub newest_end: Option<DateTime<Utc>>,
    pub logs_deleted: usize,
    pub logs_failed: usize,
}

/// What a prune would delete, per final status.
pub async fn dry_run(
    pool: &PgPool,
    policy: &Policy,
) -> Result<Vec<(JobStatus, Candidates)>, StoreError> {
    let mut out = Vec::with_capacity(policy.cutoffs.len());
    for &(status, cutoff) in &policy.cutoffs {
        out.push((status, retention::candidates(pool, status, cutoff).await?));
    }
    Ok(out)
}

/// Deletes every job the policy names, batch by batch, calling `on_batch` after each; stops
/// between batches once `stop` says so. Answers the number of jobs deleted.
pub async fn prune(
    pool: &PgPool,
    storage: &Storage,
    policy: &Policy,
    stop: Option<&watch::Receiver<bool>>,
    mut on_batch: impl FnMut(&Batch),
) -> Result<u64, StoreError> {
    let stopping = || stop.is_some_and(|s| *s.borrow());
    let limit = i64::from(policy.batch_size);
    let mut total = 0u64;
    if let Some((before, cutoffs)) = policy.month_cutoffs() {
        for month in history::drop_old_months(pool, before, &cutoffs).await? {
            let mut logs_failed = 0;
            for log in &month.logs {
                logs_failed += usize::from(!delete_log(storage, log).await);
            }
            // One batch per status; the month's logs are told with the first.
            let mut logs = Some((month.logs.len() - logs_failed, logs_failed));
            for &(status, jobs) in &month.jobs {
                let (logs_deleted, logs_failed) = logs.take().unwrap_or_default();
                let jobs = usize::try_from(jobs).unwrap_or(0);
                total += jobs as u64;
                on_batch(&Batch {
                    status,
                    jobs,
                    month: Some((month.month, month.took)),
                    oldest_end: None,
                    newest_end: None,
                    logs_deleted,
                    logs_failed,
                });
            }
        }
    }
    for &(status, cutoff) in &policy.cutoffs {
        loop {
            if stopping() {
                return Ok(total);
            }
            let jobs = retention::delete_batch(pool, status, cutoff, limit).await?;
            let mut batch = Batch {
                status,
                jobs: jobs.len(),
                month: None,
                oldest_end: jobs.iter().map(|j| j.end_time).min(),
                newest_end: jobs.iter().map(|j| j.end_time).max(),
                logs_deleted: 0,
                logs_failed: 0,
            };
            for log in jobs.iter().flat_map(|j| &j.logs) {
                match delete_log(storage, log).await {
                    true => batch.logs_deleted += 1,
                    false => batch.logs_failed += 1,
                }
            }
            total += jobs.len() as u64;
            if !jobs.is_empty() {
                on_batch(&batch);
            }
            if (jobs.len() as i64) < limit {
                break;
            }
        }
    }
    Ok(total)
}

async fn delete_log(storage: &Storage, log: &str) -> bool {
    let result = match ObjectPath::parse(log) {
        Ok(path) => storage.delete(&path).await,
        Err(err) => Err(err.into()),
    };
    if let Err(err) = &result {
        tracing::warn!(log, error = %error_chain(err), "retention: reject log not deleted");
    }
    result.is_ok()
}

/// The periodic task; [`stop`](RetentionHandle::stop) ends it.
pub struct RetentionHandle {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl RetentionHandle {
    /// Starts the task when `[retention] enabled`; a disabled one does nothing.
    pub fn start(pool: PgPool, storage: Storage, cfg: &RetentionSettings) -> RetentionHandle {
        let stop = watch::Sender::new(false);
        let task = cfg
            .enabled
            .then(|| tokio::spawn(run(pool, storage, cfg.clone(), stop.subscribe())));
        RetentionHandle { stop, task }
    }

    /// Stops the task between batches and waits for it.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task {
            let _ = task.await;
        }
    }
}

async fn run(
    pool: PgPool,
    storage: Storage,
    cfg: RetentionSettings,
    mut stop: watch::Receiver<bool>,
) {
    let interval = std::time::Duration::from_secs(cfg.interval_secs);
    loop {
        let policy = Policy::from_settings(&cfg, Utc::now());
        let log_batch = |b: &Batch| {
            tracing::info!(
                status = b.status.as_str(), jobs = b.jobs, logs = b.logs_deleted,
                month = ?b.month, oldest_end = ?b.oldest_end, newest_end = ?b.newest_end,
                "retention: deleted finished jobs"
            );
        };
        match prune(&pool, &storage, &policy, Some(&stop), log_batch).await {
            Ok(n) if n > 0 => tracing::info!(jobs = n, "retention: prune done"),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %error_chain(&err), "retention: prune failed"),
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
