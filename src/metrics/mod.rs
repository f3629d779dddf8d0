//! Prometheus metrics: this module owns every metric's name, help and labels; the rest of
//! the service records through the small methods of [`Metrics`], and [`server`] serves
//! them as Prometheus text at `GET /metrics` on a listener of its own.
//!
//! Policy:
//! - One [`Metrics`] per application (tests run several in one process), cloned cheaply
//!   into the HTTP layer and the worker pool.
//! - Counters and histograms are recorded as things happen; the queue and the connection
//!   pool are read at scrape time ([`server`]), so they cost nothing between scrapes.
//! - Label values come from the code (route patterns, methods, statuses) or from job names;
//!   producers choose job names freely, so at most [`MAX_JOB_NAMES`] names are labels and
//!   the rest are counted under [`OTHER`].

pub mod http;
pub mod server;

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::domain::JobStatus;

/// The most distinct job names used as labels.
pub const MAX_JOB_NAMES: usize = 256;

/// The job name counted for names past [`MAX_JOB_NAMES`].
pub const OTHER: &str = "other";

/// Request latency buckets, in seconds.
const HTTP_BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Job run-time buckets, in seconds (a second to six hours).
const JOB_BUCKETS: [f64; 13] = [
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 21600.0,
];

/// One HTTP request's counter labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    pub(crate) route: Cow<'static, str>,
    pub(crate) method: &'static str,
    pub(crate) status: u16,
}

/// One HTTP request's latency labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    pub(crate) route: Cow<'static, str>,
    pub(crate) method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job_name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FinishLabels {
    job_name: String,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReplicaLabels {
    replica: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct TypeLabels {
    pub(crate) job_type: String,
}

/// Builds histograms with fixed buckets for a family.
#[derive(Clone, Copy)]
struct Buckets(&'static [f64]);

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(self.0.iter().copied())
    }
}

struct Inner {
    registry: Registry,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: Family<RouteLabels, Histogram, Buckets>,
    jobs_accepted: Family<JobLabels, Counter>,
    jobs_started: Family<JobLabels, Counter>,
    jobs_finished: Family<FinishLabels, Counter>,
    job_run: Family<JobLabels, Histogram, Buckets>,
    job_retries: Family<JobLabels, Counter>,
    lease_expiries: Counter,
    queue_depth: Family<TypeLabels, Gauge>,
    queue_oldest: Family<TypeLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    pool_in_use: Gauge,
    pool_idle: Gauge,
    pool_max: Gauge,
    replica_in_use: Family<ReplicaLabels, Gauge>,
    replica_lag: Family<ReplicaLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    replica_drops: Family<ReplicaLabels, Counter>,
    replica_reads: Family<ReplicaLabels, Counter>,
    replica_fallbacks: Family<ReplicaLabels, Counter>,
    event_streams: Gauge,
    job_names: JobNames,
}

/// The application's metrics; clones share them.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let http_requests = Family::default();
        let http_duration = Family::new_with_constructor(Buckets(&HTTP_BUCKETS));
        let jobs_accepted = Family::default();
        let jobs_started = Family::default();
        let jobs_finished = Family::default();
        let job_run = Family::new_with_constructor(Buckets(&JOB_BUCKETS));
        let job_retries = Family::default();
        let lease_expiries = Counter::default();
        let queue_depth = Family::default();
        let queue_oldest = Family::default();
        let (pool_in_use, pool_idle, pool_max) = Default::default();
        let (replica_in_use, replica_lag) = Default::default();
        let (replica_drops, replica_reads, replica_fallbacks) = Default::default();
        let event_streams = Gauge::default();
        let r = &mut registry;
        r.register(
            "jobcenter_http_requests",
            "HTTP API requests by route pattern, method and status",
            http_requests.clone(),
        );
        r.register(
            "jobcenter_http_request_duration_seconds",
            "HTTP API request latency by route pattern and method",
            http_duration.clone(),
        );
        r.register(
            "jobcenter_jobs_accepted",
            "Jobs created (graph operations, producer enqueues, retries)",
            jobs_accepted.clone(),
        );
        r.register(
            "jobcenter_jobs_started",
            "Job runs started (claimed by a worker of this process or a producer's)",
            jobs_started.clone(),
        );
        r.register(
            "jobcenter_jobs_finished",
            "Jobs that ran and ended, by final status",
            jobs_finished.clone(),
        );
        r.register(
            "jobcenter_job_run_seconds",
            "Run time of jobs that ran and ended (the last attempt; producers' jobs from their first claim)",
            job_run.clone(),
        );
        r.register(
            "jobcenter_job_retries",
            "Jobs put back in the queue after a transient failure",
            job_retries.clone(),
        );
        r.register(
            "jobcenter_lease_expiries",
            "Running jobs reaped because their lease expired",
            lease_expiries.clone(),
        );
        r.register(
            "jobcenter_queue_depth",
            "Pending jobs ready to run (read at scrape time)",
            queue_depth.clone(),
        );
        r.register(
            "jobcenter_queue_oldest_age_seconds",
            "Seconds the longest-waiting ready job has been claimable (read at scrape time)",
            queue_oldest.clone(),
        );
        r.register(
            "jobcenter_db_connections_in_use",
            "Database connections checked out of the pool",
            Gauge::clone(&pool_in_use),
        );
        r.register(
            "jobcenter_db_connections_idle",
            "Idle database connections in the pool",
            Gauge::clone(&pool_idle),
        );
        r.register(
            "jobcenter_db_connections_max",
            "Largest number of pooled database connections (database.max_connections)",
            Gauge::clone(&pool_max),
        );
        register_replicas(
            r,
            [&replica_in_use],
            &replica_lag,
            [&replica_drops, &replica_reads, &replica_fallbacks],
        );
        r.register(
            "jobcenter_event_streams",
            "Open job event streams (GET /v2/{project_id}/graphs/jobs/events)",
            Gauge::clone(&event_streams),
        );
        Metrics(Arc::new(Inner {
            registry,
            http_requests,
            http_duration,
            jobs_accepted,
            jobs_started,
            jobs_finished,
            job_run,
            job_retries,
            lease_expiries,
            queue_depth,
            queue_oldest,
            pool_in_use,
            pool_idle,
            pool_max,
            replica_in_use,
            replica_lag,
            replica_drops,
            replica_reads,
            replica_fallbacks,
            event_streams,
            job_names: JobNames::default(),
        }))
    }

    /// An HTTP request answered with `status` after `elapsed`.
    pub(crate) fn http_request(
        &self,
        route: Cow<'static, str>,
        method: &'static str,
        status: u16,
        elapsed: Duration,
    ) {
        let labels = RouteLabels { route, method };
        self.0
            .http_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        let labels = RequestLabels {
            route: labels.route,
            method,
            status,
        };
        self.0.http_requests.get_or_create(&labels).inc();
    }

    /// A job event stream opened (`1`) or closed (`-1`).
    pub fn event_streams(&self, change: i64) {
        self.0.event_streams.inc_by(change);
    }

    /// A job named `job_name` was created.
    pub fn job_accepted(&self, job_name: &str) {
        let labels = self.job_labels(job_name);
        self.0.jobs_accepted.get_or_create(&labels).inc();
    }

    /// A run of a job named `job_name` started.
    pub fn job_started(&self, job_name: &str) {
        let labels = self.job_labels(job_name);
        self.0.jobs_started.get_or_create(&labels).inc();
    }

    /// A job that ran ended with the final `status`, after `run_time` when known.
    pub fn job_finished(&self, job_name: &str, status: JobStatus, run_time: Option<Duration>) {
        let labels = self.job_labels(job_name);
        if let Some(run_time) = run_time {
            self.0
                .job_run
                .get_or_create(&labels)
                .observe(run_time.as_secs_f64());
        }
        let labels = FinishLabels {
            job_name: labels.job_name,
            status: status.as_str(),
        };
        self.0.jobs_finished.get_or_create(&labels).inc();
    }

    /// A job named `job_name` went back to the queue after a transient failure.
    pub fn job_retried(&self, job_name: &str) {
        let labels = self.job_labels(job_name);
        self.0.job_retries.get_or_create(&labels).inc();
    }

    fn job_labels(&self, job_name: &str) -> JobLabels {
        JobLabels {
            job_name: self.0.job_names.label(job_name),
        }
    }

    /// `n` running jobs were reaped because their lease expired.
    pub fn leases_expired(&self, n: u64) {
        self.0.lease_expiries.inc_by(n);
    }

    /// The queue as read at scrape time: a series per job type with ready jobs, and always
    /// one for graph operations (0 when none is ready), so an empty queue reads as 0.
    pub(crate) fn set_queue(&self, ready: &[crate::store::queue_stats::ReadyJobs]) {
        let inner = &self.0;
        inner.queue_depth.clear();
        inner.queue_oldest.clear();
        let builtin = TypeLabels {
            job_type: crate::domain::GRAPH_MANAGEMENT.to_owned(),
        };
        inner.queue_depth.get_or_create(&builtin).set(0);
        inner.queue_oldest.get_or_create(&builtin).set(0.0);
        for stat in ready {
            let labels = TypeLabels {
                job_type: stat.job_type.clone(),
            };
            inner.queue_depth.get_or_create(&labels).set(stat.count);
            inner
                .queue_oldest
                .get_or_create(&labels)
                .set(stat.oldest_age_secs.max(0.0));
        }
    }

    /// The queue could not be read: its gauges are left out of the scrape.
    pub(crate) fn clear_queue(&self) {
        self.0.queue_depth.clear();
        self.0.queue_oldest.clear();
    }

    /// The connection pool as read at scrape time.
    pub(crate) fn set_pool(&self, size: u32, idle: usize, max: u32) {
        let idle = idle as i64;
        self.0.pool_in_use.set((i64::from(size) - idle).max(0));
        self.0.pool_idle.set(idle);
        self.0.pool_max.set(i64::from(max));
    }

    /// The replicas as read at scrape time (their counters brought up to the counts kept
    /// by [`crate::db::replicas`]).
    pub(crate) fn set_replicas(&self, replicas: &[crate::db::replicas::ReplicaStats]) {
        let inner = &self.0;
        for stats in replicas {
            let labels = ReplicaLabels {
                replica: stats.label.clone(),
            };
            let in_use = inner.replica_in_use.get_or_create(&labels);
            in_use.set(i64::from(stats.usable));
            match stats.lag_secs {
                Some(lag) => {
                    inner.replica_lag.get_or_create(&labels).set(lag);
                }
                None => {
                    inner.replica_lag.remove(&labels);
                }
            }
            for (family, count) in [
                (&inner.replica_drops, stats.drops),
                (&inner.replica_reads, stats.reads),
                (&inner.replica_fallbacks, stats.fallbacks),
            ] {
                let counter = family.get_or_create(&labels);
                counter.inc_by(count.saturating_sub(counter.get()));
            }
        }
    }

    /// Every metric in the Prometheus text format (version 0.0.4).
    pub fn encode(&self) -> String {
        let mut text = String::with_capacity(16 * 1024);
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.0.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// The replicas' metrics, labelled by `host:port/database`.
fn register_replicas(
    r: &mut Registry,
    [in_use]: [&Family<ReplicaLabels, Gauge>; 1],
    lag: &Family<ReplicaLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    [drops, reads, fallbacks]: [&Family<ReplicaLabels, Counter>; 3],
) {
    r.register(
        "jobcenter_db_replica_in_use",
        "1 while the job list and job status read from this replica, else 0",
        in_use.clone(),
    );
    r.register(
        "jobcenter_db_replica_lag_seconds",
        "How far the replica's replay is behind the primary (absent while not known)",
        lag.clone(),
    );
    r.register(
        "jobcenter_db_replica_drops",
        "Times the replica was dropped because it failed (retried later)",
        drops.clone(),
    );
    r.register(
        "jobcenter_db_replica_reads",
        "Reads the replica answered",
        reads.clone(),
    );
    r.register(
        "jobcenter_db_replica_fallbacks",
        "Reads sent to the replica that the primary answered (it failed, or lacked the job)",
        fallbacks.clone(),
    );
}

/// The job names in use as labels.
#[derive(Default)]
struct JobNames(RwLock<HashSet<String>>);

impl JobNames {
    /// `job_name` itself while fewer than [`MAX_JOB_NAMES`] are in use (or it is one of
    /// them), else [`OTHER`].
    fn label(&self, job_name: &str) -> String {
        let known = self.0.read().unwrap_or_else(|e| e.into_inner());
        if known.contains(job_name) {
            return job_name.to_owned();
        }
        drop(known);
        let mut known = self.0.write().unwrap_or_else(|e| e.into_inner());
        if known.len() < MAX_JOB_NAMES {
            known.insert(job_name.to_owned());
            job_name.to_owned()
        } else {
            OTHER.to_owned()
        }
    }
}

#[cfg(test)]
mod tests;
