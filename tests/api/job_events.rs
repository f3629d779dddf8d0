//! `GET /v2/{p}/graphs/jobs/events`: the project's job changes as Server-Sent Events, fed
//! by the count store's NOTIFY and the hub's reads; resumed with `Last-Event-ID`; bounded
//! per token; a closed stream is let go (the stream-count metric goes back down).

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{PROJECT, TestApp, fresh_database, poll, test_settings};

/// A producer job type.
const TYPE: &str = "ConsoleReport";

/// One SSE block: its id, event name (`comment` for a comment) and data.
#[derive(Debug, Clone)]
struct Block {
    id: Option<String>,
    event: String,
    data: String,
}

/// A stream being read.
struct Sse {
    response: reqwest::Response,
    buffer: String,
}

impl Sse {
    /// The next block (waiting at most 30 s).
    async fn next(&mut self) -> Block {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let raw: String = self.buffer.drain(..end + 2).collect();
                let mut block = Block {
                    id: None,
                    event: "message".into(),
                    data: String::new(),
                };
                for line in raw.lines() {
                    if let Some(comment) = line.strip_prefix(':') {
                        block.event = "comment".into();
                        block.data = comment.trim().into();
                    } else if let Some((field, value)) = line.split_once(": ") {
                        match field {
                            "id" => block.id = Some(value.into()),
                            "event" => block.event = value.into(),
                            "data" => block.data = value.into(),
                            "retry" => block.event = "retry".into(),
                            _ => {}
                        }
                    }
                }
                return block;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(30), self.response.chunk())
                .await
                .expect("an event within 30 s")
                .expect("the stream reads")
                .expect("the stream stays open");
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next block named `event` (others skipped), within 30 s: heartbeats keep an idle
    /// stream open, so a missing event would otherwise be waited for for ever.
    async fn until(&mut self, event: &str) -> Block {
        let wanted = async {
            loop {
                let block = self.next().await;
                if block.event == event {
                    return block;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), wanted)
            .await
            .unwrap_or_else(|_| panic!("a `{event}` event within 30 s"))
    }

    /// The next `job` event of job `id` whose data satisfies `done`.
    async fn job(&mut self, id: &str, done: impl Fn(&Value) -> bool) -> (String, Value) {
        loop {
            let block = self.until("job").await;
            let data: Value = serde_json::from_str(&block.data).unwrap();
            if data["job_id"] == id && done(&data) {
                return (block.id.unwrap(), data);
            }
        }
    }
}

async fn open(app: &TestApp, token: Option<&str>, last_id: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .get(format!("{}/v2/{PROJECT}/graphs/jobs/events", app.address));
    if let Some(token) = token {
        request = request.header("X-Auth-Token", token);
    }
    if let Some(last) = last_id {
        request = request.header("Last-Event-ID", last);
    }
    request.send().await.unwrap()
}

async fn stream(app: &TestApp, token: &str, last_id: Option<&str>) -> Sse {
    let response = open(app, Some(token), last_id).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    Sse {
        response,
        buffer: String::new(),
    }
}

/// A service with no built-in workers, fast event reads and a 1 s heartbeat.
async fn spawn() -> TestApp {
    let mut settings = test_settings(&fresh_database().await);
    settings.worker.concurrency = 0;
    settings.events.poll_interval_ms = 100;
    settings.events.heartbeat_secs = 1;
    settings.events.max_streams_per_token = 2;
    TestApp::spawn_with(settings).await
}

async fn post(app: &TestApp, path: &str, body: Value) -> Value {
    let token = app.token(PROJECT, &["producer"]);
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .header("X-Auth-Token", token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

/// The number of open streams, from the metrics.
async fn open_streams(app: &TestApp) -> i64 {
    let text = app.metrics().await;
    text.lines()
        .find_map(|l| l.strip_prefix("jobcenter_event_streams "))
        .expect("the stream gauge")
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_job_is_followed_live_and_a_stream_resumes_after_its_last_event() {
    let app = spawn().await;
    let token = app.token(PROJECT, &["readonly"]);
    let mut sse = stream(&app, &token, None).await;
    let ready = sse.until("ready").await;
    assert!(ready.id.is_some());

    // Another project's job is never this project's event.
    let other = app.token("proj2", &["producer"]);
    let response = app
        .client
        .post(format!("{}/internal/v1/proj2/jobs", app.address))
        .header("X-Auth-Token", other)
        .json(&json!({"job_type": TYPE, "job_name": "Elsewhere", "payload": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let enqueued = post(
        &app,
        &format!("/internal/v1/{PROJECT}/jobs"),
        json!({"job_type": TYPE, "job_name": "Report", "payload": {}}),
    )
    .await;
    let id = enqueued["job_id"].as_str().unwrap().to_owned();
    let block = sse.until("job").await;
    let data: Value = serde_json::from_str(&block.data).unwrap();
    assert_eq!(
        data["job_id"],
        id.as_str(),
        "the first event is this project's job"
    );
    assert_eq!(data["status"], "pending");
    assert_eq!(data["job_name"], "Report");

    let claimed = post(
        &app,
        &format!("/internal/v1/{PROJECT}/jobs/claim"),
        json!({"job_types": [TYPE], "max_jobs": 1}),
    )
    .await;
    let lease = claimed["jobs"][0]["lease_token"]
        .as_str()
        .unwrap()
        .to_owned();
    sse.job(&id, |d| d["status"] == "running").await;
    post(
        &app,
        &format!("/internal/v1/{PROJECT}/jobs/{id}/heartbeat"),
        json!({"lease_token": lease, "progress": 40}),
    )
    .await;
    let (at_40, _) = sse.job(&id, |d| d["job_progress"] == 40.0).await;
    drop(sse);

    // While no stream is open, the job ends; a stream resuming after the 40% event gets
    // the end, and nothing from before.
    post(
        &app,
        &format!("/internal/v1/{PROJECT}/jobs/{id}/complete"),
        json!({"lease_token": lease, "status": "success"}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut resumed = stream(&app, &token, Some(&at_40)).await;
    let first = loop {
        let block = resumed.next().await;
        if block.event != "retry" {
            break block;
        }
    };
    assert_eq!(
        first.event, "job",
        "the missed event is replayed first: {first:?}"
    );
    let data: Value = serde_json::from_str(&first.data).unwrap();
    assert_eq!(
        (data["job_id"].as_str(), data["status"].as_str()),
        (Some(id.as_str()), Some("success"))
    );
    assert!(first.id.unwrap().parse::<u64>().unwrap() > at_40.parse::<u64>().unwrap());
    resumed.until("ready").await;

    // An id this process cannot resume from: reload.
    drop(resumed);
    let operator = app.token(PROJECT, &["operator"]);
    let mut stale = stream(&app, &operator, Some("1")).await;
    stale.until("reset").await;
    // A heartbeat comment arrives on an idle stream.
    let beat = stale.until("comment").await;
    assert_eq!(beat.data, "heartbeat");
}

#[tokio::test]
async fn streams_are_refused_without_a_reader_token_and_beyond_the_limit() {
    let app = spawn().await;
    let code = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        (status, body["error_code"].as_str().unwrap().to_owned())
    };
    assert_eq!(
        code(open(&app, None, None).await).await,
        (401, "APIG.0301".into())
    );
    let other = app.token("proj2", &["readonly"]);
    assert_eq!(
        code(open(&app, Some(&other), None).await).await,
        (403, "GES.7041".into())
    );
    let producer = app.token(PROJECT, &["producer"]);
    assert_eq!(code(open(&app, Some(&producer), None).await).await.0, 403);

    let token = app.token(PROJECT, &["operator"]);
    let mut first = stream(&app, &token, None).await;
    let mut second = stream(&app, &token, None).await;
    first.until("ready").await;
    second.until("ready").await;
    assert_eq!(
        code(open(&app, Some(&token), None).await).await,
        (429, "APIG.0308".into())
    );
    // Another token has streams of its own.
    let another = app.token(PROJECT, &["readonly"]);
    let mut third = stream(&app, &another, None).await;
    third.until("ready").await;
    assert_eq!(open_streams(&app).await, 3);

    // Clients that go away are let go: the count goes back down and the token may open again.
    drop(first);
    drop(second);
    drop(third);
    poll("the streams to close", || open_streams(&app), |n| *n == 0).await;
    let mut again = stream(&app, &token, None).await;
    again.until("ready").await;
    assert_eq!(open_streams(&app).await, 1);
}
