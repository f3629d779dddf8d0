//! `GET /metrics` on a listener of its own (`[metrics]`), never on the API's: scrapers need
//! no token and the API's port exposes nothing operational.
//!
//! Each scrape first reads the queue (one indexed statement, [`store::queue_stats`]) and the
//! connection pool, then encodes every metric. Scrapes run one at a time.

use std::net::TcpListener;
use std::time::Duration;

use crate::db::PoolSet;
use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
use tokio::sync::Mutex;

use super::Metrics;
use crate::config::Settings;
use crate::store;
use crate::telemetry::error_chain;

/// The longest a scrape waits for the queue statement.
const QUEUE_READ_PATIENCE: Duration = Duration::from_secs(5);

/// What the endpoint reads.
struct Scrape {
    metrics: Metrics,
    pools: PoolSet,
    one_at_a_time: Mutex<()>,
}

/// Binds the metrics listener of `settings`, or `None` when metrics are disabled.
pub fn bind(settings: &Settings) -> anyhow::Result<Option<TcpListener>> {
    if !settings.metrics.enabled {
        return Ok(None);
    }
    let address = settings.metrics.address(&settings.server.host);
    let listener = TcpListener::bind(&address).map_err(|e| {
        anyhow::anyhow!("metrics.host/metrics.port: cannot listen on {address}: {e}")
    })?;
    Ok(Some(listener))
}

/// Serves `GET /metrics` on `listener` (one worker thread; no signal handling of its own:
/// the owner stops it). Every other path is a 404.
pub fn serve(listener: TcpListener, metrics: Metrics, pools: PoolSet) -> std::io::Result<Server> {
    let scrape = web::Data::new(Scrape {
        metrics,
        pools,
        one_at_a_time: Mutex::new(()),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(scrape.clone())
            .route("/metrics", web::get().to(metrics_text))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}

/// `GET /metrics`: the Prometheus text format, version 0.0.4.
async fn metrics_text(scrape: web::Data<Scrape>) -> HttpResponse {
    let _alone = scrape.one_at_a_time.lock().await;
    refresh(&scrape).await;
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(scrape.metrics.encode())
}

/// Reads the gauges that are computed at scrape time. When the queue cannot be read its
/// gauges are left out (absent, not a stale or made-up value).
async fn refresh(scrape: &Scrape) {
    let usage = scrape.pools.usage();
    scrape.metrics.set_pool(usage.size, usage.idle, usage.max);
    scrape
        .metrics
        .set_replicas(&scrape.pools.replicas().stats());
    let pool = scrape.pools.shared();
    let ready =
        tokio::time::timeout(QUEUE_READ_PATIENCE, store::queue_stats::ready_jobs(&pool)).await;
    match ready {
        Ok(Ok(ready)) => scrape.metrics.set_queue(&ready),
        Ok(Err(err)) => {
            tracing::warn!(
                error = error_chain(&err),
                "metrics: reading the queue failed"
            );
            scrape.metrics.clear_queue();
        }
        Err(_) => {
            tracing::warn!(patience = ?QUEUE_READ_PATIENCE, "metrics: reading the queue took too long");
            scrape.metrics.clear_queue();
        }
    }
}
