//! `LISTEN jobcenter_jobs`: a notification wakes the dispatcher at once; the poll interval
//! is only the fallback. Runs on its own one-connection pool (so it never holds one of the
//! service's connections) and reconnects with backoff after errors; after every
//! (re)connection the dispatcher is woken, since notifications sent meanwhile are lost.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};

use super::{Outage, Shared};
use crate::store::queue::CHANNEL;

pub(crate) async fn listen(shared: Arc<Shared>) {
    let mut stopping = shared.stopping.subscribe();
    let own_pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with(shared.pool.connect_options().as_ref().clone());
    let first_delay = Duration::from_millis(200);
    let mut delay = first_delay;
    let mut outage = Outage::default();
    'connect: loop {
        let mut listener = match connect(&own_pool).await {
            Ok(listener) => listener,
            Err(err) => {
                outage.failed("listening for new jobs", &err);
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stopping.wait_for(|s| *s) => break 'connect,
                }
                delay = (delay * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        outage.recovered("listening for new jobs");
        delay = first_delay;
        shared.wake.notify_one();
        loop {
            tokio::select! {
                received = listener.try_recv() => match received {
                    Ok(Some(_)) => shared.wake.notify_one(),
                    // The connection was lost and re-established: catch up.
                    Ok(None) => shared.wake.notify_one(),
                    Err(err) => {
                        outage.failed("listening for new jobs", &err);
                        continue 'connect;
                    }
                },
                _ = stopping.wait_for(|s| *s) => break 'connect,
            }
        }
    }
    own_pool.close().await;
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
