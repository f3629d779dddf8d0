//! Configuration: `config/default.toml` (compiled in, so the binary runs from anywhere),
//! then `config/<JOBCENTER_ENV>.toml` when present, then environment variables
//! `JOBCENTER__<SECTION>__<KEY>`. Every key has a default; a bad value fails start-up with
//! a message naming the key.

use std::path::PathBuf;

use anyhow::Context;
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
}

/// Where the HTTP API listens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
}

/// The PostgreSQL database, or the private one started when `url` is empty.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
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
    pub jwt_secret: String,
    pub jwt_secret_file: PathBuf,
    pub algorithm: String,
    pub public_key_file: String,
    pub issuer: String,
    pub audience: String,
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

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
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
            .add_source(
                config::Environment::with_prefix("JOBCENTER")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            );
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
        if self.worker.lease_secs == 0 {
            return bad("worker.lease_secs", "must be at least 1");
        }
        if self.worker.poll_interval_ms < 10 {
            return bad("worker.poll_interval_ms", "must be at least 10");
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
        assert!(settings.database.url.is_empty());
        assert_eq!(settings.log.format, LogFormat::Text);
        assert!(settings.metrics.enabled);
        assert_eq!(settings.metrics.port, 9090);
        assert_eq!(settings.metrics.address("127.0.0.1"), "127.0.0.1:9090");
    }

    #[test]
    fn metrics_host_overrides_the_server_host() {
        let settings = with("[metrics]\nhost = \"0.0.0.0\"\nport = 0").unwrap();
        assert_eq!(settings.metrics.address("127.0.0.1"), "0.0.0.0:0");
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
        ];
        for (toml, key) in cases {
            let err = with(toml).unwrap_err().to_string();
            assert!(err.contains(key), "{toml}: {err}");
        }
    }
}
