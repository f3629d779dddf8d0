//! The S3-compatible backend: one client per bucket, made on first use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;

use super::{S3Settings, StorageError};

/// Clients by bucket name.
#[derive(Debug)]
pub struct Buckets {
    settings: S3Settings,
    clients: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl Buckets {
    /// Checks the settings; clients are made per bucket later.
    pub fn new(settings: &S3Settings) -> anyhow::Result<Buckets> {
        if settings.endpoint.is_empty() {
            anyhow::bail!("storage.s3.endpoint: required when storage.backend is \"s3\"");
        }
        Ok(Buckets {
            settings: settings.clone(),
            clients: Mutex::new(HashMap::new()),
        })
    }

    /// The client of `bucket`.
    pub fn bucket(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = clients.get(bucket) {
            return Ok(client.clone());
        }
        let s = &self.settings;
        let client: Arc<dyn ObjectStore> = Arc::new(
            AmazonS3Builder::new()
                .with_endpoint(&s.endpoint)
                .with_region(&s.region)
                .with_access_key_id(&s.access_key_id)
                .with_secret_access_key(secrecy::ExposeSecret::expose_secret(&s.secret_access_key))
                .with_allow_http(s.allow_http)
                .with_bucket_name(bucket)
                .build()
                .map_err(|e| StorageError::of(bucket, e))?,
        );
        clients.insert(bucket.to_owned(), client.clone());
        Ok(client)
    }
}
