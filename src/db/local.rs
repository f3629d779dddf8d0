//! The connections of one HTTP worker thread for its hot reads (the job list and the
//! job-status reader), pooled here rather than by sqlx.
//!
//! Policy: sqlx's pool asks the server whether a connection is alive when it hands it out
//! and again when it takes it back (a round trip each, and a task per release), so a read
//! of one statement costs three round trips. This pool hands out a connection that ended
//! its last statement cleanly without asking. A connection whose statement failed, or
//! whose use was dropped half way (its request went away), is closed, never reused; a
//! statement that found its reused connection dead (after a database restart, say) runs
//! once more on a new connection, so a restart costs no request an error. Connections are
//! closed after [`MAX_IDLE`] unused and at the first release after [`MAX_LIFETIME`].

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use tokio::sync::Semaphore;

/// An error a read on a pooled connection may end with: made from the driver's errors,
/// and able to tell a dead connection (after which a new connection may succeed) from a
/// failed statement.
pub trait ReadError: From<sqlx::Error> + std::fmt::Display {
    /// Whether the statement failed because its connection was gone.
    fn is_dead_connection(&self) -> bool;
    /// Whether no connection could be had or kept (the server is down, refuses, or is
    /// too slow to answer): the server failed, not the statement.
    fn is_connection_failure(&self) -> bool;
}

/// An idle connection is closed after this long unused.
pub const MAX_IDLE: Duration = Duration::from_secs(10 * 60);
/// A connection is closed at its first release after this long open.
pub const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// The connections of one thread (not `Send`: each HTTP worker thread has its own).
#[derive(Clone)]
pub struct LocalPool(Rc<Inner>);

struct Inner {
    options: PgConnectOptions,
    idle: RefCell<Vec<Pooled>>,
    permits: Semaphore,
    acquire_timeout: Duration,
    counts: Arc<LocalCounts>,
}

/// How many connections a [`LocalPool`] has open, holds idle, and may open at most; read
/// from any thread (for the pool gauges).
#[derive(Debug)]
pub struct LocalCounts {
    pub open: AtomicU32,
    pub idle: AtomicU32,
    pub max: u32,
}

/// A connection of the pool, counted out of `open` when it closes.
struct Pooled {
    conn: PgConnection,
    opened: Instant,
    idle_since: Instant,
    counts: Arc<LocalCounts>,
}

impl Drop for Pooled {
    fn drop(&mut self) {
        self.counts.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl LocalPool {
    /// A pool of at most `max` connections opened with `options`; a read waits at most
    /// `acquire_timeout` for one of them to be free.
    pub fn new(options: PgConnectOptions, max: u32, acquire_timeout: Duration) -> LocalPool {
        let max = max.max(1);
        LocalPool(Rc::new(Inner {
            options,
            idle: RefCell::new(Vec::new()),
            permits: Semaphore::new(max as usize),
            acquire_timeout,
            counts: Arc::new(LocalCounts {
                open: AtomicU32::new(0),
                idle: AtomicU32::new(0),
                max,
            }),
        }))
    }

    /// This pool's counts.
    pub fn counts(&self) -> Arc<LocalCounts> {
        self.0.counts.clone()
    }

    /// Runs `read` on a connection: an idle one, or a new one when none is idle or the idle
    /// one turned out dead. `read` may run twice, so it must only read.
    pub async fn read<T, E: ReadError>(
        &self,
        read: impl AsyncFn(&mut PgConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let inner = &self.0;
        let _permit = tokio::time::timeout(inner.acquire_timeout, inner.permits.acquire())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        if let Some(mut reused) = inner.take_idle() {
            match read(&mut reused.conn).await {
                Err(err) if err.is_dead_connection() => {
                    tracing::info!(error = %err, "a pooled connection was dead; reconnecting");
                }
                result => return inner.finish(reused, result),
            }
        }
        let mut fresh = inner.connect::<E>().await?;
        let result = read(&mut fresh.conn).await;
        inner.finish(fresh, result)
    }
}

impl Inner {
    /// The most recently used idle connection; those idle too long are closed.
    fn take_idle(&self) -> Option<Pooled> {
        let mut idle = self.idle.borrow_mut();
        idle.retain(|pooled| pooled.idle_since.elapsed() < MAX_IDLE);
        let taken = idle.pop();
        self.counts.idle.store(idle.len() as u32, Ordering::Relaxed);
        taken
    }

    /// A new connection; an unanswered attempt gives up after the acquire timeout.
    async fn connect<E: ReadError>(&self) -> Result<Pooled, E> {
        let connecting = PgConnection::connect_with(&self.options);
        let conn = tokio::time::timeout(self.acquire_timeout, connecting)
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        self.counts.open.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        Ok(Pooled {
            conn,
            opened: now,
            idle_since: now,
            counts: self.counts.clone(),
        })
    }

    /// Keeps the connection for the next read when its statement succeeded.
    fn finish<T, E>(&self, mut pooled: Pooled, result: Result<T, E>) -> Result<T, E> {
        if result.is_ok() && pooled.opened.elapsed() < MAX_LIFETIME {
            pooled.idle_since = Instant::now();
            let mut idle = self.idle.borrow_mut();
            idle.push(pooled);
            self.counts.idle.store(idle.len() as u32, Ordering::Relaxed);
        }
        result
    }
}
