//! The command line: one binary, several subcommands.

pub mod prune;
pub mod seed;

use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::Application;
use crate::auth::{Role, TokenKeys};
use crate::config::Settings;
use crate::db::{self, Database};
use crate::domain::ProjectId;
use crate::storage::Storage;
use crate::worker::retention::RetentionHandle;

/// The job center of the graph database management plane.
#[derive(Debug, Parser)]
#[command(name = "jobcenter", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API and run queued jobs (migrations are applied first).
    Serve,
    /// Run queued jobs only (no HTTP); stops gracefully on SIGTERM/SIGINT.
    Worker,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print a signed token for the X-Auth-Token header.
    Token {
        /// Project the token is valid for.
        #[arg(long)]
        project: String,
        /// Role(s) to grant: readonly, operator, producer (repeatable; default readonly).
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Lifetime, e.g. 90s, 15m, 24h.
        #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
        ttl: Duration,
        /// The token's subject (who it is for).
        #[arg(long, default_value = "cli")]
        subject: String,
    },
    /// Fill the store with realistic, deterministic jobs.
    Seed(seed::SeedArgs),
    /// Delete finished jobs older than `[retention]` allows (see --dry-run).
    Prune(prune::PruneArgs),
}

impl Cli {
    /// Runs the chosen subcommand with the loaded settings.
    pub async fn run(self, settings: Settings) -> anyhow::Result<()> {
        match self.command {
            Command::Serve => {
                Application::build(&settings)
                    .await?
                    .run_until_stopped()
                    .await
            }
            Command::Worker => {
                let worker_settings = settings.clone();
                let storage = Storage::from_settings(&settings.storage)?;
                with_database(&settings, move |url| async move {
                    run_worker(&url, &worker_settings, storage).await
                })
                .await
            }
            Command::Migrate => with_database(&settings, |_| async { Ok(()) }).await,
            Command::Token {
                project,
                roles,
                ttl,
                subject,
            } => {
                let token = mint_token(&settings, &project, &roles, ttl, &subject)?;
                println!("{token}");
                Ok(())
            }
            Command::Seed(args) => {
                let db_settings = settings.database.clone();
                with_database(&settings, move |url| async move {
                    let pool = db::pool(&url, &db_settings)?;
                    seed::run(&pool, &args).await
                })
                .await
            }
            Command::Prune(args) => {
                let db_settings = settings.database.clone();
                let retention = settings.retention.clone();
                let storage = Storage::from_settings(&settings.storage)?;
                with_database(&settings, move |url| async move {
                    let pool = db::pool(&url, &db_settings)?;
                    prune::run(&pool, &storage, &retention, &args).await
                })
                .await
            }
        }
    }
}

/// Locates and migrates the database, runs `work` with its URL, then stops a private server.
async fn with_database<F, Fut>(settings: &Settings, work: F) -> anyhow::Result<()>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let database = Database::locate(&settings.database).await?;
    let result = async {
        db::migrate(&database.url, Duration::from_secs(60)).await?;
        work(database.url.clone()).await
    }
    .await;
    database.shutdown().await;
    result
}

/// `jobcenter worker`: the pool alone (with the retention task), until SIGTERM or SIGINT.
async fn run_worker(url: &str, settings: &Settings, storage: Storage) -> anyhow::Result<()> {
    let cfg = &settings.worker;
    if cfg.concurrency == 0 {
        anyhow::bail!("worker.concurrency is 0: this worker would run nothing");
    }
    let pool = db::pool(url, &settings.database)?;
    let workers = crate::worker::start_builtin(pool.clone(), cfg, storage.clone());
    let retention = RetentionHandle::start(pool.clone(), storage, &settings.retention);
    let signal = crate::app::stop_signal().await;
    tracing::info!(signal, "stopping");
    tokio::join!(
        workers.shutdown(Duration::from_secs(cfg.shutdown_grace_secs)),
        retention.stop()
    );
    pool.close().await;
    Ok(())
}

fn mint_token(
    settings: &Settings,
    project: &str,
    roles: &[String],
    ttl: Duration,
    subject: &str,
) -> anyhow::Result<String> {
    ProjectId::parse(project).context("--project")?;
    let roles: Vec<&str> = if roles.is_empty() {
        vec!["readonly"]
    } else {
        roles.iter().map(String::as_str).collect()
    };
    if let Some(unknown) = roles.iter().find(|r| Role::parse(r).is_none()) {
        anyhow::bail!("--role: unknown role {unknown:?} (readonly, operator, producer)");
    }
    TokenKeys::from_settings(&settings.auth)?.issue(subject, project, &roles, ttl)
}
