//! One event stream as Server-Sent Events: `retry`, then `reset` (when `Last-Event-ID`
//! could not be resumed) or the events after it, then `ready` (with the id to resume
//! from), then `job` events as they come and a heartbeat comment when idle.

use std::convert::Infallible;
use std::time::Duration;

use actix_web::web::Bytes;
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::{Event, Subscription};
use crate::domain::job::shown_progress;
use crate::domain::time::format_time;
use crate::store::events::JobState;

/// Milliseconds a client waits before reconnecting.
const RETRY_MS: u64 = 2000;

/// The `data` of a job event (the job list's fields and the graph's id).
pub fn job_json(job: &JobState) -> String {
    serde_json::json!({
        "job_id": job.id.simple().to_string(),
        "graph_id": job.graph_id.map(|g| g.simple().to_string()),
        "related_graph": job.graph_name,
        "job_type": job.job_type,
        "job_name": job.job_name,
        "status": job.status.as_str(),
        "begin_time": format_time(job.begin_time),
        "end_time": job.end_time.map(format_time),
        "fail_reason": job.fail_reason,
        "job_progress": shown_progress(job.status, job.progress),
    })
    .to_string()
}

fn frame(event: &Event) -> String {
    format!("id: {}\nevent: job\ndata: {}\n\n", event.id, event.data)
}

const RESET: &str = "event: reset\ndata: {}\n\n";

/// The stream's body; ends when the hub closes.
pub fn body(
    subscription: Subscription,
    heartbeat: Duration,
) -> impl Stream<Item = Result<Bytes, Infallible>> + 'static {
    let mut first = format!("retry: {RETRY_MS}\n\n");
    if subscription.reset {
        first.push_str(RESET);
    }
    for event in &subscription.replay {
        first.push_str(&frame(event));
    }
    first.push_str(&format!(
        "id: {}\nevent: ready\ndata: {{}}\n\n",
        subscription.ready_id
    ));
    let start = tokio::time::Instant::now() + heartbeat;
    let beat = tokio::time::interval_at(start, heartbeat);
    let state = (subscription, Some(first), beat);
    futures_util::stream::unfold(state, |(mut sub, first, mut beat)| async move {
        if let Some(first) = first {
            return Some((Ok(Bytes::from(first)), (sub, None, beat)));
        }
        let chunk = tokio::select! {
            got = sub.receiver.recv() => match got {
                Ok(event) => frame(&event),
                Err(RecvError::Lagged(_)) => RESET.to_owned(),
                Err(RecvError::Closed) => return None,
            },
            _ = beat.tick() => ": heartbeat\n\n".to_owned(),
        };
        Some((Ok(Bytes::from(chunk)), (sub, None, beat)))
    })
}
