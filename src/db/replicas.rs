//! Streaming replicas for the hot reads (the job list and job status): each one's health,
//! as measured by `worker::replicas`, and the lag measure itself ([`LagWindow`]).
//!
//! Policy:
//! - A replica's lag is measured in the primary's terms, never by comparing clocks: the
//!   primary's WAL positions of the last moments are kept with the time each was read, and
//!   the lag is the age of the newest one the replica has replayed (0 when it has replayed
//!   the one read just before it). An idle primary is therefore no lag, and a replica whose
//!   replay is paused falls behind as soon as the primary writes.
//! - A replica is read from only while it answers and its lag is within
//!   `database.max_replica_lag_ms`; one older than every kept position is not read from.
//! - Any read that fails on a replica is read again on the primary (see
//!   [`super::routed`]); a failed connection also takes the replica out of use until its
//!   monitor sees it answer again.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;

/// What is known of one replica; shared by the monitor, the HTTP threads and the metrics.
#[derive(Debug)]
pub struct ReplicaState {
    /// `host:port/database`, for logs and metric labels (never the URL: it may hold a
    /// password).
    pub label: String,
    usable: AtomicBool,
    up: AtomicBool,
    /// Milliseconds behind the primary; `u64::MAX` when not known.
    lag_ms: AtomicU64,
    drops: AtomicU64,
    reads: AtomicU64,
    fallbacks: AtomicU64,
}

/// A snapshot of a replica's state, for the metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaStats {
    pub label: String,
    /// Reads go to it.
    pub usable: bool,
    /// It answered its last check.
    pub up: bool,
    /// Seconds behind the primary, when known.
    pub lag_secs: Option<f64>,
    /// Times it was taken out of use because it failed.
    pub drops: u64,
    /// Reads it answered.
    pub reads: u64,
    /// Reads sent to it that went to the primary instead (it failed, or found no job).
    pub fallbacks: u64,
}

impl ReplicaState {
    fn new(label: String) -> ReplicaState {
        ReplicaState {
            label,
            usable: AtomicBool::new(false),
            up: AtomicBool::new(false),
            lag_ms: AtomicU64::new(u64::MAX),
            drops: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            fallbacks: AtomicU64::new(0),
        }
    }

    /// Whether reads go to it now.
    pub fn is_usable(&self) -> bool {
        self.usable.load(Ordering::Relaxed)
    }

    /// Its monitor read a lag (`None`: behind every kept position); a change of its use is
    /// logged.
    pub fn observed(&self, lag: Option<Duration>, max: Duration) {
        let lag_ms = lag.map_or(u64::MAX, |lag| lag.as_millis() as u64);
        self.lag_ms.store(lag_ms, Ordering::Relaxed);
        let was_up = self.up.swap(true, Ordering::Relaxed);
        let usable = lag.is_some_and(|lag| lag <= max);
        let was_usable = self.usable.swap(usable, Ordering::Relaxed);
        match (was_usable, usable) {
            (false, true) => tracing::info!(replica = %self.label, lag_ms, "replica in use"),
            (true, false) => tracing::warn!(
                replica = %self.label,
                lag_ms = lag.map(|l| l.as_millis() as u64),
                max_ms = max.as_millis() as u64,
                "replica behind database.max_replica_lag_ms: its reads go to the primary"
            ),
            _ if !was_up => tracing::info!(replica = %self.label, lag_ms, "replica answers"),
            _ => {}
        }
    }

    /// It failed (its monitor's check or a read's connection): out of use until its monitor
    /// sees it answer; counted and logged once per outage.
    pub fn failed(&self, error: &str) {
        self.usable.store(false, Ordering::Relaxed);
        self.lag_ms.store(u64::MAX, Ordering::Relaxed);
        if self.up.swap(false, Ordering::Relaxed) {
            self.drops.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                replica = %self.label,
                error,
                "replica dropped: its reads go to the primary; retried later"
            );
        }
    }

    /// A read it answered.
    pub fn count_read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    /// A read sent to it that the primary answered.
    pub fn count_fallback(&self) {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
    }

    /// The state now.
    pub fn stats(&self) -> ReplicaStats {
        let lag_ms = self.lag_ms.load(Ordering::Relaxed);
        ReplicaStats {
            label: self.label.clone(),
            usable: self.is_usable(),
            up: self.up.load(Ordering::Relaxed),
            lag_secs: (lag_ms != u64::MAX).then(|| lag_ms as f64 / 1000.0),
            drops: self.drops.load(Ordering::Relaxed),
            reads: self.reads.load(Ordering::Relaxed),
            fallbacks: self.fallbacks.load(Ordering::Relaxed),
        }
    }
}

/// One configured replica: where it is, and its state.
#[derive(Debug, Clone)]
pub struct Replica {
    pub options: PgConnectOptions,
    pub state: Arc<ReplicaState>,
}

/// The configured replicas (`database.replica_urls`), in order.
#[derive(Debug, Clone, Default)]
pub struct ReplicaSet(Arc<Vec<Replica>>);

impl ReplicaSet {
    /// The replicas at `urls` (passwords already applied); nothing is connected yet.
    pub fn new(urls: &[String]) -> anyhow::Result<ReplicaSet> {
        let mut replicas = Vec::with_capacity(urls.len());
        for (i, url) in urls.iter().enumerate() {
            let options: PgConnectOptions = url.parse().map_err(|e| {
                anyhow::anyhow!("database.replica_urls[{i}]: not a PostgreSQL URL: {e}")
            })?;
            let label = format!(
                "{}:{}/{}",
                options.get_host(),
                options.get_port(),
                options.get_database().unwrap_or_default()
            );
            let state = Arc::new(ReplicaState::new(label));
            let options = super::session_options(options);
            replicas.push(Replica { options, state });
        }
        Ok(ReplicaSet(Arc::new(replicas)))
    }

    /// Every replica.
    pub fn all(&self) -> &[Replica] {
        &self.0
    }

    /// Every replica's state now.
    pub fn stats(&self) -> Vec<ReplicaStats> {
        self.0.iter().map(|r| r.state.stats()).collect()
    }
}

/// The primary's WAL positions of the last moments, each with when it was read.
#[derive(Debug)]
pub struct LagWindow {
    horizon: Duration,
    samples: VecDeque<(Instant, i64)>,
}

impl LagWindow {
    /// A window keeping positions for `horizon` (more than the largest lag of interest).
    pub fn new(horizon: Duration) -> LagWindow {
        LagWindow {
            horizon,
            samples: VecDeque::new(),
        }
    }

    /// The primary was at `lsn` at `at`; positions older than the horizon are forgotten
    /// (the newest one is always kept).
    pub fn record(&mut self, at: Instant, lsn: i64) {
        self.samples.push_back((at, lsn));
        while self.samples.len() > 1
            && self
                .samples
                .front()
                .is_some_and(|(t, _)| at.duration_since(*t) > self.horizon)
        {
            self.samples.pop_front();
        }
    }

    /// How far behind the primary a replica that has replayed up to `replayed` is, at
    /// `now`: 0 when it has replayed the newest position, else the age of the newest one
    /// it has replayed; `None` when it has replayed none of them.
    pub fn lag(&self, now: Instant, replayed: i64) -> Option<Duration> {
        let mut newest = true;
        for (at, lsn) in self.samples.iter().rev() {
            if *lsn <= replayed {
                return Some(if newest {
                    Duration::ZERO
                } else {
                    now.saturating_duration_since(*at)
                });
            }
            newest = false;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_primary_is_no_lag() {
        let start = Instant::now();
        let mut window = LagWindow::new(Duration::from_secs(5));
        for i in 0..10 {
            window.record(start + Duration::from_secs(i), 1000);
        }
        assert_eq!(
            window.lag(start + Duration::from_secs(10), 1000),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn the_lag_is_the_age_of_the_newest_replayed_position() {
        let start = Instant::now();
        let mut window = LagWindow::new(Duration::from_secs(60));
        for i in 0..10 {
            window.record(start + Duration::from_secs(i), 100 * i as i64);
        }
        let now = start + Duration::from_secs(10);
        assert_eq!(window.lag(now, 450), Some(Duration::from_secs(6)));
        assert_eq!(window.lag(now, 900), Some(Duration::ZERO));
        assert_eq!(window.lag(now, 5000), Some(Duration::ZERO));
    }

    #[test]
    fn a_replica_behind_every_kept_position_has_no_known_lag() {
        let start = Instant::now();
        let mut window = LagWindow::new(Duration::from_secs(2));
        for i in 0..10 {
            window.record(start + Duration::from_secs(i), 100 + i as i64);
        }
        assert_eq!(window.samples.len(), 3, "older positions are forgotten");
        assert_eq!(window.lag(start + Duration::from_secs(10), 50), None);
        assert_eq!(LagWindow::new(Duration::from_secs(1)).lag(start, 0), None);
    }

    #[test]
    fn a_failure_counts_one_drop_per_outage_and_takes_the_replica_out_of_use() {
        let state = ReplicaState::new("r:5432/db".into());
        let max = Duration::from_millis(100);
        state.observed(Some(Duration::from_millis(5)), max);
        assert!(state.is_usable());
        state.failed("refused");
        state.failed("refused");
        assert_eq!(state.stats().drops, 1);
        assert!(!state.is_usable());
        state.observed(Some(Duration::from_millis(500)), max);
        assert!(!state.is_usable(), "too far behind");
        assert_eq!(state.stats().lag_secs, Some(0.5));
        state.observed(Some(Duration::ZERO), max);
        assert!(state.is_usable());
    }
}
