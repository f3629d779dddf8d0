//! The command line: one binary, several subcommands.

pub mod pgbench;
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
use crate::metrics::server::serve as serve_metrics;
use crate::storage::Storage;
use crate::worker::Reporting;
use crate::worker::fold::FoldHandle;
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
    /// EXPLAIN every statement shape of the job list (and the job status, the claim and
    /// the fold) on this database; fails on a sequential scan or a sort of the jobs
    /// table, or a fold statement that reads its deltas twice.
    CheckPlans {
        /// Project whose statistics the plans use.
        #[arg(long)]
        project: String,
        /// The deep offset to explain beside offset 0.
        #[arg(long, default_value_t = 900_000)]
        deep_offset: i64,
    },
    /// Delete finished jobs older than `[retention]` allows (see --dry-run).
    Prune(prune::PruneArgs),
    /// Write the statement the service runs for a job list or job status request as a
    /// pgbench script; print its `-D` parameter arguments (used by scripts/bench).
    PgbenchScript(pgbench::PgbenchScriptArgs),
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
                let metrics_listener = crate::metrics::server::bind(&settings)?;
                with_database(&settings, move |url| async move {
                    run_worker(&url, &worker_settings, storage, metrics_listener).await
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
            Command::CheckPlans {
                project,
                deep_offset,
            } => {
                let project = ProjectId::parse(&project).context("--project")?;
                let db_settings = settings.database.clone();
                with_database(&settings, move |url| async move {
                    check_plans(&url, &db_settings, &project, deep_offset).await
                })
                .await
            }
            Command::PgbenchScript(args) => pgbench::run(&args),
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

/// Prints every bad plan of the list, status, claim and fold statements; an error when there
/// is one.
async fn check_plans(
    url: &str,
    db_settings: &crate::config::DatabaseSettings,
    project: &ProjectId,
    deep_offset: i64,
) -> anyhow::Result<()> {
    let pool = db::pool(url, db_settings)?;
    let mut conn = pool.acquire().await?;
    let mut checks = crate::store::plans::check_list_plans(&mut conn, project, deep_offset).await?;
    checks.extend(crate::store::plans::check_status_plans(&mut conn).await?);
    checks.extend(crate::store::plans::check_claim_plans(&mut conn).await?);
    checks.extend(crate::store::plans::check_fold_plans(&mut conn).await?);
    let bad: Vec<_> = checks.iter().filter(|c| c.problem.is_some()).collect();
    for check in &bad {
        println!(
            "{}: {}",
            check.shape,
            check.problem.as_deref().unwrap_or_default()
        );
    }
    anyhow::ensure!(
        bad.is_empty(),
        "{} of {} plans are bad",
        bad.len(),
        checks.len()
    );
    println!(
        "{} plans checked (16 filter shapes x 2 offsets x custom/generic, the job-status \
         statement, the claim custom/generic, the fold's five statements): no sequential \
         scan or sort of jobs, the claim's batch off the queue's index, and the fold's \
         deltas read once per statement",
        checks.len()
    );
    Ok(())
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

/// `jobcenter worker`: the pool alone (with the retention task, and its metrics when
/// enabled), until SIGTERM or SIGINT.
async fn run_worker(
    url: &str,
    settings: &Settings,
    storage: Storage,
    metrics_listener: Option<std::net::TcpListener>,
) -> anyhow::Result<()> {
    let cfg = &settings.worker;
    if cfg.concurrency == 0 {
        anyhow::bail!("worker.concurrency is 0: this worker would run nothing");
    }
    let pool = db::pool(url, &settings.database)?;
    let reporting = Reporting::new(cfg.concurrency);
    let metrics_server = match metrics_listener {
        Some(listener) => {
            let port = listener.local_addr()?.port();
            let pools = db::PoolSet::with(pool.clone());
            let server = serve_metrics(listener, reporting.metrics.clone(), pools)?;
            tracing::info!(metrics_port = port, "metrics listening");
            let handle = server.handle();
            tokio::spawn(server);
            Some(handle)
        }
        None => None,
    };
    let workers = crate::worker::start_builtin_with(pool.clone(), cfg, storage.clone(), reporting);
    let retention = RetentionHandle::start(pool.clone(), storage, &settings.retention);
    let fold_interval = Duration::from_millis(settings.counts.fold_interval_ms);
    let folder = FoldHandle::start(pool.clone(), fold_interval);
    let signal = crate::app::stop_signal().await;
    tracing::info!(signal, "stopping");
    tokio::join!(
        workers.shutdown(Duration::from_secs(cfg.shutdown_grace_secs)),
        retention.stop(),
        folder.stop()
    );
    if let Some(metrics_server) = metrics_server {
        metrics_server.stop(true).await;
    }
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
