//! The repository layer: the only code that touches SQL. Functions take an executor (a
//! connection, a transaction or the pool) and never begin a transaction: the service layer
//! ([`crate::service`]) composes them in its transactions. Rows are decoded into the
//! domain's entities here; a stored value the domain does not know is [`StoreError::Corrupt`].
//!
//! Policy: statements are checked at build time (sqlx macros against `.sqlx/`), or built
//! with `QueryBuilder` and bound parameters where their shape depends on the request (the
//! job list). Constraint names are read in one place, [`Constraint::of`].

pub mod backup_data;
pub mod backups;
pub mod coalesce;
pub mod completions;
pub mod counts;
pub mod enqueues;
pub mod events;
mod file_rows;
pub mod graph_data;
pub mod graph_export;
pub mod graphs;
pub mod health;
pub mod import_data;
pub mod jobs;
pub mod list;
mod list_statement;
pub mod locks;
pub mod months;
pub mod pgbench;
pub mod plans;
pub mod producer;
pub mod queue;
pub mod queue_stats;
pub mod replication;
pub mod retention;
pub mod seed;
pub mod status_reads;

pub use list::JobPage;

/// A unique constraint that refused a write, by what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// `graphs_live_name`: a live graph of the project has that name.
    GraphNameTaken,
    /// `jobs_one_retry` (the key of `job_retries`): the job was retried already.
    AlreadyRetried,
    /// Any other (its name).
    Other(String),
}

impl Constraint {
    /// The constraint of that name.
    pub fn of(name: &str) -> Constraint {
        match name {
            "graphs_live_name" => Constraint::GraphNameTaken,
            "jobs_one_retry" => Constraint::AlreadyRetried,
            other => Constraint::Other(other.to_owned()),
        }
    }
}

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (or went away); worth retrying later.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Any other database error.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// A value the database cannot hold (SQLSTATE class 22: a NUL character in text, a
    /// number or time out of its column's range); the request's fault, not ours.
    #[error("a value the database cannot store")]
    Invalid(#[source] sqlx::Error),
    /// A unique constraint refused the write.
    #[error("duplicate: {0:?}")]
    Duplicate(Constraint),
    /// A stored value the code does not understand.
    #[error("unexpected stored value: {0}")]
    Corrupt(String),
    /// The error of a statement that answered several requests at once.
    #[error(transparent)]
    Shared(std::sync::Arc<StoreError>),
}

impl StoreError {
    /// A stored value of `what` that the domain does not know.
    pub fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(format!("{what}: {err}"))
    }

    /// The stored text of `column` parsed into its domain type; a value the domain does not
    /// know is [`corrupt`](Self::corrupt).
    pub fn parsed<T>(column: &str, raw: &str) -> Result<T, StoreError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        raw.parse().map_err(|e| StoreError::corrupt(column, e))
    }

    /// Whether a value of the request could not be stored (SQLSTATE class 22).
    pub fn is_invalid_value(&self) -> bool {
        match self {
            StoreError::Invalid(_) => true,
            StoreError::Shared(inner) => inner.is_invalid_value(),
            _ => false,
        }
    }

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
            StoreError::Duplicate(Constraint::of(&constraint))
        } else if is_data_exception(&err) {
            StoreError::Invalid(err)
        } else {
            StoreError::Database(err)
        }
    }
}

/// A read of the per-thread pools ([`crate::db::LocalPool`]) runs once more on a new
/// connection when its reused one turned out dead (the database restarted).
impl crate::db::local::ReadError for StoreError {
    fn is_dead_connection(&self) -> bool {
        match self {
            StoreError::Unavailable(sqlx::Error::Io(_)) => true,
            StoreError::Unavailable(sqlx::Error::Database(db)) => db
                .code()
                .is_some_and(|code| code.starts_with("08") || code == "57P01"),
            StoreError::Shared(inner) => inner.is_dead_connection(),
            _ => false,
        }
    }

    fn is_connection_failure(&self) -> bool {
        self.is_unavailable()
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

/// SQLSTATE class 22, "data exception".
fn is_data_exception(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().is_some_and(|code| code.starts_with("22")))
}

fn unique_violation(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            Some(db.constraint().unwrap_or_default().to_owned())
        }
        _ => None,
    }
}
