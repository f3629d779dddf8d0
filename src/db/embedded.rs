//! Stub until the real module lands.
use std::path::PathBuf;
pub struct EmbeddedOptions {
    pub data_dir: PathBuf,
    pub port: u16,
    pub fast_unsafe: bool,
}
pub struct EmbeddedPostgres {
    port: u16,
}
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("stub")]
    Stub,
}
impl EmbeddedPostgres {
    pub async fn start(_opts: &EmbeddedOptions) -> Result<EmbeddedPostgres, EmbeddedError> {
        Err(EmbeddedError::Stub)
    }
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    pub async fn stop(self) -> Result<(), EmbeddedError> {
        Ok(())
    }
}
