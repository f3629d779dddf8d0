//! The one mapping from errors to the HTTP contract: `{"error_code", "error_msg"}`.
//! Internal causes are logged with their chain and never sent to the client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::auth::Forbidden;
use crate::domain::ParamError;
use crate::ops::OpError;
use crate::store::StoreError;

/// An error answer of the API.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    /// The contract's error code, e.g. `GES.7000`.
    #[schema(example = "GES.7000")]
    pub error_code: &'a str,
    /// What was wrong, for people.
    #[schema(example = "the graph does not exist")]
    pub error_msg: &'a str,
}

impl ApiError {
    /// An answer with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 `GES.0001`: a parameter breaks its rule.
    pub fn bad_parameter(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "GES.0001", message)
    }

    /// 401 `APIG.0301`.
    pub fn unauthenticated(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "APIG.0301", message)
    }

    /// 404 `GES.7007`.
    pub fn job_not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "GES.7007", "the job does not exist")
    }

    /// 400 with a specific code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 `GES.7000`.
    pub fn graph_not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "GES.7000",
            "the graph does not exist",
        )
    }

    /// 404 for a path no route serves.
    pub fn no_route() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "APIG.0101",
            "no API at this path and method",
        )
    }

    /// 500 `GES.9999`, after logging the cause with its chain.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> ApiError {
        tracing::error!(error = %error_chain(cause), "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "GES.9999",
            "internal error",
        )
    }
}

use crate::telemetry::error_chain;

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(ErrorBody {
            error_code: self.code,
            error_msg: &self.message,
        })
    }
}

impl From<ParamError> for ApiError {
    fn from(err: ParamError) -> Self {
        ApiError::bad_parameter(err.to_string())
    }
}

impl From<Forbidden> for ApiError {
    fn from(err: Forbidden) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "GES.7041", err.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        if err.is_unavailable() {
            tracing::warn!(error = %error_chain(&err), "database unavailable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "GES.7005",
                "the service is temporarily unavailable; retry later",
            )
        } else {
            ApiError::internal(&err)
        }
    }
}

impl From<OpError> for ApiError {
    fn from(err: OpError) -> Self {
        match err {
            OpError::GraphNotFound => ApiError::graph_not_found(),
            OpError::Refused(code) => {
                ApiError::new(StatusCode::CONFLICT, code, refusal_message(code))
            }
            OpError::NameTaken => ApiError::new(
                StatusCode::CONFLICT,
                "GES.7013",
                "a graph of that name already exists",
            ),
            OpError::Invalid { code, field, rule } => {
                ApiError::bad_request(code, format!("invalid parameter {field}: {rule}"))
            }
            OpError::Store(store) => store.into(),
        }
    }
}

fn refusal_message(code: &str) -> &'static str {
    match code {
        "GES.7001" => "the graph is not running, or another operation is in progress",
        "GES.7002" => "a backup of the graph is running",
        "GES.7003" => "the graph is stopping or stopped",
        "GES.7036" => "upgrade_version must be greater than the graph's current version",
        "GES.7037" => "the graph is not stopped",
        "GES.7042" => "the graph is being created",
        "GES.7054" => "the graph is being deleted",
        _ => "the operation is not allowed in the graph's current state",
    }
}
