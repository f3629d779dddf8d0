//! A bounded cache of verified tokens. A console sends the same token with every request,
//! and checking it (base64, JSON, then HMAC or an RSA/ECDSA signature) costs more than the
//! rest of a job-status request.
//!
//! Policy: only tokens that passed every check are kept, keyed by their exact text, and a
//! kept token is answered only until its own `exp` (with the same leeway as the full
//! check); when full, the cache is emptied rather than tracking recency.

use std::collections::HashMap;
use std::sync::Mutex;

use super::Claims;

/// Tokens kept at most.
const CAPACITY: usize = 4096;

/// Verified tokens and their claims.
#[derive(Debug, Default)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<String, Claims>>,
}

impl VerifiedTokens {
    /// The claims of `token` if it was verified and has not expired at `now` (seconds since
    /// the epoch) give or take `leeway` seconds.
    pub fn get(&self, token: &str, now: u64, leeway: u64) -> Option<Claims> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let claims = entries.get(token)?;
        if claims.exp >= now.saturating_sub(leeway) {
            Some(claims.clone())
        } else {
            entries.remove(token);
            None
        }
    }

    /// Keeps a token that passed every check.
    pub fn insert(&self, token: &str, claims: &Claims) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(token.to_owned(), claims.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> Claims {
        Claims {
            sub: "s".into(),
            project_id: "p".into(),
            roles: vec!["readonly".into()],
            exp,
            iat: None,
            iss: None,
            aud: None,
        }
    }

    #[test]
    fn a_kept_token_is_answered_until_it_expires() {
        let cache = VerifiedTokens::default();
        assert!(cache.get("t", 100, 60).is_none());
        cache.insert("t", &claims(1000));
        assert_eq!(cache.get("t", 1000, 60).map(|c| c.exp), Some(1000));
        assert_eq!(cache.get("t", 1060, 60).map(|c| c.exp), Some(1000));
        assert!(cache.get("t", 1061, 60).is_none());
        assert!(
            cache.get("t", 100, 60).is_none(),
            "an expired token is dropped"
        );
        assert!(cache.get("other", 100, 60).is_none());
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = VerifiedTokens::default();
        for i in 0..CAPACITY {
            cache.insert(&i.to_string(), &claims(1000));
        }
        cache.insert("last", &claims(1000));
        assert!(cache.get("0", 1, 0).is_none());
        assert!(cache.get("last", 1, 0).is_some());
    }
}
