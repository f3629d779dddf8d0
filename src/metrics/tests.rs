use std::time::Duration;

use actix_web::http::Method;

use super::http::{UNMATCHED, method_label, route_label};
use super::*;
use crate::store::queue_stats::ReadyJobs;

/// The sample lines of `text` that start with `prefix`.
fn samples<'t>(text: &'t str, prefix: &str) -> Vec<&'t str> {
    text.lines().filter(|l| l.starts_with(prefix)).collect()
}

#[test]
fn requests_are_counted_by_pattern_method_and_status() {
    let metrics = Metrics::new();
    let route = route_label(Some("/v2/{project_id}/graphs".to_owned()));
    metrics.http_request(route.clone(), "GET", 200, Duration::from_millis(3));
    metrics.http_request(route, "GET", 200, Duration::from_millis(30));
    metrics.http_request(route_label(None), "GET", 404, Duration::from_millis(1));
    let text = metrics.encode();
    assert!(
        text.contains(
            "jobcenter_http_requests_total{route=\"/v2/{project_id}/graphs\",method=\"GET\",status=\"200\"} 2\n"
        ),
        "{text}"
    );
    assert!(text.contains(&format!(
        "jobcenter_http_requests_total{{route=\"{UNMATCHED}\",method=\"GET\",status=\"404\"}} 1\n"
    )));
    assert!(text.contains(
        "jobcenter_http_request_duration_seconds_bucket{route=\"/v2/{project_id}/graphs\",method=\"GET\",le=\"0.005\"} 1\n"
    ), "{text}");
    assert!(text.contains("# TYPE jobcenter_http_request_duration_seconds histogram\n"));
}

#[test]
fn job_lifecycle_counters_carry_job_name_and_final_status() {
    let metrics = Metrics::new();
    metrics.job_accepted("CreateGraph");
    metrics.job_started("CreateGraph");
    metrics.job_finished(
        "CreateGraph",
        JobStatus::PartiallyFailed,
        Some(Duration::from_secs(2)),
    );
    metrics.job_retried("CreateGraph");
    metrics.leases_expired(3);
    let text = metrics.encode();
    for line in [
        "jobcenter_jobs_accepted_total{job_name=\"CreateGraph\"} 1",
        "jobcenter_jobs_started_total{job_name=\"CreateGraph\"} 1",
        "jobcenter_jobs_finished_total{job_name=\"CreateGraph\",status=\"partiallyFailed\"} 1",
        "jobcenter_job_run_seconds_bucket{job_name=\"CreateGraph\",le=\"5\"} 1",
        "jobcenter_job_run_seconds_bucket{job_name=\"CreateGraph\",le=\"1\"} 0",
        "jobcenter_job_retries_total{job_name=\"CreateGraph\"} 1",
        "jobcenter_lease_expiries_total 3",
    ] {
        assert!(
            text.contains(&format!("{line}\n")),
            "{line} missing from:\n{text}"
        );
    }
}

#[test]
fn job_names_past_the_cap_count_as_other() {
    let metrics = Metrics::new();
    for i in 0..MAX_JOB_NAMES {
        metrics.job_accepted(&format!("name{i}"));
    }
    metrics.job_accepted("one-too-many");
    metrics.job_accepted("name0");
    let text = metrics.encode();
    let accepted = samples(&text, "jobcenter_jobs_accepted_total{");
    assert_eq!(accepted.len(), MAX_JOB_NAMES + 1);
    assert!(text.contains("jobcenter_jobs_accepted_total{job_name=\"other\"} 1\n"));
    assert!(text.contains("jobcenter_jobs_accepted_total{job_name=\"name0\"} 2\n"));
    assert!(!text.contains("one-too-many"));
}

#[test]
fn the_queue_always_shows_graph_operations_and_is_replaced_at_each_read() {
    let metrics = Metrics::new();
    metrics.set_queue(&[ReadyJobs {
        job_type: "export".to_owned(),
        count: 7,
        oldest_age_secs: 12.5,
    }]);
    let text = metrics.encode();
    assert!(
        text.contains("jobcenter_queue_depth{job_type=\"export\"} 7\n"),
        "{text}"
    );
    assert!(text.contains("jobcenter_queue_depth{job_type=\"GraphManagement\"} 0\n"));
    assert!(text.contains("jobcenter_queue_oldest_age_seconds{job_type=\"export\"} 12.5\n"));

    metrics.set_queue(&[]);
    let text = metrics.encode();
    assert!(!text.contains("job_type=\"export\""), "{text}");
    assert!(text.contains("jobcenter_queue_depth{job_type=\"GraphManagement\"} 0\n"));

    metrics.clear_queue();
    assert!(samples(&metrics.encode(), "jobcenter_queue_depth{").is_empty());
}

#[test]
fn pool_gauges_split_the_pool_into_in_use_and_idle() {
    let metrics = Metrics::new();
    metrics.set_pool(5, 2, 10);
    let text = metrics.encode();
    assert!(
        text.contains("jobcenter_db_connections_in_use 3\n"),
        "{text}"
    );
    assert!(text.contains("jobcenter_db_connections_idle 2\n"));
    assert!(text.contains("jobcenter_db_connections_max 10\n"));
}

#[test]
fn methods_outside_the_standard_set_share_one_label() {
    assert_eq!(method_label(&Method::GET), "GET");
    assert_eq!(method_label(&Method::DELETE), "DELETE");
    let custom = Method::from_bytes(b"PURGE").unwrap();
    assert_eq!(method_label(&custom), "other");
}
