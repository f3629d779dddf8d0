//! Health endpoints, outside `/v2` and without a token: `/health/live` (the process
//! answers) and `/health/ready` (the database answers and carries this build's migrations,
//! and this process's worker pool runs, unless it is disabled by `worker.concurrency = 0`).

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::service::health;
use crate::worker::PoolStatus;

/// The liveness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    /// Always `up`.
    #[schema(example = "up")]
    pub status: &'static str,
}

/// The readiness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not ready`.
    #[schema(example = "ready")]
    pub status: &'static str,
    /// `up` or `down`.
    #[schema(example = "up")]
    pub database: &'static str,
    pub migrations: MigrationState,
    pub workers: WorkerState,
}

/// This process's worker pool.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerState {
    /// `running`, `stopped` (not ready) or `disabled` (`worker.concurrency = 0`; ready).
    #[schema(example = "running")]
    pub state: &'static str,
    /// Jobs the pool runs at once.
    pub concurrency: usize,
}

/// The schema migrations this build carries and the database has.
#[derive(Debug, Serialize, ToSchema)]
pub struct MigrationState {
    /// The latest migration of this build.
    pub expected: i64,
    /// The latest migration applied; null when the database is down or unmigrated.
    pub applied: Option<i64>,
}

/// `GET /health/live`
#[utoipa::path(
    get,
    path = "/health/live",
    tag = "health",
    summary = "Liveness: the process answers",
    security(()),
    responses((status = 200, description = "The process answers.", body = Liveness))
)]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Liveness { status: "up" })
}

/// `GET /health/ready`: 200 when ready, else 503, with what was checked.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "health",
    summary = "Readiness: the database answers and is migrated, the workers run",
    security(()),
    responses(
        (status = 200, description = "The database answers and carries this build's migrations.", body = Readiness),
        (status = 503, description = "Not ready: the database is down, its migrations are not current, or the worker pool stopped.", body = Readiness),
    )
)]
#[get("/health/ready")]
pub async fn ready(pool: web::Data<PgPool>, workers: web::Data<PoolStatus>) -> HttpResponse {
    let database = health::database(pool.get_ref()).await;
    let workers_state = workers.state();
    let ready = database.is_current() && workers_state.is_healthy();
    let body = Readiness {
        status: if ready { "ready" } else { "not ready" },
        database: if database.up { "up" } else { "down" },
        migrations: MigrationState {
            expected: database.expected,
            applied: database.applied,
        },
        workers: WorkerState {
            state: workers_state.as_str(),
            concurrency: workers.concurrency(),
        },
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
