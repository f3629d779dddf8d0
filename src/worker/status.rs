//! Whether this process's worker pool runs, for the readiness check: `running` while its
//! dispatcher claims jobs, `stopped` before it starts, after it stops or if its dispatcher
//! ended, and `disabled` when `worker.concurrency` is 0 (the process runs no jobs by design).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

const STOPPED: u8 = 0;
const RUNNING: u8 = 1;

/// The state of a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolState {
    Running,
    Stopped,
    Disabled,
}

impl PoolState {
    /// As shown by `/health/ready`.
    pub fn as_str(self) -> &'static str {
        match self {
            PoolState::Running => "running",
            PoolState::Stopped => "stopped",
            PoolState::Disabled => "disabled",
        }
    }

    /// Whether the service may be ready in this state.
    pub fn is_healthy(self) -> bool {
        self != PoolState::Stopped
    }
}

/// A pool's state, shared by the pool and whoever reports it; clones share it.
#[derive(Debug, Clone)]
pub struct PoolStatus {
    concurrency: usize,
    state: Arc<AtomicU8>,
}

impl PoolStatus {
    /// The status of a pool of `concurrency` that has not started.
    pub fn new(concurrency: usize) -> PoolStatus {
        PoolStatus {
            concurrency,
            state: Arc::new(AtomicU8::new(STOPPED)),
        }
    }

    /// Jobs the pool runs at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// The pool's state now.
    pub fn state(&self) -> PoolState {
        if self.concurrency == 0 {
            PoolState::Disabled
        } else if self.state.load(Ordering::SeqCst) == RUNNING {
            PoolState::Running
        } else {
            PoolState::Stopped
        }
    }

    /// Marks the pool running until the guard is dropped (when the dispatcher ends, by
    /// returning or by panicking).
    pub(crate) fn running(&self) -> RunningGuard {
        self.state.store(RUNNING, Ordering::SeqCst);
        RunningGuard(self.state.clone())
    }
}

/// Held by the dispatcher: the pool is `running` while it lives.
pub(crate) struct RunningGuard(Arc<AtomicU8>);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.store(STOPPED, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_lasts_as_long_as_the_guard() {
        let status = PoolStatus::new(4);
        assert_eq!(status.state(), PoolState::Stopped);
        let guard = status.running();
        assert_eq!(status.clone().state(), PoolState::Running);
        drop(guard);
        assert_eq!(status.state(), PoolState::Stopped);
        assert!(!PoolState::Stopped.is_healthy());
    }

    #[test]
    fn no_concurrency_is_disabled_and_healthy() {
        let status = PoolStatus::new(0);
        assert_eq!(status.state(), PoolState::Disabled);
        assert!(status.state().is_healthy());
        assert_eq!(status.state().as_str(), "disabled");
    }
}
