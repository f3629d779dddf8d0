//! Object paths: `bucket/key` names of files in object storage, as import, export and
//! backup requests give them.
//!
//! Policy: only the characters the spec allows (letters, digits and `_ ! - . * ' ( ) /`),
//! no empty, `.` or `..` segment, no leading `/`: a path never leaves the storage area. A
//! trailing `/` is dropped. Checked once here; storage trusts an [`ObjectPath`].

use serde::{Deserialize, Serialize};

/// A checked object path: a bucket and a key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ObjectPath(String);

/// A path that breaks the rule (`GES.7011`); holds the path as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not a valid object path")]
pub struct BadPath(pub String);

impl ObjectPath {
    /// Checks the spec's rule.
    pub fn parse(raw: &str) -> Result<ObjectPath, BadPath> {
        let trimmed = raw.strip_suffix('/').unwrap_or(raw);
        let allowed = |c: char| c.is_ascii_alphanumeric() || "_!-.*'()/".contains(c);
        let bad_segment = trimmed
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..");
        if trimmed.is_empty()
            || trimmed.len() > 1024
            || !trimmed.chars().all(allowed)
            || bad_segment
        {
            return Err(BadPath(raw.to_owned()));
        }
        Ok(ObjectPath(trimmed.to_owned()))
    }

    /// The path as text (`bucket/key`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A path under this one.
    pub fn join(&self, name: &str) -> Result<ObjectPath, BadPath> {
        ObjectPath::parse(&format!("{}/{name}", self.0))
    }

    /// The first segment (the bucket) and the rest (the key, empty for a bare bucket).
    pub fn bucket_and_key(&self) -> (&str, &str) {
        self.0.split_once('/').unwrap_or((&self.0, ""))
    }

    /// The last segment (a file's name).
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

impl TryFrom<String> for ObjectPath {
    type Error = BadPath;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        ObjectPath::parse(&raw)
    }
}

impl From<ObjectPath> for String {
    fn from(path: ObjectPath) -> String {
        path.0
    }
}

impl std::fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_spec_rule() {
        for good in [
            "bucket/file.csv",
            "b/dir/",
            "b/a_b-c.d*e'f(g)!h",
            "b/x/y/z.csv",
        ] {
            assert!(ObjectPath::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "b/../x",
            "b/./x",
            "b//x",
            "b/%2e%2e/x",
            "b/a b",
            "b/a$",
            "..",
            "b/é",
        ] {
            assert!(ObjectPath::parse(bad).is_err(), "{bad}");
        }
        let path = ObjectPath::parse("b/dir/f.csv").unwrap();
        assert_eq!(
            (path.bucket_and_key(), path.file_name()),
            (("b", "dir/f.csv"), "f.csv")
        );
        assert!(serde_json::from_str::<ObjectPath>("\"b/../x\"").is_err());
    }
}
