//! Tokens (`X-Auth-Token`): JWTs signed with HS256 by default, or verified with an RS256 /
//! ES256 public key for tokens issued elsewhere. Secrets and tokens are never logged.

pub mod keys;
pub mod verified;

use serde::{Deserialize, Serialize};

pub use keys::TokenKeys;

use crate::domain::ProjectId;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// May read graphs and jobs.
    Readonly,
    /// May read, and run graph operations.
    Operator,
    /// May enqueue and run jobs through the internal producer API.
    Producer,
}

impl Role {
    /// The claim spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Readonly => "readonly",
            Role::Operator => "operator",
            Role::Producer => "producer",
        }
    }

    /// Parses a claim spelling.
    pub fn parse(raw: &str) -> Option<Role> {
        [Role::Readonly, Role::Operator, Role::Producer]
            .into_iter()
            .find(|role| role.as_str() == raw)
    }
}

/// The claims of our tokens. All of `sub`, `project_id`, `roles` and `exp` are required.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub project_id: String,
    pub roles: Vec<String>,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// Something a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read jobs, graphs, backups.
    Read,
    /// Run a graph operation.
    Operate,
    /// Use the producer API.
    Produce,
}

impl Action {
    fn allowed_by(self, role: Role) -> bool {
        match self {
            Action::Read => matches!(role, Role::Readonly | Role::Operator),
            Action::Operate => role == Role::Operator,
            Action::Produce => role == Role::Producer,
        }
    }
}

/// Why a verified token may not do something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Forbidden {
    #[error("the token is not valid for this project")]
    OtherProject,
    #[error("the token has no role that allows this action")]
    MissingRole,
}

/// A verified token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub subject: String,
    pub project_id: String,
    pub roles: Vec<Role>,
}

impl Caller {
    /// Unknown role names are dropped: they grant nothing.
    pub fn from_claims(claims: Claims) -> Caller {
        let roles = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
        Caller {
            subject: claims.sub,
            project_id: claims.project_id,
            roles,
        }
    }

    /// Checks that this caller may do `action` in `project`.
    pub fn authorize(&self, project: &ProjectId, action: Action) -> Result<(), Forbidden> {
        if self.project_id != project.as_str() {
            return Err(Forbidden::OtherProject);
        }
        if !self.roles.iter().any(|role| action.allowed_by(*role)) {
            return Err(Forbidden::MissingRole);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(project: &str, roles: &[&str]) -> Caller {
        Caller::from_claims(Claims {
            sub: "tester".into(),
            project_id: project.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            exp: 0,
            iat: None,
            iss: None,
            aud: None,
        })
    }

    #[test]
    fn roles_grant_their_actions_only() {
        let p = ProjectId::parse("p1").unwrap();
        assert!(
            caller("p1", &["readonly"])
                .authorize(&p, Action::Read)
                .is_ok()
        );
        assert_eq!(
            caller("p1", &["readonly"]).authorize(&p, Action::Operate),
            Err(Forbidden::MissingRole)
        );
        assert!(
            caller("p1", &["operator"])
                .authorize(&p, Action::Read)
                .is_ok()
        );
        assert!(
            caller("p1", &["operator"])
                .authorize(&p, Action::Operate)
                .is_ok()
        );
        assert_eq!(
            caller("p1", &["producer"]).authorize(&p, Action::Read),
            Err(Forbidden::MissingRole)
        );
        assert!(
            caller("p1", &["producer"])
                .authorize(&p, Action::Produce)
                .is_ok()
        );
        assert_eq!(
            caller("p1", &["admin"]).authorize(&p, Action::Read),
            Err(Forbidden::MissingRole)
        );
        assert_eq!(
            caller("p2", &["operator"]).authorize(&p, Action::Read),
            Err(Forbidden::OtherProject)
        );
    }
}
