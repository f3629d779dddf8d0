//! The application: database, migrations, HTTP server and worker pool. Tests build it on
//! port 0.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use sqlx::PgPool;
use tracing_actix_web::TracingLogger;

use crate::auth::TokenKeys;
use crate::config::{RetentionSettings, Settings, WorkerSettings};
use crate::db::{self, Database};
use crate::http;
use crate::storage::Storage;
use crate::worker;
use crate::worker::retention::RetentionHandle;

/// How long start-up waits for the database before giving up.
const DATABASE_PATIENCE: Duration = Duration::from_secs(60);

/// A built, not yet running, service.
pub struct Application {
    port: u16,
    server: Server,
    database: Database,
    pool: PgPool,
    worker: WorkerSettings,
    retention: RetentionSettings,
    storage: Storage,
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
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&address).map_err(|e| {
            anyhow::anyhow!("server.host/server.port: cannot listen on {address}: {e}")
        })?;
        let port = listener.local_addr()?.port();
        let shutdown_timeout = settings.server.shutdown_timeout_secs;
        let server = serve(
            listener,
            pool.clone(),
            keys,
            storage.clone(),
            shutdown_timeout,
        )?;
        Ok(Application {
            port,
            server,
            database,
            pool,
            worker: settings.worker.clone(),
            retention: settings.retention.clone(),
            storage,
            shutdown_timeout: Duration::from_secs(shutdown_timeout),
        })
    }

    /// The port the API listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The connection pool (tests use it to arrange data).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Serves and runs the worker pool (and, beside it, the retention task) until
    /// SIGINT/SIGTERM. Then, at the same time: the HTTP server accepts no new connection
    /// and waits up to `server.shutdown_timeout_secs` for requests in flight, and the pool
    /// stops claiming and gives running jobs `worker.shutdown_grace_secs` before releasing
    /// them to the queue. Last, the private database (if any) is stopped.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(port = self.port, "jobcenter listening");
        let workers = worker::start_builtin(self.pool.clone(), &self.worker, self.storage.clone());
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
                Err(result) => result,
                Ok(signal) => {
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
        let (result, (), ()) = tokio::join!(http, workers.shutdown(grace), retention);
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

fn serve(
    listener: TcpListener,
    pool: PgPool,
    keys: TokenKeys,
    storage: Storage,
    shutdown_timeout_secs: u64,
) -> anyhow::Result<Server> {
    let storage = web::Data::new(storage);
    let pool = web::Data::new(pool);
    let keys = web::Data::new(keys);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(TracingLogger::<http::request_id::Spans>::new())
            .wrap(actix_web::middleware::from_fn(http::request_id::assign))
            .app_data(pool.clone())
            .app_data(keys.clone())
            .app_data(storage.clone())
            .configure(http::configure_extractors)
            .configure(http::routes)
            .default_service(web::to(http::no_route))
    })
    .shutdown_timeout(shutdown_timeout_secs)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}
