//! The hub's task: one LISTEN connection (channel `jobcenter_job_events`, a project id per
//! notification) and a timer; each reads the projects concerned and hands what it read to
//! the hub. Started by `serve` only.
//!
//! Policy: reads run one at a time on the shared pool; a lost LISTEN connection is
//! reconnected at the next tick (meanwhile the timer alone keeps streams moving); a failed
//! read is logged once and tried again at the next tick.

use std::collections::BTreeSet;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Hub;
use crate::store::events::{self, CHANNEL};
use crate::worker::Outage;

/// Jobs begun this long before a read count as new (a job's begin time is its
/// transaction's, which commits a little later).
const RECENT: chrono::TimeDelta = chrono::TimeDelta::seconds(30);

/// The running task; [`stop`](WatchHandle::stop) ends it and every stream.
pub struct WatchHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    hub: Hub,
}

impl WatchHandle {
    /// Starts feeding `hub` from `pool`.
    pub fn start(hub: Hub, pool: PgPool) -> WatchHandle {
        let stop = watch::Sender::new(false);
        let task = tokio::spawn(run(hub.clone(), pool, stop.subscribe()));
        WatchHandle { stop, task, hub }
    }

    /// Closes every stream and stops the task.
    pub async fn stop(self) {
        self.hub.close();
        self.stop.send_replace(true);
        let _ = self.task.await;
    }
}

async fn run(hub: Hub, pool: PgPool, mut stop: watch::Receiver<bool>) {
    // The LISTEN connection comes from a pool of its own, never holding one of the service's.
    let own_pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with(pool.connect_options().as_ref().clone());
    let period = Duration::from_millis(hub.settings().poll_interval_ms);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut listener: Option<PgListener> = None;
    let (mut listening, mut reading) = (Outage::default(), Outage::default());
    loop {
        let due: BTreeSet<String> = tokio::select! {
            _ = stop.changed() => break,
            _ = tick.tick() => {
                if listener.is_none() {
                    match connect(&own_pool).await {
                        Ok(connected) => {
                            listening.recovered("listening for job events");
                            listener = Some(connected);
                        }
                        Err(err) => listening.failed("listening for job events", &err),
                    }
                }
                hub.watched(false).into_iter().collect()
            }
            () = hub.0.wake.notified() => hub.watched(true).into_iter().collect(),
            received = next(&mut listener) => match received {
                Ok(Some(project)) if hub.is_watched(&project) => BTreeSet::from([project]),
                Ok(Some(_)) => BTreeSet::new(),
                // Reconnected: notifications may have been lost meanwhile.
                Ok(None) => hub.watched(false).into_iter().collect(),
                Err(err) => {
                    listening.failed("listening for job events", &err);
                    listener = None;
                    BTreeSet::new()
                }
            },
        };
        for project in due {
            let known = hub.unfinished(&project);
            let since = chrono::Utc::now() - RECENT;
            match events::read_changes(&pool, &project, &known, since).await {
                Ok(jobs) => {
                    reading.recovered("reading job events");
                    hub.apply(&project, jobs);
                }
                Err(err) => reading.failed("reading job events", &err),
            }
        }
    }
    drop(listener);
    own_pool.close().await;
}

/// The next notification's payload; pending forever without a listener.
async fn next(listener: &mut Option<PgListener>) -> Result<Option<String>, sqlx::Error> {
    match listener {
        Some(listener) => Ok(listener.try_recv().await?.map(|n| n.payload().to_owned())),
        None => std::future::pending().await,
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
