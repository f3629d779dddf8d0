//! The connection pools of one process. Policy: each HTTP worker thread gets a pool of its
//! own, opened lazily from that thread, so its connections are polled by the thread's own
//! event loop; a connection shared across threads is polled by whichever loop opened it,
//! and every query then costs a wake-up of that other thread (measured: about 25% of the
//! throughput of a light list request). The shared pool serves the workers, retention and
//! the metrics. `database.max_connections` is split among the HTTP threads, once for
//! their sqlx pools and once for their job-list reads ([`LocalPool`]); each replica
//! (`database.replica_urls`) gets the job-list and status-reader connections again.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::local::{LocalCounts, LocalPool};
use super::replicas::ReplicaSet;
use super::routed::ReadPools;
use crate::config::DatabaseSettings;

/// Every pool of the process, for the pool gauges.
#[derive(Debug, Clone)]
pub struct PoolSet(Arc<Mutex<Pools>>);

#[derive(Debug)]
struct Pools {
    /// The shared pool first, then the HTTP threads' pools.
    sqlx: Vec<PgPool>,
    local: Vec<Arc<LocalCounts>>,
    replicas: ReplicaSet,
}

/// Connections of a set of pools: open, idle, and the most allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    pub size: u32,
    pub idle: usize,
    pub max: u32,
}

impl PoolSet {
    /// A set holding `pool`.
    pub fn with(pool: PgPool) -> PoolSet {
        PoolSet::with_replicas(pool, ReplicaSet::default())
    }

    /// A set holding `pool`, whose hot reads may go to `replicas`.
    pub fn with_replicas(pool: PgPool, replicas: ReplicaSet) -> PoolSet {
        PoolSet(Arc::new(Mutex::new(Pools {
            sqlx: vec![pool],
            local: Vec::new(),
            replicas,
        })))
    }

    /// The replicas.
    pub fn replicas(&self) -> ReplicaSet {
        self.lock().replicas.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pools> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The shared pool (the first one).
    pub fn shared(&self) -> PgPool {
        self.lock().sqlx[0].clone()
    }

    /// A pool for the calling HTTP worker thread (one of `threads`), with the shared
    /// pool's connect options and generic plans; added to the set.
    pub fn thread_pool(&self, settings: &DatabaseSettings, threads: usize) -> PgPool {
        self.add(settings, thread_share(settings, threads))
    }

    /// The job list's connections of the calling HTTP worker thread (one of `threads`),
    /// whose prepared statements always use their generic plan: a custom plan of the list
    /// statement is planned again at every request, which costs more than running it (its
    /// generic plan reads the same indexes: `jobcenter check-plans`).
    pub fn thread_list_pool(&self, settings: &DatabaseSettings, threads: usize) -> ReadPools {
        self.add_routed(settings, thread_share(settings, threads))
    }

    /// The job-status reader's connections of the calling HTTP worker thread:
    /// `connections` connections (beside `database.max_connections`) whose prepared
    /// statements always use their generic plan. The reader's batch statement takes an
    /// array of keys, and a custom plan (PostgreSQL's default choice for it) re-plans it on
    /// every batch: half its cost. Only the reader's two statements run there, both by
    /// primary key.
    pub fn thread_reader_pool(&self, settings: &DatabaseSettings, connections: u32) -> ReadPools {
        self.add_routed(settings, connections)
    }

    /// [`LocalPool`]s of `max` connections each with generic plans: one with the shared
    /// pool's connect options, one per replica with its own; their counts added to the set.
    fn add_routed(&self, settings: &DatabaseSettings, max: u32) -> ReadPools {
        let mut pools = self.lock();
        let timeout = Duration::from_secs(settings.acquire_timeout_secs);
        let primary_options = (*pools.sqlx[0].connect_options()).clone();
        let replicas = pools.replicas.clone();
        let mut local = |options: PgConnectOptions| {
            let options = options.options([("plan_cache_mode", "force_generic_plan")]);
            let pool = LocalPool::new(options, max, timeout);
            pools.local.push(pool.counts());
            pool
        };
        let primary = local(primary_options);
        let replicas = replicas
            .all()
            .iter()
            .map(|replica| (replica.state.clone(), local(replica.options.clone())))
            .collect();
        ReadPools::new(primary, replicas)
    }

    /// A lazily connecting pool of `max` connections with the shared pool's connect
    /// options; added to the set.
    fn add(&self, settings: &DatabaseSettings, max: u32) -> PgPool {
        let mut pools = self.lock();
        // Generic plans: a custom plan of a statement by id (a completion, a renewal)
        // is planned again at each call over every month of the history it may touch
        // (5 ms over a year of months, against 1 ms to run it); its generic plan prunes
        // the months at execution (docs/scale-out.md).
        let options = (*pools.sqlx[0].connect_options())
            .clone()
            .options([("plan_cache_mode", "force_generic_plan")]);
        let pool = PgPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
            .connect_lazy_with(options);
        pools.sqlx.push(pool.clone());
        pool
    }

    /// The sum over every pool.
    pub fn usage(&self) -> PoolUse {
        let pools = self.lock();
        let empty = PoolUse {
            size: 0,
            idle: 0,
            max: 0,
        };
        let sqlx = pools.sqlx.iter().fold(empty, |sum, pool| PoolUse {
            size: sum.size + pool.size(),
            idle: sum.idle + pool.num_idle(),
            max: sum.max + pool.options().get_max_connections(),
        });
        pools.local.iter().fold(sqlx, |sum, counts| PoolUse {
            size: sum.size + counts.open.load(Ordering::Relaxed),
            idle: sum.idle + counts.idle.load(Ordering::Relaxed) as usize,
            max: sum.max + counts.max,
        })
    }
}

/// An HTTP thread's share of `database.max_connections`.
fn thread_share(settings: &DatabaseSettings, threads: usize) -> u32 {
    settings
        .max_connections
        .div_ceil(threads.max(1) as u32)
        .max(1)
}
