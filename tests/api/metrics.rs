//! Prometheus metrics on their own port: request counts by route pattern, the jobs' life
//! (accepted, started, finished, run time) through the built-in workers and the producer
//! API, the queue and pool gauges read at scrape time; and the workers in `/health/ready`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::graphs::create_body;
use crate::helpers::{PROJECT, TestApp, fresh_database, job, test_settings};
use jobcenter::domain::JobStatus;

impl TestApp {
    /// Scrapes until `line` (a whole sample line) appears; panics with the last scrape.
    async fn metric_line(&self, line: &str) -> String {
        let mut text = String::new();
        for _ in 0..100 {
            text = self.metrics().await;
            if text.lines().any(|l| l == line) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{line} never appeared in:\n{text}");
    }

    /// POST `body` with a producer token to `/internal/v1/{PROJECT}{path}`.
    async fn produce(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/internal/v1/{PROJECT}{path}", self.address))
            .header("X-Auth-Token", self.token(PROJECT, &["producer"]))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// The value of the sample `line_start` (its name and labels) in `text`.
fn sample(text: &str, line_start: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

#[tokio::test]
async fn requests_are_counted_by_route_pattern_method_and_status() {
    let app = TestApp::spawn_reader().await;
    for _ in 0..2 {
        assert_eq!(app.list("limit=5").await.0, 200);
    }
    assert_eq!(app.get("/v2/proj1/graphs/jobs", None).await.0, 401);
    assert_eq!(app.get("/no/such/path/42", None).await.0, 404);

    let text = app
        .metric_line(
            "jobcenter_http_requests_total{route=\"/v2/{project_id}/graphs/jobs\",method=\"GET\",status=\"200\"} 2",
        )
        .await;
    let route = "route=\"/v2/{project_id}/graphs/jobs\",method=\"GET\"";
    assert_eq!(
        sample(
            &text,
            &format!("jobcenter_http_requests_total{{{route},status=\"401\"}}")
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "jobcenter_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!("jobcenter_http_request_duration_seconds_count{{{route}}}")
        ),
        Some(3.0),
        "{text}"
    );
    assert!(!text.contains("/v2/proj1/"), "raw paths are no labels");
    assert!(!text.contains("/no/such/path"), "raw paths are no labels");
}

#[tokio::test]
async fn metrics_are_served_on_their_own_port_only() {
    let app = TestApp::spawn_reader().await;
    assert_ne!(app.metrics_address, app.address);
    let on_api = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(on_api.status().as_u16(), 404, "no /metrics on the API port");

    let scrape = app
        .client
        .get(format!("{}/metrics", app.metrics_address))
        .send()
        .await
        .unwrap();
    assert_eq!(scrape.status().as_u16(), 200);
    let content_type = scrape.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = scrape.text().await.unwrap();
    assert!(
        text.contains("# TYPE jobcenter_http_requests_total counter"),
        "{text}"
    );

    let api_on_metrics = app
        .client
        .get(format!("{}/health/live", app.metrics_address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        api_on_metrics.status().as_u16(),
        404,
        "no API on the metrics port"
    );
}

#[tokio::test]
async fn metrics_can_be_disabled() {
    let mut settings = test_settings(&fresh_database().await);
    settings.metrics.enabled = false;
    let app = TestApp::spawn_with(settings).await;
    assert!(app.metrics_address.is_empty());
    assert_eq!(app.get("/health/live", None).await.0, 200);
}

#[tokio::test]
async fn a_graph_operation_moves_the_job_counters_through_to_its_end() {
    let app = TestApp::spawn().await;
    app.running_graph("metrics_graph").await;

    let finished = "jobcenter_jobs_finished_total{job_name=\"CreateGraph\",status=\"success\"} 1";
    let text = app.metric_line(finished).await;
    for line in [
        "jobcenter_jobs_accepted_total{job_name=\"CreateGraph\"} 1",
        "jobcenter_jobs_started_total{job_name=\"CreateGraph\"} 1",
        "jobcenter_job_run_seconds_count{job_name=\"CreateGraph\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from:\n{text}"
        );
    }
    assert!(!text.contains("status=\"failed\""), "{text}");
}

#[tokio::test]
async fn producer_jobs_are_counted_when_enqueued_claimed_and_completed() {
    let app = TestApp::spawn_reader().await;
    let job =
        json!({"job_type": "ReportExport", "job_name": "MonthlyReport", "idempotency_key": "k1"});
    for _ in 0..2 {
        let (status, body) = app.produce("/jobs", job.clone()).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, claimed) = app
        .produce("/jobs/claim", json!({"job_types": ["ReportExport"]}))
        .await;
    assert_eq!(status, 200, "{claimed}");
    let claimed = &claimed["jobs"][0];
    let (status, body) = app
        .produce(
            &format!("/jobs/{}/complete", claimed["job_id"].as_str().unwrap()),
            json!({"lease_token": claimed["lease_token"], "status": "failed", "fail_reason": "no data"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let text = app.metrics().await;
    for (line, value) in [
        (
            "jobcenter_jobs_accepted_total{job_name=\"MonthlyReport\"}",
            1.0,
        ),
        (
            "jobcenter_jobs_started_total{job_name=\"MonthlyReport\"}",
            1.0,
        ),
        (
            "jobcenter_jobs_finished_total{job_name=\"MonthlyReport\",status=\"failed\"}",
            1.0,
        ),
        (
            "jobcenter_job_run_seconds_count{job_name=\"MonthlyReport\"}",
            1.0,
        ),
    ] {
        assert_eq!(sample(&text, line), Some(value), "{line} in:\n{text}");
    }
}

#[tokio::test]
async fn a_reaped_lease_is_counted() {
    let mut settings = test_settings(&fresh_database().await);
    settings.worker.poll_interval_ms = 50;
    let app = TestApp::spawn_with(settings).await;
    let job = json!({"job_type": "ReportExport", "job_name": "Nightly"});
    assert_eq!(app.produce("/jobs", job).await.0, 200);
    let (status, claimed) = app
        .produce(
            "/jobs/claim",
            json!({"job_types": ["ReportExport"], "lease_secs": 1}),
        )
        .await;
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(claimed["jobs"].as_array().unwrap().len(), 1);
    let text = app.metric_line("jobcenter_lease_expiries_total 1").await;
    assert_eq!(
        sample(&text, "jobcenter_jobs_started_total{job_name=\"Nightly\"}"),
        Some(1.0)
    );
    assert!(
        !text.contains("jobcenter_jobs_finished_total{job_name=\"Nightly\""),
        "requeued, not finished"
    );
}

#[tokio::test]
async fn the_queue_gauges_count_ready_jobs_only() {
    let app = TestApp::spawn_reader().await;
    for name in ["queue_one", "queue_two"] {
        let (status, body) = app.post("", Some(create_body(name))).await;
        assert_eq!(status, 200, "{body}");
    }
    let later = (chrono::Utc::now() + chrono::TimeDelta::hours(1)).to_rfc3339();
    for body in [
        json!({"job_type": "ReportExport", "job_name": "Now"}),
        json!({"job_type": "ReportExport", "job_name": "Later", "run_after": later}),
    ] {
        let (status, answer) = app.produce("/jobs", body).await;
        assert_eq!(status, 200, "{answer}");
    }
    // A recorded pending job (no payload) is history, not work.
    app.insert(&[job(
        "queue_three",
        "StartGraph",
        JobStatus::Pending,
        chrono::Utc::now(),
    )])
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let text = app.metrics().await;
    let depth = |t| sample(&text, &format!("jobcenter_queue_depth{{job_type=\"{t}\"}}"));
    assert_eq!(depth("GraphManagement"), Some(2.0), "{text}");
    assert_eq!(depth("ReportExport"), Some(1.0), "{text}");
    let oldest = sample(
        &text,
        "jobcenter_queue_oldest_age_seconds{job_type=\"GraphManagement\"}",
    )
    .unwrap();
    assert!((1.0..60.0).contains(&oldest), "{oldest}");

    let max = sample(&text, "jobcenter_db_connections_max").unwrap();
    let in_use = sample(&text, "jobcenter_db_connections_in_use").unwrap();
    let idle = sample(&text, "jobcenter_db_connections_idle").unwrap();
    // The shared pool (database.max_connections = 10); per HTTP thread a pool and the job
    // list's connections, each kind sharing another 10 among the threads; and each
    // thread's job-status reader connections.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    let reader = jobcenter::store::status_reads::MAX_RUNNING as u32;
    let expected = 10 + 2 * threads * 10u32.div_ceil(threads) + threads * reader;
    assert_eq!(max, f64::from(expected), "pool maxima");
    assert!(in_use + idle >= 1.0 && in_use + idle <= max, "{text}");
}

#[tokio::test]
async fn an_empty_queue_reads_zero_for_graph_operations() {
    let app = TestApp::spawn_reader().await;
    let text = app.metrics().await;
    assert_eq!(
        sample(&text, "jobcenter_queue_depth{job_type=\"GraphManagement\"}"),
        Some(0.0),
        "{text}"
    );
}

#[tokio::test]
async fn readiness_reports_the_worker_pool() {
    let app = TestApp::spawn().await;
    let (status, ready) = app.get("/health/ready", None).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(
        ready["workers"],
        json!({"state": "running", "concurrency": 4})
    );

    let reader = TestApp::spawn_reader().await;
    let (status, ready) = reader.get("/health/ready", None).await;
    assert_eq!(
        status, 200,
        "disabled workers leave the service ready: {ready}"
    );
    assert_eq!(
        ready["workers"],
        json!({"state": "disabled", "concurrency": 0})
    );
}
