//! `/metrics` (Prometheus text), `/healthz` (the process runs) and `/readyz` (every
//! pipeline consumes normally).

use std::net::SocketAddr;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use prometheus::core::Collector;

use super::metrics::METRICS;

/// Serves the endpoints on `addr` until the process exits. Returns the bound address.
pub async fn serve(addr: SocketAddr) -> anyhow::Result<SocketAddr> {
    let app = Router::new()
        .route("/metrics", get(|| async { METRICS.render() }))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("metrics server failed: {e}");
        }
    });
    Ok(bound)
}

async fn ready() -> (StatusCode, String) {
    let families = METRICS.up.collect();
    let mut down = Vec::new();
    let mut any = false;
    for family in &families {
        for m in family.get_metric() {
            any = true;
            if m.get_gauge().get_value() < 1.0 {
                let name = m.get_label().iter().map(|l| l.value().to_owned()).collect::<Vec<_>>().join(",");
                down.push(name);
            }
        }
    }
    match (any, down.is_empty()) {
        (true, true) => (StatusCode::OK, "ready\n".into()),
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "no pipeline running yet\n".into()),
        (_, false) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {}\n", down.join(" "))),
    }
}
