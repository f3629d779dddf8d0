//! Error answers of the contract, and recovery from a database outage.

use jobcenter::domain::JobStatus;

use crate::helpers::{
    PROJECT, Proxy, TestApp, fresh_database, job, status_path, test_settings, utc,
};

#[tokio::test]
async fn bad_parameters_answer_400_naming_the_parameter() {
    let app = TestApp::spawn_reader().await;
    let cases = [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("offset=1e3", "offset"),
        ("status=cancelled", "status"),
        ("status=", "status"),
        ("start_time=2024-02-30", "start_time"),
        ("end_time=yesterday", "end_time"),
        ("start_time=2024-03-02&end_time=2024-03-01", "start_time"),
    ];
    for (query, param) in cases {
        let (status, body) = app.list(query).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(body["error_code"], "GES.0001", "{query}");
        assert!(
            body["error_msg"].as_str().unwrap().contains(param),
            "{query}: {body}"
        );
        assert_eq!(
            body.as_object().unwrap().len(),
            2,
            "only error_code and error_msg"
        );
    }
}

#[tokio::test]
async fn a_malformed_project_id_is_400_and_an_unknown_path_is_404() {
    let app = TestApp::spawn_reader().await;
    let token = app.token(PROJECT, &["readonly"]);
    let long = "a".repeat(65);
    for project in ["bad-project", long.as_str()] {
        let (status, body) = app
            .get(&format!("/v2/{project}/graphs/jobs"), Some(&token))
            .await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (400, Some("GES.0001")),
            "{project}"
        );
    }
    let (status, body) = app.get("/v3/nothing", Some(&token)).await;
    assert_eq!(status, 404);
    assert!(body["error_code"].is_string() && body["error_msg"].is_string());
}

#[tokio::test]
async fn a_database_outage_answers_503_and_the_service_recovers_by_itself() {
    let url = fresh_database().await;
    let (proxy, proxied) = Proxy::in_front_of(&url).await;
    let mut settings = test_settings(&proxied);
    settings.database.acquire_timeout_secs = 1;
    let app = TestApp::spawn_with(settings).await;

    assert_eq!(app.list("").await.0, 200);
    proxy.cut().await;
    let (status, body) = app.list("").await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (503, Some("GES.7005")),
        "{body}"
    );
    assert!(
        !body["error_msg"].as_str().unwrap().contains("127.0.0.1"),
        "no internals leak"
    );
    proxy.restore();
    let mut recovered = false;
    for _ in 0..20 {
        if app.list("").await.0 == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(
        recovered,
        "the service answers again once the database is back"
    );
}

#[tokio::test]
async fn health_answers_without_a_token_and_readiness_follows_the_database() {
    let url = fresh_database().await;
    let (proxy, proxied) = Proxy::in_front_of(&url).await;
    let mut settings = test_settings(&proxied);
    settings.database.acquire_timeout_secs = 1;
    let app = TestApp::spawn_with(settings).await;
    assert_eq!(
        app.get("/health/live", None).await,
        (200, serde_json::json!({"status": "up"}))
    );
    let (status, ready) = app.get("/health/ready", None).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(
        ready["migrations"]["applied"],
        ready["migrations"]["expected"]
    );
    proxy.cut().await;
    let (status, ready) = app.get("/health/ready", None).await;
    assert_eq!(
        (status, ready["database"].as_str()),
        (503, Some("down")),
        "{ready}"
    );
    assert_eq!(
        app.get("/health/live", None).await.0,
        200,
        "alive while the database is away"
    );
    proxy.restore();
}

#[tokio::test]
async fn reads_after_the_database_connections_broke_answer_at_once() {
    let url = fresh_database().await;
    let (proxy, proxied) = Proxy::in_front_of(&url).await;
    let app = TestApp::spawn_with(test_settings(&proxied)).await;
    let done = job(
        "movies",
        "CreateGraph",
        JobStatus::Success,
        utc(2026, 1, 2, 3, 4, 5),
    );
    app.insert(std::slice::from_ref(&done)).await;
    let token = app.token(PROJECT, &["readonly"]);
    let status_path = status_path("movies", done.id);
    assert_eq!(app.list("").await.0, 200);
    assert_eq!(app.get(&status_path, Some(&token)).await.0, 200);

    proxy.cut().await;
    proxy.restore();
    let (status, body) = app.list("").await;
    assert_eq!(
        status, 200,
        "the list reconnects instead of failing: {body}"
    );
    assert_eq!(body["job_count"], 1);
    let (status, body) = app.get(&status_path, Some(&token)).await;
    assert_eq!(
        status, 200,
        "the status read reconnects instead of failing: {body}"
    );
    assert_eq!(body["status"], "success");
}
