//! `GET /v2/{project_id}/graphs/jobs/events`: the project's job events as Server-Sent
//! Events, from the process's [`Hub`].

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use std::time::Duration;

use super::error::{ApiError, ErrorBody};
use super::extract::{Authorized, Reader, TOKEN_HEADER};
use super::openapi::errors as err;
use super::requests::params::ProjectPath;
use crate::domain::Code;
use crate::events::{self, Hub, Refused};

/// One Server-Sent Event of the stream, as its fields.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct JobEvent {
    /// `job`, `ready` or `reset` (absent for the first block, which only sets `retry`).
    pub event: Option<String>,
    /// A JSON object: for `job`, the job's fields; `{}` otherwise.
    pub data: Option<String>,
    /// An increasing integer, for `Last-Event-ID`.
    pub id: Option<String>,
    /// Milliseconds to wait before reconnecting.
    pub retry: Option<i64>,
}

/// `GET /v2/{project_id}/graphs/jobs/events`
#[utoipa::path(
    get,
    path = "/v2/{project_id}/graphs/jobs/events",
    tag = "jobs",
    summary = "Follow the project's jobs live (Server-Sent Events)",
    description = "A `text/event-stream` of the project's job changes: first `retry`, then \
        `reset` if `Last-Event-ID` cannot be resumed (reload the list), the events after \
        `Last-Event-ID` otherwise, then `ready` (its id resumes from here); then one `job` \
        event (data: `job_id`, `graph_id`, `related_graph`, `job_type`, `job_name`, \
        `status`, `begin_time`, `end_time`, `fail_reason`, `job_progress`) each time a \
        job is created or its status or progress changes, and a `: heartbeat` comment \
        every `events.heartbeat_secs` when idle. Ids are increasing integers. Needs a \
        `readonly` or `operator` token; a token holds at most \
        `events.max_streams_per_token` streams at once.",
    params(
        ProjectPath,
        ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received: the stream resumes after it."),
    ),
    responses(
        (status = 200, description = "The stream: each item is one event.", content_type = "text/event-stream", body = JobEvent),
        (status = 400, description = err::BAD_PARAMETER, body = ErrorBody),
        (status = 429, description = err::TOO_MANY_STREAMS, body = ErrorBody),
    )
)]
#[get("/v2/{project_id}/graphs/jobs/events")]
pub async fn job_events(
    auth: Authorized<Reader>,
    req: HttpRequest,
    hub: web::Data<Hub>,
) -> Result<HttpResponse, ApiError> {
    let token = req
        .headers()
        .get(TOKEN_HEADER)
        .and_then(|t| t.to_str().ok())
        .unwrap_or_default();
    let last_id = req
        .headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let subscription = hub
        .subscribe(auth.project.as_str(), events::token_key(token), last_id)
        .map_err(|refused| match refused {
            Refused::TooMany => ApiError::from(Code::TooManyStreams),
            Refused::Closed => ApiError::from(Code::Unavailable),
        })?;
    let heartbeat = Duration::from_secs(hub.settings().heartbeat_secs);
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(events::stream::body(subscription, heartbeat)))
}
