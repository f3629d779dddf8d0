//! What the replica monitor asks: the primary's WAL position, and how far a replica has
//! replayed it. Positions are bytes of WAL (`pg_lsn` minus `0/0`), compared as integers.

use sqlx::PgExecutor;

use super::StoreError;

/// The primary's current WAL write position.
pub async fn primary_position(conn: impl PgExecutor<'_>) -> Result<i64, StoreError> {
    let lsn =
        sqlx::query_scalar!(r#"SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::int8 AS "lsn!""#)
            .fetch_one(conn)
            .await?;
    Ok(lsn)
}

/// The position a replica has replayed up to; `None` when the server is not in recovery
/// (not a replica, or one promoted since).
pub async fn replayed_position(conn: impl PgExecutor<'_>) -> Result<Option<i64>, StoreError> {
    let lsn =
        sqlx::query_scalar!(r#"SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::int8 AS "lsn""#)
            .fetch_one(conn)
            .await?;
    Ok(lsn)
}
