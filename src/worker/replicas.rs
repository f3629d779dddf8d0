//! The replica monitors: a task per replica of `database.replica_urls` that measures its
//! lag (see [`crate::db::replicas`]) and so decides whether the hot reads go to it.
//!
//! Policy: every [`CHECK_INTERVAL`] the task reads the primary's WAL position (on the
//! shared pool) and then the replica's replayed position (on a connection of its own). A
//! replica that does not answer within [`CHECK_TIMEOUT`], or is not in recovery, is
//! dropped (logged and counted once per outage) and tried again every [`RETRY_INTERVAL`]
//! on a new connection. When the primary cannot be read the replica is judged against the
//! positions already kept, which only makes it look further behind.

use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::task::JoinHandle;

use crate::db::ReplicaSet;
use crate::db::replicas::{LagWindow, Replica};
use crate::store::replication;
use crate::telemetry::error_chain;

/// How often a replica's lag is measured.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(100);
/// How long a check waits for either server.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a dropped replica is tried again.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(2);

/// The running monitors; dropping or [`stop`](ReplicaMonitors::stop)ping them ends them.
pub struct ReplicaMonitors(Vec<JoinHandle<()>>);

impl ReplicaMonitors {
    /// A monitor for each of `replicas`, comparing them with the primary of `pool`.
    pub fn start(pool: &PgPool, replicas: &ReplicaSet, max_lag: Duration) -> ReplicaMonitors {
        let tasks = replicas
            .all()
            .iter()
            .map(|replica| tokio::spawn(watch(pool.clone(), replica.clone(), max_lag)))
            .collect();
        ReplicaMonitors(tasks)
    }

    /// Ends every monitor.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for ReplicaMonitors {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

async fn watch(pool: PgPool, replica: Replica, max_lag: Duration) {
    // Positions are kept a little longer than the lag allowed, so that a replica within it
    // always finds one it has replayed.
    let mut window = LagWindow::new(max_lag * 2 + Duration::from_secs(1));
    let mut conn: Option<PgConnection> = None;
    loop {
        match check(&pool, &replica.options, &mut conn, &mut window).await {
            Ok(lag) => {
                replica.state.observed(lag, max_lag);
                tokio::time::sleep(CHECK_INTERVAL).await;
            }
            Err(err) => {
                conn = None;
                replica.state.failed(&err);
                tokio::time::sleep(RETRY_INTERVAL).await;
            }
        }
    }
}

/// One measure: the primary's position recorded, then the replica's lag behind the
/// positions kept; an error says why the replica is not usable.
async fn check(
    pool: &PgPool,
    options: &PgConnectOptions,
    conn: &mut Option<PgConnection>,
    window: &mut LagWindow,
) -> Result<Option<Duration>, String> {
    let read_at = Instant::now();
    match tokio::time::timeout(CHECK_TIMEOUT, replication::primary_position(pool)).await {
        Ok(Ok(lsn)) => window.record(read_at, lsn),
        Ok(Err(err)) => tracing::debug!(
            error = error_chain(&err),
            "reading the primary's WAL position failed"
        ),
        Err(_) => tracing::debug!("reading the primary's WAL position took too long"),
    }
    let replayed = tokio::time::timeout(CHECK_TIMEOUT, async {
        if conn.is_none() {
            *conn = Some(PgConnection::connect_with(options).await?);
        }
        let replica = conn.as_mut().expect("connected above");
        replication::replayed_position(replica).await
    })
    .await
    .map_err(|_| format!("no answer within {CHECK_TIMEOUT:?}"))?
    .map_err(|err| error_chain(&err))?;
    let replayed =
        replayed.ok_or_else(|| "the server is not in recovery (not a replica)".to_owned())?;
    Ok(window.lag(Instant::now(), replayed))
}
