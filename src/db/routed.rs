//! The hot reads' connections of one HTTP worker thread: the primary's [`LocalPool`] and
//! one per replica, and the choice between them.
//!
//! Policy: a read goes to a usable replica (see [`super::replicas`]; round robin when
//! several are), else to the primary. A read that fails on a replica runs again on the
//! primary, so no read fails because a replica did; a failure of the connection also takes
//! the replica out of use until its monitor sees it answer. Choosing costs one atomic load
//! per replica: with no replica configured a read is the primary's [`LocalPool::read`].

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use sqlx::PgConnection;

use super::local::{LocalPool, ReadError};
use super::replicas::ReplicaState;

/// The connections of one thread (not `Send`: each HTTP worker thread has its own).
#[derive(Clone)]
pub struct ReadPools(Rc<Inner>);

struct Inner {
    primary: LocalPool,
    replicas: Vec<(Arc<ReplicaState>, LocalPool)>,
    next: Cell<usize>,
}

impl ReadPools {
    /// Reads on `primary`, and on `replicas` while they are usable.
    pub fn new(primary: LocalPool, replicas: Vec<(Arc<ReplicaState>, LocalPool)>) -> ReadPools {
        ReadPools(Rc::new(Inner {
            primary,
            replicas,
            next: Cell::new(0),
        }))
    }

    /// The primary's connections.
    pub fn primary(&self) -> &LocalPool {
        &self.0.primary
    }

    /// Runs `read` on a usable replica, else (or when it fails there) on the primary; says
    /// where it was answered, and with the replica's state, so that a caller can ask the
    /// primary again for what the replica had not yet replayed. `read` may run more than
    /// once, so it must only read.
    pub async fn read<T, E: ReadError>(
        &self,
        read: impl AsyncFn(&mut PgConnection) -> Result<T, E>,
    ) -> Result<(T, Option<&ReplicaState>), E> {
        if let Some((state, pool)) = self.choose() {
            match pool.read(&read).await {
                Ok(value) => {
                    state.count_read();
                    return Ok((value, Some(state)));
                }
                Err(err) => {
                    state.count_fallback();
                    if err.is_connection_failure() {
                        state.failed(&err.to_string());
                    } else {
                        tracing::info!(
                            replica = %state.label,
                            error = %err,
                            "a replica read failed; reading on the primary"
                        );
                    }
                }
            }
        }
        Ok((self.0.primary.read(read).await?, None))
    }

    /// The next usable replica, if any.
    fn choose(&self) -> Option<&(Arc<ReplicaState>, LocalPool)> {
        let replicas = &self.0.replicas;
        let start = self.0.next.get();
        for i in 0..replicas.len() {
            let candidate = &replicas[(start + i) % replicas.len()];
            if candidate.0.is_usable() {
                self.0.next.set(start + i + 1);
                return Some(candidate);
            }
        }
        None
    }
}
