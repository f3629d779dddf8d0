//! Request ids: kept from the caller (or made), returned, and recorded with the job.

use crate::graphs::create_body;
use crate::helpers::{PROJECT, TestApp};

#[tokio::test]
async fn a_callers_request_id_is_returned_and_recorded_with_the_job() {
    let app = TestApp::spawn().await;
    let token = app.token(PROJECT, &["operator"]);
    let created = app
        .client
        .post(format!("{}/v2/{PROJECT}/graphs", app.address))
        .header("X-Auth-Token", &token)
        .header("X-Request-Id", "req-from-console-42")
        .json(&create_body("traced"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.headers()["x-request-id"], "req-from-console-42");
    let recorded: Option<String> =
        sqlx::query_scalar("SELECT request_id FROM jobs WHERE job_name = 'CreateGraph'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(recorded.as_deref(), Some("req-from-console-42"));

    let listed = app
        .client
        .get(format!("{}/v2/{PROJECT}/graphs/jobs", app.address))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    let made = listed.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(made.len(), 32, "{made}");
    let refused = app
        .client
        .get(format!("{}/v2/{PROJECT}/graphs/jobs", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    assert!(
        refused.headers().contains_key("x-request-id"),
        "error answers carry it too"
    );
}
