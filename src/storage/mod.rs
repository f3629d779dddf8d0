//! Object storage: paths like `bucket/dir/file.csv` in a local directory (default) or an
//! S3-compatible endpoint (feature `s3`).
//!
//! Policy: paths arrive checked ([`ObjectPath`], the spec's rule); on the local backend the
//! resolved file (links followed) must still lie under the storage root.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::Deserialize;

pub use crate::domain::ObjectPath;
use crate::domain::path::BadPath;

/// `[storage]` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    /// `local` or `s3`.
    pub backend: String,
    /// Local backend: the directory holding the buckets.
    pub root: PathBuf,
    /// S3 backend.
    pub s3: S3Settings,
}

/// `[storage.s3]`: an S3-compatible endpoint (OBS, MinIO, S3).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Settings {
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: secrecy::SecretString,
    pub allow_http: bool,
}

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Bad characters, or a path that would leave the storage area (`GES.7011`).
    #[error("{0} is not a valid object path")]
    BadPath(String),
    /// Nothing at that path (`GES.7017`).
    #[error("{0} does not exist")]
    NotFound(String),
    /// The store failed.
    #[error("object storage failed")]
    Backend(#[from] object_store::Error),
    /// Local I/O failed.
    #[error("object storage I/O failed")]
    Io(#[from] std::io::Error),
}

impl From<BadPath> for StorageError {
    fn from(err: BadPath) -> Self {
        StorageError::BadPath(err.0)
    }
}

fn store_path(path: &ObjectPath) -> StorePath {
    StorePath::from(path.as_str())
}

/// The object store the service reads imports from and writes exports and logs to.
#[derive(Debug, Clone)]
pub struct Storage {
    backend: Backend,
    /// The canonical root of the local backend.
    local_root: Option<PathBuf>,
}

#[derive(Debug, Clone)]
enum Backend {
    /// One store; object paths are paths under its root.
    Local(Arc<dyn ObjectStore>),
    /// A store per bucket, made on first use.
    #[cfg(feature = "s3")]
    S3(Arc<s3::Buckets>),
}

impl Storage {
    /// Opens the configured backend (the local root is created if missing).
    pub fn from_settings(settings: &StorageSettings) -> anyhow::Result<Storage> {
        match settings.backend.as_str() {
            "local" => Storage::local(&settings.root),
            #[cfg(feature = "s3")]
            "s3" => Ok(Storage {
                backend: Backend::S3(Arc::new(s3::Buckets::new(&settings.s3)?)),
                local_root: None,
            }),
            #[cfg(not(feature = "s3"))]
            "s3" => anyhow::bail!(
                "storage.backend: this build has no S3 support (build with --features s3)"
            ),
            other => anyhow::bail!("storage.backend: unsupported {other:?} (local or s3)"),
        }
    }

    /// A local directory as the store.
    pub fn local(root: &Path) -> anyhow::Result<Storage> {
        std::fs::create_dir_all(root)
            .map_err(|e| anyhow::anyhow!("storage.root: cannot create {root:?}: {e}"))?;
        let root = std::fs::canonicalize(root)?;
        let store = LocalFileSystem::new_with_prefix(&root)?;
        Ok(Storage {
            backend: Backend::Local(Arc::new(store)),
            local_root: Some(root),
        })
    }

    /// The files a path names: itself if it is a file, else every file under it in name
    /// order. Nothing there is `NotFound`.
    pub async fn resolve(&self, path: &ObjectPath) -> Result<Vec<ObjectPath>, StorageError> {
        let (store, location) = self.locate(path)?;
        match store.head(&location).await {
            Ok(_) => return Ok(vec![path.clone()]),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(err) => return Err(err.into()),
        }
        let metas: Vec<_> = store.list(Some(&location)).try_collect().await?;
        let mut files = Vec::with_capacity(metas.len());
        for meta in metas {
            let file = self.listed(path, meta.location.as_ref())?;
            self.check_local(&file)?;
            files.push(file);
        }
        if files.is_empty() {
            return Err(StorageError::NotFound(path.to_string()));
        }
        files.sort();
        Ok(files)
    }

    /// The size of one object in bytes.
    pub async fn size(&self, path: &ObjectPath) -> Result<u64, StorageError> {
        let (store, location) = self.locate(path)?;
        Ok(store.head(&location).await.map_err(not_found(path))?.size)
    }

    /// A blocking reader of one object, for a `spawn_blocking` task (memory stays bounded).
    pub async fn reader(
        &self,
        path: &ObjectPath,
    ) -> Result<impl std::io::Read + Send + 'static, StorageError> {
        let (store, location) = self.locate(path)?;
        let stream = store
            .get(&location)
            .await
            .map_err(not_found(path))?
            .into_stream();
        let reader = tokio_util::io::StreamReader::new(stream.map_err(std::io::Error::other));
        Ok(tokio_util::io::SyncIoBridge::new(reader))
    }

    /// Writes a whole object from bytes.
    pub async fn put(&self, path: &ObjectPath, bytes: Vec<u8>) -> Result<(), StorageError> {
        let (store, location) = self.locate(path)?;
        store.put(&location, PutPayload::from(bytes)).await?;
        Ok(())
    }

    /// Deletes one object; an object that is not there is not an error.
    pub async fn delete(&self, path: &ObjectPath) -> Result<(), StorageError> {
        let (store, location) = self.locate(path)?;
        match store.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Uploads a local file as an object, streaming it in parts.
    pub async fn upload(&self, file: &Path, path: &ObjectPath) -> Result<(), StorageError> {
        use tokio::io::AsyncWriteExt;
        let (store, location) = self.locate(path)?;
        let mut source = tokio::fs::File::open(file).await?;
        let mut sink = object_store::buffered::BufWriter::new(store, location);
        tokio::io::copy(&mut source, &mut sink).await?;
        sink.shutdown().await?;
        Ok(())
    }

    /// The store holding a checked `path`, and the location in it.
    fn locate(&self, path: &ObjectPath) -> Result<(Arc<dyn ObjectStore>, StorePath), StorageError> {
        self.check_local(path)?;
        match &self.backend {
            Backend::Local(store) => Ok((store.clone(), store_path(path))),
            #[cfg(feature = "s3")]
            Backend::S3(buckets) => {
                let (bucket, key) = path.bucket_and_key();
                Ok((buckets.bucket(bucket)?, StorePath::from(key)))
            }
        }
    }

    /// The object path of a location listed under `under`'s store.
    fn listed(&self, under: &ObjectPath, location: &str) -> Result<ObjectPath, StorageError> {
        match &self.backend {
            Backend::Local(_) => {
                let _ = under;
                Ok(ObjectPath::parse(location)?)
            }
            #[cfg(feature = "s3")]
            Backend::S3(_) => Ok(ObjectPath::parse(&format!(
                "{}/{location}",
                under.bucket_and_key().0
            ))?),
        }
    }

    /// Local backend: the path, links followed as far as they exist, stays under the root.
    fn check_local(&self, path: &ObjectPath) -> Result<(), StorageError> {
        let Some(root) = &self.local_root else {
            return Ok(());
        };
        let mut existing = root.join(path.as_str());
        while !existing.exists() {
            match existing.parent() {
                Some(parent) if parent.starts_with(root) => existing = parent.to_path_buf(),
                _ => return Ok(()),
            }
        }
        let real = std::fs::canonicalize(&existing)?;
        if real.starts_with(root) {
            Ok(())
        } else {
            Err(StorageError::BadPath(path.to_string()))
        }
    }
}

fn not_found(path: &ObjectPath) -> impl FnOnce(object_store::Error) -> StorageError + '_ {
    move |err| match err {
        object_store::Error::NotFound { .. } => StorageError::NotFound(path.to_string()),
        other => other.into(),
    }
}

#[cfg(feature = "s3")]
mod s3;
#[cfg(test)]
mod tests;
