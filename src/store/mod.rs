//! The repository layer: the only code that touches SQL. Functions take a connection, a
//! transaction or the pool, so callers compose them in one transaction.

pub mod backups;
mod file_rows;
pub mod graph_data;
pub mod graph_export;
pub mod graphs;
pub mod health;
pub mod import_data;
pub mod jobs;
pub mod list;
pub mod pgbench;
pub mod plans;
pub mod producer;
pub mod queue;
pub mod queue_stats;
pub mod retention;
pub mod seed;
pub mod status_reads;

pub use jobs::{Job, JobFile, NewJob};
pub use list::JobPage;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (or went away); worth retrying later.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Any other database error.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// A unique constraint refused the write (its name).
    #[error("duplicate: {0}")]
    Duplicate(String),
    /// A stored value the code does not understand.
    #[error("unexpected stored value: {0}")]
    Corrupt(String),
    /// The error of a statement that answered several requests at once.
    #[error(transparent)]
    Shared(std::sync::Arc<StoreError>),
}

impl StoreError {
    /// Whether the database could not be reached (worth retrying later).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Shared(inner) => inner.is_unavailable(),
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if is_unavailable(&err) {
            StoreError::Unavailable(err)
        } else if let Some(constraint) = unique_violation(&err) {
            StoreError::Duplicate(constraint)
        } else {
            StoreError::Database(err)
        }
    }
}

/// Connection-level failures: the pool could not hand out a connection, the socket broke,
/// or the server is shutting down / starting up / refusing connections.
fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("57P") || code == "53300"
        }),
        _ => false,
    }
}

fn unique_violation(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            Some(db.constraint().unwrap_or_default().to_owned())
        }
        _ => None,
    }
}
