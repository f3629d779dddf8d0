//! The queue's horizon (service::horizon): claims read the months from the oldest one
//! holding a pending job, and a job made pending in an older month after the horizon was
//! read is still claimed, at once when nothing newer is claimable and by the first claim
//! after the next reading otherwise.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use jobcenter::domain::JobStatus;
use jobcenter::service::horizon::READ_EVERY;
use serde_json::json;

use crate::helpers::{PROJECT, TestApp, job};

const TYPE: &str = "HorizonProbe";

impl TestApp {
    /// Claims up to `max` jobs of [`TYPE`]; answers their names.
    async fn claim_names(&self, max: i64) -> Vec<String> {
        let token = self.token(PROJECT, &["producer"]);
        let (status, body) = self
            .post_as(
                &format!("/internal/v1/{PROJECT}/jobs/claim"),
                &token,
                &json!({"job_types": [TYPE], "max_jobs": max, "lease_secs": 60}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["job_name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Enqueues a job of [`TYPE`] named `name` through the producer API (it begins now).
    async fn enqueue_probe(&self, name: &str) {
        let token = self.token(PROJECT, &["producer"]);
        let body = json!({"job_type": TYPE, "job_name": name, "payload": {"n": name}});
        let (status, answer) = self
            .post_as(&format!("/internal/v1/{PROJECT}/jobs"), &token, &body)
            .await;
        assert_eq!(status, 200, "{answer}");
    }

    /// Records a claimable job of [`TYPE`] named `name` that began `days` ago, with
    /// `priority`, as one left pending in an old month would be.
    async fn insert_old_pending(&self, name: &str, days: i64, priority: i32) {
        let begin = Utc::now() - TimeDelta::days(days);
        let mut old = job("g", name, JobStatus::Pending, begin);
        old.job_type = TYPE.to_owned();
        old.graph_name = None;
        old.payload = json!({"n": name});
        self.insert(&[old]).await;
        sqlx::query("UPDATE jobs SET priority = $1 WHERE job_name = $2")
            .bind(priority)
            .bind(name)
            .execute(&self.pool)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_job_pending_in_an_old_month_is_claimed_when_nothing_newer_is() {
    let app = TestApp::spawn().await;
    app.enqueue_probe("new").await;
    // This claim reads the horizon: this month, the only one holding a pending job.
    assert_eq!(app.claim_names(5).await, ["new"]);

    app.insert_old_pending("old", 95, 0).await;
    // Within a second of the reading: nothing is claimable from the horizon on, so the
    // claim looks again over every month.
    assert_eq!(app.claim_names(5).await, ["old"]);
    assert!(app.claim_names(5).await.is_empty());
}

#[tokio::test]
async fn the_horizon_moves_back_to_a_month_with_a_pending_job() {
    let app = TestApp::spawn().await;
    for name in ["new-1", "new-2", "new-3"] {
        app.enqueue_probe(name).await;
    }
    assert_eq!(app.claim_names(1).await.len(), 1);

    // Pending in a month four months back, ahead of every other job by priority.
    app.insert_old_pending("old", 125, 10).await;
    tokio::time::sleep(READ_EVERY + Duration::from_millis(100)).await;
    assert_eq!(app.claim_names(1).await, ["old"]);
    assert_eq!(app.claim_names(5).await.len(), 2);
}

#[tokio::test]
async fn a_horizon_of_months_without_pending_jobs_is_this_month() {
    let app = TestApp::spawn().await;
    app.insert_old_pending("old", 65, 0).await;
    sqlx::query("UPDATE jobs SET status = 'failed', end_time = now() WHERE job_name = 'old'")
        .execute(&app.pool)
        .await
        .unwrap();
    let mut conn = app.pool.acquire().await.unwrap();
    let horizon = jobcenter::store::queue::oldest_pending_month(&mut conn)
        .await
        .unwrap();
    let this_month: chrono::DateTime<Utc> =
        sqlx::query_scalar("SELECT date_trunc('month', now(), 'UTC')")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!(horizon, this_month);

    app.insert_old_pending("older", 65, 0).await;
    let horizon = jobcenter::store::queue::oldest_pending_month(&mut conn)
        .await
        .unwrap();
    let begin: chrono::DateTime<Utc> =
        sqlx::query_scalar("SELECT begin_time FROM jobs WHERE job_name = 'older'")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!(
        horizon,
        jobcenter::store::months::start_of(begin.date_naive())
    );
}
