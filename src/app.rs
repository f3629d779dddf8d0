//! The application: database, migrations, HTTP server and worker pool. Tests build it on
//! port 0.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use sqlx::PgPool;
use tracing_actix_web::TracingLogger;

use crate::auth::TokenKeys;
use crate::config::{Settings, WorkerSettings};
use crate::db::{self, Database};
use crate::http;
use crate::storage::Storage;
use crate::worker;

/// How long start-up waits for the database before giving up.
const DATABASE_PATIENCE: Duration = Duration::from_secs(60);

/// A built, not yet running, service.
pub struct Application {
    port: u16,
    server: Server,
    database: Database,
    pool: PgPool,
    worker: WorkerSettings,
    storage: Storage,
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
        let server = serve(listener, pool.clone(), keys, storage.clone())?;
        Ok(Application {
            port,
            server,
            database,
            pool,
            worker: settings.worker.clone(),
            storage,
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

    /// Serves and runs the worker pool until SIGINT/SIGTERM; then the HTTP server stops,
    /// the pool shuts down gracefully, and the private database (if any) is stopped.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(port = self.port, "jobcenter listening");
        let workers = worker::start_builtin(self.pool.clone(), &self.worker, self.storage.clone());
        let result = self.server.await;
        workers
            .shutdown(Duration::from_secs(self.worker.shutdown_grace_secs))
            .await;
        self.pool.close().await;
        self.database.shutdown().await;
        Ok(result?)
    }
}

fn serve(
    listener: TcpListener,
    pool: PgPool,
    keys: TokenKeys,
    storage: Storage,
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
    .listen(listener)?
    .run();
    Ok(server)
}
