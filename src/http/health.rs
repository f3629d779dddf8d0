//! Health endpoints, outside `/v2` and without a token: `/health/live` (the process
//! answers) and `/health/ready` (the database answers and carries this build's migrations).

use actix_web::{HttpResponse, get, web};
use serde_json::json;
use sqlx::PgPool;

use crate::store;

/// `GET /health/live`
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "up"}))
}

/// `GET /health/ready`: 200 when ready, else 503, with what was checked.
#[get("/health/ready")]
pub async fn ready(pool: web::Data<PgPool>) -> HttpResponse {
    let expected = crate::db::latest_migration();
    let applied = store::health::applied_migration(pool.get_ref()).await;
    let (database, migrations_current) = match &applied {
        Ok(version) => ("up", *version == Some(expected)),
        Err(_) => ("down", false),
    };
    let ready = database == "up" && migrations_current;
    let body = json!({
        "status": if ready { "ready" } else { "not ready" },
        "database": database,
        "migrations": {"expected": expected, "applied": applied.ok().flatten()},
    });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
