//! The service's read statements as pgbench scripts, for the benchmark (`scripts/bench`
//! through `jobcenter pgbench-script`): the very text the service prepares, its parameters
//! named `:p1`, `:p2`, ... and their values given to `pgbench -D`. Under `-M prepared`
//! pgbench sends them as parameters of a prepared statement, as the service does, so the
//! plans (custom, then perhaps generic) are chosen the same way.

use uuid::Uuid;

use crate::domain::{JobId, ProjectId};

/// One statement for `pgbench -M prepared -f`, and its parameters' values in order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PgbenchScript {
    pub sql: String,
    pub params: Vec<String>,
    /// The variables' prefix, when not `p` (see [`PgbenchScript::with_prefix`]).
    prefix: Option<String>,
}

/// The job-status statement (the file `find_jobs` runs), with arrays of one key.
const JOB_STATUS: &str = include_str!("sql/job_status.sql");

impl PgbenchScript {
    /// Appends a parameter: its variable to the text, its value to the list.
    pub(crate) fn push_param(&mut self, shown: String) {
        self.params.push(shown);
        self.sql.push_str(&format!(":p{}", self.params.len()));
    }

    /// The job-status statement for one job.
    pub fn job_status(project: &ProjectId, graph_id: Uuid, id: JobId) -> PgbenchScript {
        let window = id.begin_window();
        let values = [
            format!("{{{}}}", id.0),
            format!("{{{}}}", project.as_str()),
            format!("{{{graph_id}}}"),
            window.map_or("-infinity".to_owned(), |w| w.0.to_rfc3339()),
            window.map_or("infinity".to_owned(), |w| w.1.to_rfc3339()),
        ];
        let mut script = PgbenchScript::default();
        let mut rest = JOB_STATUS.trim_end();
        while let Some(at) = rest.find('$') {
            script.sql.push_str(&rest[..at]);
            let digits = rest[at + 1..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            let n: usize = rest[at + 1..at + 1 + digits]
                .parse()
                .expect("$n in job_status.sql");
            script.push_param(values[n - 1].clone());
            rest = &rest[at + 1 + digits..];
        }
        script.sql.push_str(rest);
        script
    }

    /// The same script with its variables named `{prefix}1`, `{prefix}2`, ... instead of
    /// `p1`, `p2`, ... (so that several scripts can run in one pgbench, each with its own
    /// values).
    pub fn with_prefix(mut self, prefix: &str) -> PgbenchScript {
        for n in (1..=self.params.len()).rev() {
            self.sql = self
                .sql
                .replace(&format!(":p{n}"), &format!(":{prefix}{n}"));
        }
        self.prefix = Some(prefix.to_owned());
        self
    }

    /// The script file's content: the statement on one line, ended by `;`.
    pub fn file_text(&self) -> String {
        let one_line: Vec<&str> = self.sql.split_whitespace().collect();
        format!("{};\n", one_line.join(" "))
    }

    /// The `-D` arguments for pgbench.
    pub fn defines(&self) -> Vec<String> {
        let prefix = self.prefix.as_deref().unwrap_or("p");
        (self.params.iter().enumerate())
            .map(|(i, value)| format!("{prefix}{}={value}", i + 1))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_status_names_its_parameters_in_the_order_they_appear() {
        let project = ProjectId::parse("p1").unwrap();
        let (graph, job) = (Uuid::now_v7(), JobId(Uuid::now_v7()));
        let script = PgbenchScript::job_status(&project, graph, job);
        assert!(!script.sql.contains('$'));
        assert!(
            script
                .sql
                .contains("unnest(:p3::uuid[], :p4::text[], :p5::uuid[])")
        );
        let (lo, hi) = job.begin_window().unwrap();
        // The window's two parameters come first (the file rows' subquery), then the keys,
        // then the window again.
        let (lo, hi) = (lo.to_rfc3339(), hi.to_rfc3339());
        assert_eq!(
            script.params,
            [
                lo.clone(),
                hi.clone(),
                format!("{{{}}}", job.0),
                "{p1}".to_owned(),
                format!("{{{graph}}}"),
                lo,
                hi,
            ]
        );
        assert_eq!(script.defines()[3], "p4={p1}");
        let text = script.file_text();
        assert!(text.ends_with(";\n") && text.lines().count() == 1);
        let renamed = script.with_prefix("j7_");
        assert!(renamed.sql.contains("unnest(:j7_3::uuid[], :j7_4::text[]"));
        assert_eq!(renamed.defines()[4], format!("j7_5={{{graph}}}"));
    }
}
