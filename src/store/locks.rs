//! Bounds on lock waits. Policy: a transaction that takes a lock others may hold for long
//! (a month's drop, the fold lock) bounds its own wait, so it fails with SQLSTATE 55P03
//! (lock_not_available) rather than hang; the bound lasts the transaction only.

use std::time::Duration;

use sqlx::PgConnection;

use crate::store::StoreError;

/// Makes every lock wait of the transaction on `conn` last at most `wait`.
pub async fn wait_at_most(conn: &mut PgConnection, wait: Duration) -> Result<(), StoreError> {
    let timeout = format!("{}ms", wait.as_millis());
    sqlx::query_scalar!("SELECT set_config('lock_timeout', $1, true)", timeout)
        .fetch_one(conn)
        .await?;
    Ok(())
}
