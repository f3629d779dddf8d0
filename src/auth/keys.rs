//! Signing and verifying keys, from configuration.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;

use super::Claims;
use super::verified::VerifiedTokens;
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
    verified: std::sync::Arc<VerifiedTokens>,
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
        let validation = validation(algorithm, settings, issuer.as_deref(), audience.as_deref());
        Ok(TokenKeys {
            encoding,
            decoding,
            validation,
            algorithm,
            issuer,
            audience,
            verified: Default::default(),
        })
    }

    /// Checks signature, algorithm, expiry and the configured issuer and audience (a token
    /// that passed before is answered from [`VerifiedTokens`] until it expires).
    pub fn verify(&self, token: &str) -> Result<Claims, InvalidToken> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(claims) = self.verified.get(token, now, self.validation.leeway) {
            return Ok(claims);
        }
        let claims =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?.claims;
        self.verified.insert(token, &claims);
        Ok(claims)
    }

    /// Whether this service can mint tokens (only with a shared HS256 secret; with a
    /// public key it can only verify them).
    pub fn can_mint(&self) -> bool {
        self.encoding.is_some()
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

/// The checks of every token: `exp` and `sub` always, `iss` and `aud` required and equal
/// when configured, `nbf` when present; `exp` and `nbf` with `auth.leeway_secs` of clock skew.
fn validation(
    algorithm: Algorithm,
    settings: &AuthSettings,
    issuer: Option<&str>,
    audience: Option<&str>,
) -> Validation {
    let mut validation = Validation::new(algorithm);
    let mut required = vec!["exp", "sub"];
    if let Some(iss) = issuer {
        validation.set_issuer(&[iss]);
        required.push("iss");
    }
    match audience {
        Some(aud) => {
            validation.set_audience(&[aud]);
            required.push("aud");
        }
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&required);
    validation.validate_nbf = true;
    validation.leeway = settings.leeway_secs;
    validation
}

/// The configured secret, or the secret file's content, creating the file on first use.
fn hs256_secret(settings: &AuthSettings) -> anyhow::Result<String> {
    let secret = settings.jwt_secret.expose_secret();
    if !secret.is_empty() {
        if secret.len() < 16 {
            bail!("auth.jwt_secret: must be at least 16 characters");
        }
        return Ok(secret.to_owned());
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A throwaway P-256 key pair made for this test only.
    const EC_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgkwl6R+1+gxOoAYTL
mNnGIhriTZrFsaTmV+LOGUrBf3yhRANCAARmiIIMgaYXIvqYdYqv8OpO4/1GXGbZ
sT9KQgS6O+TETZM6jIZW/r5BTgyweHK+8Nqwc4e33WLR9nE2VGuqMfum
-----END PRIVATE KEY-----
";
    const EC_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZoiCDIGmFyL6mHWKr/DqTuP9Rlxm
2bE/SkIEujvkxE2TOoyGVv6+QU4MsHhyvvDasHOHt91i0fZxNlRrqjH7pg==
-----END PUBLIC KEY-----
";

    fn settings(algorithm: &str, public_key_file: &str) -> AuthSettings {
        AuthSettings {
            jwt_secret: "unit-test-secret-0123456789".into(),
            jwt_secret_file: "unused".into(),
            algorithm: algorithm.into(),
            public_key_file: public_key_file.into(),
            issuer: "issuer-a".into(),
            audience: "jobcenter".into(),
            leeway_secs: 5,
        }
    }

    fn claims(iss: &str, aud: &str) -> Claims {
        Claims {
            sub: "svc".into(),
            project_id: "p1".into(),
            roles: vec!["readonly".into()],
            exp: jsonwebtoken::get_current_timestamp() + 600,
            iat: None,
            iss: Some(iss.into()),
            aud: Some(aud.into()),
        }
    }

    #[test]
    fn es256_tokens_from_elsewhere_verify_with_the_public_key() {
        let dir = std::env::temp_dir().join(format!("jc-keys-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let public = dir.join("ec.pub.pem");
        std::fs::write(&public, EC_PUBLIC).unwrap();
        let keys = TokenKeys::from_settings(&settings("ES256", public.to_str().unwrap())).unwrap();
        let signer = EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap();
        let sign =
            |c: &Claims| jsonwebtoken::encode(&Header::new(Algorithm::ES256), c, &signer).unwrap();
        assert_eq!(
            keys.verify(&sign(&claims("issuer-a", "jobcenter")))
                .unwrap()
                .project_id,
            "p1"
        );
        assert!(
            keys.verify(&sign(&claims("issuer-b", "jobcenter")))
                .is_err(),
            "wrong issuer"
        );
        assert!(
            keys.verify(&sign(&claims("issuer-a", "other"))).is_err(),
            "wrong audience"
        );
        let hs = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims("issuer-a", "jobcenter"),
            &EncodingKey::from_secret(b"unit-test-secret-0123456789").unwrap(),
        )
        .unwrap();
        assert!(
            keys.verify(&hs).is_err(),
            "an HS256 token is refused when ES256 is configured"
        );
        assert!(
            keys.issue("x", "p1", &["readonly"], Duration::from_secs(60))
                .is_err(),
            "no minting without HS256"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn hs256_round_trip_checks_issuer_and_audience() {
        let keys = TokenKeys::from_settings(&settings("HS256", "")).unwrap();
        let token = keys
            .issue("svc", "p1", &["operator"], Duration::from_secs(60))
            .unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(
            (claims.iss.as_deref(), claims.aud.as_deref()),
            (Some("issuer-a"), Some("jobcenter"))
        );
        let mut short = settings("HS256", "");
        short.jwt_secret = "short".into();
        assert!(
            TokenKeys::from_settings(&short)
                .unwrap_err()
                .to_string()
                .contains("auth.jwt_secret")
        );
    }
}
