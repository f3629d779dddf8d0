//! Object storage: paths like `bucket/dir/file.csv` in a local directory (default) or an
//! S3-compatible endpoint (the default feature `s3`).
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

/// Why a storage operation failed, classified once, here: the permanent failures (a
/// path that cannot be used, or nothing there) name the path; the rest is worth retrying.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Bad characters, or a path that would leave the storage area (`GES.7011`).
    #[error("{0} is not a valid object path")]
    BadPath(String),
    /// Nothing at that path (`GES.7017`).
    #[error("{0} does not exist")]
    NotFound(String),
    /// The path's bucket does not exist (S3; `GES.7017`).
    #[error("the bucket of {0} does not exist")]
    NoBucket(String),
    /// A segment of the path is a file, not a directory.
    #[error("{0} cannot be used: a part of it is a file, not a directory")]
    NotADirectory(String),
    /// A segment of the path is longer than the store allows.
    #[error("{0} cannot be used: a part of it is too long")]
    NameTooLong(String),
    /// The store refuses access to the path.
    #[error("{0} cannot be used: permission denied")]
    PermissionDenied(String),
    /// The store refuses the service's credentials (S3: an unknown access key, or a
    /// signature made with the wrong secret), asked about this path.
    #[error("object storage refused the service's credentials (asked about {0})")]
    Credentials(String),
    /// The store failed in a way that may pass (an outage, a timeout, a full disk).
    #[error("object storage failed")]
    Transient(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StorageError {
    /// Whether another attempt later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, StorageError::Transient(_))
    }

    /// The failure of an operation on `path`, by what the store or the file system said.
    fn of(path: &str, err: impl std::error::Error + Send + Sync + 'static) -> StorageError {
        use std::io::ErrorKind;
        let named = |make: fn(String) -> StorageError| make(path.to_owned());
        if let Some(store) = as_store_error(&err) {
            if let Some(make) = by_s3_code(store) {
                return named(make);
            }
            match store {
                object_store::Error::NotFound { .. } => return named(StorageError::NotFound),
                object_store::Error::InvalidPath { .. } => return named(StorageError::BadPath),
                object_store::Error::PermissionDenied { .. }
                | object_store::Error::Unauthenticated { .. } => {
                    return named(StorageError::PermissionDenied);
                }
                _ => {}
            }
        }
        match io_kind(&err) {
            Some(ErrorKind::NotFound) => named(StorageError::NotFound),
            Some(ErrorKind::NotADirectory | ErrorKind::IsADirectory) => {
                named(StorageError::NotADirectory)
            }
            Some(ErrorKind::InvalidFilename) => named(StorageError::NameTooLong),
            Some(ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem) => {
                named(StorageError::PermissionDenied)
            }
            _ => StorageError::Transient(Box::new(err)),
        }
    }
}

/// S3's error codes (in the body of an answer; object_store passes some answers on only as
/// text, a failed list among them) and what each means here. An answer to HEAD has no
/// body, so [`Storage::resolve`] lists after a HEAD that is refused or finds nothing.
const S3_CODES: [(&str, MakeError); 6] = [
    ("<Code>NoSuchBucket</Code>", StorageError::NoBucket),
    ("<Code>NoSuchKey</Code>", StorageError::NotFound),
    (
        "<Code>SignatureDoesNotMatch</Code>",
        StorageError::Credentials,
    ),
    ("<Code>InvalidAccessKeyId</Code>", StorageError::Credentials),
    ("<Code>InvalidSecurity</Code>", StorageError::Credentials),
    ("<Code>AccessDenied</Code>", StorageError::PermissionDenied),
];

/// A [`StorageError`] naming a path.
type MakeError = fn(String) -> StorageError;

/// The failure an S3 answer's error code names, if it names one.
fn by_s3_code(store: &object_store::Error) -> Option<MakeError> {
    if !matches!(
        store,
        object_store::Error::Generic { .. }
            | object_store::Error::NotFound { .. }
            | object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. }
    ) {
        return None;
    }
    let text = crate::telemetry::error_chain(store);
    S3_CODES
        .iter()
        .find(|(code, _)| text.contains(code))
        .map(|(_, make)| *make)
}

fn as_store_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a object_store::Error> {
    err.downcast_ref::<object_store::Error>()
}

/// The kind of the first I/O error in the chain of `err`.
fn io_kind(err: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            // An I/O error may carry another error (object_store's readers wrap theirs).
            if let Some(inner) = io.get_ref()
                && let Some(kind) = io_kind(inner)
            {
                return Some(kind);
            }
            return Some(io.kind());
        }
        next = err.source();
    }
    None
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
        match store
            .head(&location)
            .await
            .map_err(|e| StorageError::of(path.as_str(), e))
        {
            Ok(_) => return Ok(vec![path.clone()]),
            // Listing says more: whether the credentials are at fault.
            Err(StorageError::NotFound(_) | StorageError::PermissionDenied(_)) => {}
            Err(err) => return Err(err),
        }
        let metas: Vec<_> = store
            .list(Some(&location))
            .try_collect()
            .await
            .map_err(|e| StorageError::of(path.as_str(), e))?;
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

    /// Whether objects can be written under `path`, asked before a job that writes there
    /// exists: on S3 its bucket must exist and the credentials must let us list it (the
    /// first page of one list request; a missing bucket is `NoBucket`); on the local
    /// backend the path must stay under the root (directories are made as needed).
    pub async fn check_writable(&self, path: &ObjectPath) -> Result<(), StorageError> {
        let (store, location) = self.locate(path)?;
        if self.local_root.is_some() {
            return Ok(());
        }
        match store.list(Some(&location)).try_next().await {
            Ok(_) => Ok(()),
            Err(err) => Err(StorageError::of(path.as_str(), err)),
        }
    }

    /// The size of one object in bytes.
    pub async fn size(&self, path: &ObjectPath) -> Result<u64, StorageError> {
        let (store, location) = self.locate(path)?;
        let head = store.head(&location).await;
        Ok(head.map_err(|e| StorageError::of(path.as_str(), e))?.size)
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
            .map_err(|e| StorageError::of(path.as_str(), e))?
            .into_stream();
        let reader = tokio_util::io::StreamReader::new(stream.map_err(std::io::Error::other));
        Ok(tokio_util::io::SyncIoBridge::new(reader))
    }

    /// Writes a whole object from bytes.
    pub async fn put(&self, path: &ObjectPath, bytes: Vec<u8>) -> Result<(), StorageError> {
        let (store, location) = self.locate(path)?;
        store
            .put(&location, PutPayload::from(bytes))
            .await
            .map_err(|e| StorageError::of(path.as_str(), e))?;
        Ok(())
    }

    /// Deletes one object; an object that is not there is not an error.
    pub async fn delete(&self, path: &ObjectPath) -> Result<(), StorageError> {
        let (store, location) = self.locate(path)?;
        match store.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(StorageError::of(path.as_str(), err)),
        }
    }

    /// Uploads a local file as an object, streaming it in parts.
    pub async fn upload(&self, file: &Path, path: &ObjectPath) -> Result<(), StorageError> {
        use tokio::io::AsyncWriteExt;
        let (store, location) = self.locate(path)?;
        let failed = |e| StorageError::of(path.as_str(), e);
        // The local file is ours: failing to read it is not the path's fault.
        let mut source = tokio::fs::File::open(file)
            .await
            .map_err(|e| StorageError::Transient(Box::new(e)))?;
        let mut sink = object_store::buffered::BufWriter::new(store, location);
        tokio::io::copy(&mut source, &mut sink)
            .await
            .map_err(failed)?;
        sink.shutdown().await.map_err(failed)?;
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
        let real =
            std::fs::canonicalize(&existing).map_err(|e| StorageError::of(path.as_str(), e))?;
        if real.starts_with(root) {
            Ok(())
        } else {
            Err(StorageError::BadPath(path.to_string()))
        }
    }
}

pub mod lines;
#[cfg(feature = "s3")]
mod s3;
#[cfg(test)]
mod tests;
