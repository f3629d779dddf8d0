//! The application: database, migrations, HTTP server, metrics listener and worker pool.
//! Tests build it on port 0.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use sqlx::PgPool;
use tracing_actix_web::TracingLogger;

use crate::auth::TokenKeys;
use crate::config::{CountsSettings, RetentionSettings, Settings, WorkerSettings};
use crate::db::{self, Database, PoolSet, ReplicaSet};
use crate::events::Hub;
use crate::events::watch::WatchHandle;
use crate::http;
use crate::http::jobs::ListPool;
use crate::metrics::{self, Metrics};
use crate::service::horizon::QueueHorizon;
use crate::storage::Storage;
use crate::store::completions::Completer;
use crate::store::enqueues::Enqueuer;
use crate::store::status_reads::{self, StatusReader};
use crate::worker::fold::FoldHandle;
use crate::worker::replicas::ReplicaMonitors;
use crate::worker::retention::RetentionHandle;
use crate::worker::{self, PoolStatus, Reporting};

/// How long start-up waits for the database before giving up.
const DATABASE_PATIENCE: Duration = Duration::from_secs(60);

/// A built, not yet running, service.
pub struct Application {
    port: u16,
    server: Server,
    metrics_port: Option<u16>,
    metrics_server: Option<Server>,
    metrics: Metrics,
    workers: PoolStatus,
    database: Database,
    pool: PgPool,
    replicas: ReplicaSet,
    max_replica_lag: Duration,
    worker: WorkerSettings,
    retention: RetentionSettings,
    counts: CountsSettings,
    storage: Storage,
    hub: Hub,
    shutdown_timeout: Duration,
}

impl Application {
    /// Locates (or starts) the database, migrates it, and binds the listener.
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        let keys = TokenKeys::from_settings(&settings.auth)?;
        let storage = Storage::from_settings(&settings.storage)?;
        let database = Database::locate(&settings.database).await?;
        db::migrate(&database.url, DATABASE_PATIENCE).await?;
        let pool = db::pool(&database.url, &settings.database)?;
        let replicas = ReplicaSet::new(&db::configured_replica_urls(&settings.database)?)?;
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address).map_err(|e| {
            anyhow::anyhow!("server.host/server.port: cannot listen on {address}: {e}")
        })?;
        let port = listener.local_addr()?.port();
        let metrics = Metrics::new();
        let pools = PoolSet::with_replicas(pool.clone(), replicas.clone());
        let (metrics_port, metrics_server) = match metrics::server::bind(settings)? {
            Some(listener) => (
                Some(listener.local_addr()?.port()),
                Some(metrics::server::serve(
                    listener,
                    metrics.clone(),
                    pools.clone(),
                )?),
            ),
            None => (None, None),
        };
        let workers = PoolStatus::new(settings.worker.concurrency);
        let hub = Hub::new(settings.events.clone(), metrics.clone());
        let shared = Shared {
            hub: hub.clone(),
            mode: settings.server.mode,
            pools,
            database: settings.database.clone(),
            keys,
            storage: storage.clone(),
            metrics: metrics.clone(),
            workers: workers.clone(),
        };
        let shutdown_timeout = settings.server.shutdown_timeout_secs;
        let server = serve(listener, shared, shutdown_timeout, settings.server.workers)?;
        Ok(Application {
            port,
            server,
            metrics_port,
            metrics_server,
            metrics,
            workers,
            database,
            pool,
            replicas,
            max_replica_lag: Duration::from_millis(settings.database.max_replica_lag_ms),
            worker: settings.worker.clone(),
            retention: settings.retention.clone(),
            counts: settings.counts.clone(),
            storage,
            hub,
            shutdown_timeout: Duration::from_secs(shutdown_timeout),
        })
    }

    /// The port the API listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `GET /metrics` is served on (`None`: metrics are disabled).
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// The worker pool's status (`stopped` until [`run_until_stopped`](Self::run_until_stopped)
    /// starts it).
    pub fn workers(&self) -> &PoolStatus {
        &self.workers
    }

    /// The connection pool (tests use it to arrange data).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Serves and runs the worker pool (and, beside it, the retention task, the count
    /// folder and the replica monitors) until
    /// SIGINT/SIGTERM. Then, at the same time: the HTTP server accepts no new connection
    /// and waits up to `server.shutdown_timeout_secs` for requests in flight, and the pool
    /// stops claiming and gives running jobs `worker.shutdown_grace_secs` before releasing
    /// them to the queue. Last, the metrics listener and the private database (if any) is stopped.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(
            port = self.port,
            metrics_port = self.metrics_port,
            "jobcenter listening"
        );
        let metrics_server = self.metrics_server.map(|server| {
            let handle = server.handle();
            tokio::spawn(server);
            handle
        });
        let monitors = ReplicaMonitors::start(&self.pool, &self.replicas, self.max_replica_lag);
        let reporting = Reporting {
            metrics: self.metrics.clone(),
            status: self.workers.clone(),
        };
        let workers = worker::start_builtin_with(
            self.pool.clone(),
            &self.worker,
            self.storage.clone(),
            reporting,
        );
        let folder = FoldHandle::start(
            self.pool.clone(),
            Duration::from_millis(self.counts.fold_interval_ms),
        );
        let events = WatchHandle::start(self.hub.clone(), self.pool.clone());
        let retention = (self.worker.concurrency > 0).then(|| {
            RetentionHandle::start(self.pool.clone(), self.storage.clone(), &self.retention)
        });
        let handle = self.server.handle();
        let mut server = self.server;
        let signal = tokio::select! {
            result = &mut server => Err(result),
            signal = stop_signal() => Ok(signal),
        };
        let http = async {
            match signal {
                // The server stopped by itself (it failed): nothing to drain.
                Err(result) => {
                    events.stop().await;
                    result
                }
                Ok(signal) => {
                    // Event streams never end by themselves: end them before draining.
                    events.stop().await;
                    tracing::info!(
                        signal,
                        http_timeout = ?self.shutdown_timeout,
                        "stopping: no new connections; draining requests in flight and jobs"
                    );
                    // The server's own future carries out the stop: poll both.
                    let ((), result) = tokio::join!(handle.stop(true), server);
                    tracing::info!("HTTP server drained");
                    result
                }
            }
        };
        let grace = Duration::from_secs(self.worker.shutdown_grace_secs);
        let retention = async {
            if let Some(retention) = retention {
                retention.stop().await;
            }
        };
        let (result, (), (), ()) =
            tokio::join!(http, workers.shutdown(grace), retention, folder.stop());
        monitors.stop();
        if let Some(metrics_server) = metrics_server {
            metrics_server.stop(true).await;
        }
        self.pool.close().await;
        self.database.shutdown().await;
        tracing::info!("jobcenter stopped");
        Ok(result?)
    }
}

/// Waits for SIGTERM or SIGINT; answers its name.
pub async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(terminate) => terminate,
        Err(err) => {
            tracing::warn!(error = %err, "cannot watch SIGTERM; stopping on SIGINT only");
            let _ = tokio::signal::ctrl_c().await;
            return "SIGINT";
        }
    };
    tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}

/// What the API's handlers share.
struct Shared {
    /// Each HTTP worker thread takes its own pool from the set (see [`db::pools`]).
    pools: PoolSet,
    database: crate::config::DatabaseSettings,
    keys: TokenKeys,
    storage: Storage,
    metrics: Metrics,
    workers: PoolStatus,
    hub: Hub,
    mode: crate::config::ServerMode,
}

fn serve(
    listener: TcpListener,
    shared: Shared,
    shutdown_timeout_secs: u64,
    threads: usize,
) -> anyhow::Result<Server> {
    let storage = web::Data::new(shared.storage);
    let (pools, database) = (shared.pools, shared.database);
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let keys = web::Data::new(shared.keys);
    let metrics = web::Data::new(shared.metrics);
    let workers = web::Data::new(shared.workers);
    let hub = web::Data::new(shared.hub);
    let mode = web::Data::new(shared.mode);
    let horizon = web::Data::new(QueueHorizon::default());
    let server = HttpServer::new(move || {
        let thread_pool = pools.thread_pool(&database, threads);
        let completer = web::Data::new(Completer::over(thread_pool.clone()));
        let enqueuer = web::Data::new(Enqueuer::over(thread_pool.clone()));
        let pool = web::Data::new(thread_pool);
        let list_pool = web::Data::new(ListPool(pools.thread_list_pool(&database, threads)));
        let reader_pool = pools.thread_reader_pool(&database, status_reads::MAX_RUNNING as u32);
        let reader = web::Data::new(StatusReader::new(reader_pool));
        App::new()
            .wrap(actix_web::middleware::from_fn(metrics::http::track))
            .wrap(TracingLogger::<http::request_id::Spans>::new())
            .wrap(actix_web::middleware::from_fn(http::request_id::assign))
            .app_data(pool)
            .app_data(list_pool)
            .app_data(reader)
            .app_data(completer)
            .app_data(enqueuer)
            .app_data(horizon.clone())
            .app_data(keys.clone())
            .app_data(storage.clone())
            .app_data(metrics.clone())
            .app_data(workers.clone())
            .app_data(hub.clone())
            .app_data(mode.clone())
            .configure(http::configure_extractors)
            .configure(http::routes)
            .default_service(web::to(http::no_route))
    })
    .workers(threads)
    .shutdown_timeout(shutdown_timeout_secs)
    .disable_signals();
    Ok(server.listen(listener)?.run())
}
