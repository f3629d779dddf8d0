//! Health endpoints, outside `/v2` and without a token: `/health/live` (the process
//! answers) and `/health/ready` (the database answers and carries this build's migrations,
//! and this process's worker pool runs, unless it is disabled by `worker.concurrency = 0`).

use actix_web::{HttpResponse, get, web};
use serde_json::json;
use sqlx::PgPool;

use crate::store;
use crate::worker::PoolStatus;

/// `GET /health/live`
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "up"}))
}

/// `GET /health/ready`: 200 when ready, else 503, with what was checked.
#[get("/health/ready")]
pub async fn ready(pool: web::Data<PgPool>, workers: web::Data<PoolStatus>) -> HttpResponse {
    let expected = crate::db::latest_migration();
    let applied = store::health::applied_migration(pool.get_ref()).await;
    let (database, migrations_current) = match &applied {
        Ok(version) => ("up", *version == Some(expected)),
        Err(_) => ("down", false),
    };
    let workers_state = workers.state();
    let ready = database == "up" && migrations_current && workers_state.is_healthy();
    let body = json!({
        "status": if ready { "ready" } else { "not ready" },
        "database": database,
        "migrations": {"expected": expected, "applied": applied.ok().flatten()},
        "workers": {"state": workers_state.as_str(), "concurrency": workers.concurrency()},
    });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
