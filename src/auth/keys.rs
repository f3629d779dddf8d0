//! Signing and verifying keys, from configuration.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};

use super::Claims;
use crate::config::AuthSettings;

/// Why a token was refused (all become 401 `APIG.0301`; the detail is for logs only).
#[derive(Debug, thiserror::Error)]
#[error("token rejected: {0}")]
pub struct InvalidToken(#[from] pub jsonwebtoken::errors::Error);

/// The keys and rules tokens are checked against.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: Option<EncodingKey>,
    decoding: DecodingKey,
    validation: Validation,
    algorithm: Algorithm,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Builds the keys from `[auth]`; an empty HS256 secret is read from (or written to)
    /// `auth.jwt_secret_file`.
    pub fn from_settings(settings: &AuthSettings) -> anyhow::Result<TokenKeys> {
        let (algorithm, encoding, decoding) = match settings.algorithm.as_str() {
            "HS256" => {
                let secret = hs256_secret(settings)?;
                (
                    Algorithm::HS256,
                    Some(EncodingKey::from_secret(secret.as_bytes())?),
                    DecodingKey::from_secret(secret.as_bytes())?,
                )
            }
            "RS256" | "ES256" => {
                let pem = std::fs::read(&settings.public_key_file).with_context(|| {
                    format!(
                        "auth.public_key_file: cannot read {:?}",
                        settings.public_key_file
                    )
                })?;
                let rs = settings.algorithm == "RS256";
                let key = if rs {
                    DecodingKey::from_rsa_pem(&pem)
                } else {
                    DecodingKey::from_ec_pem(&pem)
                };
                let key =
                    key.context("auth.public_key_file: not a PEM public key of that algorithm")?;
                (
                    if rs {
                        Algorithm::RS256
                    } else {
                        Algorithm::ES256
                    },
                    None,
                    key,
                )
            }
            other => bail!("auth.algorithm: unsupported {other:?}"),
        };
        let issuer = Some(settings.issuer.clone()).filter(|s| !s.is_empty());
        let audience = Some(settings.audience.clone()).filter(|s| !s.is_empty());
        let mut validation = Validation::new(algorithm);
        validation.set_required_spec_claims(&["exp", "sub"]);
        if let Some(iss) = &issuer {
            validation.set_issuer(&[iss]);
        }
        match &audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        Ok(TokenKeys {
            encoding,
            decoding,
            validation,
            algorithm,
            issuer,
            audience,
        })
    }

    /// Checks signature, algorithm, expiry and the configured issuer and audience.
    pub fn verify(&self, token: &str) -> Result<Claims, InvalidToken> {
        Ok(jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?.claims)
    }

    /// Signs a token for `project` with `roles`, valid for `ttl` (HS256 only).
    pub fn issue(
        &self,
        subject: &str,
        project: &str,
        roles: &[&str],
        ttl: Duration,
    ) -> anyhow::Result<String> {
        let Some(key) = &self.encoding else {
            bail!("tokens can only be minted with auth.algorithm = \"HS256\"");
        };
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let claims = Claims {
            sub: subject.to_owned(),
            project_id: project.to_owned(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            exp: now + ttl.as_secs(),
            iat: Some(now),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(self.algorithm),
            &claims,
            key,
        )?)
    }
}

/// The configured secret, or the secret file's content, creating the file on first use.
fn hs256_secret(settings: &AuthSettings) -> anyhow::Result<String> {
    if !settings.jwt_secret.is_empty() {
        if settings.jwt_secret.len() < 16 {
            bail!("auth.jwt_secret: must be at least 16 characters");
        }
        return Ok(settings.jwt_secret.clone());
    }
    let path = &settings.jwt_secret_file;
    match std::fs::read_to_string(path) {
        Ok(secret) if !secret.trim().is_empty() => Ok(secret.trim().to_owned()),
        Ok(_) => bail!("auth.jwt_secret_file: {path:?} is empty"),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => create_secret_file(path),
        Err(err) => Err(err).with_context(|| format!("auth.jwt_secret_file: cannot read {path:?}")),
    }
}

fn create_secret_file(path: &Path) -> anyhow::Result<String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("auth.jwt_secret_file: cannot create {dir:?}"))?;
    }
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(mut file) => {
            file.write_all(secret.as_bytes())?;
            tracing::info!(path = ?path, "created a new HS256 secret file");
            Ok(secret)
        }
        // Another process created it first: use theirs.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => hs256_secret_from(path),
        Err(err) => {
            Err(err).with_context(|| format!("auth.jwt_secret_file: cannot create {path:?}"))
        }
    }
}

fn hs256_secret_from(path: &Path) -> anyhow::Result<String> {
    let secret = std::fs::read_to_string(path)?;
    Ok(secret.trim().to_owned())
}
