//! `jobcenter pgbench-script`: one of the service's read statements as a pgbench script,
//! so that `scripts/bench` compares the service with pgbench running exactly what the
//! service runs (see `store::pgbench`).

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use uuid::Uuid;

use crate::domain::{JobId, JobQuery, ProjectId};
use crate::store::list::list_pgbench_script;
use crate::store::pgbench::PgbenchScript;

/// Which statement, and where to write it.
#[derive(Debug, Args)]
pub struct PgbenchScriptArgs {
    /// The project in the request's path.
    #[arg(long)]
    project: String,
    /// The job list with this query string (as sent to `GET .../graphs/jobs`, e.g.
    /// `limit=10&status=failed`).
    #[arg(long, conflicts_with_all = ["graph_id", "job_id"])]
    list_query: Option<String>,
    /// The job status of this graph's job (with --job-id).
    #[arg(long, requires = "job_id")]
    graph_id: Option<String>,
    /// The job status of this job (with --graph-id).
    #[arg(long, requires = "graph_id")]
    job_id: Option<String>,
    /// Name the variables PREFIX1, PREFIX2, ... (default p1, p2, ...).
    #[arg(long)]
    var_prefix: Option<String>,
    /// The script file to write.
    #[arg(long)]
    out: PathBuf,
}

/// Writes the script and prints its `-D name=value` arguments, one per line.
pub fn run(args: &PgbenchScriptArgs) -> anyhow::Result<()> {
    let project = ProjectId::parse(&args.project).context("--project")?;
    let script = match (&args.graph_id, &args.job_id) {
        (Some(graph), Some(job)) => {
            let graph = Uuid::try_parse(graph).context("--graph-id")?;
            let job = JobId::parse(job).context("--job-id is not a job id")?;
            PgbenchScript::job_status(&project, graph, job)
        }
        _ => {
            let raw = args.list_query.as_deref().unwrap_or_default();
            let params: HashMap<String, String> = url::form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect();
            let query = JobQuery::parse(|name| params.get(name).map(String::as_str))
                .map_err(|e| anyhow::anyhow!("--list-query: {}: {}", e.param, e.rule))?;
            list_pgbench_script(&project, &query)
        }
    };
    let script = match &args.var_prefix {
        Some(prefix) => script.with_prefix(prefix),
        None => script,
    };
    std::fs::write(&args.out, script.file_text())
        .with_context(|| format!("writing {}", args.out.display()))?;
    for define in script.defines() {
        println!("-D{define}");
    }
    Ok(())
}
