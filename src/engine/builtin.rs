//! The built-in engine: carries out graph operations on the stored graph rows (the
//! management plane's own model of a graph), in a few steps with progress, and `Noop` jobs
//! (for benchmarks and smoke tests of the pool).

use std::time::Duration;

use sqlx::PgConnection;
use uuid::Uuid;

use super::{Engine, EngineError, EngineFuture, JobContext};
use crate::domain::graph::Version;
use crate::domain::{BackupStatus, GRAPH_MANAGEMENT, GraphStatus, NOOP, Operation};
use crate::storage::Storage;
use crate::store::graph_data;

/// Steps every operation takes (progress moves after each).
const STEPS: u32 = 4;

/// The built-in engine.
#[derive(Debug, Clone, Default)]
pub struct BuiltinEngine {
    step_delay: Duration,
    /// Where imports read and exports write; without it they fail.
    storage: Option<Storage>,
}

impl BuiltinEngine {
    /// An engine that waits `step_delay` before each of an operation's steps.
    pub fn new(step_delay: Duration) -> BuiltinEngine {
        BuiltinEngine {
            step_delay,
            storage: None,
        }
    }

    fn storage(&self) -> Result<&Storage, EngineError> {
        self.storage.as_ref().ok_or_else(|| {
            EngineError::Failed(
                "no object storage is configured for imports and exports".to_owned(),
            )
        })
    }

    /// The same engine reading and writing graph data in `storage`.
    pub fn with_storage(mut self, storage: Storage) -> BuiltinEngine {
        self.storage = Some(storage);
        self
    }

    async fn run_operation(&self, ctx: &mut JobContext, op: &Operation) -> Result<(), EngineError> {
        let graph_id = ctx
            .graph_id()
            .ok_or_else(|| EngineError::Failed("the job names no graph".to_owned()))?;
        match op {
            Operation::Import { request } => {
                return super::import::run(ctx, self.storage()?, request).await;
            }
            Operation::Export { request } => {
                return super::export::run(ctx, self.storage()?, request).await;
            }
            Operation::ExportBackup {
                backup_id,
                export_path,
            } => {
                return super::backup::export(ctx, self.storage()?, *backup_id, export_path).await;
            }
            Operation::ImportBackup {
                backup_id,
                import_path,
            } => {
                return super::backup::import(ctx, self.storage()?, *backup_id, import_path).await;
            }
            _ => {}
        }
        // Refuse early what will be refused at the end.
        {
            let mut conn = ctx.pool().acquire().await?;
            check(&mut conn, graph_id, op).await?;
        }
        for step in 1..=STEPS {
            ctx.checkpoint()?;
            if !self.step_delay.is_zero() {
                tokio::time::sleep(self.step_delay).await;
            }
            if let Operation::Restart = op {
                let shown = if step == 1 {
                    GraphStatus::Stopping
                } else {
                    GraphStatus::Starting
                };
                if step <= 2 {
                    graph_data::set_status_fenced(
                        ctx.pool(),
                        graph_id,
                        ctx.job_id(),
                        ctx.lease_token(),
                        shown,
                    )
                    .await?;
                }
            }
            if step < STEPS {
                ctx.progress((step * 100 / STEPS) as f32);
            }
        }
        ctx.checkpoint()?;
        let mut tx = ctx.begin_fenced().await?;
        check(&mut tx, graph_id, op).await?;
        apply(&mut tx, graph_id, op).await?;
        ctx.succeed(tx).await
    }
}

impl Engine for BuiltinEngine {
    fn job_types(&self) -> Vec<String> {
        vec![GRAPH_MANAGEMENT.to_owned(), NOOP.to_owned()]
    }

    fn run<'a>(&'a self, ctx: &'a mut JobContext, op: &'a Operation) -> EngineFuture<'a> {
        Box::pin(self.run_operation(ctx, op))
    }

    fn run_other<'a>(&'a self, ctx: &'a mut JobContext) -> EngineFuture<'a> {
        Box::pin(async move {
            if ctx.job().job_type == NOOP {
                Ok(())
            } else {
                Err(EngineError::Failed(format!(
                    "no engine runs jobs of type {}",
                    ctx.job().job_type
                )))
            }
        })
    }
}

/// Whether `op` can be carried out on the graph as it is.
async fn check(conn: &mut PgConnection, graph_id: Uuid, op: &Operation) -> Result<(), EngineError> {
    let graph = graph_data::graph_state(&mut *conn, graph_id)
        .await?
        .ok_or_else(|| EngineError::Failed("the graph does not exist".to_owned()))?;
    match op {
        Operation::Upgrade { version } => {
            let wanted = Version::parse(version)
                .ok_or_else(|| EngineError::Failed(format!("{version:?} is not a version")))?;
            let current = Version::parse(&graph.data_store_version);
            if current.is_some_and(|current| wanted < current) {
                return Err(EngineError::Failed(format!(
                    "cannot upgrade from version {} to the lower version {version}",
                    graph.data_store_version
                )));
            }
        }
        Operation::Start {
            backup_id: Some(backup_id),
        }
        | Operation::Backup { backup_id } => {
            let backup = graph_data::backup_state(&mut *conn, *backup_id)
                .await?
                .filter(|b| b.graph_id == graph_id)
                .ok_or_else(|| {
                    EngineError::Failed(format!("backup {backup_id} of this graph does not exist"))
                })?;
            let expected = if matches!(op, Operation::Backup { .. }) {
                BackupStatus::BackingUp
            } else {
                BackupStatus::Success
            };
            if backup.status != expected {
                return Err(EngineError::Failed(format!(
                    "backup {backup_id} is {} (it must be {})",
                    backup.status.as_str(),
                    expected.as_str()
                )));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The final data effects of `op`, inside the job's fenced transaction.
async fn apply(conn: &mut PgConnection, graph_id: Uuid, op: &Operation) -> Result<(), EngineError> {
    match op {
        Operation::Create | Operation::Restart | Operation::Start { backup_id: None } => {
            graph_data::set_loaded(&mut *conn, graph_id, true).await?;
        }
        Operation::Start {
            backup_id: Some(backup_id),
        } => {
            graph_data::restore_backup(&mut *conn, graph_id, *backup_id).await?;
            graph_data::set_loaded(&mut *conn, graph_id, true).await?;
        }
        Operation::Stop => graph_data::set_loaded(&mut *conn, graph_id, false).await?,
        Operation::Delete { keep_backup } => {
            graph_data::delete_data(&mut *conn, graph_id).await?;
            if !keep_backup {
                graph_data::delete_backups(&mut *conn, graph_id).await?;
            }
            graph_data::set_loaded(&mut *conn, graph_id, false).await?;
        }
        Operation::Clear { clear_metadata } => {
            graph_data::delete_data(&mut *conn, graph_id).await?;
            if *clear_metadata {
                graph_data::clear_schema(&mut *conn, graph_id).await?;
            }
        }
        Operation::Upgrade { version } => {
            graph_data::set_data_store_version(&mut *conn, graph_id, version).await?;
        }
        Operation::Resize {
            graph_size_type_index,
        } => graph_data::set_size_type(&mut *conn, graph_id, *graph_size_type_index).await?,
        Operation::Expand { replication } => {
            graph_data::set_replication(&mut *conn, graph_id, *replication).await?;
        }
        Operation::Backup { backup_id } => {
            let size = graph_data::copy_into_backup(&mut *conn, graph_id, *backup_id).await?;
            tracing::info!(%graph_id, %backup_id, size, "backup taken");
        }
        Operation::Import { .. }
        | Operation::Export { .. }
        | Operation::ExportBackup { .. }
        | Operation::ImportBackup { .. } => {
            return Err(EngineError::Failed(
                "internal error (a transfer reached the step engine)".to_owned(),
            ));
        }
    }
    Ok(())
}
