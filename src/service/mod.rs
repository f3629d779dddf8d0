//! The service layer: every transaction and every business rule. Handlers (and the worker
//! pool, and the CLI) call one function here; it checks what depends on the database (the
//! graph's state, a backup's status, a lease), composes store functions in one
//! transaction, and answers a domain value or a [`ServiceError`] naming its [`Code`].
//!
//! Policy: only this layer begins transactions; store functions take the transaction as
//! their executor. Lock order, everywhere a graph and its job are both written: the graph
//! row first, then the job row.

pub mod backups;
pub mod counts;
pub mod graphs;
pub mod health;
pub mod history;
pub mod horizon;
pub mod jobs;
pub mod logs;
pub mod producer;
pub mod runs;

use sqlx::{PgPool, Postgres, Transaction};

use crate::domain::operation::Refusal;
use crate::domain::{Code, ParamError};
use crate::storage::StorageError;
use crate::store::StoreError;

/// Why a call was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The caller's request is refused: a bad parameter, an unknown graph, a state that
    /// does not allow it. The message is for the caller.
    #[error("{code}: {message}")]
    Rejected { code: Code, message: String },
    /// Object storage could not be asked about `field`'s path.
    #[error("object storage failed for {field}")]
    Storage {
        field: &'static str,
        #[source]
        error: StorageError,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError {
    /// Refused with `code`'s default message.
    pub fn rejected(code: Code) -> ServiceError {
        ServiceError::with(code, code.default_message())
    }

    /// Refused with `code` and `message`.
    pub fn with(code: Code, message: impl Into<String>) -> ServiceError {
        ServiceError::Rejected {
            code,
            message: message.into(),
        }
    }
}

impl From<ParamError> for ServiceError {
    fn from(err: ParamError) -> Self {
        ServiceError::with(err.code, err.to_string())
    }
}

impl From<Refusal> for ServiceError {
    fn from(refusal: Refusal) -> Self {
        ServiceError::rejected(refusal.0)
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(err: sqlx::Error) -> Self {
        ServiceError::Store(err.into())
    }
}

/// A transaction on the pool.
async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, StoreError> {
    Ok(pool.begin().await?)
}
