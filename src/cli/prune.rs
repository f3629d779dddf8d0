//! `jobcenter prune`: the retention task once, on demand ([`crate::worker::retention`]).

use chrono::{DateTime, Utc};
use clap::Args;
use sqlx::PgPool;

use crate::config::RetentionSettings;
use crate::storage::Storage;
use crate::worker::retention::{self, Batch, Policy};

/// Options of `jobcenter prune`.
#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Print what would be deleted (count per status, oldest and newest end_time) and
    /// delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Keep finished jobs this many days, whatever their status (default: `[retention]`).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_age_days: Option<u32>,
    /// Jobs deleted per transaction (default: retention.batch_size).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: Option<u32>,
}

/// Runs `prune` against `pool`, printing to stdout.
pub async fn run(
    pool: &PgPool,
    storage: &Storage,
    cfg: &RetentionSettings,
    args: &PruneArgs,
) -> anyhow::Result<()> {
    let batch_size = args.batch_size.unwrap_or(cfg.batch_size);
    let now = Utc::now();
    let policy = match args.max_age_days {
        Some(days) => Policy::uniform(days, batch_size, now),
        None => Policy {
            batch_size,
            ..Policy::from_settings(cfg, now)
        },
    };
    if args.dry_run {
        let mut total = 0;
        for (status, found) in retention::dry_run(pool, &policy).await? {
            total += found.count;
            println!(
                "would delete {:>10} {:<16} ended {} .. {}",
                found.count,
                status.as_str(),
                time(found.oldest_end),
                time(found.newest_end)
            );
        }
        println!("total: {total} jobs would be deleted (dry run: nothing deleted)");
        return Ok(());
    }
    let print = |b: &Batch| {
        if let Some((month, took)) = b.month {
            println!(
                "deleted {:>6} {:<16} with the month of {} (dropped whole in {:.3} s), {} reject logs",
                b.jobs,
                b.status.as_str(),
                month.format("%Y-%m"),
                took.as_secs_f64(),
                b.logs_deleted
            );
            return;
        }
        println!(
            "deleted {:>6} {:<16} ended {} .. {}, {} reject logs",
            b.jobs,
            b.status.as_str(),
            time(b.oldest_end),
            time(b.newest_end),
            b.logs_deleted
        );
    };
    let total = retention::prune(pool, storage, &policy, None, print).await?;
    println!("total: {total} jobs deleted");
    Ok(())
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "-".to_owned(), |t| t.to_rfc3339())
}
