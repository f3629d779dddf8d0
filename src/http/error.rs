//! The one mapping from errors to the HTTP contract: `{"error_code", "error_msg"}`, the
//! status from the code table ([`Code`]). Internal causes are logged with their chain and
//! never sent to the client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::auth::Forbidden;
use crate::domain::{Code, ParamError};
use crate::service::ServiceError;
use crate::storage::StorageError;
use crate::store::StoreError;
use crate::telemetry::error_chain;

/// An error answer of the API.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: Code,
    pub message: String,
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    /// The contract's error code, e.g. `GES.7000`.
    #[schema(example = example_code)]
    pub error_code: &'a str,
    /// What was wrong, for people.
    #[schema(example = "the graph does not exist")]
    pub error_msg: &'a str,
}

/// The code the document shows as an example.
fn example_code() -> &'static str {
    Code::GraphNotFound.as_str()
}

impl ApiError {
    /// An answer with this code and message.
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// 500 `GES.9999`, after logging the cause with its chain.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> ApiError {
        tracing::error!(error = %error_chain(cause), "internal error");
        ApiError::from(Code::Internal)
    }
}

impl From<Code> for ApiError {
    fn from(code: Code) -> Self {
        ApiError::new(code, code.default_message())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(ErrorBody {
            error_code: self.code.as_str(),
            error_msg: &self.message,
        })
    }
}

impl From<ParamError> for ApiError {
    fn from(err: ParamError) -> Self {
        ApiError::new(err.code, err.to_string())
    }
}

impl From<Forbidden> for ApiError {
    fn from(err: Forbidden) -> Self {
        ApiError::new(Code::Forbidden, err.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        if err.is_unavailable() {
            tracing::warn!(error = %error_chain(&err), "database unavailable");
            ApiError::from(Code::Unavailable)
        } else if err.is_invalid_value() {
            tracing::info!(error = %error_chain(&err), "a value the database cannot store");
            ApiError::new(
                Code::BadParameter,
                "a value of the request cannot be stored (out of range, or text the \
                 database refuses)",
            )
        } else {
            ApiError::internal(&err)
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Rejected { code, message } => ApiError::new(code, message),
            ServiceError::Store(store) => store.into(),
            ServiceError::Storage { field, error } => storage(field, error),
        }
    }
}

/// A storage answer about a request's path `field`: a path that does not exist or cannot
/// be used is the caller's error (naming the field and the path); a store that failed is
/// unavailable for now.
fn storage(field: &str, error: StorageError) -> ApiError {
    match error {
        StorageError::NotFound(path) => ApiError::new(
            Code::ObjectNotFound,
            format!("{field}: {path} does not exist"),
        ),
        StorageError::NoBucket(path) => ApiError::new(
            Code::ObjectNotFound,
            format!("{field}: the bucket of {path} does not exist"),
        ),
        StorageError::BadPath(_) => ApiError::new(
            Code::BadObjectPath,
            format!("{field} is not a valid object path"),
        ),
        StorageError::NotADirectory(_)
        | StorageError::NameTooLong(_)
        | StorageError::PermissionDenied(_) => {
            ApiError::new(Code::BadObjectPath, format!("{field}: {error}"))
        }
        StorageError::Credentials(_) => {
            tracing::warn!(
                error = %error_chain(&error),
                "object storage refused storage.s3.access_key_id/secret_access_key"
            );
            ApiError::new(
                Code::Unavailable,
                format!("{field}: object storage refused the service's credentials"),
            )
        }
        StorageError::Transient(_) => {
            tracing::warn!(error = %error_chain(&error), "object storage unavailable");
            ApiError::new(
                Code::Unavailable,
                "object storage is temporarily unavailable; retry later",
            )
        }
    }
}
