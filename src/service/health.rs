//! Readiness: whether the database answers and carries this build's migrations.

use sqlx::PgPool;

use crate::store::health;

/// What readiness found of the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseState {
    /// Whether it answered.
    pub up: bool,
    /// The latest migration of this build.
    pub expected: i64,
    /// The latest migration applied (`None`: down or unmigrated).
    pub applied: Option<i64>,
}

impl DatabaseState {
    /// Up, and migrated to this build's latest migration.
    pub fn is_current(&self) -> bool {
        self.up && self.applied == Some(self.expected)
    }
}

/// Asks the database for its newest applied migration.
pub async fn database(pool: &PgPool) -> DatabaseState {
    let applied = health::applied_migration(pool).await;
    DatabaseState {
        up: applied.is_ok(),
        expected: crate::db::latest_migration(),
        applied: applied.ok().flatten(),
    }
}
