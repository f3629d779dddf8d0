//! What readiness checks ask the database.

use sqlx::PgExecutor;

use super::StoreError;

/// The newest applied migration version (refinery's history), if any.
pub async fn applied_migration(conn: impl PgExecutor<'_>) -> Result<Option<i64>, StoreError> {
    let version = sqlx::query_scalar!("SELECT max(version)::int8 FROM refinery_schema_history")
        .fetch_one(conn)
        .await?;
    Ok(version)
}
