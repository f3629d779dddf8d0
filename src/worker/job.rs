//! One claimed job: run the engine beside a heartbeat, then record how it ended.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio::time::Instant;
use tracing::Instrument;

use super::Shared;
use super::heartbeat::Heartbeat;
use crate::domain::{ClaimedJob, GRAPH_MANAGEMENT, GraphJobPayload, JobStatus, Operation};
use crate::engine::{EngineError, JobContext, LeaseState};
use crate::service::runs::{self, RetryOutcome};
use crate::store::StoreError;
use crate::telemetry::error_chain;

/// How a run ended, before it is recorded.
enum Ending {
    Engine(Result<(), EngineError>),
    /// Shutdown's grace period ended first: give the job back.
    Abandoned,
}

pub(crate) async fn run(shared: Arc<Shared>, claimed: ClaimedJob, permit: OwnedSemaphorePermit) {
    let span = tracing::info_span!(
        "job",
        job_id = %claimed.job_id.0,
        job_name = claimed.job_name,
        attempt = claimed.attempt
    );
    run_claimed(&shared, claimed).instrument(span).await;
    drop(permit);
    shared.wake.notify_one();
}

async fn run_claimed(shared: &Shared, claimed: ClaimedJob) {
    tracing::info!(worker_id = shared.settings.worker_id, "job started");
    let started = Instant::now();
    shared.metrics.job_started(&claimed.job_name);
    let lease = LeaseState::new(claimed.cancel_requested);
    let (stop_heartbeat, stop_rx) = watch::channel(false);
    let heartbeat = tokio::spawn(
        Heartbeat {
            pool: shared.pool.clone(),
            job_id: claimed.job_id.0,
            lease_token: claimed.lease_token,
            graph_id: claimed.graph_id,
            lease: shared.settings.lease,
            state: lease.clone(),
        }
        .run(stop_rx)
        .in_current_span(),
    );

    let graph_job = if claimed.job_type == GRAPH_MANAGEMENT {
        match serde_json::from_value::<GraphJobPayload>(claimed.payload.clone()) {
            Ok(payload) => Some(payload),
            Err(err) => {
                let reason = format!("the job's payload is not a graph operation: {err}");
                let ctx = JobContext::with_lease(
                    shared.pool.clone(),
                    shared.completer.clone(),
                    claimed,
                    None,
                    lease,
                );
                let ending = Ending::Engine(Err(EngineError::Failed(reason)));
                record(shared, &ctx, ending, started).await;
                stop_heartbeat.send_replace(true);
                let _ = heartbeat.await;
                return;
            }
        }
    } else {
        None
    };
    let op = graph_job.as_ref().map(|g| g.operation.clone());
    let mut ctx = JobContext::with_lease(
        shared.pool.clone(),
        shared.completer.clone(),
        claimed,
        graph_job,
        lease.clone(),
    );

    let mut lost = lease.lost.subscribe();
    let mut abandon = shared.abandon.subscribe();
    let ending = tokio::select! {
        result = run_engine(shared, &mut ctx, op.as_ref()) => Ending::Engine(result),
        _ = lost.wait_for(|l| *l) => Ending::Engine(Err(EngineError::LeaseLost)),
        _ = abandon.wait_for(|a| *a) => Ending::Abandoned,
    };
    record(shared, &ctx, ending, started).await;
    stop_heartbeat.send_replace(true);
    let _ = heartbeat.await;
}

/// The engine's run, then the pool's own success commit if the engine did not make one.
async fn run_engine(
    shared: &Shared,
    ctx: &mut JobContext,
    op: Option<&Operation>,
) -> Result<(), EngineError> {
    match op {
        Some(op) => shared.engine.run(ctx, op).await?,
        None => shared.engine.run_other(ctx).await?,
    }
    if !ctx.is_finished() {
        ctx.succeed_now().await?;
    }
    Ok(())
}

/// Writes how the job ended (fenced), retrying while the database is unavailable and the
/// lease lasts; past that, the reaper settles the job once the lease expires. The run
/// (begun at `started`) is counted in the metrics once its ending is recorded.
async fn record(shared: &Shared, ctx: &JobContext, ending: Ending, started: Instant) {
    let (id, token, attempt) = (ctx.job_id(), ctx.lease_token(), ctx.job().attempt);
    let job_name = ctx.job().job_name.as_str();
    let finished = |status| {
        let run_time = Some(started.elapsed());
        shared.metrics.job_finished(job_name, status, run_time);
    };
    match ending {
        Ending::Engine(Ok(())) => {
            tracing::info!("job succeeded");
            finished(ctx.final_status().unwrap_or(JobStatus::Success));
        }
        Ending::Engine(Err(EngineError::LeaseLost)) => {
            tracing::warn!("the lease on this job was lost; its work is abandoned")
        }
        Ending::Engine(Err(EngineError::Transient(reason))) => {
            let delay = shared.settings.retry_delay(attempt);
            let outcome = persist(shared, ctx, "retrying the job later", |mut conn| {
                let reason = reason.clone();
                async move { runs::retry_later(&mut conn, id, token, delay, &reason).await }
            })
            .await;
            match outcome {
                Some(RetryOutcome::Requeued) => {
                    tracing::warn!(%reason, retry_in = ?delay, "job failed transiently; it will be retried");
                    shared.metrics.job_retried(job_name);
                }
                Some(RetryOutcome::Failed) => {
                    tracing::warn!(%reason, "job failed transiently and has no attempts left");
                    finished(JobStatus::Failed);
                }
                Some(RetryOutcome::LeaseLost) => tracing::warn!("the lease on this job was lost"),
                None => {}
            }
        }
        Ending::Engine(Err(err @ (EngineError::Failed(_) | EngineError::Cancelled))) => {
            let reason = err.to_string();
            let failed = persist(shared, ctx, "recording the job's failure", |mut conn| {
                let reason = reason.clone();
                async move { runs::fail(&mut conn, id, token, &reason).await }
            })
            .await;
            match failed {
                Some(true) => {
                    tracing::info!(%reason, "job failed");
                    finished(JobStatus::Failed);
                }
                Some(false) => tracing::warn!("the lease on this job was lost"),
                None => {}
            }
        }
        Ending::Abandoned => {
            let released = persist(shared, ctx, "releasing the job", |mut conn| async move {
                runs::release(&mut conn, id, token).await
            })
            .await;
            if released == Some(true) {
                tracing::info!("job released back to the queue");
            }
        }
    }
}

/// Runs `write` on a pooled connection, retrying with backoff while the database is
/// unavailable, until the lease would have expired.
async fn persist<T, F, Fut>(
    shared: &Shared,
    ctx: &JobContext,
    what: &str,
    mut write: F,
) -> Option<T>
where
    F: FnMut(sqlx::pool::PoolConnection<sqlx::Postgres>) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let deadline = Instant::now() + shared.settings.lease;
    let mut delay = std::time::Duration::from_millis(100);
    loop {
        let result = match shared.pool.acquire().await {
            Ok(conn) => write(conn).await,
            Err(err) => Err(StoreError::from(err)),
        };
        match result {
            Ok(value) => return Some(value),
            Err(StoreError::Unavailable(err))
                if Instant::now() + delay < deadline && !ctx.lease_lost() =>
            {
                tracing::warn!(error = error_chain(&err), retry_in = ?delay, "{what} failed");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(err) => {
                tracing::error!(
                    error = error_chain(&err),
                    "{what} failed; the job is settled when its lease expires"
                );
                return None;
            }
        }
    }
}
