//! Live job events: the hub behind `GET /v2/{project_id}/graphs/jobs/events`. One hub per
//! `serve` process holds, for each project someone watches, what it last read of the
//! project's jobs, the last [`REPLAY`] events (for `Last-Event-ID`), and a broadcast
//! channel to the project's streams; [`watch`] feeds it.
//!
//! Policy: nothing here touches a write path. One task and one LISTEN connection per
//! process, whatever the number of streams: a fold of the count store NOTIFYs each project
//! whose jobs changed (new jobs, status changes), and the task also reads each watched
//! project every `events.poll_interval_ms` (progress is written by heartbeats, which send
//! no NOTIFY). An event says a job's state now, so a repeated one is harmless. Event ids
//! are microseconds since the epoch, increasing within a process; a stream resumes from
//! `Last-Event-ID` when this process watched the project since then and still holds the
//! events after it, else it is told to `reset` (reload the list). A project's watch
//! lingers for [`LINGER`] after its last stream closed, so a reconnect resumes.

pub mod stream;
pub mod watch;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, broadcast};
use uuid::Uuid;

use crate::config::EventsSettings;
use crate::metrics::Metrics;
use crate::store::events::JobState;

/// Events of a project kept for resuming streams.
pub const REPLAY: usize = 1000;
/// How long a project stays watched after its last stream closed.
pub const LINGER: Duration = Duration::from_secs(60);

/// One event: its id and its `data` (a JSON object).
#[derive(Debug)]
pub struct Event {
    pub id: u64,
    pub data: String,
}

/// The hub; clones share it.
#[derive(Clone)]
pub struct Hub(Arc<Inner>);

struct Inner {
    state: Mutex<State>,
    /// Wakes the watch task: a project is newly watched.
    wake: Notify,
    settings: EventsSettings,
    metrics: Metrics,
}

#[derive(Default)]
struct State {
    projects: HashMap<String, Watch>,
    /// Open streams per token (by the token's hash).
    tokens: HashMap<u64, usize>,
    last_id: u64,
    closed: bool,
}

/// One watched project.
struct Watch {
    /// The id at which watching began: what happened before is unknown here.
    since: u64,
    /// The id of the last event dropped from `events` (0: none).
    dropped_through: u64,
    events: VecDeque<Arc<Event>>,
    sender: broadcast::Sender<Arc<Event>>,
    streams: usize,
    idle_since: Option<Instant>,
    /// The jobs of the last read; `None` before the first.
    known: Option<HashMap<Uuid, JobState>>,
    /// `true` once the first read is taken: a stream's `ready` waits for it, so a job that
    /// changes after `ready` is never hidden in the read that only sets `known`.
    first_read: tokio::sync::watch::Sender<bool>,
}

/// Why a stream was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The token holds `events.max_streams_per_token` streams.
    TooMany,
    /// The service is stopping.
    Closed,
}

/// A stream's place at the hub: what to send first and the channel of what follows.
/// Dropping it closes the stream's account (token count, metric, the project's watch).
pub struct Subscription {
    hub: Hub,
    project: String,
    token: u64,
    /// `true`: the client must reload (its `Last-Event-ID` cannot be resumed).
    pub reset: bool,
    /// Events after the client's `Last-Event-ID`.
    pub replay: Vec<Arc<Event>>,
    /// The id everything before which is accounted for (sent as the `ready` event's id).
    pub ready_id: u64,
    pub receiver: broadcast::Receiver<Arc<Event>>,
    /// Turns `true` when the hub has read the project once (at once for a watched one);
    /// closed when the hub closes.
    pub first_read: tokio::sync::watch::Receiver<bool>,
}

impl Hub {
    /// A hub with no watched project.
    pub fn new(settings: EventsSettings, metrics: Metrics) -> Hub {
        Hub(Arc::new(Inner {
            state: Mutex::new(State::default()),
            wake: Notify::new(),
            settings,
            metrics,
        }))
    }

    /// Its settings.
    pub fn settings(&self) -> &EventsSettings {
        &self.0.settings
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a stream of `project`'s events for the token hashed `token`, resuming after
    /// `last_id` when it can.
    pub fn subscribe(
        &self,
        project: &str,
        token: u64,
        last_id: Option<u64>,
    ) -> Result<Subscription, Refused> {
        let mut state = self.state();
        if state.closed {
            return Err(Refused::Closed);
        }
        let held = state.tokens.get(&token).copied().unwrap_or(0);
        if held >= self.0.settings.max_streams_per_token {
            return Err(Refused::TooMany);
        }
        *state.tokens.entry(token).or_default() += 1;
        let next = state.next_id();
        let mut fresh = false;
        let watch = state.projects.entry(project.to_owned()).or_insert_with(|| {
            fresh = true;
            Watch {
                since: next,
                dropped_through: 0,
                events: VecDeque::new(),
                sender: broadcast::Sender::new(256),
                streams: 0,
                idle_since: None,
                known: None,
                first_read: tokio::sync::watch::Sender::new(false),
            }
        });
        watch.streams += 1;
        watch.idle_since = None;
        let resumable = last_id.filter(|&l| l >= watch.since && l >= watch.dropped_through);
        let replay = match resumable {
            Some(l) => watch.events.iter().filter(|e| e.id > l).cloned().collect(),
            None => Vec::new(),
        };
        let last_event = watch.events.back().map_or(0, |e| e.id);
        let subscription = Subscription {
            hub: self.clone(),
            project: project.to_owned(),
            token,
            reset: last_id.is_some() && resumable.is_none(),
            replay,
            ready_id: watch.since.max(last_event),
            receiver: watch.sender.subscribe(),
            first_read: watch.first_read.subscribe(),
        };
        drop(state);
        self.0.metrics.event_streams(1);
        if fresh {
            self.0.wake.notify_one();
        }
        Ok(subscription)
    }

    /// Ends every stream (the service is stopping) and refuses new ones.
    pub fn close(&self) {
        let mut state = self.state();
        state.closed = true;
        state.projects.clear();
    }

    /// The projects to read now: all watched ones (dropping those idle past [`LINGER`]),
    /// or only those not read yet.
    fn watched(&self, only_unread: bool) -> Vec<String> {
        let mut state = self.state();
        state
            .projects
            .retain(|_, w| w.idle_since.is_none_or(|idle| idle.elapsed() < LINGER));
        let projects = state.projects.iter();
        projects
            .filter(|(_, w)| !only_unread || w.known.is_none())
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Whether `project` is watched.
    fn is_watched(&self, project: &str) -> bool {
        self.state().projects.contains_key(project)
    }

    /// The ids of `project`'s jobs last read as unfinished.
    fn unfinished(&self, project: &str) -> Vec<Uuid> {
        let state = self.state();
        let Some(known) = state.projects.get(project).and_then(|w| w.known.as_ref()) else {
            return Vec::new();
        };
        known
            .values()
            .filter(|j| !j.status.is_final())
            .map(|j| j.id)
            .collect()
    }

    /// Takes a read of `project`'s jobs: an event for each job that is new or changed
    /// since the last read (none for the first read).
    fn apply(&self, project: &str, jobs: Vec<JobState>) -> usize {
        let mut state = self.state();
        let mut changed: Vec<JobState> = Vec::new();
        let Some(watch) = state.projects.get_mut(project) else {
            return 0;
        };
        let read: HashMap<Uuid, JobState> = jobs.into_iter().map(|j| (j.id, j)).collect();
        if let Some(known) = &watch.known {
            changed = read
                .values()
                .filter(|j| known.get(&j.id) != Some(j))
                .cloned()
                .collect();
            changed.sort_by_key(|j| (j.begin_time, j.id));
        }
        watch.known = Some(read);
        watch.first_read.send_replace(true);
        let n = changed.len();
        for job in changed {
            let id = state.next_id();
            let event = Arc::new(Event {
                id,
                data: stream::job_json(&job),
            });
            let Some(watch) = state.projects.get_mut(project) else {
                break;
            };
            if watch.events.len() == REPLAY
                && let Some(dropped) = watch.events.pop_front()
            {
                watch.dropped_through = dropped.id;
            }
            watch.events.push_back(event.clone());
            // No receiver (every stream closed, the watch lingering) is not an error.
            let _ = watch.sender.send(event);
        }
        n
    }

    /// A stream closed.
    fn release(&self, project: &str, token: u64) {
        let mut state = self.state();
        if let Some(held) = state.tokens.get_mut(&token) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                state.tokens.remove(&token);
            }
        }
        if let Some(watch) = state.projects.get_mut(project) {
            watch.streams = watch.streams.saturating_sub(1);
            if watch.streams == 0 {
                watch.idle_since = Some(Instant::now());
            }
        }
        drop(state);
        self.0.metrics.event_streams(-1);
    }
}

impl State {
    /// A new event id: microseconds since the epoch, above every id before.
    fn next_id(&mut self) -> u64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        self.last_id = now.max(self.last_id + 1);
        self.last_id
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.release(&self.project, self.token);
    }
}

/// The key a token's streams are counted under.
pub fn token_key(token: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    token.hash(&mut hasher);
    hasher.finish()
}
