//! The list API: filters, dates, paging, ordering and exact counts.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use jobcenter::domain::JobStatus;
use jobcenter::domain::NewJob;

use crate::helpers::{PROJECT, TestApp, ids, job, utc};

/// A varied set of jobs: 3 graphs, every status, 12 days, ties in begin_time.
fn dataset() -> Vec<NewJob> {
    let graphs = ["graph_a", "graph_b", "graph_c"];
    let names = ["CreateGraph", "ImportGraph", "StopGraph", "DeleteGraph"];
    let mut jobs = Vec::new();
    let mut rng = fastrand::Rng::with_seed(7);
    for i in 0..240 {
        let day = rng.i64(0..12);
        // Every third job shares its begin time with the previous one: ties.
        let begin = if i % 3 == 2 {
            jobs.last().map(|j: &NewJob| j.begin_time).unwrap()
        } else {
            utc(2024, 3, 1, 0, 0, 0) + TimeDelta::days(day) + TimeDelta::seconds(rng.i64(0..86_400))
        };
        let status = JobStatus::ALL[rng.usize(0..5)];
        jobs.push(job(
            graphs[rng.usize(0..3)],
            names[rng.usize(0..4)],
            status,
            begin,
        ));
    }
    jobs
}

fn matches(
    job: &NewJob,
    status: Option<JobStatus>,
    graph: Option<&str>,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
) -> bool {
    let day = |t: DateTime<Utc>| t.date_naive();
    status.is_none_or(|s| job.status == s)
        && graph.is_none_or(|g| job.graph_name.as_deref() == Some(g))
        && start.is_none_or(|s| day(job.begin_time) >= s)
        && end.is_none_or(|e| job.end_time.is_some_and(|t| day(t) <= e))
}

/// Expected ids, newest first with ties broken by id.
fn expected(jobs: &[NewJob], keep: impl Fn(&NewJob) -> bool) -> Vec<String> {
    let mut kept: Vec<&NewJob> = jobs.iter().filter(|j| keep(j)).collect();
    kept.sort_by(|a, b| b.begin_time.cmp(&a.begin_time).then(b.id.cmp(&a.id)));
    kept.iter().map(|j| j.id.to_string()).collect()
}

async fn all_pages(app: &TestApp, query: &str, limit: usize) -> (i64, Vec<String>) {
    let mut seen = Vec::new();
    loop {
        let (status, body) = app
            .list(&format!("{query}&offset={}&limit={limit}", seen.len()))
            .await;
        assert_eq!(status, 200, "{body}");
        let total = body["job_count"].as_i64().unwrap();
        let page = ids(&body);
        if page.is_empty() {
            return (total, seen);
        }
        assert!(page.len() <= limit);
        seen.extend(page);
    }
}

#[tokio::test]
async fn every_filter_alone_and_combined_matches_an_independent_model() {
    let app = TestApp::spawn_reader().await;
    let jobs = dataset();
    app.insert(&jobs).await;
    // Jobs of another project must never show.
    let mut other = job(
        "graph_a",
        "CreateGraph",
        JobStatus::Success,
        utc(2024, 3, 5, 1, 0, 0),
    );
    other.project_id = jobcenter::domain::ProjectId::parse("otherproj").unwrap();
    app.insert(&[other]).await;

    let d = |day: u32| NaiveDate::from_ymd_opt(2024, 3, day).unwrap();
    let statuses = [
        None,
        Some(("waiting", JobStatus::Pending)),
        Some(("partiallyFailed", JobStatus::PartiallyFailed)),
    ];
    let graphs = [None, Some("graph_b")];
    let starts = [None, Some(d(4))];
    let ends = [None, Some(d(9))];
    for status in statuses {
        for graph in graphs {
            for start in starts {
                for end in ends {
                    let mut query = String::from("x=1");
                    if let Some((word, _)) = status {
                        query.push_str(&format!("&status={word}"));
                    }
                    if let Some(g) = graph {
                        query.push_str(&format!("&graph_name={g}"));
                    }
                    if let Some(s) = start {
                        query.push_str(&format!("&start_time={s}"));
                    }
                    if let Some(e) = end {
                        query.push_str(&format!("&end_time={e}"));
                    }
                    let want = expected(&jobs, |j| {
                        matches(j, status.map(|s| s.1), graph, start, end)
                    });
                    let (total, got) = all_pages(&app, &query, 7).await;
                    assert_eq!(got, want, "query {query}");
                    assert_eq!(total, want.len() as i64, "job_count for {query}");
                }
            }
        }
    }
}

#[tokio::test]
async fn job_count_equals_count_star_and_ignores_paging() {
    let app = TestApp::spawn_reader().await;
    app.insert(&dataset()).await;
    let counted: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE project_id = $1 AND status = 'success' AND graph_name = 'graph_c'")
        .bind(PROJECT)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(counted > 0);
    for paging in [
        "offset=0&limit=1",
        "offset=5&limit=1000",
        "offset=100000&limit=10",
    ] {
        let (status, body) = app
            .list(&format!("status=success&graph_name=graph_c&{paging}"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(body["job_count"].as_i64().unwrap(), counted, "{paging}");
    }
    let (_, body) = app.list("offset=100000").await;
    assert_eq!(body["job_list"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn paging_with_ties_has_no_duplicates_and_no_gaps() {
    let app = TestApp::spawn_reader().await;
    let same = utc(2024, 5, 5, 12, 0, 0);
    let jobs: Vec<NewJob> = (0..25)
        .map(|_| job("graph_a", "StopGraph", JobStatus::Success, same))
        .collect();
    app.insert(&jobs).await;
    for limit in [1, 4, 10] {
        let (total, got) = all_pages(&app, "graph_name=graph_a", limit).await;
        assert_eq!(total, 25);
        assert_eq!(got, expected(&jobs, |_| true), "limit {limit}");
    }
}

#[tokio::test]
async fn date_filters_include_their_whole_days_and_nothing_else() {
    let app = TestApp::spawn_reader().await;
    let mut ends_last_second = job(
        "graph_a",
        "StopGraph",
        JobStatus::Success,
        utc(2024, 6, 10, 23, 0, 0),
    );
    ends_last_second.end_time = Some(utc(2024, 6, 10, 23, 59, 59));
    let mut ends_next_midnight = job(
        "graph_a",
        "StopGraph",
        JobStatus::Success,
        utc(2024, 6, 10, 23, 0, 0),
    );
    ends_next_midnight.end_time = Some(utc(2024, 6, 11, 0, 0, 0));
    let begins_at_midnight = job(
        "graph_a",
        "StopGraph",
        JobStatus::Success,
        utc(2024, 6, 10, 0, 0, 0),
    );
    let begins_day_before = job(
        "graph_a",
        "StopGraph",
        JobStatus::Success,
        utc(2024, 6, 9, 23, 59, 59),
    );
    let unfinished = job(
        "graph_a",
        "StopGraph",
        JobStatus::Running,
        utc(2024, 6, 10, 8, 0, 0),
    );
    app.insert(&[
        ends_last_second.clone(),
        ends_next_midnight.clone(),
        begins_at_midnight.clone(),
        begins_day_before.clone(),
        unfinished.clone(),
    ])
    .await;

    let (_, body) = app.list("end_time=2024-06-10").await;
    let got = ids(&body);
    assert!(got.contains(&ends_last_second.id.to_string()));
    assert!(!got.contains(&ends_next_midnight.id.to_string()));
    assert!(
        !got.contains(&unfinished.id.to_string()),
        "unfinished jobs have no end time"
    );
    assert_eq!(body["job_count"], got.len());

    let (_, body) = app.list("start_time=2024-06-10").await;
    let got = ids(&body);
    assert!(got.contains(&begins_at_midnight.id.to_string()));
    assert!(!got.contains(&begins_day_before.id.to_string()));
    assert_eq!(body["job_count"], 4);

    let (_, body) = app.list("start_time=2024-06-10&end_time=2024-06-10").await;
    assert_eq!(body["job_count"], 2);
}

#[tokio::test]
async fn waiting_and_pending_both_select_pending_jobs() {
    let app = TestApp::spawn_reader().await;
    let pending = job(
        "graph_a",
        "StartGraph",
        JobStatus::Pending,
        utc(2024, 1, 1, 0, 0, 0),
    );
    let running = job(
        "graph_a",
        "StartGraph",
        JobStatus::Running,
        utc(2024, 1, 1, 0, 0, 1),
    );
    app.insert(&[pending.clone(), running]).await;
    for word in ["waiting", "pending"] {
        let (status, body) = app.list(&format!("status={word}")).await;
        assert_eq!(status, 200);
        assert_eq!(ids(&body), vec![pending.id.to_string()]);
        assert_eq!(body["job_list"][0]["status"], "pending");
    }
}

#[tokio::test]
async fn defaults_are_ten_newest_first() {
    let app = TestApp::spawn_reader().await;
    let jobs: Vec<NewJob> = (0..15)
        .map(|i| {
            job(
                "graph_a",
                "StopGraph",
                JobStatus::Success,
                utc(2024, 1, 1, 0, 0, 0) + TimeDelta::hours(i),
            )
        })
        .collect();
    app.insert(&jobs).await;
    let (_, body) = app.list("").await;
    assert_eq!(body["job_count"], 15);
    assert_eq!(ids(&body), expected(&jobs, |_| true)[..10].to_vec());
    assert_eq!(body["job_list"][0]["begin_time"], "2024-01-01T14:00:00");
}

#[tokio::test]
async fn counts_follow_status_changes_and_deletes() {
    let app = TestApp::spawn_reader().await;
    let pending = job(
        "graph_a",
        "StopGraph",
        JobStatus::Pending,
        utc(2024, 2, 2, 2, 2, 2),
    );
    app.insert(std::slice::from_ref(&pending)).await;
    sqlx::query("UPDATE jobs SET status = 'success', end_time = begin_time + interval '2 days', progress = 100 WHERE id = $1")
        .bind(pending.id.0)
        .execute(&app.pool)
        .await
        .unwrap();
    let (_, body) = app.list("status=waiting").await;
    assert_eq!(body["job_count"], 0);
    let (_, body) = app.list("status=success&end_time=2024-02-04").await;
    assert_eq!(body["job_count"], 1);
    let (_, body) = app.list("status=success&end_time=2024-02-03").await;
    assert_eq!(body["job_count"], 0);
    sqlx::query("DELETE FROM jobs")
        .execute(&app.pool)
        .await
        .unwrap();
    let (_, body) = app.list("").await;
    assert_eq!(body["job_count"], 0);
}
