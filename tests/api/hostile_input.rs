//! Hostile bodies and queries (issue 14, defects 1, 2, 5 and 8): each is answered with a
//! 4xx in the error shape naming what was wrong, and the resource it aimed at still works.

use serde_json::{Value, json};

use crate::graphs::create_body;
use crate::helpers::{PROJECT, TestApp};

/// Asserts the error shape: exactly `error_code` and `error_msg`, the code, and that the
/// message names `field`.
fn assert_refused(answer: &(u16, Value), status: u16, code: &str, field: &str) {
    let (got, body) = answer;
    assert_eq!(
        (*got, body["error_code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    assert_eq!(
        body.as_object().unwrap().len(),
        2,
        "only the two keys: {body}"
    );
    let message = body["error_msg"].as_str().unwrap();
    assert!(message.contains(field), "{field} not named: {message}");
}

/// The graph list, one graph and its deletion all answer: the project is not broken.
async fn assert_graphs_work(app: &TestApp) {
    let id = app.running_graph("still_works").await;
    let (status, list) = app.call(reqwest::Method::GET, "", None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(app.graph(&id).await.0, 200);
    let (status, deleted) = app
        .call(reqwest::Method::DELETE, &format!("/{id}"), None)
        .await;
    assert_eq!(status, 200, "{deleted}");
}

#[tokio::test]
async fn numbers_that_would_not_read_back_are_refused_and_the_graph_list_keeps_working() {
    let app = TestApp::spawn().await;
    let huge = "1.7976931348623157e308";
    let cases = [
        (
            format!(r#"{{"graph": {{"name": "huge1", "graph_size_type_index": 1, "x": {huge}}}}}"#),
            "graph.x",
        ),
        (
            format!(
                r#"{{"graph": {{"name": "huge2", "graph_size_type_index": 1, "tags": [{huge}]}}}}"#
            ),
            "graph.tags[0]",
        ),
    ];
    let token = app.token(PROJECT, &["operator"]);
    for (body, field) in &cases {
        let answer = raw_post(&app, &format!("/v2/{PROJECT}/graphs"), &token, body.clone()).await;
        assert_refused(&answer, 400, "GES.0001", field);
    }
    let deep = format!(
        r#"{{"graph": {{"name": "deep1", "graph_size_type_index": 1, "x": {}{}}}}}"#,
        "[".repeat(40),
        "]".repeat(40)
    );
    let answer = raw_post(&app, &format!("/v2/{PROJECT}/graphs"), &token, deep).await;
    assert_refused(&answer, 400, "GES.0001", "deeper than 32");
    let producer = app.token(PROJECT, &["producer"]);
    let payload = format!(r#"{{"job_type": "T", "job_name": "n", "payload": {{"n": {huge}}}}}"#);
    let answer = raw_post(
        &app,
        &format!("/internal/v1/{PROJECT}/jobs"),
        &producer,
        payload,
    )
    .await;
    assert_refused(&answer, 400, "GES.0001", "payload.n");
    let (_, list) = app.call(reqwest::Method::GET, "", None).await;
    assert_eq!(list["graph_count"], 0, "nothing was created: {list}");
    assert_graphs_work(&app).await;
}

#[tokio::test]
async fn nul_characters_answer_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let (status, body) = app.list("graph_name=%00").await;
    assert_refused(&(status, body), 400, "GES.0001", "graph_name");
    let with = |field: &str, value: Value| {
        let mut body = create_body("nul_graph");
        body["graph"][field] = value;
        body
    };
    for (body, field) in [
        (with("vpc_id", json!("vpc\u{0}")), "graph.vpc_id"),
        (
            with("tags", json!([{"key": "a\u{0}"}])),
            "graph.tags[0].key",
        ),
        (with("ignored", json!("x\u{0}y")), "graph.ignored"),
    ] {
        let answer = app.post("", Some(body)).await;
        assert_refused(&answer, 400, "GES.0001", field);
    }
    let producer = app.token(PROJECT, &["producer"]);
    let jobs = format!("/internal/v1/{PROJECT}/jobs");
    let job = |extra: Value| {
        let mut job = json!({"job_type": "Hostile", "job_name": "nul"});
        job.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        job
    };
    for (body, field) in [
        (job(json!({"payload": {"k": "\u{0}"}})), "payload.k"),
        (job(json!({"idempotency_key": "k\u{0}"})), "idempotency_key"),
        (
            job(json!({"files": [{"kind": "vertex", "path": "b/\u{0}"}]})),
            "files[0].path",
        ),
    ] {
        let answer = app.post_as(&jobs, &producer, &body).await;
        assert_refused(&answer, 400, "GES.0001", field);
    }
    // A claimed job refuses a NUL in its fail_reason, and still completes afterwards.
    assert_eq!(app.post_as(&jobs, &producer, &job(json!({}))).await.0, 200);
    let claim = json!({"job_types": ["Hostile"], "max_jobs": 1});
    let (_, claimed) = app
        .post_as(&format!("{jobs}/claim"), &producer, &claim)
        .await;
    let claimed = &claimed["jobs"][0];
    let complete = format!("{jobs}/{}/complete", claimed["job_id"].as_str().unwrap());
    let bad =
        json!({"lease_token": claimed["lease_token"], "status": "failed", "fail_reason": "x\u{0}"});
    let answer = app.post_as(&complete, &producer, &bad).await;
    assert_refused(&answer, 400, "GES.0001", "fail_reason");
    let good =
        json!({"lease_token": claimed["lease_token"], "status": "failed", "fail_reason": "x"});
    let (status, done) = app.post_as(&complete, &producer, &good).await;
    assert_eq!(
        (status, done["status"].as_str()),
        (200, Some("failed")),
        "{done}"
    );
    assert_eq!(app.list("").await.0, 200);
    assert_graphs_work(&app).await;
}

#[tokio::test]
async fn a_value_the_database_refuses_is_a_data_error_not_an_outage() {
    let app = TestApp::spawn_reader().await;
    let mut job = crate::helpers::job(
        "g1",
        "Nul\u{0}Name",
        jobcenter::domain::JobStatus::Success,
        crate::helpers::utc(2026, 1, 1, 0, 0, 0),
    );
    job.graph_id = None;
    let err = jobcenter::store::jobs::insert_job(&app.pool, &job)
        .await
        .unwrap_err();
    assert!(err.is_invalid_value(), "{err:?}");
    assert!(!err.is_unavailable());
    let answer = jobcenter::http::ApiError::from(err);
    assert_eq!(answer.code.http_status(), 400);
}

#[tokio::test]
async fn an_oversized_body_answers_413_in_the_error_shape() {
    let app = TestApp::spawn().await;
    let token = app.token(PROJECT, &["operator"]);
    let big = json!({"graph": {"name": "big_graph", "graph_size_type_index": 1, "x": "y".repeat(300_000)}});
    let response = app
        .client
        .post(format!("{}/v2/{PROJECT}/graphs", app.address))
        .header("X-Auth-Token", &token)
        .header("Content-Type", "application/json")
        .body(big.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let body: Value = response.json().await.unwrap();
    assert_refused(&(413, body), 413, "APIG.0201", "256 KiB");
    // Without a declared length too (chunked), over a raw connection.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /v2/{PROJECT}/graphs HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("2000\r\n{}\r\n", " ".repeat(0x2000));
    for _ in 0..40 {
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break; // the server answered and closed
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("APIG.0201"), "{answer}");
    assert_graphs_work(&app).await;
}

#[tokio::test]
async fn another_method_on_a_documented_path_is_405_with_allow() {
    let app = TestApp::spawn_reader().await;
    let token = app.token(PROJECT, &["operator"]);
    for (method, path, allow) in [
        ("TRACE", "/health/live".to_owned(), "GET"),
        ("PUT", format!("/v2/{PROJECT}/graphs/jobs"), "GET"),
        ("GET", format!("/internal/v1/{PROJECT}/jobs"), "POST"),
        (
            "PATCH",
            format!("/v2/{PROJECT}/graphs/{}", "a".repeat(32)),
            "GET, DELETE",
        ),
    ] {
        let response = app
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", app.address),
            )
            .header("X-Auth-Token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_refused(&(405, body), 405, "APIG.0102", "method");
    }
    let (status, body) = app.get("/v3/nothing", Some(&token)).await;
    assert_refused(&(status, body), 404, "APIG.0101", "path");
    assert_eq!(app.get("/health/live", None).await.0, 200);
}

#[tokio::test]
async fn integers_written_with_a_zero_fraction_are_integers() {
    let app = TestApp::spawn().await;
    let mut body = create_body("float_int");
    body["graph"]["graph_size_type_index"] = json!(1.0);
    body["graph"]["replication"] = json!(3.0);
    let (status, created) = app.post("", Some(body)).await;
    assert_eq!(status, 200, "{created}");
    let producer = app.token(PROJECT, &["producer"]);
    let job = json!({"job_type": "Floaty", "job_name": "n", "max_attempts": 2.0, "priority": -1.0});
    let (status, queued) = app
        .post_as(&format!("/internal/v1/{PROJECT}/jobs"), &producer, &job)
        .await;
    assert_eq!(status, 200, "{queued}");
    let (status, page) = app.list("limit=5.0").await;
    assert_eq!(
        status, 400,
        "a query's integer is text, and 5.0 is not one: {page}"
    );
    let mut half = create_body("float_half");
    half["graph"]["graph_size_type_index"] = json!(1.5);
    app.refused("", half, "GES.0001", "graph_size_type_index")
        .await;
}

/// POSTs `body` as it is (not re-encoded) with `token`.
async fn raw_post(app: &TestApp, path: &str, token: &str, body: String) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .header("X-Auth-Token", token)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
