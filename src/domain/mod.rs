//! Domain types: every value that comes from outside is turned into one of these by a
//! `parse` that says what was wrong, so the rest of the code never re-checks input.

pub mod graph;
pub mod job;
pub mod producer;
pub mod query;
pub mod time;

pub use job::{FileKind, FileStatus, JobId, JobStatus};
pub use query::{JobFilter, JobQuery, Page, ParamError};

/// A project id: 1 to 64 ASCII letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProjectId(String);

impl ProjectId {
    /// Checks the contract's rule for project ids.
    pub fn parse(raw: &str) -> Result<ProjectId, ParamError> {
        let ok = (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(ProjectId(raw.to_owned()))
        } else {
            Err(ParamError::new(
                "project_id",
                "must be 1 to 64 ASCII letters and digits",
            ))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ProjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_ids_are_short_alphanumerics() {
        assert!(ProjectId::parse("abc123").is_ok());
        assert!(ProjectId::parse(&"a".repeat(64)).is_ok());
        assert!(ProjectId::parse("").is_err());
        assert!(ProjectId::parse(&"a".repeat(65)).is_err());
        assert!(ProjectId::parse("ab-c").is_err());
        assert!(ProjectId::parse("é").is_err());
    }
}
