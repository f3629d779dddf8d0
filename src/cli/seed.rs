//! `jobcenter seed`: realistic, deterministic jobs, loaded with COPY in batches.

use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use clap::Args;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::time::start_of_day;
use crate::domain::{FileKind, FileStatus, JobId, JobStatus, ProjectId};
use crate::domain::{JobFile, NewJob};

/// Every graph-management job name.
pub const JOB_NAMES: [&str; 14] = [
    "CreateGraph",
    "StopGraph",
    "StartGraph",
    "RestartGraph",
    "DeleteGraph",
    "ImportGraph",
    "ExportGraph",
    "ClearGraph",
    "UpgradeGraph",
    "ResizeGraph",
    "ExpandGraph",
    "BackupGraph",
    "ImportBackup",
    "ExportBackup",
];

/// Options of `jobcenter seed`.
#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// Project to fill; with --projects N, the prefix of N projects `<prefix>0001`...
    #[arg(long)]
    pub project: String,
    /// Spread the jobs over this many projects, named --project plus a number (`p0001`).
    #[arg(long)]
    pub projects: Option<u32>,
    /// Number of jobs (in all projects together).
    #[arg(long)]
    pub jobs: u64,
    /// Number of distinct graphs.
    #[arg(long, default_value_t = 20)]
    pub graphs: u32,
    /// Days the begin times spread over, ending at --until.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// Random seed: the same seed (and --until) gives the same jobs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Exclusive last day (yyyy-MM-dd, UTC); default today.
    #[arg(long, value_parser = parse_until)]
    pub until: Option<NaiveDate>,
    /// Jobs per COPY batch.
    #[arg(long, default_value_t = 50_000)]
    pub batch: usize,
}

fn parse_until(raw: &str) -> Result<NaiveDate, String> {
    crate::domain::time::parse_date(raw).ok_or_else(|| "expected yyyy-MM-dd".to_owned())
}

/// Generates and loads the jobs, printing progress, then each graph's name and id (of the
/// last project seeded).
pub async fn run(pool: &PgPool, args: &SeedArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.graphs >= 1 && args.days >= 1 && args.batch >= 1 && args.projects != Some(0),
        "--graphs, --days, --batch and --projects must be at least 1"
    );
    let until = start_of_day(args.until.unwrap_or_else(|| Utc::now().date_naive()));
    let started = Instant::now();
    let mut done = 0u64;
    let mut graphs = Vec::new();
    let projects = args.projects.unwrap_or(1);
    // Each batch's count deltas are folded before the next (unless a running service's
    // folder does it), so a large seed leaves no backlog of deltas for the reads to add.
    let mut folder = pool.acquire().await?;
    for index in 0..projects {
        let project = project_name(args, index)?;
        // Every project gets an equal share; the first ones take the remainder.
        let share = args.jobs / u64::from(projects)
            + u64::from(u64::from(index) < args.jobs % u64::from(projects));
        let mut generator = Generator::new(project, args, until);
        let mut left = share;
        while left > 0 {
            let n = left.min(args.batch as u64) as usize;
            let (jobs, files) = generator.batch(n);
            crate::service::jobs::record_history(pool, &jobs, &files).await?;
            crate::service::counts::fold_all(&mut folder).await?;
            left -= n as u64;
            done += n as u64;
            let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
            eprintln!("seeded {done}/{} jobs ({rate:.0} jobs/s)", args.jobs);
        }
        graphs = generator.graphs;
    }
    for (id, name) in &graphs {
        println!("{name} {}", id.simple());
    }
    Ok(())
}

/// `--project` itself, or with `--projects` the prefix numbered from 1 (`p0001`).
fn project_name(args: &SeedArgs, index: u32) -> anyhow::Result<ProjectId> {
    let name = match args.projects {
        None => args.project.clone(),
        Some(_) => format!("{}{:04}", args.project, index + 1),
    };
    ProjectId::parse(&name).context("--project")
}

/// Deterministic job generator.
pub struct Generator {
    rng: fastrand::Rng,
    project: ProjectId,
    graphs: Vec<(Uuid, String)>,
    until: DateTime<Utc>,
    span_secs: i64,
    /// Graphs that already have a pending or running job (one per graph at most).
    busy: std::collections::HashSet<usize>,
}

impl Generator {
    /// A generator for `project`, seeded by `args.seed` and the project's name (so two
    /// projects never share job ids).
    pub fn new(project: ProjectId, args: &SeedArgs, until: DateTime<Utc>) -> Generator {
        let mut rng = fastrand::Rng::with_seed(args.seed ^ fnv1a(project.as_str()));
        let graphs = (1..=args.graphs)
            .map(|i| (random_uuid(&mut rng), format!("graph_{i:04}")))
            .collect();
        Generator {
            rng,
            project,
            graphs,
            until,
            span_secs: i64::from(args.days) * 86_400,
            busy: Default::default(),
        }
    }

    /// The next `n` jobs and the file results of the imports among them.
    pub fn batch(&mut self, n: usize) -> (Vec<NewJob>, Vec<(JobId, Vec<JobFile>)>) {
        let mut jobs = Vec::with_capacity(n);
        let mut files = Vec::new();
        for _ in 0..n {
            let job = self.job();
            if job.job_name == "ImportGraph" {
                files.push((job.id, self.import_files(&job)));
            }
            jobs.push(job);
        }
        (jobs, files)
    }

    fn job(&mut self) -> NewJob {
        let rng = &mut self.rng;
        let age = rng.i64(1..=self.span_secs);
        let begin_time =
            self.until - TimeDelta::seconds(age) + TimeDelta::milliseconds(rng.i64(0..1000));
        let graph = rng.usize(0..self.graphs.len());
        let recent = age <= 86_400 && !self.busy.contains(&graph);
        let status = match rng.u32(0..100) {
            0..10 if recent => JobStatus::Pending,
            10..25 if recent => JobStatus::Running,
            0..80 => JobStatus::Success,
            80..92 => JobStatus::Failed,
            _ => JobStatus::PartiallyFailed,
        };
        let job_name = if rng.u32(0..10) == 0 {
            "ImportGraph"
        } else {
            JOB_NAMES[rng.usize(0..JOB_NAMES.len())]
        };
        let end_time = status
            .is_final()
            .then(|| begin_time + TimeDelta::seconds(rng.i64(1..=7200)));
        let progress = match status {
            JobStatus::Pending => 0.0,
            JobStatus::Running => rng.u32(1..100) as f32,
            _ => 100.0,
        };
        let fail_reason = match status {
            JobStatus::Failed => {
                Some("the graph engine did not answer within 600 seconds".to_owned())
            }
            JobStatus::PartiallyFailed => {
                Some("some lines were rejected; see job_detail".to_owned())
            }
            _ => None,
        };
        if !status.is_final() {
            self.busy.insert(graph);
        }
        let (graph_id, graph_name) = self.graphs[graph].clone();
        let mut random = [0u8; 10];
        rng.fill(&mut random);
        let millis = begin_time.timestamp_millis() as u64;
        NewJob {
            id: JobId(uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()),
            project_id: self.project.clone(),
            graph_id: Some(graph_id),
            graph_name: Some(graph_name),
            job_type: "GraphManagement".to_owned(),
            job_name: job_name.to_owned(),
            status,
            begin_time,
            end_time,
            progress,
            fail_reason,
            created_by: Some("seed".to_owned()),
            request_id: None,
            payload: serde_json::Value::Null,
        }
    }

    fn import_files(&mut self, job: &NewJob) -> Vec<JobFile> {
        let graph = job.graph_name.as_deref().unwrap_or("graph");
        let mut files = vec![self.file(
            FileKind::Schema,
            format!("demo/{graph}/schema.xml"),
            0,
            job.status,
        )];
        for i in 0..self.rng.usize(1..=2) {
            let lines = self.rng.i64(1_000..=1_000_000);
            files.push(self.file(
                FileKind::Vertex,
                format!("demo/{graph}/vertices_{i}.csv"),
                lines,
                job.status,
            ));
        }
        for i in 0..self.rng.usize(1..=3) {
            let lines = self.rng.i64(1_000..=5_000_000);
            files.push(self.file(
                FileKind::Edge,
                format!("demo/{graph}/edges_{i}.csv"),
                lines,
                job.status,
            ));
        }
        files
    }

    fn file(&mut self, kind: FileKind, path: String, lines: i64, job: JobStatus) -> JobFile {
        let (status, failed) = match job {
            JobStatus::Success => (FileStatus::Success, 0),
            JobStatus::Failed => (FileStatus::Failed, lines),
            JobStatus::PartiallyFailed if lines > 0 => {
                (FileStatus::PartFailed, self.rng.i64(1..=lines))
            }
            JobStatus::PartiallyFailed => (FileStatus::Success, 0),
            JobStatus::Pending | JobStatus::Running => (FileStatus::Pending, 0),
        };
        let reported = job.is_final();
        JobFile {
            kind,
            log: (failed > 0).then(|| format!("{path}.rejected.log")),
            cause: (failed > 0)
                .then(|| format!("{failed} lines rejected: value does not parse as its type")),
            path,
            status,
            total_lines: if reported { lines } else { -1 },
            failed_lines: if reported { failed } else { -1 },
            successful_lines: if reported { lines - failed } else { -1 },
        }
    }
}

/// FNV-1a: a stable hash of a project name (std's hasher may change between releases).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn random_uuid(rng: &mut fastrand::Rng) -> Uuid {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}
