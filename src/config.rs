//! Configuration: `config/default.toml` (compiled in, so the binary runs from anywhere),
//! then `config/<JOBCENTER_ENV>.toml` when present, then environment variables
//! `JOBCENTER__<SECTION>__<KEY>`. Every key has a default; a bad value fails start-up with
//! a message naming the key.
//!
//! Policy: the defaults are a developer's (a private PostgreSQL, a secret file created on
//! first use); `server.mode = "production"` (or `JOBCENTER_ENV=production`) refuses to
//! start without a database URL and a configured JWT secret or key. Secrets (the database
//! URL and password, the JWT secret, the S3 secret key) are [`SecretString`]s: `Debug`
//! and logs never show them.

use std::path::PathBuf;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../config/default.toml");

/// All settings of the service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub log: LogSettings,
    pub storage: crate::storage::StorageSettings,
    pub worker: WorkerSettings,
    pub metrics: MetricsSettings,
    pub retention: RetentionSettings,
    pub counts: CountsSettings,
    pub events: EventsSettings,
}

/// Where the HTTP API listens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Seconds a stopping server waits for requests in flight.
    pub shutdown_timeout_secs: u64,
    /// HTTP worker threads; 0: one per CPU core.
    pub workers: usize,
    /// `development` (the defaults may start a private database and create a secret) or
    /// `production` (every such setting must be given).
    pub mode: ServerMode,
}

/// What the defaults may do for a missing setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerMode {
    Development,
    Production,
}

/// The PostgreSQL database, or the private one started when `url` is empty.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// May carry a password.
    pub url: SecretString,
    /// Replaces the URL's password when not empty.
    pub password: SecretString,
    /// A file whose content (one trailing newline dropped) replaces the URL's password.
    pub password_file: String,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
    /// Streaming replicas of `url` for the job list and job status (may carry passwords;
    /// `password`/`password_file` apply to them too).
    pub replica_urls: Vec<SecretString>,
    /// A replica further behind the primary than this is not read from.
    pub max_replica_lag_ms: u64,
    pub embedded: EmbeddedSettings,
}

/// The private PostgreSQL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedSettings {
    pub data_dir: PathBuf,
    pub port: u16,
}

/// How `X-Auth-Token` is verified.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub jwt_secret: SecretString,
    pub jwt_secret_file: PathBuf,
    pub algorithm: String,
    pub public_key_file: String,
    pub issuer: String,
    pub audience: String,
    /// Seconds of clock skew allowed when checking `exp` and `nbf`.
    pub leeway_secs: u64,
}

/// Where Prometheus scrapes `GET /metrics` (a listener of its own, not the API's).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    pub enabled: bool,
    /// Empty: the API's `server.host`.
    pub host: String,
    pub port: u16,
}

impl MetricsSettings {
    /// The address the metrics listener binds, given the API's host.
    pub fn address(&self, server_host: &str) -> String {
        let host = if self.host.is_empty() {
            server_host
        } else {
            &self.host
        };
        format!("{host}:{}", self.port)
    }
}

/// Log output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

/// The worker pool that runs queued jobs (in `serve` and `worker`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    pub concurrency: usize,
    pub lease_secs: u64,
    pub poll_interval_ms: u64,
    pub shutdown_grace_secs: u64,
    pub step_delay_ms: u64,
}

/// `[counts]`: the job list's count store (see [`crate::worker::fold`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountsSettings {
    /// Milliseconds between two folds of the count deltas.
    pub fold_interval_ms: u64,
}

/// `[events]`: the live job events of `GET /v2/{project_id}/graphs/jobs/events`
/// (see [`crate::events`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsSettings {
    /// Streams one token may hold open at once.
    pub max_streams_per_token: usize,
    /// Seconds between two heartbeat comments of a stream.
    pub heartbeat_secs: u64,
    /// Milliseconds between two reads of a watched project's unfinished jobs.
    pub poll_interval_ms: u64,
}

/// `[retention]`: how long finished jobs are kept (see [`crate::store::retention`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    pub enabled: bool,
    pub max_age_days: u32,
    pub success_days: u32,
    pub partially_failed_days: u32,
    pub failed_days: u32,
    pub batch_size: u32,
    pub interval_secs: u64,
}

impl RetentionSettings {
    /// Days a job that ended with `status` is kept: its own setting, else `max_age_days`.
    pub fn days_for(&self, status: crate::domain::JobStatus) -> u32 {
        use crate::domain::JobStatus;
        let own = match status {
            JobStatus::Success => self.success_days,
            JobStatus::PartiallyFailed => self.partially_failed_days,
            JobStatus::Failed => self.failed_days,
            JobStatus::Pending | JobStatus::Running => 0,
        };
        if own == 0 { self.max_age_days } else { own }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The `JOBCENTER__<SECTION>__<KEY>` variables; `database.replica_urls` is a
/// comma-separated list there.
fn environment() -> config::Environment {
    config::Environment::with_prefix("JOBCENTER")
        .prefix_separator("__")
        .separator("__")
        .try_parsing(true)
        .list_separator(",")
        .with_list_parse_key("database.replica_urls")
}

impl Settings {
    /// Reads the layered configuration from the current directory's `config/` and the
    /// process environment.
    pub fn load() -> anyhow::Result<Settings> {
        let env = std::env::var("JOBCENTER_ENV").unwrap_or_else(|_| "local".into());

        let dir = std::env::var("JOBCENTER_CONFIG_DIR").unwrap_or_else(|_| "config".into());
        let builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .add_source(config::File::with_name(&format!("{dir}/{env}")).required(false))
            .add_source(environment())
            .set_override_option("server.mode", (env == "production").then_some("production"))
            .context("reading configuration")?;
        Self::from_config(builder.build().context("reading configuration")?)
    }

    /// The compiled-in defaults alone (tests start from these).
    pub fn defaults() -> anyhow::Result<Settings> {
        let cfg = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()?;
        Self::from_config(cfg)
    }

    fn from_config(cfg: config::Config) -> anyhow::Result<Settings> {
        let settings: Settings = cfg
            .try_deserialize()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let bad =
            |key: &str, why: &str| Err(anyhow::anyhow!("invalid configuration: {key}: {why}"));
        if !matches!(self.auth.algorithm.as_str(), "HS256" | "RS256" | "ES256") {
            return bad("auth.algorithm", "must be HS256, RS256 or ES256");
        }
        if self.auth.algorithm != "HS256" && self.auth.public_key_file.is_empty() {
            return bad(
                "auth.public_key_file",
                "required when auth.algorithm is RS256 or ES256",
            );
        }
        if self.database.max_connections == 0 {
            return bad("database.max_connections", "must be at least 1");
        }
        if self.database.acquire_timeout_secs == 0 {
            return bad("database.acquire_timeout_secs", "must be at least 1");
        }
        if self.database.max_replica_lag_ms == 0 {
            return bad("database.max_replica_lag_ms", "must be at least 1");
        }
        if self.database.replica_urls.iter().any(|url| {
            let url = url.expose_secret();
            !url.starts_with("postgres://") && !url.starts_with("postgresql://")
        }) {
            return bad(
                "database.replica_urls",
                "every entry must be a postgres:// URL",
            );
        }
        if self.worker.lease_secs == 0 {
            return bad("worker.lease_secs", "must be at least 1");
        }
        if self.worker.poll_interval_ms < 10 {
            return bad("worker.poll_interval_ms", "must be at least 10");
        }
        if !self.database.password.expose_secret().is_empty()
            && !self.database.password_file.is_empty()
        {
            return bad(
                "database.password_file",
                "set either database.password or database.password_file, not both",
            );
        }
        if self.counts.fold_interval_ms == 0 {
            return bad("counts.fold_interval_ms", "must be at least 1");
        }
        if self.events.max_streams_per_token == 0 {
            return bad("events.max_streams_per_token", "must be at least 1");
        }
        if self.events.heartbeat_secs == 0 {
            return bad("events.heartbeat_secs", "must be at least 1");
        }
        if self.events.poll_interval_ms < 50 {
            return bad("events.poll_interval_ms", "must be at least 50");
        }
        if self.retention.max_age_days == 0 {
            return bad("retention.max_age_days", "must be at least 1");
        }
        if self.retention.batch_size == 0 {
            return bad("retention.batch_size", "must be at least 1");
        }
        if self.retention.interval_secs == 0 {
            return bad("retention.interval_secs", "must be at least 1");
        }
        if self.server.mode == ServerMode::Production {
            self.validate_production()?;
        }
        Ok(())
    }

    /// Production: no private database, no secret file made up on first use.
    fn validate_production(&self) -> anyhow::Result<()> {
        let missing = |key: &str, why: &str| {
            Err(anyhow::anyhow!(
                "invalid configuration: {key}: required when server.mode is production ({why})"
            ))
        };
        if self.database.url.expose_secret().is_empty() {
            return missing(
                "database.url",
                "an empty URL starts a private development database",
            );
        }
        let auth = &self.auth;
        if auth.algorithm == "HS256"
            && auth.jwt_secret.expose_secret().is_empty()
            && !auth.jwt_secret_file.is_file()
        {
            return missing(
                "auth.jwt_secret",
                "or an existing auth.jwt_secret_file, or auth.public_key_file with RS256/ES256; \
                 no secret file is created",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(overrides: &str) -> anyhow::Result<Settings> {
        let cfg = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .add_source(config::File::from_str(overrides, config::FileFormat::Toml))
            .build()?;
        Settings::from_config(cfg)
    }

    #[test]
    fn defaults_load() {
        let settings = Settings::defaults().unwrap();
        assert_eq!(settings.server.port, 8080);
        assert!(settings.database.url.expose_secret().is_empty());
        assert_eq!(settings.server.mode, ServerMode::Development);
        assert_eq!(settings.log.format, LogFormat::Text);
        assert!(settings.metrics.enabled);
        assert_eq!(settings.metrics.port, 9090);
        assert_eq!(settings.metrics.address("127.0.0.1"), "127.0.0.1:9090");
        assert_eq!(settings.server.shutdown_timeout_secs, 30);
        assert!(settings.database.password.expose_secret().is_empty());
        assert!(settings.database.password_file.is_empty());
        assert!(settings.database.replica_urls.is_empty());
        assert_eq!(settings.database.max_replica_lag_ms, 1000);
        let retention = &settings.retention;
        assert!(retention.enabled);
        assert_eq!(
            (
                retention.max_age_days,
                retention.batch_size,
                retention.interval_secs
            ),
            (180, 1000, 3600)
        );
    }

    #[test]
    fn production_needs_a_database_and_a_secret_and_names_them() {
        let err = with("[server]\nmode = \"production\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("database.url"), "{err}");
        let err = with("[server]\nmode = \"production\"\n[database]\nurl = \"postgres://db/x\"\n[auth]\njwt_secret_file = \"/nonexistent/secret\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("auth.jwt_secret"), "{err}");
        let ok = with(
            "[server]\nmode = \"production\"\n[database]\nurl = \"postgres://db/x\"\n[auth]\njwt_secret = \"0123456789abcdef0\"",
        );
        assert!(ok.is_ok(), "{ok:?}");
        assert!(
            with("[server]\nmode = \"staging\"")
                .unwrap_err()
                .to_string()
                .contains("server.mode")
        );
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let settings = with("[database]\nurl = \"postgres://u:hunter2@db/x\"\npassword = \"pw-secret-1\"\n[auth]\njwt_secret = \"jwt-secret-0123456789\"\n[storage.s3]\nsecret_access_key = \"s3-secret-key\"").unwrap();
        let shown = format!("{settings:?}");
        for secret in [
            "hunter2",
            "pw-secret-1",
            "jwt-secret-0123456789",
            "s3-secret-key",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[test]
    fn event_settings_default_and_name_their_key_when_bad() {
        let events = Settings::defaults().unwrap().events;
        assert_eq!(
            (
                events.max_streams_per_token,
                events.heartbeat_secs,
                events.poll_interval_ms
            ),
            (4, 15, 1000)
        );
        for (bad, key) in [
            ("max_streams_per_token = 0", "events.max_streams_per_token"),
            ("heartbeat_secs = 0", "events.heartbeat_secs"),
            ("poll_interval_ms = 10", "events.poll_interval_ms"),
        ] {
            let err = with(&format!("[events]\n{bad}")).unwrap_err().to_string();
            assert!(err.contains(key), "{err}");
        }
    }

    #[test]
    fn metrics_host_overrides_the_server_host() {
        let settings = with("[metrics]\nhost = \"0.0.0.0\"\nport = 0").unwrap();
        assert_eq!(settings.metrics.address("127.0.0.1"), "0.0.0.0:0");
    }

    #[test]
    fn retention_days_fall_back_to_max_age() {
        use crate::domain::JobStatus;
        let settings = with("[retention]\nmax_age_days = 30\nfailed_days = 90").unwrap();
        let retention = &settings.retention;
        assert_eq!(retention.days_for(JobStatus::Failed), 90);
        assert_eq!(retention.days_for(JobStatus::Success), 30);
        assert_eq!(retention.days_for(JobStatus::PartiallyFailed), 30);
    }

    #[test]
    fn password_file_and_replicas_come_from_the_environment() {
        let cfg = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .add_source(
                environment().source(Some(
                    [
                        ("JOBCENTER__DATABASE__PASSWORD_FILE", "/run/secrets/db"),
                        (
                            "JOBCENTER__DATABASE__REPLICA_URLS",
                            "postgres://r1/jc,postgres://r2/jc",
                        ),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
                )),
            )
            .build()
            .unwrap();
        let settings = Settings::from_config(cfg).unwrap();
        assert_eq!(settings.database.password_file, "/run/secrets/db");
        let replicas: Vec<&str> = settings
            .database
            .replica_urls
            .iter()
            .map(|url| url.expose_secret())
            .collect();
        assert_eq!(replicas, ["postgres://r1/jc", "postgres://r2/jc"]);
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            ("[server]\nport = \"x\"", "server.port"),
            ("[server]\nprot = 1", "prot"),
            ("[log]\nformat = \"xml\"", "log.format"),
            ("[metrics]\nport = \"x\"", "metrics.port"),
            ("[auth]\nalgorithm = \"none\"", "auth.algorithm"),
            ("[auth]\nalgorithm = \"RS256\"", "auth.public_key_file"),
            (
                "[database]\nmax_connections = 0",
                "database.max_connections",
            ),
            (
                "[database]\npassword = \"a\"\npassword_file = \"/run/secrets/pw\"",
                "database.password_file",
            ),
            ("[retention]\nbatch_size = 0", "retention.batch_size"),
            (
                "[database]\nreplica_urls = [\"mysql://x\"]",
                "database.replica_urls",
            ),
            (
                "[database]\nmax_replica_lag_ms = 0",
                "database.max_replica_lag_ms",
            ),
            ("[retention]\nmax_age_days = 0", "retention.max_age_days"),
            ("[retention]\nenabled = \"maybe\"", "retention.enabled"),
            (
                "[server]\nshutdown_timeout_secs = -1",
                "server.shutdown_timeout_secs",
            ),
        ];
        for (toml, key) in cases {
            let err = with(toml).unwrap_err().to_string();
            assert!(err.contains(key), "{toml}: {err}");
        }
    }
}
