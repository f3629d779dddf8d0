//! Database plumbing: where the database is (configured, or a private one started here),
//! migrations (refinery, on their own tokio-postgres connection), and the sqlx pool.

pub mod embedded;
pub mod local;
pub mod pools;
pub mod replicas;
pub mod routed;

pub use local::LocalPool;
pub use pools::PoolSet;
pub use replicas::ReplicaSet;
pub use routed::ReadPools;

use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::DatabaseSettings;
use embedded::{EmbeddedOptions, EmbeddedPostgres};

mod migrations {
    refinery::embed_migrations!("migrations");
}

/// The database the service uses, and the private server behind it if one was started.
pub struct Database {
    pub url: String,
    pub embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Uses `database.url`, or starts (or reuses) the private PostgreSQL when it is empty.
    pub async fn locate(settings: &DatabaseSettings) -> anyhow::Result<Database> {
        if !settings.url.expose_secret().is_empty() {
            return Ok(Database {
                url: configured_url(settings)?,
                embedded: None,
            });
        }
        let opts = EmbeddedOptions {
            data_dir: settings.embedded.data_dir.clone(),
            port: settings.embedded.port,
            fast_unsafe: false,
        };
        let server = EmbeddedPostgres::start(&opts)
            .await
            .context("database.url is empty, so a private PostgreSQL was to be started")?;
        let url = server.url("postgres");
        Ok(Database {
            url,
            embedded: Some(server),
        })
    }

    /// Stops the private server if this process started it.
    pub async fn shutdown(self) {
        if let Some(server) = self.embedded
            && let Err(err) = server.stop().await
        {
            tracing::warn!(error = %err, "stopping the private PostgreSQL failed");
        }
    }
}

/// `database.url` with the password of `database.password` or `database.password_file`
/// when one is set (errors name the key). The same URL serves refinery's tokio-postgres
/// connection and the sqlx pool.
pub fn configured_url(settings: &DatabaseSettings) -> anyhow::Result<String> {
    with_configured_password(settings.url.expose_secret(), "database.url", settings)
}

/// `database.replica_urls`, each with the password of `database.password` or
/// `database.password_file` when one is set.
pub fn configured_replica_urls(settings: &DatabaseSettings) -> anyhow::Result<Vec<String>> {
    let urls = settings.replica_urls.iter().enumerate();
    urls.map(|(i, url)| {
        let key = format!("database.replica_urls[{i}]");
        with_configured_password(url.expose_secret(), &key, settings)
    })
    .collect()
}

/// `url` (the value of `url_key`) with the configured password, if one is.
fn with_configured_password(
    url: &str,
    url_key: &str,
    settings: &DatabaseSettings,
) -> anyhow::Result<String> {
    let password = if !settings.password_file.is_empty() {
        let raw = std::fs::read_to_string(&settings.password_file).map_err(|e| {
            anyhow::anyhow!(
                "database.password_file: cannot read {:?}: {e}",
                settings.password_file
            )
        })?;
        let password = raw
            .strip_suffix('\n')
            .map(|p| p.strip_suffix('\r').unwrap_or(p))
            .unwrap_or(&raw);
        if password.is_empty() {
            anyhow::bail!(
                "database.password_file: {:?} is empty",
                settings.password_file
            );
        }
        Some((password.to_owned(), "database.password_file"))
    } else if !settings.password.expose_secret().is_empty() {
        Some((
            settings.password.expose_secret().to_owned(),
            "database.password",
        ))
    } else {
        None
    };
    match password {
        None => Ok(url.to_owned()),
        Some((password, key)) => with_password(url, &password)
            .map_err(|e| anyhow::anyhow!("{key}: cannot be applied to {url_key}: {e}")),
    }
}

/// `url` with `password`: in the authority, or as a `password` parameter when the URL has
/// no host (a Unix-socket URL such as `postgres:///db?host=/run/postgresql`).
fn with_password(url: &str, password: &str) -> anyhow::Result<String> {
    let mut parsed = url::Url::parse(url).context("not a URL")?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        anyhow::bail!("not a postgres:// URL");
    }
    if parsed.set_password(Some(password)).is_err() {
        let kept: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(k, _)| k != "password")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        parsed
            .query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("password", password);
    }
    Ok(parsed.into())
}

/// Applies pending migrations, retrying the connection with backoff for up to `patience`.
pub async fn migrate(url: &str, patience: Duration) -> anyhow::Result<()> {
    migrate_to(url, patience, None).await
}

/// [`migrate`] up to `version` only (all of them with `None`): the tests of a migration
/// start from the schema before it.
pub async fn migrate_to(url: &str, patience: Duration, version: Option<i32>) -> anyhow::Result<()> {
    let mut delay = Duration::from_millis(200);
    let deadline = tokio::time::Instant::now() + patience;
    let mut attempt = 0u32;
    let mut client = loop {
        match tokio_postgres::connect(url, tokio_postgres::NoTls).await {
            Ok((client, connection)) => {
                tokio::spawn(connection);
                break client;
            }
            Err(err) if tokio::time::Instant::now() + delay < deadline => {
                attempt += 1;
                tracing::warn!(
                    attempt,
                    error = %crate::telemetry::error_chain(&err),
                    retry_in = ?delay,
                    "waiting for the database: connection failed"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(err) => return Err(err).context("connecting to the database to migrate it"),
        }
    };
    let mut runner = migrations::migrations::runner();
    if let Some(version) = version {
        runner = runner.set_target(refinery::Target::Version(version));
    }
    let report = runner
        .run_async(&mut client)
        .await
        .context("applying migrations")?;
    for migration in report.applied_migrations() {
        tracing::info!(migration = %migration, "applied migration");
    }
    Ok(())
}

/// The newest migration version this build carries.
pub fn latest_migration() -> i64 {
    migrations::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

/// The session settings of every connection the service opens: no JIT compilation and no
/// parallel workers. The service's statements read and write a few rows each; a stale row
/// estimate (the delta table churns between autovacuum's statistics) once made PostgreSQL
/// spend 237 ms compiling a fold statement that then ran in 0.6 s (docs/scale.md); and on
/// the partitioned history a page of a narrow filter could be planned as a parallel sort of
/// every month's matches, where the ordered read of the months' indexes stops at the page.
pub fn session_options(options: PgConnectOptions) -> PgConnectOptions {
    options.options([("jit", "off"), ("max_parallel_workers_per_gather", "0")])
}

/// A pool that connects lazily and reconnects by itself after an outage; a request that
/// cannot get a connection within `acquire_timeout_secs` fails as "unavailable".
pub fn pool(url: &str, settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = url
        .parse()
        .context("database.url is not a PostgreSQL URL")?;
    let options = session_options(options);
    Ok(PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
        .connect_lazy_with(options))
}

/// Begins a claim's transaction: its commit does not wait for its WAL to reach the disk
/// (`synchronous_commit = off` for this transaction only), and its statements run generic
/// plans. Only for writes whose loss in a crash of PostgreSQL is harmless (see
/// [`crate::service::runs::claim`]); a later synchronous commit makes them durable with
/// it. A custom plan of the claim costs 3 to 8 ms of planning over a year of the history's
/// months (every month's queue index, and the UPDATE's every month), against 1 ms for the
/// claim itself; its generic plan is planned once per connection.
pub async fn begin_unflushed(
    pool: &PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    pool.begin_with(
        "BEGIN; SET LOCAL synchronous_commit = off; SET LOCAL plan_cache_mode = force_generic_plan",
    )
    .await
}

#[cfg(test)]
mod tests;
