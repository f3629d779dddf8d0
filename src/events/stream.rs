//! One event stream as Server-Sent Events: `retry`, then `reset` (when `Last-Event-ID`
//! could not be resumed) or the events after it, then `ready` (with the id to resume
//! from) once the hub has read the project, then `job` events as they come and a
//! heartbeat comment when idle.

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
const HEARTBEAT: &str = ": heartbeat\n\n";

/// The stream's body; ends when the hub closes.
pub fn body(
    subscription: Subscription,
    heartbeat: Duration,
) -> impl Stream<Item = Result<Bytes, Infallible>> + 'static {
    let mut opening = format!("retry: {RETRY_MS}\n\n");
    if subscription.reset {
        opening.push_str(RESET);
    }
    for event in &subscription.replay {
        opening.push_str(&frame(event));
    }
    let start = tokio::time::Instant::now() + heartbeat;
    let reader = Reader {
        sub: subscription,
        opening: Some(opening),
        ready_sent: false,
        beat: tokio::time::interval_at(start, heartbeat),
    };
    futures_util::stream::unfold(reader, |mut reader| async move {
        let chunk = reader.next_chunk().await?;
        Some((Ok(Bytes::from(chunk)), reader))
    })
}

/// A stream's place in its sequence: the opening, `ready` (once the hub has read the
/// project), then events and heartbeats.
struct Reader {
    sub: Subscription,
    opening: Option<String>,
    ready_sent: bool,
    beat: tokio::time::Interval,
}

impl Reader {
    /// The next chunk to send; `None` ends the stream (the hub closed).
    async fn next_chunk(&mut self) -> Option<String> {
        if let Some(opening) = self.opening.take() {
            return Some(opening);
        }
        if !self.ready_sent {
            tokio::select! {
                read = self.sub.first_read.wait_for(|read| *read) => read.ok().map(drop)?,
                _ = self.beat.tick() => return Some(HEARTBEAT.to_owned()),
            }
            self.ready_sent = true;
            let id = self.sub.ready_id;
            return Some(format!("id: {id}\nevent: ready\ndata: {{}}\n\n"));
        }
        tokio::select! {
            got = self.sub.receiver.recv() => match got {
                Ok(event) => Some(frame(&event)),
                Err(RecvError::Lagged(_)) => Some(RESET.to_owned()),
                Err(RecvError::Closed) => None,
            },
            _ = self.beat.tick() => Some(HEARTBEAT.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::StreamExt;

    use super::body;
    use crate::config::EventsSettings;
    use crate::events::Hub;
    use crate::metrics::Metrics;

    fn hub() -> Hub {
        let settings = EventsSettings {
            max_streams_per_token: 4,
            heartbeat_secs: 3600,
            poll_interval_ms: 1000,
        };
        Hub::new(settings, Metrics::new())
    }

    fn text(chunk: Option<Result<actix_web::web::Bytes, std::convert::Infallible>>) -> String {
        String::from_utf8(chunk.unwrap().unwrap().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn ready_waits_for_the_hubs_first_read_of_the_project() {
        let hub = hub();
        let first = hub.subscribe("p", 1, None).unwrap();
        let mut stream = Box::pin(body(first, Duration::from_secs(3600)));
        assert!(text(stream.next().await).starts_with("retry: "));
        let early = tokio::time::timeout(Duration::from_millis(100), stream.next()).await;
        assert!(early.is_err(), "no `ready` before the project is read");
        hub.apply("p", Vec::new());
        assert!(text(stream.next().await).contains("event: ready"));

        // A second stream of a project already read is ready at once.
        let second = hub.subscribe("p", 2, None).unwrap();
        let mut stream = Box::pin(body(second, Duration::from_secs(3600)));
        let opening = text(stream.next().await);
        let ready = tokio::time::timeout(Duration::from_millis(100), stream.next()).await;
        assert!(opening.starts_with("retry: "));
        assert!(text(ready.expect("ready at once")).contains("event: ready"));
    }

    #[tokio::test]
    async fn a_stream_waiting_for_its_first_read_ends_when_the_hub_closes() {
        let hub = hub();
        let mut stream = Box::pin(body(
            hub.subscribe("p", 1, None).unwrap(),
            Duration::from_secs(3600),
        ));
        stream.next().await;
        hub.close();
        assert!(stream.next().await.is_none());
    }
}
